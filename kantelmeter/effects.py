"""Effects of the pilot: before/after within a cohort, and pilot versus regular service.

Everything here takes the tidy *outcome frame*: one row per respondent and
occasion, with a ``respondent`` column, an ``occasion`` column (``intake``,
``follow_up``), a ``cohort`` column, the baseline covariates and one column
per outcome (a scale score, a wheel domain level, a well-being rating, a 0/1
indicator). Functions return tidy DataFrames, one row per estimate, with the
method, its confidence interval and the numbers it rests on.

The pilot's citizens were not randomised and the front office selected more
complex cases as the pilot went on, so a naive comparison of cohorts mixes the
pilot's effect with who was chosen. The adjusted estimators (ANCOVA with
covariates, the mixed model with covariate-by-occasion terms, inverse
probability weighting and the doubly robust AIPW estimate, the headline) are
only as good as the covariates: they remove selection on what was measured,
never on what was not; the E-value of each estimate (:func:`e_value`) says how
strong an unmeasured confounder would have to be to explain it away.

Each estimate names its estimand. The weighting estimators target the ATT by
default, the average effect on the pilot's own citizens, with the ATE (over
both cohorts as sampled) on request; ANCOVA and the mixed model estimate a
conditional, variance-weighted contrast that is neither when effects differ
between citizens. Citizens lost before follow-up are counted in every row and
weighted for in ``ipw`` and ``dr`` (:func:`response_scores`).

Interval widths are given as ``confidence=0.95``, as everywhere in the
package; ``alpha`` appears only as the significance level of a planned test
(:func:`sample_size`, :func:`minimal_detectable_effect`), as in power analysis.

Bad input (too few respondents, a constant outcome, missing covariates, no
overlap between cohorts) raises :class:`EffectsError` naming the column, the
rows and what is allowed; nothing returns a silent NaN.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationError, PerfectSeparationWarning

from kantelmeter import _stats
from kantelmeter.errors import KantelmeterError

__all__ = [
    "COMPARISON_COLUMNS",
    "CONDITIONAL",
    "EffectsError",
    "ESTIMANDS",
    "METHODS",
    "OverlapWarning",
    "aipw",
    "ancova",
    "balance",
    "compare_cohorts",
    "difference_in_change",
    "e_value",
    "e_value_smd",
    "effective_size",
    "hedges_g",
    "ipw",
    "ipw_weights",
    "minimal_detectable_effect",
    "mixed_model",
    "naive_difference",
    "outcome_sd",
    "overlap",
    "prepare",
    "prepost",
    "propensity_scores",
    "proportional_odds",
    "recovery",
    "response_scores",
    "risk_difference",
    "risk_ratio",
    "sample_size",
]

#: The columns of every cohort-comparison table.
COMPARISON_COLUMNS = [
    "outcome",
    "method",
    "estimand",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "p",
    "n_pilot",
    "n_regular",
    "lost_pilot",
    "lost_regular",
    "missing_follow_up",
    "ess_pilot",
    "ess_regular",
    "e_value",
    "e_value_ci",
]

# Fewer respondents per cohort than this and an estimate is not worth reporting.
MIN_PER_COHORT = 5

#: The estimand of the regression estimators (ancova, mixed): a variance-weighted average of conditional effects.
CONDITIONAL = "conditional contrast (variance-weighted)"

# Propensity scores outside [BOUND, 1 - BOUND] mean a respondent is nearly
# certain to be in one cohort: the overlap check warns about them and AIPW
# bounds the scores there so that a single weight cannot dominate.
PROPENSITY_BOUND = 0.02


class EffectsError(KantelmeterError, ValueError):
    """Data that cannot support the requested estimate; the message says why and what is allowed."""


class OverlapWarning(UserWarning):
    """Some respondents have propensity scores outside the other cohort's range or close to 0 or 1."""


# --- the analysis frame -------------------------------------------------------


@dataclass(frozen=True)
class Cohorts:
    """One respondent per row, ready for a cohort comparison (see :func:`prepare`).

    Attributes
    ----------
    frame : pandas.DataFrame
        Index ``respondent``; columns ``treated`` (1 for the pilot cohort),
        ``outcome`` (at follow-up), ``baseline`` (the outcome at baseline,
        when a baseline occasion is given) and the covariate design columns.
    design : list of str
        The covariate design columns (numbers, 0/1 indicators for categories,
        products for ``a:b`` terms).
    long : pandas.DataFrame
        Every non-missing measurement of the outcome (columns ``respondent``,
        ``post``, ``outcome``, ``treated`` and the design columns), for the
        mixed model.
    name, treated_label, control_label : str
    cluster : pandas.Series or None
        The cluster of each respondent (index respondent), when given.
    lost : pandas.DataFrame
        Respondents who entered (baseline value and covariates known) but have
        no follow-up value: the columns of ``frame`` without ``outcome``. The
        weighting estimators model their loss; the others analyse complete cases.
    """

    frame: pd.DataFrame
    design: list[str]
    long: pd.DataFrame
    name: str
    treated_label: str
    control_label: str
    cluster: pd.Series | None
    lost: pd.DataFrame = field(default_factory=pd.DataFrame)

    def without_lost(self) -> Cohorts:
        """The same comparison with the lost respondents set aside: a complete-case analysis."""
        return dataclasses.replace(self, lost=self.lost.iloc[:0])

    @property
    def counts(self) -> dict[str, int]:
        treated = int(self.frame["treated"].sum())
        lost = int(self.lost["treated"].sum()) if len(self.lost) else 0
        return {
            "n_pilot": treated,
            "n_regular": len(self.frame) - treated,
            "lost_pilot": lost,
            "lost_regular": len(self.lost) - lost,
        }

    @property
    def entered(self) -> pd.DataFrame:
        """Everyone who entered: the analysed respondents (``responded`` 1) and the lost ones (``responded`` 0)."""
        columns = [c for c in self.frame.columns if c != "outcome"]
        if not len(self.lost):
            return self.frame[columns].assign(responded=1)
        return pd.concat([self.frame[columns].assign(responded=1), self.lost[columns].assign(responded=0)]).sort_index()


def prepare(
    data: pd.DataFrame,
    outcome: str,
    cohort: str = "cohort",
    treated: str = "pilot",
    baseline: str | None = "intake",
    follow_up: str = "follow_up",
    covariates: Sequence[str] = (),
    occasion: str = "occasion",
    respondent: str = "respondent",
    cluster: str | None = None,
    min_per_cohort: int = MIN_PER_COHORT,
) -> Cohorts:
    """Check an outcome frame and reshape it to one row per respondent.

    Respondents with a follow-up value (and a baseline value, when
    ``baseline`` is given) are analysed; those with the baseline value and
    the covariates but no follow-up value are kept apart as ``lost``, so that
    the weighting estimators can model who was lost (:func:`response_scores`).
    Covariates are taken from the respondent's baseline row (or their first row). A covariate is a column
    name or a product ``a:b`` of two columns; text or category columns become
    0/1 indicators against their first level.

    Parameters
    ----------
    data : pandas.DataFrame
        The outcome frame (one row per respondent and occasion).
    outcome : str
        The outcome column.
    cohort, treated : str
        The cohort column and the label of the pilot cohort; the column must
        hold exactly two labels.
    baseline, follow_up : str
        Labels in ``occasion``; ``baseline=None`` for outcomes measured only
        at follow-up.
    covariates : sequence of str
    occasion, respondent : str
    cluster : str, optional
        A column naming the cluster of a respondent (the professional, the
        intake morning), for cluster-robust errors.
    min_per_cohort : int

    Returns
    -------
    Cohorts

    Raises
    ------
    EffectsError
        A missing column, a cohort column without exactly two labels, missing
        covariate values (naming the respondents), too few respondents, or a
        constant outcome.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": ["a", "a", "b", "b"], "occasion": ["intake", "follow_up"] * 2,
    ...                      "cohort": ["pilot", "pilot", "regular", "regular"], "wellbeing": [4, 7, 5, 6]})
    >>> prepare(data, "wellbeing", min_per_cohort=1).frame
                treated  outcome  baseline
    respondent
    a                 1      7.0       4.0
    b                 0      6.0       5.0
    """
    covariates = list(covariates)
    columns = [respondent, occasion, cohort, outcome] + [part for term in covariates for part in term.split(":")]
    if cluster is not None:
        columns.append(cluster)
    absent = [column for column in dict.fromkeys(columns) if column not in data.columns]
    if absent:
        raise EffectsError(
            f"outcome frame has no column(s) {', '.join(map(repr, absent))}; "
            f"columns present: {', '.join(map(str, data.columns))}"
        )
    labels = sorted(pd.unique(data[cohort].dropna()).tolist(), key=str)
    if len(labels) != 2 or treated not in labels:
        raise EffectsError(f"column {cohort!r} holds {labels!r}; allowed: exactly two cohorts, one of them {treated!r}")
    control = next(label for label in labels if label != treated)
    occasions = [follow_up] + ([baseline] if baseline is not None else [])
    unknown = [label for label in occasions if not (data[occasion] == label).any()]
    if unknown:
        raise EffectsError(
            f"column {occasion!r} has no rows for {', '.join(map(repr, unknown))}; "
            f"occasions present: {', '.join(map(str, pd.unique(data[occasion])))}"
        )

    per_person = data.sort_values(occasion, key=lambda s: s != (baseline or follow_up), kind="stable")
    # Covariates come from the baseline row alone: filling a blank from a later
    # row would adjust for a value the pilot may have changed.
    people = per_person.groupby(respondent, sort=True).head(1).set_index(respondent).sort_index()
    constant = list(dict.fromkeys(c for c in (cohort, cluster) if c is not None))
    people[constant] = per_person.groupby(respondent, sort=True)[constant].first()
    _check_cohort_constant(data, respondent, cohort)
    # without this, a respondent with no cohort label would silently count as regular service
    unlabelled = people.index[people[cohort].isna()]
    if len(unlabelled):
        raise EffectsError(
            f"column {cohort!r} is missing for respondent(s) {_some(unlabelled)}; "
            f"allowed: {treated!r} or {control!r} for every respondent"
        )
    design = _design(people, covariates)
    frame = pd.DataFrame({"treated": (people[cohort] == treated).astype(int)}, index=people.index)
    frame["outcome"] = _values_at(data, respondent, occasion, follow_up, outcome).reindex(frame.index)
    if baseline is not None:
        frame["baseline"] = _values_at(data, respondent, occasion, baseline, outcome).reindex(frame.index)
    frame = frame.join(design)
    long = _long(data, respondent, occasion, outcome, baseline, follow_up).join(
        frame[["treated"]].join(design), on=respondent
    )
    started = frame["baseline"].notna() if "baseline" in frame else pd.Series(True, index=frame.index)
    lost = frame[started & frame["outcome"].isna()].drop(columns="outcome").dropna(subset=list(design.columns))
    frame = frame[started & frame["outcome"].notna()]
    _check_covariates(frame, list(design.columns), covariates)
    long = long.dropna(subset=list(design.columns))
    _check_sizes(frame, outcome, treated, control, min_per_cohort)
    clusters = None
    if cluster is not None:
        clusters = people[cluster].reindex(frame.index)
        if clusters.isna().any():
            raise EffectsError(
                f"column {cluster!r} is missing for respondent(s) "
                f"{_some(clusters.index[clusters.isna()])}; every analysed respondent needs a cluster"
            )
        lost = lost[people[cluster].reindex(lost.index).notna()]
        clusters = people[cluster].reindex(frame.index.union(lost.index))
    return Cohorts(
        frame=frame,
        design=list(design.columns),
        long=long.rename_axis("respondent").reset_index(),
        name=outcome,
        treated_label=str(treated),
        control_label=str(control),
        cluster=clusters,
        lost=lost,
    )


def _some(labels, shown: int = 5) -> str:
    labels = [str(label) for label in labels]
    more = f" and {len(labels) - shown} more" if len(labels) > shown else ""
    return ", ".join(labels[:shown]) + more


def _check_cohort_constant(data: pd.DataFrame, respondent: str, cohort: str) -> None:
    changing = data.groupby(respondent)[cohort].nunique()
    if (changing > 1).any():
        raise EffectsError(
            f"respondent(s) {_some(changing.index[changing > 1])} appear in more than one cohort "
            f"in column {cohort!r}; allowed: one cohort per respondent"
        )


def _values_at(data: pd.DataFrame, respondent: str, occasion: str, label: str, outcome: str) -> pd.Series:
    rows = data.loc[data[occasion] == label, [respondent, outcome]]
    twice = rows[respondent].duplicated()
    if twice.any():
        raise EffectsError(
            f"respondent(s) {_some(rows.loc[twice, respondent])} have more than one {label!r} row; "
            "allowed: one row per respondent and occasion"
        )
    return pd.to_numeric(rows.set_index(respondent)[outcome], errors="raise").astype(float)


def _long(data, respondent, occasion, outcome, baseline, follow_up) -> pd.DataFrame:
    occasions = [label for label in (baseline, follow_up) if label is not None]
    rows = data.loc[data[occasion].isin(occasions) & data[outcome].notna(), [respondent, occasion, outcome]]
    return pd.DataFrame(
        {
            respondent: rows[respondent].to_numpy(),
            "post": (rows[occasion] == follow_up).astype(float).to_numpy(),
            "outcome": rows[outcome].astype(float).to_numpy(),
        }
    ).set_index(respondent)


def _design(people: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Numeric design columns for covariate terms: numbers as they are, categories as indicators, a:b products."""
    pieces: dict[str, pd.Series] = {}
    for term in covariates:
        parts = [_columns_of(people, name) for name in term.split(":")]
        product = parts[0]
        for part in parts[1:]:
            product = pd.DataFrame({f"{a}:{b}": product[a] * part[b] for a in product for b in part})
        pieces.update(product.items())
    return pd.DataFrame(pieces, index=people.index)


def _columns_of(people: pd.DataFrame, name: str) -> pd.DataFrame:
    column = people[name]
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return pd.DataFrame({name: column.astype(float)})
    levels = sorted(pd.unique(column.dropna()).tolist(), key=str)
    indicators = {f"{name}[{level}]": (column == level).astype(float).where(column.notna()) for level in levels[1:]}
    return pd.DataFrame(indicators, index=people.index)


def _check_covariates(frame: pd.DataFrame, design: list[str], covariates: list[str]) -> None:
    for column in design:
        missing = frame.index[frame[column].isna()]
        if len(missing):
            raise EffectsError(
                f"covariate {column.split('[')[0]!r} is missing for {len(missing)} analysed "
                f"respondent(s): {_some(missing)}; impute it or drop those respondents "
                f"(covariates: {', '.join(covariates)})"
            )


def _check_sizes(frame: pd.DataFrame, outcome: str, treated: str, control: str, minimum: int) -> None:
    for label, flag in ((treated, 1), (control, 0)):
        n = int((frame["treated"] == flag).sum())
        if n < minimum:
            raise EffectsError(
                f"outcome {outcome!r}: cohort {label!r} has {n} respondent(s) with the needed "
                f"measurements; allowed: at least {minimum}"
            )
    if frame["outcome"].nunique() < 2:
        raise EffectsError(
            f"outcome {outcome!r} is constant ({frame['outcome'].iloc[0]:g}) at follow-up; "
            "allowed: an outcome that varies between respondents"
        )


# --- pre/post within a cohort -------------------------------------------------


def prepost(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    by: str | None = "cohort",
    before: str = "intake",
    after: str = "follow_up",
    occasion: str = "occasion",
    respondent: str = "respondent",
    correction: str = "holm",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change from intake to follow-up within a cohort, per outcome.

    Method: among respondents measured at both occasions, the mean change
    with its t-based confidence interval and the paired t-test; the Wilcoxon
    signed-rank test (``scipy.stats.wilcoxon``, zero differences dropped as
    in Wilcoxon 1945); Cohen's d_z, the mean change divided by the standard
    deviation of the changes (Cohen 1988, *Statistical Power Analysis*,
    2nd ed., eq. 2.3.5; Lakens 2013, *Front Psychol* 4:863); the matched-pairs
    rank-biserial correlation r = (sum of positive ranks - sum of negative
    ranks) / total rank sum (Kerby 2014, *Compr Psychol* 3:11.IT.3.1). p-values
    are adjusted over the outcomes within each cohort with Holm (1979) or
    Benjamini-Hochberg (1995) via ``statsmodels.stats.multitest.multipletests``.

    Parameters
    ----------
    data : pandas.DataFrame
        The outcome frame.
    outcomes : sequence of str
    by : str or None
        Analyse each level of this column (the cohort) separately.
    before, after : str
        The occasions compared.
    occasion, respondent : str
    correction : {"holm", "fdr_bh"}
    confidence : float, default 0.95
        Level of the confidence intervals.

    Returns
    -------
    pandas.DataFrame
        One row per cohort and outcome: ``n``, ``mean_before``,
        ``mean_after``, ``change``, ``ci_low``, ``ci_high``, ``t``, ``dof``,
        ``p_t``, ``W``, ``p_wilcoxon``, ``d_z``, ``r_rb``, ``p_t_adj``,
        ``p_wilcoxon_adj``.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": [1, 2, 3, 4, 5, 6] * 2, "cohort": "pilot",
    ...                      "occasion": ["intake"] * 6 + ["follow_up"] * 6,
    ...                      "wellbeing": [4, 5, 3, 6, 5, 4, 6, 6, 5, 6, 7, 5]})
    >>> row = prepost(data, ["wellbeing"]).iloc[0]
    >>> [round(float(row[column]), 4) for column in ("change", "d_z", "r_rb", "p_t")]
    [1.3333, 1.633, 1.0, 0.0103]
    """
    if correction not in ("holm", "fdr_bh"):
        raise EffectsError(f"correction={correction!r}; allowed: 'holm', 'fdr_bh'")
    groups = data.groupby(by, sort=True) if by is not None else [(None, data)]
    tables = []
    for label, group in groups:
        rows = [_prepost_one(group, outcome, before, after, occasion, respondent, confidence) for outcome in outcomes]
        table = pd.DataFrame(rows)
        for column in ("p_t", "p_wilcoxon"):
            table[f"{column}_adj"] = multipletests(table[column], method=correction)[1]
        if by is not None:
            table.insert(0, by, label)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _prepost_one(
    data: pd.DataFrame, outcome: str, before: str, after: str, occasion: str, respondent: str, confidence: float
) -> dict:
    if outcome not in data.columns:
        raise EffectsError(f"outcome frame has no column {outcome!r}; columns present: {', '.join(data.columns)}")
    pairs = pd.concat(
        [_values_at(data, respondent, occasion, label, outcome).rename(label) for label in (before, after)], axis=1
    ).dropna()
    if len(pairs) < MIN_PER_COHORT:
        raise EffectsError(
            f"outcome {outcome!r}: {len(pairs)} respondent(s) measured at both {before!r} and "
            f"{after!r}; allowed: at least {MIN_PER_COHORT}"
        )
    change = (pairs[after] - pairs[before]).to_numpy()
    if np.ptp(change) == 0:
        raise EffectsError(
            f"outcome {outcome!r}: every respondent changed by exactly {change[0]:g}; "
            "a paired test needs changes that vary"
        )
    paired = _stats.mean_interval(change, confidence)
    nonzero = change[change != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    positive, negative = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
    wilcoxon = stats.wilcoxon(nonzero) if len(nonzero) else None
    return {
        "outcome": outcome,
        "n": paired["n"],
        "mean_before": pairs[before].mean(),
        "mean_after": pairs[after].mean(),
        "change": paired["mean"],
        "ci_low": paired["ci_low"],
        "ci_high": paired["ci_high"],
        "t": paired["t"],
        "dof": paired["dof"],
        "p_t": paired["p"],
        "W": min(positive, negative),
        "p_wilcoxon": wilcoxon.pvalue if wilcoxon else 1.0,
        "d_z": paired["mean"] / paired["sd"],
        "r_rb": (positive - negative) / (positive + negative) if len(nonzero) else 0.0,
    }


# --- pilot versus regular: unadjusted --------------------------------------------


def _row(
    cohorts: Cohorts, method: str, estimand: str, estimate: float, se: float, ci: tuple[float, float], p: float, **extra
) -> dict:
    return {
        "outcome": cohorts.name,
        "method": method,
        "estimand": estimand,
        "estimate": float(estimate),
        "se": float(se),
        "ci_low": float(ci[0]),
        "ci_high": float(ci[1]),
        "p": float(p),
        **cohorts.counts,
        "missing_follow_up": "complete cases",
        **extra,
    }


def _by_cohort(cohorts: Cohorts, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    treated = cohorts.frame["treated"] == 1
    return values[treated].to_numpy(), values[~treated].to_numpy()


def _welch(cohorts: Cohorts, values: pd.Series, method: str, estimand: str, confidence: float) -> dict:
    test = _stats.welch(*_by_cohort(cohorts, values), confidence)
    return _row(cohorts, method, estimand, test["difference"], test["se"], (test["ci_low"], test["ci_high"]), test["p"])


def naive_difference(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Difference in mean follow-up, pilot minus regular, unadjusted.

    Method: Welch's t-test and its confidence interval (Welch 1947,
    *Biometrika* 34:28-35). Biased whenever the cohorts differ at baseline.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": range(4), "occasion": "follow_up",
    ...                      "cohort": ["pilot", "pilot", "regular", "regular"], "y": [6, 8, 5, 5.5]})
    >>> naive_difference(prepare(data, "y", baseline=None, min_per_cohort=2))["estimate"]
    1.75
    """
    return _welch(cohorts, cohorts.frame["outcome"], "naive", "unadjusted difference in follow-up means", confidence)


def _change(cohorts: Cohorts) -> pd.Series:
    if "baseline" not in cohorts.frame:
        raise EffectsError(f"outcome {cohorts.name!r}: a change needs a baseline occasion; got baseline=None")
    return cohorts.frame["outcome"] - cohorts.frame["baseline"]


def difference_in_change(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Difference in mean change (follow-up minus baseline), pilot minus regular.

    Method: Welch's t-test on the change scores (Welch 1947). Unbiased only
    when the cohorts would have changed alike without the pilot (parallel
    trends); it does not adjust for selection.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": [1, 1, 2, 2, 3, 3, 4, 4], "occasion": ["intake", "follow_up"] * 4,
    ...                      "cohort": ["pilot"] * 4 + ["regular"] * 4, "y": [3, 6, 4, 8, 5, 6, 5, 5]})
    >>> difference_in_change(prepare(data, "y", min_per_cohort=2))["estimate"]
    3.0
    """
    return _welch(cohorts, _change(cohorts), "change", "unadjusted difference in mean change", confidence)


def hedges_g(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Hedges' g of the change scores, pilot minus regular, with its confidence interval.

    Method: Cohen's d with the pooled standard deviation, times the
    small-sample correction J = 1 - 3 / (4 (n1 + n2) - 9); standard error
    sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))) (Hedges & Olkin 1985,
    *Statistical Methods for Meta-Analysis*, ch. 5) and the interval
    g +/- t(n1 + n2 - 2) se, as ``pingouin.compute_esci`` gives it;
    p from the pooled-variance t-test.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": [1, 1, 2, 2, 3, 3, 4, 4], "occasion": ["intake", "follow_up"] * 4,
    ...                      "cohort": ["pilot"] * 4 + ["regular"] * 4, "y": [3, 6, 4, 8, 5, 6, 5, 7]})
    >>> round(hedges_g(prepare(data, "y", min_per_cohort=2))["estimate"], 3)
    1.616
    """
    result = _stats.hedges_g(*_by_cohort(cohorts, _change(cohorts)), confidence)
    if np.isnan(result["g"]):
        raise EffectsError(
            f"outcome {cohorts.name!r}: the change is constant within both cohorts; "
            "a standardised difference needs variation"
        )
    return _row(
        cohorts,
        "hedges_g",
        "unadjusted standardised difference in change",
        result["g"],
        result["se"],
        (result["ci_low"], result["ci_high"]),
        result["p"],
    )


# --- pilot versus regular: regression adjustment --------------------------------


def _robust(model, cohorts: Cohorts):
    if cohorts.cluster is None:
        return model.fit(cov_type="HC3")
    return model.fit(cov_type="cluster", cov_kwds={"groups": _cluster_codes(cohorts, cohorts.frame.index)})


def _cluster_codes(cohorts: Cohorts, index: pd.Index) -> np.ndarray:
    return pd.factorize(cohorts.cluster.reindex(index))[0]


def _coefficient(cohorts: Cohorts, fit, name: str, method: str, estimand: str, confidence: float) -> dict:
    low, high = fit.conf_int(1 - _stats.confidence_level(confidence)).loc[name]
    return _row(cohorts, method, estimand, fit.params[name], fit.bse[name], (low, high), fit.pvalues[name])


def _exog(cohorts: Cohorts, columns: list[str], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """A constant and ``columns`` of ``frame`` (default: the analysed respondents); a constant column is refused."""
    frame = cohorts.frame if frame is None else frame
    exog = sm.add_constant(frame[columns], has_constant="add")
    constant = [c for c in columns if c != "treated" and frame[c].nunique() < 2]
    if constant:
        raise EffectsError(
            f"outcome {cohorts.name!r}: covariate column(s) {', '.join(constant)} do not vary "
            "among the analysed respondents; drop them"
        )
    return exog


def ancova(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """ANCOVA: follow-up regressed on baseline, cohort and covariates; the cohort coefficient.

    Method: ordinary least squares of the follow-up on the baseline value,
    a pilot indicator and the covariates (Vickers & Altman 2001, *BMJ*
    323:1123-1124), with HC3 heteroscedasticity-consistent errors (MacKinnon &
    White 1985) or, when a cluster column is given, cluster-robust errors
    (Liang & Zeger 1986; Cameron & Miller 2015, *J Hum Resour* 50:317-372).
    Without a baseline (``baseline=None``) it is the covariate-adjusted
    difference in follow-up.

    Estimand: a conditional contrast, not the ATT or the ATE. When the effect
    differs between citizens, the cohort coefficient averages the effects of
    covariate patterns weighted by the variance of cohort membership within
    them (Angrist 1998, *Econometrica* 66:249-288; Sloczynski 2022, *Rev Econ
    Stat* 104:501-509), so it sits between the two; ``estimand`` says so.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> pre = rng.normal(5, 1, 40)
    >>> pilot = np.repeat([1, 0], 20)
    >>> post = 1 + 0.8 * pre + 0.5 * pilot + rng.normal(0, 0.01, 40)
    >>> data = pd.DataFrame({"respondent": np.tile(range(40), 2), "occasion": ["intake"] * 40 + ["follow_up"] * 40,
    ...                      "cohort": np.tile(np.where(pilot == 1, "pilot", "regular"), 2),
    ...                      "y": np.r_[pre, post]})
    >>> round(ancova(prepare(data, "y"))["estimate"], 2)
    0.5
    """
    columns = ["treated"] + (["baseline"] if "baseline" in cohorts.frame else []) + cohorts.design
    fit = _robust(sm.OLS(cohorts.frame["outcome"], _exog(cohorts, columns)), cohorts)
    return _coefficient(cohorts, fit, "treated", "ancova", CONDITIONAL, confidence)


def mixed_model(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Linear mixed model with occasion x cohort and a random intercept per respondent.

    Method: ``statsmodels`` MixedLM fitted by REML on every measurement of
    everyone with at least one (so respondents who dropped out still inform
    the baseline; valid under missing at random, Laird & Ware 1982,
    *Biometrics* 38:963-974; Verbeke & Molenberghs 2000). Fixed effects:
    occasion, cohort, occasion x cohort, and each covariate with its own
    occasion interaction so that covariates adjust the change. The estimate
    is the occasion x cohort coefficient: the difference in change.

    Estimand: like :func:`ancova`'s, a conditional, variance-weighted
    contrast: neither the ATT nor the ATE when the effect varies.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> person = rng.normal(0, 1, 60)
    >>> pilot = np.repeat([1, 0], 30)
    >>> data = pd.DataFrame({"respondent": np.tile(range(60), 2), "occasion": ["intake"] * 60 + ["follow_up"] * 60,
    ...                      "cohort": np.tile(np.where(pilot == 1, "pilot", "regular"), 2),
    ...                      "y": np.r_[5 + person, 5.5 + person + 1.0 * pilot] + rng.normal(0, 0.05, 120)})
    >>> round(mixed_model(prepare(data, "y"))["estimate"], 1)
    1.0
    """
    if "baseline" not in cohorts.frame:
        raise EffectsError(f"outcome {cohorts.name!r}: the mixed model needs a baseline occasion; got baseline=None")
    long = cohorts.long
    exog = pd.DataFrame(
        {"const": 1.0, "post": long["post"], "treated": long["treated"], "post:treated": long["post"] * long["treated"]}
    )
    for column in cohorts.design:
        exog[column] = long[column]
        exog[f"post:{column}"] = long["post"] * long[column]
    model = sm.MixedLM(long["outcome"], exog, groups=long["respondent"])
    with warnings.catch_warnings():
        # the boundary (zero random-intercept variance) is a legitimate REML solution, not an error
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        fit = model.fit(reml=True)
    if not np.isfinite(fit.bse["post:treated"]):
        raise EffectsError(
            f"outcome {cohorts.name!r}: the mixed model did not converge to a usable estimate "
            f"(standard error {fit.bse['post:treated']}); try fewer covariates"
        )
    row = _coefficient(cohorts, fit, "post:treated", "mixed", CONDITIONAL, confidence)
    treated = long.groupby("respondent")["treated"].first()
    row.update(
        n_pilot=int(treated.sum()),
        n_regular=int(len(treated) - treated.sum()),
        missing_follow_up="every measurement (likelihood, missing at random)",
    )
    return row


# --- adjustment for selection: propensity scores, weights, balance ---------------


def _logit_fit(endog: np.ndarray, exog: pd.DataFrame, name: str, what: str, remedy: str) -> np.ndarray:
    """Predicted probabilities of a maximum-likelihood logistic regression; separation is an EffectsError."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=PerfectSeparationWarning)
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        try:
            fit = sm.Logit(endog, exog).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
            raise EffectsError(
                f"outcome {name!r}: {', '.join(c for c in exog.columns if c != 'const')} separate "
                f"{what} completely ({exc}); {remedy}"
            ) from None
    return np.asarray(fit.predict(exog))


def _selection_columns(cohorts: Cohorts, intake: bool) -> list[str]:
    return cohorts.design + (["baseline"] if intake and "baseline" in cohorts.frame else [])


def _propensity_exog(cohorts: Cohorts, entered: pd.DataFrame, intake: bool = True) -> pd.DataFrame:
    """The propensity model's design over everyone who entered: covariates and (by default) the intake value."""
    columns = _selection_columns(cohorts, intake)
    if not columns:
        raise EffectsError(f"outcome {cohorts.name!r}: propensity scores need baseline covariates; got none")
    return _exog(cohorts, columns, entered)


def _response_exog(cohorts: Cohorts, entered: pd.DataFrame, intake: bool = True) -> pd.DataFrame:
    """The response model's design over everyone who entered: the pilot indicator, covariates, intake value."""
    return _exog(cohorts, ["treated"] + _selection_columns(cohorts, intake), entered)


def _logit_influence(exog: pd.DataFrame, endog: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """Each row's influence on a logistic regression's coefficients, n (X' V X)^-1 x_i (y_i - p_i) / (1 - h_i).

    The score equations' sandwich bread inverted times each row's score
    (Stefanski & Boos 2002, *Am Stat* 56:29-38), divided by one minus the
    row's leverage h_i = p_i (1 - p_i) x_i' (X' V X)^-1 x_i: n times the
    one-step change in the coefficients when that row is left out (Pregibon
    1981, *Ann Stat* 9:705-724), the jackknife's value rather than the
    infinitesimal one; a row per person, a column per coefficient.
    """
    x = exog.to_numpy(dtype=float)
    variance = fitted * (1 - fitted)
    bread = np.linalg.pinv(x.T @ (x * variance[:, None]))
    leverage = variance * np.einsum("ij,jk,ik->i", x, bread, x)
    return len(x) * (x * ((endog - fitted) / (1 - leverage))[:, None]) @ bread


def propensity_scores(cohorts: Cohorts, intake: bool = True, everyone: bool = False) -> pd.Series:
    """The probability of being in the pilot given the baseline covariates and the intake value.

    Method: logistic regression of the pilot indicator on the covariate
    design and, by default, the outcome's own intake value (Rosenbaum & Rubin
    1983, *Biometrika* 70:41-55), fitted by maximum likelihood with
    ``statsmodels.Logit`` on everyone who entered, the respondents lost
    before follow-up included (selection happened before the loss). The
    intake value enters because the front office chose by how people were
    doing: leaving it out leaves that selection in every weighted estimate.

    Parameters
    ----------
    cohorts : Cohorts
    intake : bool, default True
        Add the intake value of the outcome (when the comparison has a baseline).
    everyone : bool, default False
        Return scores for everyone who entered (:attr:`Cohorts.entered`), not
        only the analysed respondents (:attr:`Cohorts.frame`).

    Raises
    ------
    EffectsError
        Without covariates or intake value, or when they separate the cohorts
        perfectly (no overlap: some pattern occurs in one cohort only).

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> age = rng.normal(60, 10, 200)
    >>> pilot = rng.random(200) < 1 / (1 + np.exp(-(age - 60) / 10))
    >>> data = pd.DataFrame({"respondent": range(200), "occasion": "follow_up", "age": age,
    ...                      "cohort": np.where(pilot, "pilot", "regular"), "y": rng.normal(size=200)})
    >>> ps = propensity_scores(prepare(data, "y", baseline=None, covariates=["age"]))
    >>> bool(ps[pilot].mean() > ps[~pilot].mean())
    True
    """
    entered = cohorts.entered
    exog = _propensity_exog(cohorts, entered, intake)
    scores = _logit_fit(
        entered["treated"].to_numpy(),
        exog,
        cohorts.name,
        "the cohorts",
        "so there is no overlap to compare; drop or coarsen the separating covariate",
    )
    scores = pd.Series(scores, index=entered.index, name="propensity")
    return scores if everyone else scores.reindex(cohorts.frame.index)


def response_scores(cohorts: Cohorts, intake: bool = True) -> pd.Series:
    """The probability of having a follow-up value, given cohort, intake value and covariates.

    Method: logistic regression of responding at follow-up on the pilot
    indicator, the covariate design and (by default) the intake value, over
    everyone who entered (:attr:`Cohorts.entered`). Its inverse weights the
    respondents who stayed so that they stand for everyone who entered:
    valid when the loss is missing at random given these (Robins, Rotnitzky &
    Zhao 1995, *JASA* 90:106-121; Seaman & White 2013, *Stat Methods Med Res*
    22:278-295). Without anyone lost, every score is 1.

    Returns
    -------
    pandas.Series
        Index: everyone who entered; name ``response``.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": [1, 1, 2, 2, 3, 4, 4, 5, 5, 6],
    ...                      "occasion": ["intake", "follow_up"] * 2 + ["intake"] + ["intake", "follow_up"] * 2
    ...                      + ["intake"], "cohort": ["pilot"] * 5 + ["regular"] * 5,
    ...                      "y": [3, 5, 4, 6, 2, 5, 5, 6, 6, 4]})
    >>> cohorts = prepare(data, "y", min_per_cohort=2)
    >>> cohorts.counts
    {'n_pilot': 2, 'n_regular': 2, 'lost_pilot': 1, 'lost_regular': 1}
    >>> response_scores(cohorts, intake=False).round(3).tolist()
    [0.667, 0.667, 0.667, 0.667, 0.667, 0.667]
    """
    entered = cohorts.entered
    if not len(cohorts.lost):
        return pd.Series(1.0, index=entered.index, name="response")
    exog = _response_exog(cohorts, entered, intake)
    scores = _logit_fit(
        entered["responded"].to_numpy(),
        exog,
        cohorts.name,
        "who was lost before follow-up",
        "use attrition='complete' or coarsen the separating covariate",
    )
    return pd.Series(scores, index=entered.index, name="response")


def overlap(cohorts: Cohorts, scores: pd.Series) -> pd.DataFrame:
    """Check that the cohorts' propensity scores overlap; warn or refuse when they do not.

    Method: the common support is the range of scores shared by both cohorts
    (from the larger of the two minima to the smaller of the two maxima);
    respondents outside it, or with a score within 0.02 of 0 or 1, have no
    comparable counterpart and make weights unstable (Crump, Hotz, Imbens &
    Mitnik 2009, *Biometrika* 96:187-199; Austin & Stuart 2015, *Stat Med*
    34:3661-3679).

    Parameters
    ----------
    cohorts : Cohorts
    scores : pandas.Series
        Propensity scores of the analysed respondents or of everyone who entered (index respondent).

    Returns
    -------
    pandas.DataFrame
        One row per cohort: ``n``, ``min``, ``max``, ``outside_support``
        (share outside the common support), ``extreme`` (share within 0.02 of 0 or 1).

    Warns
    -----
    OverlapWarning
        When more than 20% of a cohort lies outside the common support or more
        than 5% has an extreme score.

    Raises
    ------
    EffectsError
        When the common support is empty or holds less than half of a cohort.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": range(8), "occasion": "follow_up",
    ...                      "cohort": ["pilot"] * 4 + ["regular"] * 4, "y": range(8)})
    >>> cohorts = prepare(data, "y", baseline=None, min_per_cohort=4)
    >>> overlap(cohorts, pd.Series([.3, .4, .5, .6, .2, .3, .4, .5], index=cohorts.frame.index))["outside_support"].tolist()
    [0.25, 0.25]
    """
    treated = cohorts.entered["treated"].reindex(scores.index).to_numpy() == 1
    values = scores.to_numpy()
    low = max(values[treated].min(), values[~treated].min())
    high = min(values[treated].max(), values[~treated].max())
    rows = []
    for label, mask in ((cohorts.treated_label, treated), (cohorts.control_label, ~treated)):
        own = values[mask]
        rows.append(
            {
                "cohort": label,
                "n": int(mask.sum()),
                "min": own.min(),
                "max": own.max(),
                "outside_support": float(np.mean((own < low) | (own > high))),
                "extreme": float(np.mean((own < PROPENSITY_BOUND) | (own > 1 - PROPENSITY_BOUND))),
            }
        )
    table = pd.DataFrame(rows)
    if low >= high or (table["outside_support"] > 0.5).any():
        raise EffectsError(
            f"outcome {cohorts.name!r}: no overlap between the cohorts' propensity scores "
            f"(common support {low:.3f} to {high:.3f}; share outside: "
            f"{dict(zip(table['cohort'], table['outside_support'].round(2)))}); the cohorts "
            "cannot be compared on these covariates"
        )
    if (table["outside_support"] > 0.20).any() or (table["extreme"] > 0.05).any():
        warnings.warn(
            f"outcome {cohorts.name!r}: limited overlap between cohorts: share outside the common "
            f"support {dict(zip(table['cohort'], table['outside_support'].round(3)))}, share with a "
            f"propensity within {PROPENSITY_BOUND} of 0 or 1 "
            f"{dict(zip(table['cohort'], table['extreme'].round(3)))}; weighted estimates lean on few "
            "respondents",
            OverlapWarning,
            stacklevel=2,
        )
    return table


ESTIMANDS = ("att", "ate")


def _check_estimand(estimand: str) -> str:
    if estimand not in ESTIMANDS:
        raise EffectsError(
            f"estimand={estimand!r}; allowed: 'att' (the pilot's citizens) or 'ate' (pilot and "
            "regular citizens together)"
        )
    return estimand


def ipw_weights(
    cohorts: Cohorts,
    scores: pd.Series,
    estimand: str = "att",
    truncate: tuple[float, float] | None = None,
    response: pd.Series | None = None,
) -> pd.Series:
    """Stabilised inverse-probability weights for the ATT or the ATE, optionally times response weights.

    Method: for the ATE, P(pilot) / e for pilot respondents and (1 - P(pilot))
    / (1 - e) for regular ones (Robins, Hernán & Brumback 2000,
    *Epidemiology* 11:550-560); for the ATT, 1 for pilot respondents and
    e / (1 - e) times the cohorts' size ratio for regular ones, which
    reweights the regular cohort to the pilot's covariates (Hirano, Imbens &
    Ridder 2003, *Econometrica* 71:1161-1189). With ``response`` scores r,
    each weight is divided by r (see :func:`response_scores`). No truncation
    by default: truncating at percentiles (Cole & Hernán 2008, *Am J
    Epidemiol* 168:656-664) trades a smaller variance for a bias that does not
    shrink with n; ``truncate=(0.01, 0.99)`` opts in.

    Parameters
    ----------
    cohorts : Cohorts
    scores : pandas.Series
        Propensity scores (index respondent).
    estimand : {"att", "ate"}, default "att"
    truncate : (float, float), optional
        Percentiles of the weights at which to truncate them.
    response : pandas.Series, optional
        Response probabilities (:func:`response_scores`).

    Returns
    -------
    pandas.Series
        Index as ``scores``.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": range(4), "occasion": "follow_up",
    ...                      "cohort": ["pilot", "pilot", "regular", "regular"], "y": range(4)})
    >>> cohorts = prepare(data, "y", baseline=None, min_per_cohort=2)
    >>> scores = pd.Series([.5, .25, .5, .25], index=cohorts.frame.index)
    >>> ipw_weights(cohorts, scores, estimand="ate").tolist()
    [1.0, 2.0, 1.0, 0.6666666666666666]
    >>> ipw_weights(cohorts, scores).round(3).tolist()
    [1.0, 1.0, 1.0, 0.333]
    """
    _check_estimand(estimand)
    treated = cohorts.entered["treated"].reindex(scores.index).to_numpy()
    e = scores.to_numpy()
    share = treated.mean()
    if estimand == "ate":
        weights = np.where(treated == 1, share / e, (1 - share) / (1 - e))
    else:
        weights = np.where(treated == 1, 1.0, (1 - share) / share * e / (1 - e))
    if response is not None:
        weights = weights / response.reindex(scores.index).to_numpy()
    if truncate is not None:
        weights = np.clip(weights, *np.quantile(weights, truncate))
    return pd.Series(weights, index=scores.index, name="weight")


def effective_size(weights: pd.Series, treated: pd.Series) -> dict[str, float]:
    """Kish's effective sample size per cohort, (sum w)^2 / sum w^2 (Kish 1965, *Survey Sampling*, 8.2).

    Examples
    --------
    >>> effective_size(pd.Series([1.0, 1.0, 1.0, 3.0]), pd.Series([1, 1, 0, 0]))
    {'ess_pilot': 2.0, 'ess_regular': 1.6}
    """
    sizes = {}
    for name, flag in (("ess_pilot", 1), ("ess_regular", 0)):
        w = weights.to_numpy()[treated.to_numpy() == flag]
        sizes[name] = float(w.sum() ** 2 / (w**2).sum())
    return sizes


def balance(cohorts: Cohorts, weights: pd.Series | None = None) -> pd.DataFrame:
    """Standardised mean differences of the covariates and intake value, before and after weighting.

    Method: SMD = (mean_pilot - mean_regular) / sqrt((var_pilot +
    var_regular) / 2), for continuous covariates and 0/1 indicators alike,
    with weighted means and variances after weighting (Austin 2009, *Stat Med*
    28:3083-3107); |SMD| below 0.1 is the usual mark of balance. The intake
    value of the outcome appears as ``baseline`` when the comparison has one.

    Returns
    -------
    pandas.DataFrame
        Columns ``covariate``, ``smd_before`` and, with weights, ``smd_after``.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": range(4), "occasion": "follow_up", "age": [70, 80, 60, 70],
    ...                      "cohort": ["pilot", "pilot", "regular", "regular"], "y": range(4)})
    >>> balance(prepare(data, "y", baseline=None, covariates=["age"], min_per_cohort=2))
      covariate  smd_before
    0       age         2.0
    """
    treated = cohorts.frame["treated"].to_numpy() == 1
    columns = _selection_columns(cohorts, True)
    table = pd.DataFrame({"covariate": columns})
    options = [("smd_before", np.ones(len(treated)))]
    if weights is not None:
        options.append(("smd_after", weights.reindex(cohorts.frame.index).to_numpy()))
    for column, w in options:
        table[column] = [_smd(cohorts.frame[c].to_numpy(), treated, w) for c in columns]
    return table


def _smd(values: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> float:
    moments = []
    for mask in (treated, ~treated):
        mean = np.average(values[mask], weights=weights[mask])
        moments.append((mean, np.average((values[mask] - mean) ** 2, weights=weights[mask])))
    (m1, v1), (m0, v0) = moments
    spread = np.sqrt((v1 + v0) / 2)
    return float((m1 - m0) / spread) if spread > 0 else 0.0


ATTRITION = ("weights", "complete")


def _selection(cohorts: Cohorts, estimand: str, attrition: str) -> tuple[Cohorts, pd.Series, pd.Series, str]:
    """The comparison to weight (without the lost for complete cases), its propensity and response scores
    over everyone in it, and how the loss was handled."""
    _check_estimand(estimand)
    if attrition not in ATTRITION:
        raise EffectsError(
            f"attrition={attrition!r}; allowed: 'weights' (inverse probability of response) or "
            "'complete' (complete cases)"
        )
    if attrition == "complete" or not len(cohorts.lost):
        cohorts = cohorts.without_lost()
    scores = propensity_scores(cohorts, everyone=True)
    overlap(cohorts, scores)
    handled = "inverse probability of response weights" if len(cohorts.lost) else "complete cases"
    return cohorts, scores, response_scores(cohorts), handled


def ipw(
    cohorts: Cohorts,
    confidence: float = 0.95,
    estimand: str = "att",
    truncate: tuple[float, float] | None = None,
    attrition: str = "weights",
) -> dict:
    """Inverse-probability-weighted difference in follow-up, pilot minus regular: the ATT or the ATE.

    Method: the Hajek (normalised) weighted difference in means with the
    stabilised weights of :func:`ipw_weights` (propensity from the
    covariates and the intake value, :func:`propensity_scores`), times
    inverse probability of response weights for the loss before follow-up
    (:func:`response_scores`) unless ``attrition="complete"``; computed as
    weighted least squares of the follow-up on a pilot indicator with a
    robust (sandwich) standard error. Ignoring that the scores were
    estimated makes this error conservative for the ATE (Lunceford &
    Davidian 2004, *Stat Med* 23:2937-2960). :func:`aipw`'s stacked
    small-sample error is not used here: without outcome models it was too
    narrow at pilot size, covering the ATE 0.83 of the time over 300 studies
    with selection on the intake value where this one covers it 0.94
    (``benchmarks/bench_effects_simulation.py``'s designs). Cluster-robust
    when a cluster column is given. The overlap check runs first;
    ``ess_pilot`` and ``ess_regular`` report the effective sample sizes of
    the weights.

    Parameters
    ----------
    cohorts : Cohorts
    confidence : float, default 0.95
    estimand : {"att", "ate"}, default "att"
        ATT: the average effect on the pilot's citizens, the question a pilot
        asks. ATE: the average over pilot and regular citizens as sampled (it
        changes with how many regular citizens were sampled).
    truncate : (float, float), optional
        Truncate the weights at these percentiles (biased; off by default).
    attrition : {"weights", "complete"}, default "weights"

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> x = rng.normal(size=400)
    >>> pilot = rng.random(400) < 1 / (1 + np.exp(-x))
    >>> data = pd.DataFrame({"respondent": range(400), "occasion": "follow_up", "x": x,
    ...                      "cohort": np.where(pilot, "pilot", "regular"), "y": x + 1.0 * pilot})
    >>> row = ipw(prepare(data, "y", baseline=None, covariates=["x"]))
    >>> row["estimand"], bool(row["ci_low"] < 1.0 < row["ci_high"])
    ('ATT', True)
    """
    weighted, scores, response, handled = _selection(cohorts, estimand, attrition)
    responders = cohorts.frame.index
    weights = ipw_weights(weighted, scores, estimand, truncate, response).reindex(responders)
    model = sm.WLS(cohorts.frame["outcome"], sm.add_constant(cohorts.frame[["treated"]]), weights=weights)
    fit = (
        model.fit(cov_type="HC3")
        if cohorts.cluster is None
        else model.fit(cov_type="cluster", cov_kwds={"groups": _cluster_codes(cohorts, responders)})
    )
    row = _coefficient(cohorts, fit, "treated", "ipw", estimand.upper(), confidence)
    return {**row, "missing_follow_up": handled, **effective_size(weights, cohorts.frame["treated"])}


def _outcome_models(cohorts: Cohorts, entered: pd.DataFrame) -> tuple[dict[int, np.ndarray], np.ndarray]:
    """Per cohort, OLS of follow-up on baseline and covariates among its respondents, predicted for everyone.

    Returns the predictions under each cohort for everyone who entered and
    the leverage of each respondent in their own cohort's model (0 for the lost).
    """
    columns = (["baseline"] if "baseline" in cohorts.frame else []) + cohorts.design
    everyone = _exog(cohorts, columns, entered).to_numpy()
    exog = _exog(cohorts, columns).to_numpy()
    y = cohorts.frame["outcome"].to_numpy()
    t = cohorts.frame["treated"].to_numpy()
    predicted, leverage = {}, np.zeros(len(y))
    for arm in (0, 1):
        mask = t == arm
        label = cohorts.treated_label if arm else cohorts.control_label
        if mask.sum() <= exog.shape[1] + 1:
            raise EffectsError(
                f"outcome {cohorts.name!r}: cohort {label!r} has {int(mask.sum())} respondents for an "
                f"outcome model with {exog.shape[1]} terms; allowed: more respondents than terms + 1 "
                "(use fewer covariates)"
            )
        flat = [
            name for name, column in zip(["const"] + columns, exog[mask].T) if name != "const" and np.ptp(column) == 0
        ]
        if flat:
            raise EffectsError(
                f"outcome {cohorts.name!r}: covariate column(s) {', '.join(flat)} do not vary within "
                f"cohort {label!r}, so its outcome model cannot predict for the other cohort; merge "
                "sparse categories or drop them"
            )
        # least squares by the SVD, as statsmodels' pinv (collinear columns allowed); the leverages, the
        # diagonal of the hat matrix, are the row sums of the squared left singular vectors
        u, singular, vt = np.linalg.svd(exog[mask], full_matrices=False)
        kept = singular > singular.max() * max(exog.shape) * np.finfo(float).eps
        u, singular, vt = u[:, kept], singular[kept], vt[kept]
        predicted[arm] = everyone @ (vt.T @ ((u.T @ y[mask]) / singular))
        leverage[mask] = np.sum(u**2, axis=1)
    alone = cohorts.frame.index[leverage > 1 - 1e-8]
    if len(alone):
        raise EffectsError(
            f"outcome {cohorts.name!r}: respondent(s) {_some(alone)} alone determine part of their "
            "cohort's outcome model (a covariate category held by one respondent in that cohort); "
            "merge sparse categories or drop the covariate"
        )
    return predicted, pd.Series(leverage, index=cohorts.frame.index).reindex(entered.index, fill_value=0.0).to_numpy()


def _hajek(weight: np.ndarray, values: np.ndarray, for_variance: np.ndarray) -> tuple[float, np.ndarray]:
    """A normalised weighted mean and each row's jackknife influence on it.

    Leaving row i out moves the mean by w_i (x_i - mean) / (W - w_i), W the
    sum of the weights: the influence function w_i (x_i - mean) / mean(w)
    divided by 1 - w_i / W, the row's leverage (as HC3 for a weighted least
    squares fit of x on a constant). Returned times n, as an influence function.
    """
    total = np.sum(weight)
    mean = float(np.sum(weight * values) / total)
    return mean, weight * (for_variance - mean) / weight.mean() / (1 - weight / total)


def _hajek_slope(
    weight: np.ndarray, slope: np.ndarray, values: np.ndarray, mean: float, exog: pd.DataFrame
) -> np.ndarray:
    """The gradient of a normalised weighted mean (:func:`_hajek`) in a logistic model's coefficients.

    ``slope`` is d log(weight) / d(linear predictor) per row; the gradient
    is sum weight slope (values - mean) x / sum weight.
    """
    return exog.to_numpy(dtype=float).T @ (weight * slope * (values - mean)) / weight.sum()


def _aipw_influence(
    cohorts: Cohorts, weighted: Cohorts, scores: pd.Series, response: pd.Series, estimand: str
) -> tuple[float, np.ndarray, pd.Series]:
    """The AIPW estimate over everyone who entered, each person's jackknife-type influence on it, the weights.

    The influence is the one :func:`aipw` describes: leave-one-out residuals
    of the outcome models, each weighted mean's leverage (:func:`_hajek`) and
    the propensity and response models stacked with their leverage
    (:func:`_logit_influence`).
    """
    entered = weighted.entered
    predicted, leverage = _outcome_models(cohorts, entered)
    t = entered["treated"].to_numpy()
    raw = scores.reindex(entered.index).to_numpy()
    e = np.clip(raw, PROPENSITY_BOUND, 1 - PROPENSITY_BOUND)
    weights = ipw_weights(weighted, pd.Series(e, index=entered.index), estimand, response=response)
    responded = entered["responded"].to_numpy()
    w = weights.to_numpy() * responded
    y = cohorts.frame["outcome"].reindex(entered.index).fillna(0.0).to_numpy()
    residual = np.where(t == 1, y - predicted[1], y - predicted[0]) * responded
    base = t.astype(float) if estimand == "att" else np.ones(len(t))
    difference = predicted[1] - predicted[0]
    # the variance uses leave-one-out residuals r / (1 - h): in-sample residuals of outcome models with
    # many terms for a small cohort are too small and would make the interval too narrow
    left_out = residual / (1 - leverage)
    average, on_average = _hajek(base, difference, difference)
    pilot, on_pilot = _hajek(w * t, residual, left_out)
    regular, on_regular = _hajek(w * (1 - t), residual, left_out)
    influence = on_average + on_pilot - on_regular
    # the propensity and response models were estimated: stack their score equations (M-estimation) and add
    # the slope of the estimate in their coefficients times each person's influence on those coefficients
    inside = (raw > PROPENSITY_BOUND) & (raw < 1 - PROPENSITY_BOUND)  # a bounded score no longer moves
    on_odds = (np.zeros(len(t)), inside * 1.0) if estimand == "att" else (inside * (e - 1), inside * e)
    selection = _propensity_exog(weighted, entered)
    slope = _hajek_slope(w * t, on_odds[0], residual, pilot, selection) - _hajek_slope(
        w * (1 - t), on_odds[1], residual, regular, selection
    )
    influence = influence + _logit_influence(selection, t, raw) @ slope
    if len(weighted.lost):
        r = response.reindex(entered.index).to_numpy()
        on_response = r - 1.0  # d log(1 / r) / d(linear predictor)
        answering = _response_exog(weighted, entered)
        slope = _hajek_slope(w * t, on_response, residual, pilot, answering) - _hajek_slope(
            w * (1 - t), on_response, residual, regular, answering
        )
        influence = influence + _logit_influence(answering, responded, r) @ slope
    return average + pilot - regular, influence, weights


def aipw(cohorts: Cohorts, confidence: float = 0.95, estimand: str = "att", attrition: str = "weights") -> dict:
    """Doubly robust (augmented IPW) estimate of the pilot's effect, the headline: the ATT by default.

    Method: outcome regressions fitted separately in each cohort (follow-up
    on baseline and covariates, OLS, among the respondents) predict
    everyone's follow-up under both cohorts (m1, m0); the propensity e comes
    from the covariates and the intake value (:func:`propensity_scores`,
    bounded to [0.02, 0.98]) and the response probability r from cohort,
    covariates and intake value (:func:`response_scores`; r = 1 with
    ``attrition="complete"``). Over everyone who entered, with R = 1 for a
    respondent with follow-up,

    - ATT (default): mean over the pilot of m1 - m0, plus the weighted mean
      of the pilot residuals Y - m1 with weights R / r, minus the weighted
      mean of the regular residuals Y - m0 with weights R e / (r (1 - e));
    - ATE: mean over everyone of m1 - m0, plus the residual means weighted by
      R / (r e) and R / (r (1 - e)).

    The weighted means are normalised (Hajek). The ATT is the default because
    a pilot asks what it did for its own citizens; the ATE averages over the
    regular cohort too and so changes with how many regular citizens were
    sampled. Consistent when the outcome models, or the propensity and
    response models, are right, with loss at follow-up missing at random
    given cohort, covariates and intake value (Robins, Rotnitzky & Zhao 1994,
    *JASA* 89:846-866; Hahn 1998, *Econometrica* 66:315-331 for the ATT;
    Moodie, Delaney, Lefebvre & Platt 2008, *Stat Med* 27:4299-4310 for the
    response weights; Glynn & Quinn 2010, *Polit Anal* 18:36-56).

    The standard error is the standard deviation of each person's
    influence on the estimate over sqrt(n) (summed within clusters when a
    cluster column is given), with the propensity and response models'
    logistic score equations stacked with the AIPW estimating function
    (M-estimation; Stefanski & Boos 2002, *Am Stat* 56:29-38; Lunceford &
    Davidian 2004, *Stat Med* 23:2937-2960): they were estimated, not known,
    so each person's influence on their coefficients, times the estimate's
    gradient in them, adds to the influence (propensity scores held at the
    bound contribute no gradient). For small samples with skewed weights
    every part of the influence is its jackknife value, the change when the
    person is left out, rather than the infinitesimal one: the sandwich's
    terms divided by one minus the person's leverage in the outcome model
    (leave-one-out residuals r / (1 - h)), in each weighted mean (w_i / W)
    and in the logistic models (Pregibon 1981, *Ann Stat* 9:705-724), the
    HC3 correction of MacKinnon & White (1985, *J Econom* 29:305-325), which
    approximates the jackknife. The interval takes a t distribution with the
    pilot's respondents minus its outcome model's terms as degrees of
    freedom: with one small cohort the variance rests on about that many
    residuals, and a normal reference is too narrow (Imbens & Kolesar 2016,
    *Rev Econ Stat* 98:701-712); with clusters, at most their number minus
    one (Cameron & Miller 2015, *J Hum Resour* 50:317-372). Each correction
    vanishes as n grows.
    At pilot size (90 + 300) with heterogeneous effects, selection on the
    intake value and attrition at once, the infinitesimal sandwich with a
    normal reference covered the ATT 0.923 of the time over 300 studies
    (model SE 0.201, empirical 0.217); this interval covers it 0.950 (model
    SE 0.213), and 0.947-0.963 on each of the designs of
    ``benchmarks/bench_effects_simulation.py``, with the table in the README.
    A degrees-of-freedom factor n / (n - p) for the stacked parameters (as
    HC1) instead covered 0.937 there; added to the leverages and the t
    reference it gave 0.973 on two designs (too wide). The tests check the error
    against a 500-sample nonparametric bootstrap and against the delete-one
    jackknife that refits every model.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> x = rng.normal(size=400)
    >>> pilot = rng.random(400) < 1 / (1 + np.exp(-x))
    >>> data = pd.DataFrame({"respondent": range(400), "occasion": "follow_up", "x": x,
    ...                      "cohort": np.where(pilot, "pilot", "regular"),
    ...                      "y": 2 * x + 1.0 * pilot + rng.normal(0, 0.5, 400)})
    >>> row = aipw(prepare(data, "y", baseline=None, covariates=["x"]))
    >>> row["method"], row["estimand"], bool(abs(row["estimate"] - 1.0) < 3 * row["se"])
    ('dr', 'ATT', True)
    """
    weighted, scores, response, handled = _selection(cohorts, estimand, attrition)
    estimate, influence, weights = _aipw_influence(cohorts, weighted, scores, response, estimand)
    n = len(influence)
    dof = cohorts.counts["n_pilot"] - 1 - ("baseline" in cohorts.frame) - len(cohorts.design)  # less the pilot model
    if cohorts.cluster is not None:
        summed = pd.Series(influence).groupby(_cluster_codes(cohorts, weighted.entered.index)).sum().to_numpy()
        se = np.sqrt(np.sum(summed**2)) / n
        dof = min(dof, len(summed) - 1)
    else:
        se = influence.std(ddof=1) / np.sqrt(n)
    low, high, p = _stats.wald_interval(estimate, se, confidence, dof=dof)
    row = _row(cohorts, "dr", estimand.upper(), estimate, se, (low, high), p)
    return {
        **row,
        "missing_follow_up": handled,
        **effective_size(weights.reindex(cohorts.frame.index), cohorts.frame["treated"]),
    }


# --- binary and ordinal outcomes ------------------------------------------------


def _events(cohorts: Cohorts) -> tuple[int, int, int, int]:
    values = cohorts.frame["outcome"]
    if not values.isin([0, 1]).all():
        raise EffectsError(
            f"outcome {cohorts.name!r} holds {sorted(pd.unique(values))[:6]}; a risk difference or "
            "ratio needs a 0/1 outcome"
        )
    treated = cohorts.frame["treated"] == 1
    return int(values[treated].sum()), int(treated.sum()), int(values[~treated].sum()), int((~treated).sum())


def risk_difference(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Difference in the share with the event (e.g. improved), pilot minus regular, unadjusted.

    Method: confidence interval by Newcombe's hybrid score method (method 10
    of Newcombe 1998, *Stat Med* 17:873-890), via
    ``statsmodels.stats.proportion.confint_proportions_2indep``; p from the
    Miettinen-Nurminen score test (1985, *Stat Med* 4:213-226); ``se`` is the
    Wald standard error.

    Examples
    --------
    Newcombe's (1998) example (a), 56/70 versus 48/80, interval 0.0524 to 0.3339:

    >>> data = pd.DataFrame({"respondent": range(150), "occasion": "follow_up",
    ...                      "cohort": ["pilot"] * 70 + ["regular"] * 80,
    ...                      "improved": [1] * 56 + [0] * 14 + [1] * 48 + [0] * 32})
    >>> row = risk_difference(prepare(data, "improved", baseline=None))
    >>> round(row["estimate"], 4), round(row["ci_low"], 4), round(row["ci_high"], 4)
    (0.2, 0.0524, 0.3339)
    """
    a, n1, c, n0 = _events(cohorts)
    p1, p0 = a / n1, c / n0
    ci = confint_proportions_2indep(
        a, n1, c, n0, method="newcomb", compare="diff", alpha=1 - _stats.confidence_level(confidence)
    )
    test = sm.stats.test_proportions_2indep(a, n1, c, n0, method="score", compare="diff")
    return _row(
        cohorts,
        "risk_difference",
        "unadjusted difference in proportions",
        p1 - p0,
        np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0),
        ci,
        test.pvalue,
    )


def risk_ratio(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Ratio of the shares with the event, pilot over regular, unadjusted.

    Method: Wald interval on the log scale, se(log RR) = sqrt(1/a - 1/n1 +
    1/c - 1/n0) (Katz, Baptista, Azen & Pike 1978, *Biometrics* 34:469-474);
    ``se`` is that of the log ratio; p from the Wald test of log RR = 0.

    Examples
    --------
    >>> data = pd.DataFrame({"respondent": range(150), "occasion": "follow_up",
    ...                      "cohort": ["pilot"] * 70 + ["regular"] * 80,
    ...                      "improved": [1] * 56 + [0] * 14 + [1] * 48 + [0] * 32})
    >>> row = risk_ratio(prepare(data, "improved", baseline=None))
    >>> round(row["estimate"], 4), round(row["ci_low"], 4), round(row["ci_high"], 4)
    (1.3333, 1.0766, 1.6512)
    """
    a, n1, c, n0 = _events(cohorts)
    if a == 0 or c == 0:
        raise EffectsError(
            f"outcome {cohorts.name!r}: a cohort has no events ({a}/{n1} versus {c}/{n0}); "
            "a risk ratio needs at least one event in each cohort"
        )
    log_ratio = np.log((a / n1) / (c / n0))
    se = np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    ci = confint_proportions_2indep(
        a, n1, c, n0, method="log", compare="ratio", alpha=1 - _stats.confidence_level(confidence)
    )
    return _row(
        cohorts,
        "risk_ratio",
        "unadjusted ratio of proportions",
        np.exp(log_ratio),
        se,
        ci,
        2 * stats.norm.sf(abs(log_ratio / se)),
    )


def proportional_odds(cohorts: Cohorts, confidence: float = 0.95) -> dict:
    """Proportional-odds (ordinal logistic) model; the pilot's log odds ratio of a higher category.

    Method: cumulative logit model P(Y <= j) = F(cut_j - x'b) fitted by
    maximum likelihood with ``statsmodels`` OrderedModel (McCullagh 1980,
    *JRSS B* 42:109-142), on the pilot indicator, the baseline (when given)
    and the covariates; a positive estimate means the pilot's respondents
    tend to higher codes. Wald interval and p.

    Examples
    --------
    >>> rng = np.random.default_rng(6)
    >>> pilot = np.repeat([1, 0], 150)
    >>> latent = 1.0 * pilot + rng.logistic(size=300)
    >>> data = pd.DataFrame({"respondent": range(300), "occasion": "follow_up",
    ...                      "cohort": np.where(pilot == 1, "pilot", "regular"),
    ...                      "rung": np.digitize(latent, [-1, 0.5, 2]) + 1})
    >>> row = proportional_odds(prepare(data, "rung", baseline=None))
    >>> bool(row["ci_low"] < 1.0 < row["ci_high"])
    True
    """
    values = cohorts.frame["outcome"]
    if not np.allclose(values, np.round(values)):
        raise EffectsError(
            f"outcome {cohorts.name!r} has non-integer values; a proportional-odds model needs ordered codes"
        )
    endog = pd.Series(pd.Categorical(values.astype(int), ordered=True), index=values.index)
    columns = ["treated"] + (["baseline"] if "baseline" in cohorts.frame else []) + cohorts.design
    _exog(cohorts, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        fit = OrderedModel(endog, cohorts.frame[columns], distr="logit").fit(method="bfgs", disp=False, maxiter=500)
    if not np.isfinite(fit.bse["treated"]):
        raise EffectsError(
            f"outcome {cohorts.name!r}: the proportional-odds model gives no finite standard "
            "error (a category empty in one cohort?); merge sparse categories"
        )
    return _coefficient(
        cohorts, fit, "treated", "proportional_odds", "conditional log odds ratio of a higher category", confidence
    )


# --- power and sample size -----------------------------------------------------


def sample_size(effect: float, alpha: float = 0.05, power: float = 0.8, rho: float = 0.0, ratio: float = 1.0) -> int:
    """Respondents needed in the pilot cohort to detect a standardised effect.

    Method: the two-sample t-test's sample size (``statsmodels.stats.power.
    TTestIndPower``; Cohen 1988), multiplied by the ANCOVA design factor
    1 - rho^2 when the follow-up is adjusted for a baseline measurement that
    correlates rho with it (Borm, Fransen & Lemmens 2007, *J Clin Epidemiol*
    60:1234-1238). The regular cohort needs ``ratio`` times as many.

    Parameters
    ----------
    effect : float
        Cohen's d, the difference in follow-up divided by its standard deviation.
    alpha, power : float
    rho : float
        Baseline-follow-up correlation (0: no baseline adjustment).
    ratio : float
        Regular respondents per pilot respondent.

    Examples
    --------
    >>> sample_size(0.5), sample_size(0.5, rho=0.5)
    (64, 48)
    """
    _check_power_input(effect=effect, alpha=alpha, power=power, rho=rho, ratio=ratio)
    n = TTestIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=ratio)
    return int(np.ceil(n * (1 - rho**2)))


def minimal_detectable_effect(
    n: int, alpha: float = 0.05, power: float = 0.8, rho: float = 0.0, ratio: float = 1.0
) -> float:
    """The smallest standardised effect (Cohen's d) detectable with n pilot respondents.

    Method: the inverse of :func:`sample_size`: the effect at which the
    two-sided two-sample t-test with an effective size n / (1 - rho^2) (Borm,
    Fransen & Lemmens 2007) reaches ``power``, found by Brent's root search
    (``scipy.optimize.brentq``; power rises with the effect, so the root is
    unique). The power is P(T > t) + P(T < -t) for T noncentral t with
    n1 + n2 - 2 degrees of freedom and noncentrality d sqrt(n1 n2 / (n1 + n2))
    (Cohen 1988, ch. 2), as ``statsmodels.stats.power.TTestIndPower.power``
    computes it, except that the lower tail, which scipy's noncentral t
    returns as NaN far from the centre, counts as 0 there:
    ``TTestIndPower.solve_power`` failed on that NaN for some (n, ratio).

    Examples
    --------
    >>> round(minimal_detectable_effect(64), 3), round(minimal_detectable_effect(90, rho=0.6), 3)
    (0.499, 0.335)
    >>> round(minimal_detectable_effect(70, ratio=4.0), 3)
    0.375
    """
    _check_power_input(n=n, alpha=alpha, power=power, rho=rho, ratio=ratio)
    pilot = n / (1 - rho**2)
    regular = pilot * ratio
    if regular < 2:
        raise EffectsError(
            f"n={n!r} with ratio={ratio!r} gives {regular:.2f} regular respondents; allowed: n x ratio of at least 2"
        )
    dof = pilot + regular - 2
    critical = stats.t.isf(alpha / 2, dof)
    scale = np.sqrt(pilot * regular / (pilot + regular))

    def shortfall(effect: float) -> float:
        lower = stats.nct.cdf(-critical, dof, effect * scale)
        return float(stats.nct.sf(critical, dof, effect * scale) + np.nan_to_num(lower, nan=0.0)) - power

    if shortfall(1e-9) >= 0:
        raise EffectsError(f"power={power!r} is reached at any effect when alpha={alpha!r}; allowed: power > alpha")
    high = 0.5
    while shortfall(high) < 0:
        high *= 2
    return float(optimize.brentq(shortfall, 1e-9, high, xtol=1e-10))


def _check_power_input(**values: float) -> None:
    allowed = {
        "effect": (0, np.inf),
        "n": (2, np.inf),
        "alpha": (0, 1),
        "power": (0, 1),
        "rho": (-1, 1),
        "ratio": (0, np.inf),
    }
    for name, value in values.items():
        low, high = allowed[name]
        if not (np.isfinite(value) and low < value < high):
            raise EffectsError(f"{name}={value!r}; allowed: strictly between {low} and {high}")


# --- sensitivity to unmeasured confounding ------------------------------------------

# VanderWeele (2017) and VanderWeele & Ding (2017): a standardised difference d corresponds to a risk ratio of about
# exp(0.91 d) for the outcome dichotomised (Chinn 2000, *Stat Med* 19:3127-3131).
_SMD_TO_LOG_RR = 0.91


def e_value(ratio: float, ci_low: float = np.nan, ci_high: float = np.nan) -> tuple[float, float]:
    """E-value of a risk ratio and of its confidence limit closer to 1 (VanderWeele & Ding 2017).

    Method: for RR >= 1, E = RR + sqrt(RR (RR - 1)); a ratio below 1 is
    inverted first. The E-value is the smallest risk ratio that an unmeasured
    confounder would need with both the cohort and the outcome, beyond the
    measured covariates, to explain the estimate away; for the interval it
    is that of the limit closer to 1, and 1 when the interval holds 1
    (VanderWeele & Ding 2017, *Ann Intern Med* 167:268-274).

    Returns
    -------
    (float, float)
        E-value of the estimate and of the confidence limit (NaN without limits).

    Examples
    --------
    >>> [round(value, 2) for value in e_value(3.9, 1.8, 8.7)]      # R: EValue::evalues.RR(3.9, 1.8, 8.7)
    [7.26, 3.0]
    """
    if not ratio > 0:
        raise EffectsError(f"ratio={ratio!r}; an E-value needs a positive risk ratio")

    def one(value: float) -> float:
        value = 1 / value if value < 1 else value
        return float(value + np.sqrt(value * (value - 1)))

    if np.isnan(ci_low) or np.isnan(ci_high):
        return one(ratio), np.nan
    if ci_low <= 1 <= ci_high:
        return one(ratio), 1.0
    return one(ratio), one(ci_low if ratio >= 1 else ci_high)


def e_value_smd(d: float, se: float, confidence: float = 0.95) -> tuple[float, float]:
    """E-value of a standardised mean difference d and of its confidence limit closer to 0.

    Method: d is converted to an approximate risk ratio exp(0.91 d), its
    interval to exp(0.91 (d -/+ z se)) (VanderWeele 2017, *Epidemiology*
    28:e57-e59; VanderWeele & Ding 2017), and :func:`e_value` applied. R's
    ``EValue::evalues.MD`` uses 1.78 for 0.91 x 1.96.

    Examples
    --------
    >>> [round(value, 3) for value in e_value_smd(0.5, 0.25)]      # R: EValue::evalues.MD(0.5, 0.25)
    [2.529, 1.105]
    """
    low, high, _ = _stats.wald_interval(d, se, confidence)
    return e_value(*np.exp(_SMD_TO_LOG_RR * np.array([d, low, high])))


def outcome_sd(cohorts: Cohorts) -> float:
    """The pooled within-cohort standard deviation of the follow-up: the unit of a standardised difference."""
    groups = cohorts.frame.groupby("treated")["outcome"]
    sizes, variances = groups.size(), groups.var(ddof=1)
    return float(np.sqrt(((sizes - 1) * variances).sum() / (sizes.sum() - 2)))


def _sensitivity(cohorts: Cohorts, row: dict, confidence: float) -> dict:
    """E-values of an estimate: on its own ratio scale, or as a standardised difference for a continuous outcome."""
    method = row["method"]
    if method == "risk_ratio":
        values = e_value(row["estimate"], row["ci_low"], row["ci_high"])
    elif method == "proportional_odds":
        # a common outcome: the odds ratio is converted to a risk ratio by its square root (VanderWeele 2017)
        values = e_value(*np.sqrt(np.exp([row["estimate"], row["ci_low"], row["ci_high"]])))
    elif method == "hedges_g":
        values = e_value_smd(row["estimate"], row["se"], confidence)
    elif method != "risk_difference" and not cohorts.frame["outcome"].isin([0, 1]).all():
        sd = outcome_sd(cohorts)
        values = e_value_smd(row["estimate"] / sd, row["se"] / sd, confidence)
    else:
        values = (np.nan, np.nan)
    return {"e_value": values[0], "e_value_ci": values[1]}


# --- one call ----------------------------------------------------------------------

#: The estimators :func:`compare_cohorts` can run, by name.
METHODS: dict[str, Callable[[Cohorts, float], dict]] = {
    "naive": naive_difference,
    "change": difference_in_change,
    "hedges_g": hedges_g,
    "ancova": ancova,
    "mixed": mixed_model,
    "ipw": ipw,
    "dr": aipw,
    "risk_difference": risk_difference,
    "risk_ratio": risk_ratio,
    "proportional_odds": proportional_odds,
}

# What "all" means: every estimator of a continuous outcome's average effect.
CONTINUOUS = ["naive", "change", "hedges_g", "ancova", "mixed", "ipw", "dr"]

# The estimators that weight for selection and loss, and so take an estimand and a way of handling attrition.
WEIGHTING = {"ipw", "dr"}


def compare_cohorts(
    data: pd.DataFrame,
    outcomes: str | Sequence[str],
    cohort: str = "cohort",
    baseline: str | None = "intake",
    covariates: Sequence[str] = (),
    method: str | Sequence[str] = "dr",
    treated: str = "pilot",
    follow_up: str = "follow_up",
    cluster: str | None = None,
    occasion: str = "occasion",
    respondent: str = "respondent",
    confidence: float = 0.95,
    min_per_cohort: int = MIN_PER_COHORT,
    estimand: str = "att",
    attrition: str = "weights",
) -> pd.DataFrame:
    """Pilot versus regular service for several outcomes and estimators, in one tidy table.

    Each outcome is prepared once (:func:`prepare`) and handed to each
    estimator in :data:`METHODS`; see those functions for their methods and
    sources. The doubly robust estimate of the ATT (``"dr"``, :func:`aipw`)
    is the headline: the pilot's average effect on its own citizens,
    adjusted for selection on the covariates and the intake value through an
    outcome model and the propensity score, and for loss before follow-up by
    response weights. Every row names its estimand: ``ATT`` or ``ATE`` for
    the weighting estimators, a conditional contrast for ANCOVA and the mixed
    model, an unadjusted contrast for the rest; compare only rows with the
    same estimand. Each row carries the E-value of the estimate and of its
    confidence limit closer to the null (:func:`e_value`, :func:`e_value_smd`,
    the latter on the estimate divided by :func:`outcome_sd`). Draw rows of
    one estimand with :func:`kantelmeter.plots.forest`.

    Parameters
    ----------
    data : pandas.DataFrame
        The outcome frame (one row per respondent and occasion).
    outcomes : str or sequence of str
    cohort, treated : str
        The cohort column and the label of the pilot cohort.
    baseline : str or None
        The baseline occasion; None for outcomes measured at follow-up only.
    covariates : sequence of str
        Baseline covariates (columns, or ``a:b`` products).
    method : str or sequence of str
        Names from :data:`METHODS`, or ``"all"`` for every estimator of a
        continuous outcome.
    follow_up, occasion, respondent, cluster : str
    confidence : float, default 0.95
        Level of the confidence intervals (and of the E-value's limit).
    min_per_cohort : int
    estimand : {"att", "ate"}, default "att"
        What ``ipw`` and ``dr`` estimate.
    attrition : {"weights", "complete"}, default "weights"
        How ``ipw`` and ``dr`` handle respondents without follow-up.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARISON_COLUMNS`: outcome, method, estimand,
        estimate, se, ci_low, ci_high, p, n_pilot, n_regular (analysed),
        lost_pilot, lost_regular (entered, but no follow-up value),
        missing_follow_up (how they were handled), ess_pilot, ess_regular
        (effective sample sizes of the weights; NaN for unweighted
        estimators), e_value, e_value_ci (NaN for a risk difference and for a
        difference in a 0/1 outcome).

    Examples
    --------
    >>> from kantelmeter import synth
    >>> study = synth.study(seed=1)
    >>> table = compare_cohorts(study.outcomes, ["wellbeing"], covariates=synth.COVARIATES, method=["naive", "dr"])
    >>> table[["method", "estimand"]].to_numpy().tolist()
    [['naive', 'unadjusted difference in follow-up means'], ['dr', 'ATT']]
    >>> table["estimate"].round(1).tolist(), round(float(study.true_effects.loc["wellbeing", "att"]), 1)
    ([0.5, 0.7], 1.0)

    The pilot picked complex cases, who improve less: the naive difference
    is far below the truth; the doubly robust estimate is near it.
    """
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    methods = CONTINUOUS if method == "all" else ([method] if isinstance(method, str) else list(method))
    unknown = [name for name in methods if name not in METHODS]
    if unknown:
        raise EffectsError(
            f"method(s) {', '.join(map(repr, unknown))} unknown; allowed: {', '.join(METHODS)}, or 'all'"
        )
    if not outcomes:
        raise EffectsError("no outcomes given; allowed: one or more outcome columns")
    _check_estimand(estimand)
    rows = []
    for outcome in outcomes:
        cohorts = prepare(
            data,
            outcome,
            cohort=cohort,
            treated=treated,
            baseline=baseline,
            follow_up=follow_up,
            covariates=covariates,
            occasion=occasion,
            respondent=respondent,
            cluster=cluster,
            min_per_cohort=min_per_cohort,
        )
        for name in methods:
            options = {"estimand": estimand, "attrition": attrition} if name in WEIGHTING else {}
            row = METHODS[name](cohorts, confidence, **options)
            rows.append({**row, **_sensitivity(cohorts, row, confidence)})
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


# --- checking estimators on data with a known truth ---------------------------------


def recovery(results: pd.DataFrame, by: str | Sequence[str] = "method", level: float = 0.95) -> pd.DataFrame:
    """Bias and coverage of estimators over simulated data sets with a known true effect.

    Method: the performance measures of Morris, White & Crowther (2019,
    *Stat Med* 38:2074-2102): bias = mean(estimate - truth) with its Monte
    Carlo standard error sd / sqrt(S); empirical standard error (sd of the
    estimates) against the mean model standard error; coverage = share of
    intervals holding the truth, with its binomial Monte Carlo standard
    error sqrt(level (1 - level) / S) under nominal coverage.

    Parameters
    ----------
    results : pandas.DataFrame
        One row per data set and estimator: ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``truth`` and the ``by`` columns (such as
        the rows of :func:`compare_cohorts` with a ``truth`` column added).
    by : str or sequence of str
    level : float
        The nominal coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        Per group: ``n_sim``, ``truth`` (mean), ``bias``, ``bias_mcse``,
        ``relative_bias``, ``empirical_se``, ``model_se``, ``coverage``,
        ``coverage_mcse``.

    Examples
    --------
    >>> results = pd.DataFrame({"method": "dr", "estimate": [0.9, 1.1, 1.0, 1.2], "se": 0.1,
    ...                         "ci_low": [0.7, 0.9, 0.8, 1.01], "ci_high": [1.1, 1.3, 1.2, 1.4], "truth": 1.0})
    >>> recovery(results)[["bias", "coverage"]].round(3)
            bias  coverage
    method
    dr      0.05      0.75
    """
    error = results["estimate"] - results["truth"]
    covered = (results["ci_low"] <= results["truth"]) & (results["truth"] <= results["ci_high"])
    frame = results.assign(error=error, covered=covered.astype(float))
    table = frame.groupby(by, sort=False).agg(
        n_sim=("error", "size"),
        truth=("truth", "mean"),
        bias=("error", "mean"),
        empirical_se=("estimate", "std"),
        model_se=("se", "mean"),
        coverage=("covered", "mean"),
    )
    table.insert(3, "bias_mcse", frame.groupby(by, sort=False)["error"].std() / np.sqrt(table["n_sim"]))
    table.insert(4, "relative_bias", table["bias"] / table["truth"])
    table["coverage_mcse"] = np.sqrt(level * (1 - level) / table["n_sim"])
    return table
