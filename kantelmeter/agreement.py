"""Agreement between raters: Cohen's and weighted kappa, Krippendorff's alpha, the ICC.

Two professionals who rate the same citizen's participation wheel, or two
coders who code the same interview fragments, should agree beyond chance
before their ratings are counted. Each function here takes a DataFrame and
returns a one-row (or one-row-per-estimate) DataFrame with the estimate, its
confidence interval and n, in the way pingouin returns results.

- :func:`cohen_kappa`: two raters, nominal or ordinal codes; weighted kappa
  with linear or quadratic weights; large-sample standard error of Fleiss,
  Cohen & Everitt (1969).
- :func:`krippendorff_alpha`: any number of raters, missing ratings allowed,
  any level of measurement (the ``krippendorff`` package); bootstrap interval
  over units.
- :func:`icc`: intraclass correlation of numeric levels (pingouin), with the
  F-based interval of Shrout & Fleiss (1979) / McGraw & Wong (1996).
- :func:`double_ratings` pairs the first and second rater's items of an
  instrument (``<item>_rater1`` / ``<item>_rater2``, as in the intake
  record) and :func:`wheel_agreement` reports kappa per wheel domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
import pingouin
from scipy import stats

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument
from kantelmeter.scoring import answers, to_wide

__all__ = [
    "AgreementError",
    "cohen_kappa",
    "double_ratings",
    "icc",
    "kappa_from_table",
    "krippendorff_alpha",
    "wheel_agreement",
]

Weights = Literal["linear", "quadratic"] | None

# Shrout & Fleiss (1979) forms, in pingouin's row order ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k.
_ICC_DESCRIPTIONS = [
    "one-way random, single rater",
    "two-way random, absolute agreement, single rater",
    "two-way mixed, consistency, single rater",
    "one-way random, mean of k raters",
    "two-way random, absolute agreement, mean of k raters",
    "two-way mixed, consistency, mean of k raters",
]

_KAPPA_COLUMNS = ["method", "kappa", "se", "ci_low", "ci_high", "n", "p_observed", "p_expected"]


class AgreementError(KantelmeterError, ValueError):
    """A rating table or rater columns that agreement cannot be computed on; the message says what is allowed."""


def kappa_from_table(table, weights: Weights = None, confidence: float = 0.95) -> pd.DataFrame:
    """Cohen's (weighted) kappa of a square agreement table of counts.

    Method: with cell proportions p_ij, margins p_i. and p_.j and agreement
    weights w_ij (1 on the diagonal), p_o = sum w_ij p_ij, p_e = sum w_ij
    p_i. p_.j and kappa = (p_o - p_e) / (1 - p_e) (Cohen 1960, 1968). Linear
    weights are 1 - |i - j| / (k - 1), quadratic 1 - (i - j)^2 / (k - 1)^2
    (Fleiss & Cohen 1973). The standard error is the large-sample (non-null)
    one of Fleiss, Cohen & Everitt (1969), *Psychological Bulletin* 72,
    323-327: var = [sum p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 -
    (kappa - p_e (1 - kappa))^2] / (n (1 - p_e)^2), with wbar_i. = sum_j p_.j
    w_ij and wbar_.j = sum_i p_i. w_ij; the interval is kappa +- z se
    (Fleiss, Levin & Paik 2003, ch. 18).

    Parameters
    ----------
    table : array-like of shape (k, k)
        Counts; rows the first rater's categories, columns the second's, in
        the same (for weights: ordinal) order.
    weights : {None, "linear", "quadratic"}
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row: ``method``, ``kappa``, ``se``, ``ci_low``, ``ci_high``,
        ``n``, ``p_observed``, ``p_expected``.

    Examples
    --------
    Agresti's husbands' and wives' ratings (the ``SexualFun`` table of R's
    vcd package; ``vcd::Kappa(SexualFun)`` gives 0.1293 (ASE 0.0686) and
    0.2374 (ASE 0.0783) with equal-spacing weights):

    >>> fun = [[7, 7, 2, 3], [2, 8, 3, 7], [1, 5, 4, 9], [2, 8, 9, 14]]
    >>> kappa_from_table(fun)[["kappa", "se", "n"]].round(4)
        kappa     se  n
    0  0.1293  0.0686  91
    >>> kappa_from_table(fun, "linear")[["method", "kappa", "se"]].round(4)
                 method   kappa      se
    0  weighted_linear  0.2374  0.0783
    """
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] < 2:
        raise AgreementError(
            f"agreement table of shape {counts.shape} is not allowed; allowed: a square table "
            f"of counts with at least 2 categories"
        )
    if (counts < 0).any() or not np.isfinite(counts).all():
        raise AgreementError("agreement table: negative or missing counts are not allowed; allowed: counts >= 0")
    n = counts.sum()
    if n == 0:
        raise AgreementError("agreement table: no ratings; allowed: at least one unit rated by both raters")
    w = _weights(counts.shape[0], weights)
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    p_observed = float((w * p).sum())
    p_expected = float((w * np.outer(rows, cols)).sum())
    method = "cohen" if weights is None else f"weighted_{weights}"
    if np.isclose(p_expected, 1):
        # both raters used one and the same category throughout: kappa is undefined
        kappa = se = np.nan
    else:
        kappa = (p_observed - p_expected) / (1 - p_expected)
        wbar_rows, wbar_cols = w @ cols, rows @ w
        spread = (p * (w - (wbar_rows[:, None] + wbar_cols[None, :]) * (1 - kappa)) ** 2).sum()
        variance = (spread - (kappa - p_expected * (1 - kappa)) ** 2) / (n * (1 - p_expected) ** 2)
        se = float(np.sqrt(max(variance, 0.0)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    return pd.DataFrame(
        [
            {
                "method": method,
                "kappa": kappa,
                "se": se,
                "ci_low": kappa - z * se,
                "ci_high": kappa + z * se,
                "n": int(n),
                "p_observed": p_observed,
                "p_expected": p_expected,
            }
        ],
        columns=_KAPPA_COLUMNS,
    )


def cohen_kappa(
    data: pd.DataFrame,
    rater1: str,
    rater2: str,
    weights: Weights = None,
    categories: Sequence | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cohen's (weighted) kappa of two raters' codes, one row per rated unit.

    Units that either rater left blank are left out (``n`` counts the
    units used). See :func:`kappa_from_table` for the method and its sources.

    Parameters
    ----------
    data : pandas.DataFrame
    rater1, rater2 : str
        The columns with each rater's code.
    weights : {None, "linear", "quadratic"}
        For ordered codes such as wheel levels; ``None`` treats every
        disagreement alike.
    categories : sequence, optional
        All possible codes in their order (for example the levels 1-5 of a
        response scale); default the codes that occur, sorted. Weights
        depend on it: give it for ordinal codes.
    confidence : float

    Examples
    --------
    >>> ratings = pd.DataFrame({"a": [1, 2, 3, 3, 2, 1, 4, 1, 2, None],
    ...                         "b": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5]})
    >>> result = cohen_kappa(ratings, "a", "b")
    >>> int(result.loc[0, "n"]), round(float(result.loc[0, "kappa"]), 3)
    (9, 0.845)
    >>> cohen_kappa(ratings, "a", "b", "quadratic", categories=[1, 2, 3, 4, 5])["kappa"].round(3).tolist()
    [0.94]
    """
    for column in (rater1, rater2):
        if column not in data.columns:
            raise AgreementError(f"column {column!r} is not in the data; allowed: {', '.join(map(str, data.columns))}")
    both = data[[rater1, rater2]].dropna()
    if categories is None:
        categories = sorted(set(both[rater1]) | set(both[rater2]))
    categories = list(categories)
    unknown = sorted((set(both[rater1]) | set(both[rater2])) - set(categories), key=str)
    if unknown:
        raise AgreementError(
            f"codes {unknown} of {rater1!r}/{rater2!r} are not among the categories; allowed: {categories}"
        )
    if len(categories) < 2:
        categories = categories + [object()]  # a second, unused category keeps the table square
    first = pd.Categorical(both[rater1], categories=categories)
    second = pd.Categorical(both[rater2], categories=categories)
    table = pd.crosstab(first, second, dropna=False).reindex(index=categories, columns=categories, fill_value=0)
    return kappa_from_table(table.to_numpy(), weights, confidence)


def krippendorff_alpha(
    data: pd.DataFrame,
    level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
    confidence: float = 0.95,
    n_boot: int = 1000,
    seed: int = 1,
    values: Sequence | None = None,
) -> pd.DataFrame:
    """Krippendorff's alpha of any number of raters, with missing ratings.

    Method: alpha = 1 - D_o / D_e, observed over expected disagreement of
    the pairable values within units, with the difference function of the
    level of measurement (Krippendorff 2011, *Computing Krippendorff's
    alpha-reliability*; Krippendorff 2019, *Content Analysis*, 4th ed.,
    ch. 12), computed by the ``krippendorff`` package. The interval is a
    percentile bootstrap over units (Efron & Tibshirani 1993, ch. 13): units
    are drawn with replacement ``n_boot`` times and alpha recomputed. It is
    not Krippendorff's own bootstrap of coincidences (Hayes & Krippendorff
    2007), which resamples pairs of values; both are approximations for few
    units.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (fragment, citizen), one column per rater; NaN
        where a rater did not rate the unit.
    level : {"nominal", "ordinal", "interval", "ratio"}
    confidence : float
    n_boot : int
        Bootstrap draws; 0 for no interval.
    seed : int
    values : sequence, optional
        All possible values in their order (needed for ``ordinal`` when
        not every value occurs).

    Returns
    -------
    pandas.DataFrame
        One row: ``level``, ``alpha``, ``ci_low``, ``ci_high``, ``n_units``
        (units with at least two ratings), ``n_raters``, ``n_values``
        (pairable ratings).

    Examples
    --------
    Krippendorff's (2011) reliability data, four coders and twelve units:

    >>> nan = float("nan")
    >>> data = pd.DataFrame({
    ...     "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...     "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...     "C": [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...     "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]})
    >>> krippendorff_alpha(data, n_boot=0)[["alpha", "n_units", "n_values"]].round(3)
       alpha  n_units  n_values
    0  0.743       11        40
    """
    if level not in ("nominal", "ordinal", "interval", "ratio"):
        raise AgreementError(f"level {level!r} is not allowed; allowed: nominal, ordinal, interval, ratio")
    matrix = data.apply(pd.to_numeric, errors="raise").to_numpy(dtype=float) if len(data) else np.empty((0, 0))
    pairable = (~np.isnan(matrix)).sum(axis=1) >= 2 if matrix.size else np.zeros(0, bool)
    matrix = matrix[pairable]
    if len(matrix) < 2:
        raise AgreementError(f"{len(matrix)} unit(s) rated by two or more raters; allowed: at least 2")
    domain = None if values is None else np.asarray(values, dtype=float)

    def alpha_of(units: np.ndarray) -> float:
        return float(krippendorff.alpha(reliability_data=units.T, level_of_measurement=level, value_domain=domain))

    estimate = alpha_of(matrix)
    low = high = np.nan
    if n_boot:
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_boot):
            sample = matrix[rng.integers(0, len(matrix), len(matrix))]
            if len(np.unique(sample[~np.isnan(sample)])) > 1:  # one value only: alpha undefined
                draws.append(alpha_of(sample))
        low, high = np.quantile(draws, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return pd.DataFrame(
        [
            {
                "level": level,
                "alpha": estimate,
                "ci_low": float(low),
                "ci_high": float(high),
                "n_units": int(len(matrix)),
                "n_raters": int(data.shape[1]),
                "n_values": int((~np.isnan(matrix)).sum()),
            }
        ]
    )


def icc(data: pd.DataFrame, raters: Sequence[str], kind: str = "ICC2", confidence: float = 0.95) -> pd.DataFrame:
    """Intraclass correlation of numeric ratings (for example wheel levels 1-5).

    Method: the six ICCs of Shrout & Fleiss (1979), computed by
    :func:`pingouin.intraclass_corr` from a two-way ANOVA of units by raters,
    with their F-based confidence intervals (McGraw & Wong 1996). The
    default ``ICC2`` (two-way random effects, absolute agreement, a single
    rater; ICC(2,1)) fits two professionals drawn from a team who each rate
    alone; ``ICC3`` ignores a constant difference between the raters. Units
    with a missing rating are left out.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit, one column per rater.
    raters : sequence of str
        The rater columns (two or more).
    kind : {"ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"} or "all"
    confidence : float
        Only 0.95: pingouin reports the 95% interval.

    Returns
    -------
    pandas.DataFrame
        One row per ICC: ``kind``, ``description``, ``icc``, ``ci_low``,
        ``ci_high``, ``f``, ``df1``, ``df2``, ``p``, ``n``.

    Examples
    --------
    Shrout & Fleiss (1979), Table 2: six targets rated by four judges.

    >>> judges = pd.DataFrame({"j1": [9, 6, 8, 7, 10, 6], "j2": [2, 1, 4, 1, 5, 2],
    ...                        "j3": [5, 3, 6, 2, 6, 4], "j4": [8, 2, 8, 6, 9, 7]})
    >>> icc(judges, ["j1", "j2", "j3", "j4"], kind="all")[["kind", "icc"]].round(2)
        kind   icc
    0   ICC1  0.17
    1   ICC2  0.29
    2   ICC3  0.71
    3  ICC1k  0.44
    4  ICC2k  0.62
    5  ICC3k  0.91
    """
    if confidence != 0.95:
        raise AgreementError(f"confidence {confidence!r} is not allowed; allowed: 0.95 (pingouin's interval)")
    kinds = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    if kind != "all" and kind not in kinds:
        raise AgreementError(f"kind {kind!r} is not allowed; allowed: {', '.join(kinds)} or all")
    raters = list(raters)
    if len(raters) < 2:
        raise AgreementError(f"raters {raters!r}: allowed: two or more rater columns")
    complete = data[raters].apply(pd.to_numeric, errors="raise").dropna()
    if len(complete) < 3:
        raise AgreementError(f"{len(complete)} unit(s) rated by all of {raters}; allowed: at least 3")
    long = complete.rename_axis("unit").reset_index().melt(id_vars="unit", var_name="rater", value_name="rating")
    table = pingouin.intraclass_corr(long, targets="unit", raters="rater", ratings="rating")
    low, high = np.array(table["CI95"].tolist()).T
    result = pd.DataFrame(
        {
            "kind": kinds,
            "description": _ICC_DESCRIPTIONS,
            "icc": table["ICC"].to_numpy(),
            "ci_low": low,
            "ci_high": high,
            "f": table["F"].to_numpy(),
            "df1": table["df1"].to_numpy(),
            "df2": table["df2"].to_numpy(),
            "p": table["pval"].to_numpy(),
            "n": len(complete),
        }
    )
    return result if kind == "all" else result[result["kind"] == kind].reset_index(drop=True)


def double_ratings(
    instrument: Instrument, responses: pd.DataFrame, first: str = "_rater1", second: str = "_rater2"
) -> pd.DataFrame:
    """The double-rated items of an instrument, one row per response and item.

    The double-rating design: an item ``<x>_rater1`` holds the first
    rater's code and ``<x>_rater2`` the second rater's, rated independently
    (in ``intake_record`` the wheel level per domain, ``wheel_<domain>``).
    Missing codes (9 "cannot be judged") become NaN.

    Returns
    -------
    pandas.DataFrame
        ``respondent``, ``item`` (the ``<x>``), ``rater1``, ``rater2``.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> record = load_instrument("intake_record")
    >>> frame = pd.DataFrame({"respondent": ["a"], "occasion": ["intake"],
    ...                       "wheel_eigen_inkomen_rater1": [3], "wheel_eigen_inkomen_rater2": [9]})
    >>> double_ratings(record, frame)
      respondent                 item  rater1  rater2
    0          a  wheel_eigen_inkomen     3.0     NaN
    """
    ids = [item.id for item in instrument.items]
    pairs = [item[: -len(first)] for item in ids if item.endswith(first) and item[: -len(first)] + second in ids]
    if not pairs:
        raise AgreementError(
            f"instrument {instrument.id!r} has no double-rated items; allowed: items "
            f"<x>{first} and <x>{second} (see questionnaires/intake_record.yaml)"
        )
    wide = to_wide(responses)
    present = [x for x in pairs if x + first in wide.columns or x + second in wide.columns]
    if not present:
        raise AgreementError(
            f"the responses have none of the double-rated items of {instrument.id!r}: "
            f"{', '.join(x + first for x in pairs)}"
        )
    codes = {}
    for suffix in (first, second):
        columns = [x + suffix for x in present if x + suffix in wide.columns]
        found, _ = answers(instrument, wide, columns)
        matrix = pd.DataFrame(found, columns=columns).reindex(columns=[x + suffix for x in present])
        codes[suffix] = matrix.to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "respondent": np.repeat(wide["respondent"].to_numpy(), len(present)),
            "item": np.tile(present, len(wide)),
            "rater1": codes[first].ravel(),
            "rater2": codes[second].ravel(),
        }
    )


def wheel_agreement(
    instrument: Instrument, responses: pd.DataFrame, weights: Weights = "quadratic", confidence: float = 0.95
) -> pd.DataFrame:
    """Weighted kappa of two raters' wheel levels, per domain and over all domains.

    Each double-rated item (:func:`double_ratings`) gets a kappa over the
    citizens both raters judged; the last row, ``item == "all"``, pools every
    domain's pairs (one unit is a citizen and domain). Categories are the
    valid codes of the item's response scale, so weights reflect the whole
    scale even when few levels occur.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> record = load_instrument("intake_record")
    >>> frame = pd.DataFrame({"respondent": list("abcd"), "occasion": "intake",
    ...                       "wheel_eigen_inkomen_rater1": [1, 2, 3, 4],
    ...                       "wheel_eigen_inkomen_rater2": [1, 2, 3, 5]})
    >>> table = wheel_agreement(record, frame)
    >>> table.loc[table["item"] == "wheel_eigen_inkomen", ["kappa", "n"]].round(3).to_numpy().tolist()
    [[0.929, 4.0]]
    """
    pairs = double_ratings(instrument, responses)
    items = {item.id: item for item in instrument.items}
    rows = []
    for name, group in [*pairs.groupby("item", sort=False), ("all", pairs)]:
        scale_of = items[f"{pairs['item'].iloc[0] if name == 'all' else name}_rater1"].response_scale
        categories = [code.code for code in instrument.response_scales[scale_of].codes]
        if group[["rater1", "rater2"]].dropna().empty:
            continue
        rows.append(cohen_kappa(group, "rater1", "rater2", weights, categories, confidence).assign(item=name))
    table = pd.concat(rows, ignore_index=True)
    return table[["item", *_KAPPA_COLUMNS]]


def _weights(k: int, weights: Weights) -> np.ndarray:
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    if weights is None:
        return np.eye(k)
    if weights == "linear":
        return 1 - distance
    if weights == "quadratic":
        return 1 - distance**2
    raise AgreementError(f"weights {weights!r} are not allowed; allowed: None, 'linear', 'quadratic'")
