"""Response accounting: who was sampled, who was eligible, who answered, and how representative they are.

Every sampled client ends with one final disposition (AAPOR 2023,
*Standard Definitions*, 10th ed., tables for mail and internet surveys of
specifically named persons): ``complete`` (I), ``partial`` (P), ``refused``
(R), ``no_contact`` (NC), or ineligible (``moved``, ``deceased``,
``not_client``: codes the evaluator records). A sampled client from the
register is eligible unless a code says otherwise, so unknown eligibility
is empty and AAPOR's RR1 = RR3 and RR2 = RR4 here.

The R-indicator (Schouten, Cobben & Bethlehem 2009, *Survey Methodology*
35(1): 101-113) summarises how much response propensities vary over the
auxiliaries: R = 1 - 2 S(rho), 1 when everyone had the same chance to
respond, lower as response depends more on who someone is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from kantelmeter.survey.design import Sample, SurveyError

__all__ = ["CODES", "INELIGIBLE", "NONRESPONSE", "MODES", "ResponseAccount", "r_indicator", "response"]

#: Disposition codes for ineligible sampled clients.
INELIGIBLE = ("moved", "deceased", "not_client")
#: Disposition codes for eligible clients who did not respond.
NONRESPONSE = ("refused", "no_contact")
#: Every code an evaluator may record.
CODES = INELIGIBLE + NONRESPONSE
#: Mode of a response by the store's source: a paper form is entered by import or by an interviewer.
MODES = {"web": "web", "import": "paper", "interview": "interview"}
COUNTS = ["sampled", "ineligible", "eligible", "complete", "partial", "refused", "no_contact"]
TOTAL = "total"


@dataclass(frozen=True)
class ResponseAccount:
    """The response of a round; what :func:`response` returns.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per stratum and a last row ``stratum == "total"``: ``sampled``,
        ``ineligible``, ``eligible``, ``complete``, ``partial``, ``refused``,
        ``no_contact``, ``rr1``, ``rr2`` (fractions; NaN with nobody eligible).
    by_mode : pandas.DataFrame
        ``mode`` (web, paper, interview), ``complete``, ``partial``, ``share``
        (of all complete and partial responses).
    by_auxiliary : pandas.DataFrame
        ``auxiliary``, ``category``, ``eligible``, ``complete``, ``rate``
        (complete / eligible): the response rates drawn by :meth:`plot`.
    r_indicator : pandas.DataFrame
        One row: ``r``, ``se``, ``ci_low``, ``ci_high``, ``n`` (eligible units),
        ``auxiliaries``, ``method``.
    units : pandas.DataFrame
        Per sampled unit: ``pseudonym``, ``stratum``, the auxiliaries,
        ``design_weight``, ``disposition`` (final code) and ``mode``.
    """

    table: pd.DataFrame
    by_mode: pd.DataFrame
    by_auxiliary: pd.DataFrame
    r_indicator: pd.DataFrame
    units: pd.DataFrame

    @property
    def respondents(self) -> pd.DataFrame:
        """The sampled units with a complete response (the base for weighting)."""
        return self.units[self.units["disposition"] == "complete"].reset_index(drop=True)

    def plot(self, ax=None):
        """Response rate per category of each auxiliary, with the overall RR1 as a line."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        table = self.by_auxiliary.assign(
            label=lambda t: t["auxiliary"] + ": " + t["category"], percent=lambda t: 100 * t["rate"]
        )
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.3 * len(table) + 1))
        sns.barplot(data=table, y="label", x="percent", hue="auxiliary", dodge=False, legend=False, ax=ax)
        ax.axvline(100 * self.table["rr1"].iloc[-1], color="black", linestyle="--", linewidth=1)
        ax.set(xlabel="respons (%)", ylabel="", xlim=(0, 100))
        return ax


def response(
    sample: Sample,
    outcomes,
    *,
    auxiliaries: list[str] | None = None,
    replicates: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> ResponseAccount:
    """Count the response of a sample per stratum and in total, with AAPOR rates and the R-indicator.

    Method: each sampled unit gets one final disposition: an ineligible code
    wins, then a complete response, a partial one, a recorded refusal, and
    otherwise no contact. AAPOR (2023) RR1 = I / (I + P + R + NC) and
    RR2 = (I + P) / (I + P + R + NC), ineligible units left out. The
    R-indicator is computed by :func:`r_indicator` on the eligible units,
    complete responses counting as response.

    Parameters
    ----------
    sample : Sample
    outcomes : Store or pandas.DataFrame
        A :class:`kantelmeter.store.Store` holding the round
        (``Store.round_outcomes(sample.round)``), or a frame with columns
        ``pseudonym``, ``status`` (``complete``, ``partial`` or empty),
        ``source`` (``web``, ``import``, ``interview`` or empty) and
        ``disposition`` (one of :data:`CODES` or empty).
    auxiliaries : list of str, optional
        Default: the frame's auxiliaries.
    replicates : int, default 200
        Bootstrap replicates for the R-indicator's standard error.
    confidence : float, default 0.95
    seed : int, default 0

    Returns
    -------
    ResponseAccount

    Examples
    --------
    >>> from kantelmeter.survey.design import Frame, draw
    >>> units = pd.DataFrame({"pseudonym": [f"p-{i}" for i in range(8)], "stratum": ["A"] * 4 + ["B"] * 4,
    ...                       "sex": list("vmvmvmvm")})
    >>> s = draw(Frame(units, "district", ["sex"]), n=8, allocation="census")
    >>> outcomes = pd.DataFrame({"pseudonym": units.pseudonym,
    ...     "status": ["complete", "partial", None, None, "complete", None, None, "complete"],
    ...     "source": ["web", "web", None, None, "import", None, None, "web"],
    ...     "disposition": [None, None, "moved", "refused", None, None, None, None]})
    >>> response(s, outcomes, replicates=20).table[["stratum", "eligible", "complete", "rr1", "rr2"]]
      stratum  eligible  complete   rr1       rr2
    0       A         3         1  0.333333  0.666667
    1       B         4         2  0.500000  0.500000
    2   total         7         3  0.428571  0.571429
    """
    if not isinstance(outcomes, pd.DataFrame):
        if sample.round is None:
            raise SurveyError(
                "response: this sample belongs to no stored round; pass the outcomes as a DataFrame "
                "or load the sample with Store.sample(round)"
            )
        outcomes = outcomes.round_outcomes(sample.round)
    missing = {"pseudonym", "status", "source", "disposition"} - set(outcomes.columns)
    if missing:
        raise SurveyError(
            f"response: outcomes lack column(s) {sorted(missing)}; allowed: pseudonym, status, source, disposition"
        )
    bad = outcomes["disposition"].dropna()
    bad = bad[~bad.isin(CODES)]
    if len(bad):
        raise SurveyError(f"response: disposition {bad.iloc[0]!r} ({len(bad)} unit(s)); allowed: {', '.join(CODES)}")
    units = sample.units.merge(outcomes, on="pseudonym", how="left", validate="one_to_one")
    code = units["disposition"].where(units["disposition"].notna(), None)
    final = np.select(
        [code.isin(INELIGIBLE), units["status"] == "complete", units["status"] == "partial", code == "refused"],
        [code, "complete", "partial", "refused"],
        "no_contact",
    )
    units = units.assign(
        disposition=final,
        mode=units["source"].map(MODES).where(pd.Series(final, index=units.index).isin(["complete", "partial"])),
    ).drop(columns=["status", "source"])
    auxiliaries = sample.frame.auxiliaries if auxiliaries is None else list(auxiliaries)
    eligible = units[~units["disposition"].isin(INELIGIBLE)]
    return ResponseAccount(
        table=_counts(units),
        by_mode=_by_mode(units),
        by_auxiliary=_by_auxiliary(eligible, auxiliaries),
        r_indicator=r_indicator(eligible, auxiliaries, replicates=replicates, confidence=confidence, seed=seed),
        units=units,
    )


def _counts(units: pd.DataFrame) -> pd.DataFrame:
    kinds = pd.crosstab(units["stratum"], units["disposition"])
    table = pd.DataFrame(index=kinds.index)
    table["sampled"] = kinds.sum(axis=1)
    table["ineligible"] = kinds.reindex(columns=list(INELIGIBLE), fill_value=0).sum(axis=1)
    table["eligible"] = table["sampled"] - table["ineligible"]
    for column in ("complete", "partial", "refused", "no_contact"):
        table[column] = kinds.get(column, 0)
    table.loc[TOTAL] = table.sum()
    table = table.astype(int).rename_axis("stratum").reset_index()
    eligible = table["eligible"].where(table["eligible"] > 0)
    table["rr1"] = table["complete"] / eligible
    table["rr2"] = (table["complete"] + table["partial"]) / eligible
    return table


def _by_mode(units: pd.DataFrame) -> pd.DataFrame:
    answered = units[units["disposition"].isin(["complete", "partial"])]
    table = pd.crosstab(answered["mode"], answered["disposition"]).reindex(
        index=list(dict.fromkeys(MODES.values())), columns=["complete", "partial"], fill_value=0
    )
    table = table.rename_axis(index="mode", columns=None).reset_index()
    total = table[["complete", "partial"]].to_numpy().sum()
    table["share"] = (table["complete"] + table["partial"]) / total if total else np.nan
    return table


def _by_auxiliary(eligible: pd.DataFrame, auxiliaries: list[str]) -> pd.DataFrame:
    rows = []
    for name in auxiliaries:
        counts = eligible.groupby(name)["disposition"].agg(eligible="size", complete=lambda d: (d == "complete").sum())
        rows.append(counts.rename_axis("category").reset_index().assign(auxiliary=name))
    if not rows:
        return pd.DataFrame(columns=["auxiliary", "category", "eligible", "complete", "rate"])
    table = pd.concat(rows, ignore_index=True)[["auxiliary", "category", "eligible", "complete"]]
    table["category"] = table["category"].astype(str)
    table["rate"] = table["complete"] / table["eligible"]
    return table


def r_indicator(
    units: pd.DataFrame,
    auxiliaries: list[str],
    *,
    responded: str = "disposition",
    replicates: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """The R-indicator of representativeness with a bootstrap confidence interval.

    Method: Schouten, Cobben & Bethlehem (2009): response propensities rho_i
    are the fitted values of a logistic regression of response on the
    auxiliaries (main effects, categorical), fitted with the design weights
    d_i (statsmodels GLM, binomial); S(rho) is their design-weighted standard
    deviation, sqrt(sum d_i (rho_i - rho_bar)^2 / (sum d_i - 1)), and
    R = 1 - 2 S(rho). Its standard error is the standard deviation of R over
    ``replicates`` bootstrap samples drawn with replacement within strata,
    the whole estimation repeated on each (as in the paper, sec. 4); the
    interval is R +/- z se. CBS publishes R-indicators this way
    (RISQ project, Schouten et al. 2009-2012).

    Parameters
    ----------
    units : pandas.DataFrame
        Eligible sampled units: ``stratum``, ``design_weight``, the
        auxiliaries, and ``responded``.
    auxiliaries : list of str
    responded : str, default "disposition"
        A column that is ``"complete"`` (or True / 1) for a response.
    replicates : int, default 200
    confidence : float, default 0.95
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row: ``r``, ``se``, ``ci_low``, ``ci_high``, ``n``, ``auxiliaries``
        (comma-separated), ``method``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> units = pd.DataFrame({"stratum": "all", "design_weight": 1.0, "age": rng.choice(["young", "old"], 2000)})
    >>> units["disposition"] = np.where(rng.random(2000) < 0.5, "complete", "no_contact")  # at random
    >>> float(r_indicator(units, ["age"], replicates=50).r.iloc[0]) > 0.97
    True
    >>> units["disposition"] = np.where(rng.random(2000) < np.where(units.age == "old", 0.8, 0.2),
    ...                                 "complete", "no_contact")  # the old answer four times as often
    >>> round(float(r_indicator(units, ["age"], replicates=50).r.iloc[0]), 1)  # 1 - 2 x 0.3
    0.4
    """
    values = units[responded]
    y = (
        values.astype(bool)
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
        else values == "complete"
    )
    y = y.to_numpy(dtype=float)
    method = "logistic propensities, design-weighted S, stratified bootstrap"
    weights = units["design_weight"].to_numpy(dtype=float)
    # One design matrix for the fit and every replicate: a replicate takes its rows.
    design = (
        pd.get_dummies(units[auxiliaries].astype(str), drop_first=True, dtype=float).to_numpy()
        if auxiliaries
        else np.empty((len(units), 0))
    )
    design = np.column_stack([np.ones(len(units)), design])
    r = _r_value(design, y, weights)
    rng = np.random.default_rng(seed)
    draws = []
    groups = [np.flatnonzero(units["stratum"].to_numpy() == s) for s in pd.unique(units["stratum"])]
    for _ in range(replicates):
        take = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        draws.append(_r_value(design[take], y[take], weights[take]))
    se = float(np.nanstd(draws, ddof=1)) if replicates > 1 else np.nan
    z = stats.norm.ppf(0.5 + confidence / 2)
    return pd.DataFrame(
        [
            {
                "r": r,
                "se": se,
                "ci_low": r - z * se,
                "ci_high": r + z * se,
                "n": len(units),
                "auxiliaries": ", ".join(auxiliaries),
                "method": method,
            }
        ]
    )


def _r_value(design: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    if len(y) < 2:
        return np.nan
    if design.shape[1] > 1 and 0 < y.mean() < 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # perfect prediction in a small category: the fit is still the propensity
            rho = GLM(y, design, family=families.Binomial(), var_weights=weights).fit().fittedvalues
    else:
        rho = np.full(len(y), y.mean())
    mean = np.average(rho, weights=weights)
    spread = np.sqrt(np.sum(weights * (rho - mean) ** 2) / (weights.sum() - 1))
    return float(1 - 2 * spread)
