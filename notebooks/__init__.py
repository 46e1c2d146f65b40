"""The analysis notebooks, shipped so that `kantelmeter report` and `kantelmeter notebook` can run them."""

#: The notebooks ``kantelmeter report`` turns into a publication (audited, with PDF and CSV tables).
PUBLISHABLE = ("nulmeting",)

#: The analysts' notebooks (``kantelmeter notebook NAME``), with the parameters each takes.
ANALYST_NOTEBOOKS = {
    "pilot_vs_regular": ("db_url", "lang", "covariates_csv", "truth_csv"),
    "professionals_over_time": ("db_url", "lang"),
    "thesis_replication": ("lang",),
    "cost_benefit": ("lang",),
    "problems": ("lang",),
}
