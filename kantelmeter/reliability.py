"""Item analysis: what R's psych::alpha prints, plus McDonald's omega, in one call.

:func:`item_analysis` takes a scale of an instrument (keys, codes and
missing codes come from the instrument) or a bare DataFrame of items with
keys, applies the keys first, and returns an :class:`ItemAnalysis` holding
tidy DataFrames: ``summary`` (one row per coefficient, with its confidence
interval and n), ``items`` (per item statistics) and ``frequencies``
(response frequencies per item, missing codes included).

Every coefficient is computed from one pairwise-complete covariance matrix
(as ``psych::alpha(x, use="pairwise")`` and pingouin's ``cronbach_alpha``
do), so an item's missing answers cost only that item's pairs. Pairwise
deletion is unbiased only when answers are missing completely at random;
when whether an item is answered depends on the other answers (missing at
random), ``covariance="em"`` gives the normal-theory maximum-likelihood
(FIML) covariances instead.
"""

from __future__ import annotations

import functools
import html
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from threadpoolctl import ThreadpoolController

from kantelmeter.errors import KantelmeterError, NotFoundError
from kantelmeter.instruments import Instrument
from kantelmeter.scoring import answers, to_wide

__all__ = ["ReliabilityError", "ItemAnalysis", "item_analysis"]

# Lowest uniqueness an item may take in the factor fits: keeps a Heywood case
# (an item explained fully) from making the model covariance singular.
_MIN_UNIQUENESS = 0.005


class ReliabilityError(KantelmeterError, ValueError):
    """Items or options an item analysis cannot use; the message says what is allowed."""


@dataclass(frozen=True)
class ItemAnalysis:
    """The result of :func:`item_analysis`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per coefficient: ``statistic``, ``estimate``, ``ci_low``,
        ``ci_high``, ``ci_method``, ``n``.
    items : pandas.DataFrame
        One row per item: ``item``, ``key``, ``n``, ``mean``, ``sd`` (keyed
        answers), ``r_item_total``, ``r_item_rest``, ``alpha_if_dropped``,
        ``alpha_std_if_dropped``, ``lambda6_if_dropped``,
        ``average_r_if_dropped``, ``loading`` (standardised one-factor loading).
    frequencies : pandas.DataFrame
        One row per item and answer: ``item``, ``code``, ``label``,
        ``missing_code``, ``n``, ``share`` (of all responses); blank answers
        have code NA.
    scale : str
        What was analysed.
    loadings : pandas.DataFrame
        The one-factor ML solution behind omega total: ``item``,
        standardised ``loading`` and ``uniqueness``.
    """

    summary: pd.DataFrame
    items: pd.DataFrame
    frequencies: pd.DataFrame
    scale: str
    loadings: pd.DataFrame = field(repr=False)

    def estimate(self, statistic: str) -> float:
        """One coefficient of :attr:`summary`, e.g. ``"alpha"`` or ``"omega_total"``."""
        row = self.summary.loc[self.summary["statistic"] == statistic, "estimate"]
        if row.empty:
            raise NotFoundError(f"no statistic {statistic!r}; available: {', '.join(self.summary['statistic'])}")
        return float(row.iloc[0])

    def __repr__(self) -> str:
        return (
            f"Item analysis of {self.scale}\n\n{self.summary.to_string(index=False)}\n\n"
            f"{self.items.to_string(index=False)}"
        )

    def _repr_html_(self) -> str:
        shares = self.frequencies.assign(code=self.frequencies["code"].astype("string").fillna("blank"))
        wide = shares.pivot(index="item", columns="code", values="share").reindex(self.items["item"])
        return (
            f"<h4>Item analysis of {html.escape(self.scale)}</h4>"
            + self.summary.to_html(index=False, float_format="{:.3f}".format, na_rep="")
            + "<h5>Items</h5>"
            + self.items.to_html(index=False, float_format="{:.3f}".format, na_rep="")
            + "<h5>Response frequencies (share of responses)</h5>"
            + wide.to_html(float_format="{:.2f}".format, na_rep="")
        )


def item_analysis(
    source: Instrument | pd.DataFrame,
    responses: pd.DataFrame | None = None,
    *,
    scale: str | None = None,
    keys: Mapping[str, int] | Sequence[str] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    confidence: float = 0.95,
    n_boot: int = 0,
    seed: int | None = None,
    covariance: str = "pairwise",
) -> ItemAnalysis:
    """Reliability and item statistics of one scale.

    Methods (all on the keyed items, pairwise-complete covariances ``C`` and
    their correlations ``R``; formulas as in ``psych::alpha``, Revelle 2024):

    - raw alpha ``k/(k-1) (1 - tr C / sum C)`` (Cronbach 1951) with the
      Feldt interval ``1 - (1-alpha) F(df1=n-1, df2=(n-1)(k-1))`` (Feldt,
      Woodruff & Salih 1987, *Appl Psychol Meas* 11:93-103), or on request a
      percentile bootstrap over respondents. With blank answers the Feldt
      n is the harmonic mean of the item pairs' counts, not everyone who
      answered an item: each covariance rests only on its pairs, and with
      many blanks the larger n would make the interval too narrow (the
      bootstrap, which resamples respondents, needs no such choice);
    - standardised alpha ``k rbar / (1 + (k-1) rbar)`` from the average
      inter-item correlation ``rbar``; the median r; signal/noise
      ``k rbar / (1 - rbar)``;
    - Guttman's lambda 6 ``1 - sum(1 - smc) / sum R`` (Guttman 1945), the
      squared multiple correlations ``smc = 1 - 1/diag(R^-1)`` as in
      ``psych::smc``;
    - per item: item-total r and item-rest r (corrected item-total, psych's
      ``r.drop``) from ``C``, and alpha, standardised alpha, lambda 6 and
      average r with the item dropped;
    - omega total (McDonald 1999, *Test theory: a unified treatment*, ch. 6),
      the reliability of the unweighted sum score that
      :func:`kantelmeter.scoring.score` produces: the common variance of the
      sum over its model variance. Without groups it comes from a one-factor
      model fitted by maximum likelihood (Joreskog 1967) to ``R``, rescaled
      to the items' variances: ``(sum lambda)^2 / ((sum lambda)^2 + sum
      psi)``. With groups it comes from the group model below, as psych's
      ``omega.tot`` does: ``((sum general)^2 + sum over groups of (sum
      specific)^2) / variance``, which a one-factor model understates when
      the groups hold variance of their own; the one-factor value is kept as
      ``omega_total_1f``. psych::omega fits by minres and divides by the
      observed variance of the sum; both agree when the model fits;
    - omega hierarchical, when the items fall into groups (an instrument's
      component scales, e.g. the three SOC components): a confirmatory
      model with one correlated factor per group, fitted by maximum
      likelihood, whose factor correlations are explained by one general
      factor (for two groups: both loadings ``sqrt(r)``, as psych does); the
      Schmid-Leiman transformation (Schmid & Leiman 1957) then gives each
      item a general loading ``lambda gamma``, and omega hierarchical is
      ``(sum general)^2`` over the model variance of the sum (Zinbarg,
      Revelle, Yovel & Li 2005, *Psychometrika* 70:123-133). psych::omega
      finds the groups by exploratory factoring instead; here they are given.

    Parameters
    ----------
    source : Instrument or pandas.DataFrame
        An instrument (then ``responses`` and ``scale`` are needed), or a
        DataFrame of item answers (then ``keys`` selects and keys items).
    responses : pandas.DataFrame, optional
        Wide or long responses to the instrument.
    scale : str, optional
        The scale id of the instrument to analyse.
    keys : mapping or sequence, optional
        For a bare DataFrame: ``{"item": 1 or -1}`` or psych-style
        ``["a", "-b"]``; all columns keyed +1 by default. A reversed item is
        mapped ``x -> min + max - x`` with its observed lowest and highest
        value (with an instrument, its codes).
    groups : mapping of str to item lists, optional
        Groups for omega hierarchical. With an instrument, by default the
        instrument's other scales that split this scale's items (at least two,
        disjoint, together covering every item).
    confidence : float
        Level of the confidence intervals.
    n_boot : int
        Bootstrap replicates (0: Feldt interval only); bootstrap intervals are
        added for alpha, standardised alpha, lambda 6 and average r.
    seed : int, optional
        Seed of the bootstrap.
    covariance : {"pairwise", "em"}, default "pairwise"
        Pairwise-complete covariances (as psych and pingouin), or the
        normal-theory maximum-likelihood covariances by EM (Dempster, Laird
        & Rubin 1977), valid under missing at random; no bootstrap with "em".

    Returns
    -------
    ItemAnalysis

    Examples
    --------
    >>> rng = np.random.default_rng(7)
    >>> trait = rng.normal(size=500)
    >>> data = pd.DataFrame({f"q{i}": np.round(trait + rng.normal(size=500)) for i in range(1, 5)})
    >>> data["q4"] = -data["q4"]
    >>> result = item_analysis(data, keys=["q1", "q2", "q3", "-q4"])
    >>> round(result.estimate("alpha"), 3), round(result.estimate("omega_total"), 3)
    (0.743, 0.744)
    >>> result.items[["item", "key", "r_item_rest"]].round(2)
      item  key  r_item_rest
    0   q1    1         0.57
    1   q2    1         0.50
    2   q3    1         0.51
    3   q4   -1         0.56
    """
    # every product here is skinny (respondents x items) or tiny (items x items): one BLAS
    # thread is fastest, and many threads on a busy machine are far slower
    with _blas_threads().limit(limits=1, user_api="blas"):
        return _analyse(source, responses, scale, keys, groups, confidence, n_boot, seed, covariance)


@functools.cache
def _blas_threads() -> ThreadpoolController:
    """The BLAS thread pools, found once: scanning the loaded libraries costs milliseconds per call.

    numpy and scipy (imported above) load their BLAS libraries on import, so
    the libraries found at the first call are the ones every later call uses.
    """
    return ThreadpoolController()


def _analyse(source, responses, scale, keys, groups, confidence, n_boot, seed, covariance) -> ItemAnalysis:
    if covariance not in COVARIANCES:
        raise ReliabilityError(f"covariance={covariance!r}; allowed: {', '.join(map(repr, COVARIANCES))}")
    if covariance == "em" and n_boot:
        raise ReliabilityError("the bootstrap resamples the pairwise covariances; with covariance='em' use n_boot=0")
    if isinstance(source, Instrument):
        if responses is None or scale is None:
            raise ReliabilityError("with an instrument, give the responses and the scale id to analyse")
        values, key, labels, frequencies, groups, name = _from_instrument(source, responses, scale, groups)
    else:
        values, key, frequencies, name = _from_frame(source, keys)
        labels = None
    k = values.shape[1]
    if k < 2:
        raise ReliabilityError(f"{name} has {k} item; item analysis needs at least two")
    answered = ~np.isnan(values)
    blank = ~answered.any(axis=1)
    if blank.any():  # respondents who skipped the whole scale say nothing about it
        values, answered = values[~blank], answered[~blank]
    n = len(values)
    items = list(key)
    cov = _pairwise_cov(values, answered)
    if covariance == "em" and not answered.all():
        cov = _em_cov(values, answered, cov)
    if np.any(np.diag(cov) <= 0) or np.isnan(cov).any():
        bad = [item for item, v in zip(items, np.diag(cov)) if not v > 0]
        raise ReliabilityError(
            f"{name}: items without variance or without pairs of answers: "
            f"{', '.join(bad) or 'some item pairs share no respondent'}"
        )
    total = _coefficients(cov)
    one_factor = _fit_factor_model(_cov2cor(cov), np.ones((k, 1)))
    summary = _summary(total, cov, one_factor, n, _feldt_n(answered), k, confidence, items, groups)
    if n_boot:
        summary = _add_bootstrap(summary, values, answered, n_boot, seed, confidence)
    table = _item_table(values, answered, cov, key, one_factor)
    if labels is not None:
        frequencies = _label(frequencies, labels)
    loadings = pd.DataFrame(
        {"item": items, "loading": one_factor.loadings[:, 0], "uniqueness": one_factor.uniquenesses}
    )
    return ItemAnalysis(summary=summary, items=table, frequencies=frequencies, scale=name, loadings=loadings)


# --- input -------------------------------------------------------------------


def _from_instrument(
    instrument: Instrument, responses: pd.DataFrame, scale_id: str, groups: Mapping[str, Sequence[str]] | None
):
    scale = instrument.scale(scale_id)
    wide = to_wide(responses)
    items = [member.item for member in scale.items]
    values, _ = answers(instrument, wide, items)
    # each item's answers contiguous (as pandas holds them): the per-item sums, means and the
    # covariance product all run down columns, much faster than across respondent rows
    values = np.asfortranarray(values)
    key = scale.keys
    for j, item in enumerate(items):
        if key[item] < 0:
            codes = instrument.valid_codes(item)
            values[:, j] = min(codes) + max(codes) - values[:, j]
    frequencies = _frequencies(wide, items)
    labels = {
        item: (
            instrument.response_scale_of(item).labels("en") if instrument.response_scale_of(item) else {},
            set(instrument.missing_codes(item)),
        )
        for item in items
    }
    if groups is None:
        groups = _component_scales(instrument, scale)
    return values, key, labels, frequencies, groups, f"{instrument.id}.{scale_id}"


def _component_scales(instrument: Instrument, scale) -> dict[str, list[str]] | None:
    """The instrument's other scales that split this scale into disjoint, covering parts."""
    members = set(scale.keys)
    parts = {
        other.id: list(other.keys)
        for other in instrument.scales
        if other.id != scale.id and set(other.keys) < members and len(other.keys) >= 2
    }
    covered = [item for part in parts.values() for item in part]
    if len(parts) >= 2 and len(covered) == len(set(covered)) == len(members):
        return parts
    return None


def _from_frame(frame: pd.DataFrame, keys):
    frame = to_wide(frame)
    if keys is None:
        key = {column: 1 for column in frame.columns}
    elif isinstance(keys, Mapping):
        key = dict(keys)
    else:
        key = {item.lstrip("+-"): -1 if item.startswith("-") else 1 for item in keys}
    unknown = [item for item in key if item not in frame.columns]
    if unknown:
        raise NotFoundError(
            f"keys name items the data lack: {', '.join(unknown)}; columns: {', '.join(map(str, frame.columns))}"
        )
    wrong = {item: value for item, value in key.items() if value not in (1, -1)}
    if wrong:
        raise ReliabilityError(f"keys must be 1 or -1; got {wrong}")
    not_numeric = [item for item in key if frame[item].dtype.kind not in "biuf"]
    if not_numeric:
        raise ReliabilityError(f"items must be numeric; not numeric: {', '.join(not_numeric)}")
    # a copy of our own, reversed in place column by column: a whole-matrix np.where would
    # allocate a second respondents x items matrix, and big temporaries cost page faults
    values = frame[list(key)].to_numpy(dtype=float, na_value=np.nan, copy=True)
    for j, item in enumerate(key):
        if key[item] < 0:
            values[:, j] = np.nanmin(values[:, j]) + np.nanmax(values[:, j]) - values[:, j]
    return values, key, _frequencies(frame, list(key)), "items"


def _frequencies(frame: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    """Counts of every raw answer per item (before keying), blanks included."""
    # plain arrays per item, one DataFrame at the end: a Series per item costs more than the counting
    parts = [_counts(frame[item]) for item in items]
    codes = [code for part_codes, _ in parts for code in part_codes.tolist()]
    table = pd.DataFrame(
        {
            "item": np.repeat(items, [len(part_codes) for part_codes, _ in parts]),
            "code": pd.array([pd.NA if pd.isna(code) else code for code in codes], dtype=object),
            "n": np.concatenate([n for _, n in parts]),
        }
    )
    table["share"] = table["n"] / len(frame)
    return table


def _counts(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The answers given, in code order with blank (NaN) last, and how often each was given.

    By bincount when the answers are small whole numbers.
    """
    if column.dtype.kind in "biuf":
        values = column.to_numpy(dtype=float, na_value=np.nan)
        is_blank = np.isnan(values)
        blank = int(is_blank.sum())
        present = values[~is_blank] if blank else values  # no copy when nothing is blank
        low = present.min() if len(present) else 0.0
        offset = present - low
        whole = offset.astype(np.int64)
        if len(present) and offset.max() < 1000 and np.array_equal(whole, offset):
            counts = np.bincount(whole)
            codes = np.flatnonzero(counts)
            return (
                (np.append(codes + low, np.nan), np.append(counts[codes], blank))
                if blank
                else (codes + low, counts[codes])
            )
    counts = column.value_counts(dropna=False, sort=False).sort_index(na_position="last")
    return counts.index.to_numpy(), counts.to_numpy()


def _label(frequencies: pd.DataFrame, labels: dict) -> pd.DataFrame:
    def label(row):
        names, missing = labels[row.item]
        if pd.isna(row.code):
            return "blank", False
        return names.get(int(row.code), "not a code") if float(
            row.code
        ).is_integer() else "not a code", row.code in missing

    found = [label(row) for row in frequencies.itertuples(index=False)]
    frequencies = frequencies.copy()
    frequencies.insert(2, "label", [text for text, _ in found])
    frequencies.insert(3, "missing_code", [flag for _, flag in found])
    return frequencies


# --- coefficients ------------------------------------------------------------


def _pairwise_cov(values: np.ndarray, answered: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Pairwise-complete covariances (ddof 1), with optional integer case weights.

    For items i and j only the rows answering both count, as in R's
    ``cov(x, use="pairwise")`` and pandas' ``DataFrame.cov``; done as three
    matrix products instead of a loop over pairs. ``answered`` is ``~isnan(values)``.
    """
    if answered.all():
        return np.cov(values, rowvar=False, fweights=None if weights is None else weights.astype(int))
    # centring first keeps the sums of products small (numerically safer)
    centred = np.where(answered, values - _means(values, answered), 0.0)
    mask = answered.astype(float)
    weighted = mask if weights is None else mask * weights[:, None]
    pairs = mask.T @ weighted  # n_ij
    sums = centred.T @ weighted  # sum of x_i over rows answering i and j
    products = centred.T @ (centred * (1.0 if weights is None else weights[:, None]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (products - sums * sums.T / pairs) / (pairs - 1)


#: How item_analysis estimates the item covariances: pairwise-complete (psych's default) or by EM (normal-theory ML).
COVARIANCES = ("pairwise", "em")


def _em_cov(
    values: np.ndarray, answered: np.ndarray, start: np.ndarray, tolerance: float = 1e-8, max_iter: int = 1000
) -> np.ndarray:
    """Maximum-likelihood covariances of incomplete items under multivariate normality, by EM.

    The EM algorithm of Dempster, Laird & Rubin (1977) for a normal mean and
    covariance with missing values (Little & Rubin 2002, *Statistical
    Analysis with Missing Data*, 2nd ed., sec. 11.2): the E step fills each
    missing pattern's sufficient statistics from the regression on the
    observed items, the M step takes their means. This is the saturated FIML
    estimate: unbiased when answers are missing at random given the other
    items, where pairwise deletion is not. Returned with divisor n - 1, like
    the pairwise covariances; rows are grouped by pattern of missing answers.
    """
    n, k = values.shape
    patterns, which = np.unique(answered, axis=0, return_inverse=True)
    groups = [(pattern, values[which.ravel() == p][:, pattern]) for p, pattern in enumerate(patterns)]
    mu = _means(values, answered)
    sigma = start if np.all(np.linalg.eigvalsh(start) > 0) else np.diag(np.diag(start))
    for _ in range(max_iter):
        sums, products = np.zeros(k), np.zeros((k, k))
        for observed, x in groups:
            missing = ~observed
            full = np.empty((len(x), k))
            full[:, observed] = x
            if missing.any():
                slopes = np.linalg.solve(sigma[np.ix_(observed, observed)], sigma[np.ix_(observed, missing)]).T
                full[:, missing] = mu[missing] + (x - mu[observed]) @ slopes.T
                products[np.ix_(missing, missing)] += len(x) * (
                    sigma[np.ix_(missing, missing)] - slopes @ sigma[np.ix_(observed, missing)]
                )
            sums += full.sum(axis=0)
            products += full.T @ full
        new_mu = sums / n
        new_sigma = products / n - np.outer(new_mu, new_mu)
        done = np.max(np.abs(new_sigma - sigma)) < tolerance * np.max(np.abs(sigma))
        mu, sigma = new_mu, new_sigma
        if done:
            break
    else:
        warnings.warn(
            "the EM estimate of the item covariances did not converge; the coefficients may be off",
            RuntimeWarning,
            stacklevel=4,
        )
    return sigma * n / (n - 1)


def _means(values: np.ndarray, answered: np.ndarray) -> np.ndarray:
    """Per item mean of the answers: a masked sum, where ``nanmean`` would copy the whole matrix."""
    if answered.all():  # the usual complete answers: a plain mean is several times faster
        return values.mean(axis=0)
    return np.add.reduce(values, axis=0, where=answered) / np.count_nonzero(answered, axis=0)


def _cov2cor(cov: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def _coefficients(cov: np.ndarray) -> dict[str, float]:
    """The alpha family of one covariance matrix (psych's ``alpha.1``)."""
    k = len(cov)
    cor = _cov2cor(cov)
    off = cor[~np.eye(k, dtype=bool)]
    average_r = off.mean()
    smc = 1 - 1 / np.diag(np.linalg.inv(cor))
    return {
        "alpha": k / (k - 1) * (1 - np.trace(cov) / cov.sum()),
        "alpha_std": k * average_r / (1 + (k - 1) * average_r),
        "lambda6": 1 - (k - smc.sum()) / cor.sum(),
        "average_r": average_r,
        "median_r": float(np.median(off)),
        "signal_noise": k * average_r / (1 - average_r),
    }


def _feldt(alpha: float, n: float, k: int, confidence: float) -> tuple[float, float]:
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    return 1 - (1 - alpha) * stats.f.isf(tail, df1, df2), 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)


def _feldt_n(answered: np.ndarray) -> float:
    """The n of the Feldt interval: the harmonic mean of the item pairs' counts (n itself without blanks).

    Every covariance rests on its own pairs; counting everyone who answered
    any item would overstate the information when answers are missing.
    """
    if answered.all():
        return float(len(answered))
    mask = answered.astype(float)
    pairs = (mask.T @ mask)[~np.eye(answered.shape[1], dtype=bool)]
    return float(len(pairs) / np.sum(1 / np.maximum(pairs, 1)))


def _summary(
    total: dict,
    cov: np.ndarray,
    one_factor,
    n: int,
    n_feldt: float,
    k: int,
    confidence: float,
    items: list[str],
    groups,
) -> pd.DataFrame:
    low, high = _feldt(total["alpha"], n_feldt, k, confidence)
    rows = [
        {"statistic": name, "estimate": value, "ci_low": np.nan, "ci_high": np.nan, "ci_method": ""}
        for name, value in total.items()
    ]
    rows[0].update(ci_low=low, ci_high=high, ci_method="Feldt")
    sd = np.sqrt(np.diag(cov))
    one_factor_omega = _omega(one_factor, sd)[0]
    omegas = {"omega_total": one_factor_omega}
    if groups:
        hierarchical, grouped_total = _omega_hierarchical(cov, items, groups, one_factor)
        omegas = {"omega_total": grouped_total, "omega_hierarchical": hierarchical}
    omegas["omega_total_1f"] = one_factor_omega
    rows += [
        {"statistic": name, "estimate": value, "ci_low": np.nan, "ci_high": np.nan, "ci_method": ""}
        for name, value in omegas.items()
    ]
    summary = pd.DataFrame(rows)
    summary["n"] = n
    return summary


def _add_bootstrap(
    summary: pd.DataFrame, values: np.ndarray, answered: np.ndarray, n_boot: int, seed, confidence: float
) -> pd.DataFrame:
    """Percentile bootstrap over respondents for the alpha family (psych's ``n.iter``)."""
    rng = np.random.default_rng(seed)
    n = len(values)
    draws = []
    for _ in range(n_boot):
        weights = np.bincount(rng.integers(0, n, n), minlength=n)
        draws.append(_coefficients(_pairwise_cov(values, answered, weights)))
    draws = pd.DataFrame(draws)
    tail = (1 - confidence) / 2
    bounds = draws.quantile([tail, 1 - tail])
    summary = summary.copy()
    for name in ("alpha", "alpha_std", "lambda6", "average_r"):
        row = summary["statistic"] == name
        label = f"bootstrap percentile ({n_boot} replicates)"
        if name == "alpha":
            summary = pd.concat(
                [
                    summary,
                    summary[row].assign(
                        statistic="alpha",
                        ci_method=label,
                        ci_low=bounds.at[tail, name],
                        ci_high=bounds.at[1 - tail, name],
                    ),
                ],
                ignore_index=True,
            )
        else:
            summary.loc[row, ["ci_low", "ci_high", "ci_method"]] = [
                bounds.at[tail, name],
                bounds.at[1 - tail, name],
                label,
            ]
    return summary


def _item_table(
    values: np.ndarray, answered: np.ndarray, cov: np.ndarray, key: Mapping[str, int], one_factor
) -> pd.DataFrame:
    k = len(cov)
    row_sums = cov.sum(axis=1)
    variance = np.diag(cov)
    rest_variance = cov.sum() - 2 * row_sums + variance
    dropped = (
        pd.DataFrame([_coefficients(np.delete(np.delete(cov, i, 0), i, 1)) for i in range(k)])
        if k > 2
        else pd.DataFrame({"alpha": [np.nan] * k, "alpha_std": np.nan, "lambda6": np.nan, "average_r": np.nan})
    )
    return pd.DataFrame(
        {
            "item": list(key),
            "key": list(key.values()),
            "n": np.count_nonzero(answered, axis=0),
            "mean": _means(values, answered),
            "sd": np.sqrt(variance),  # pairwise variance of an item = its own variance
            "r_item_total": row_sums / np.sqrt(variance * cov.sum()),
            "r_item_rest": (row_sums - variance) / np.sqrt(variance * rest_variance),
            "alpha_if_dropped": dropped["alpha"].to_numpy(),
            "alpha_std_if_dropped": dropped["alpha_std"].to_numpy(),
            "lambda6_if_dropped": dropped["lambda6"].to_numpy(),
            "average_r_if_dropped": dropped["average_r"].to_numpy(),
            "loading": one_factor.loadings[:, 0],
        }
    )


# --- factor models and omega -------------------------------------------------


@dataclass(frozen=True)
class _FactorModel:
    loadings: np.ndarray  # items x factors, standardised
    factor_correlations: np.ndarray
    uniquenesses: np.ndarray


def _fit_factor_model(cor: np.ndarray, pattern: np.ndarray, start_from: _FactorModel | None = None) -> _FactorModel:
    """Maximum-likelihood factor model with a fixed loading pattern (Joreskog 1969).

    Minimises ``log|S| + tr(R S^-1) - log|R| - k`` over the free loadings,
    the uniquenesses and the factor correlations, with the analytic gradient
    ``dF/dS = S^-1 (S - R) S^-1``. One factor with every loading free is the
    exploratory one-factor ML model of ``factanal``. ``start_from`` (a
    one-factor fit to the same items) gives start values for the loadings and
    uniquenesses; otherwise they come from the squared multiple correlations.
    """
    k, m = pattern.shape
    free = pattern.astype(bool)
    n_free = int(free.sum())
    upper = np.triu_indices(m, 1)
    _, logdet_r = np.linalg.slogdet(cor)

    # Unbounded parameters keep the fit to a quasi-Newton search without bounds:
    # uniqueness = minimum + exp(t) and factor correlation = tanh(u).
    def unpack(theta):
        loadings = np.zeros((k, m))
        loadings[free] = theta[:n_free]
        phi = np.eye(m)
        phi[upper] = phi[upper[::-1]] = np.tanh(theta[n_free + k :])
        return loadings, _MIN_UNIQUENESS + np.exp(theta[n_free : n_free + k]), phi

    def discrepancy(theta):
        loadings, psi, phi = unpack(theta)
        sigma = loadings @ phi @ loadings.T + np.diag(psi)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return np.inf, np.zeros_like(theta)
        inverse = np.linalg.inv(sigma)
        gradient = inverse @ (sigma - cor) @ inverse
        value = logdet + np.trace(cor @ inverse) - logdet_r - k
        # chain rule through the reparameterisation
        return value, np.concatenate(
            [
                (2 * gradient @ loadings @ phi)[free],
                np.diag(gradient) * (psi - _MIN_UNIQUENESS),
                2 * (loadings.T @ gradient @ loadings)[upper] * (1 - phi[upper] ** 2),
            ]
        )

    if start_from is None:
        smc = 1 - 1 / np.diag(np.linalg.inv(cor))
        # not the principal-axis factor: near as it is, with several groups of items it leads the
        # search to a worse local optimum (one group's factor) than this start does
        start_loadings = np.sqrt(np.clip(smc, 0.05, 0.95))
        start_uniqueness = 1 - start_loadings**2
    else:
        start_loadings, start_uniqueness = start_from.loadings[:, 0], start_from.uniquenesses
    start = np.concatenate(
        [
            np.broadcast_to(start_loadings[:, None], (k, m))[free],
            np.log(np.maximum(start_uniqueness - _MIN_UNIQUENESS, 1e-6)),
            np.full(len(upper[0]), np.arctanh(0.5)),
        ]
    )
    # L-BFGS-B (here without bounds) spends far less time per step than scipy's BFGS, given the one
    # BLAS thread of item_analysis (with a busy thread pool its small BLAS calls are far slower);
    # ftol 0 makes it stop on the gradient as BFGS does, not on a small relative change that
    # leaves loadings 1e-5 off
    fit = optimize.minimize(
        discrepancy, start, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-7, "ftol": 0.0}
    )
    # a line search may fail at the optimum itself (no further progress in floating point):
    # judge by the gradient instead of the message
    if np.max(np.abs(fit.jac)) > 1e-3:
        warnings.warn(
            f"the factor model did not converge ({fit.message}); omega may be off", RuntimeWarning, stacklevel=3
        )
    loadings, psi, phi = unpack(fit.x)
    # a factor's sign is arbitrary: orient each so that its loadings sum to a positive number
    signs = np.where(loadings.sum(axis=0) < 0, -1.0, 1.0)
    return _FactorModel(loadings * signs, phi * np.outer(signs, signs), psi)


def _omega(model: _FactorModel, sd: np.ndarray) -> tuple[float, float]:
    """Omega total of a one-factor model for the raw sum: (sum l)^2 / ((sum l)^2 + sum psi)."""
    general = (model.loadings[:, 0] * sd).sum() ** 2
    unique = (model.uniquenesses * sd**2).sum()
    return general / (general + unique), general


def _omega_hierarchical(
    cov: np.ndarray, items: list[str], groups: Mapping[str, Sequence[str]], one_factor: _FactorModel
) -> tuple[float, float]:
    """Omega hierarchical and omega total from a confirmatory higher-order model (Schmid-Leiman transformed)."""
    where = {item: g for g, members in enumerate(groups.values()) for item in members}
    unknown = sorted(set(where) - set(items))
    uncovered = [item for item in items if item not in where]
    if unknown or uncovered or len(groups) < 2:
        raise ReliabilityError(
            f"groups must split the items into at least two parts; not items of the scale: {unknown}, "
            f"in no group: {uncovered}"
        )
    pattern = np.zeros((len(items), len(groups)))
    pattern[np.arange(len(items)), [where[item] for item in items]] = 1
    model = _fit_factor_model(_cov2cor(cov), pattern, start_from=one_factor)
    phi = model.factor_correlations
    if len(groups) == 2:
        general_of_group = np.full(2, np.sqrt(max(phi[0, 1], 0.0)))
    else:
        general_of_group = _fit_factor_model(phi, np.ones((len(groups), 1))).loadings[:, 0]
    sd = np.sqrt(np.diag(cov))
    first_order = model.loadings.sum(axis=1) * sd  # each item loads on its one group
    group_of_item = pattern.argmax(axis=1)
    general = first_order * general_of_group[group_of_item]
    specific = first_order * np.sqrt(1 - general_of_group[group_of_item] ** 2)
    common = general.sum() ** 2 + sum(specific[group_of_item == g].sum() ** 2 for g in range(len(groups)))
    variance = common + (model.uniquenesses * sd**2).sum()
    return general.sum() ** 2 / variance, common / variance
