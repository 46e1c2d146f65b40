"""The statistics that several modules share, each computed in one place.

Private: :mod:`kantelmeter.effects`, :mod:`kantelmeter.longitudinal` and
their neighbours call these and turn the results into their own tables.
Every function takes a confidence level ``confidence`` (0.95 for a 95%
interval), the package's one convention for interval width.

- :func:`confidence_level`: a confidence level, checked.
- :func:`critical`: the two-sided critical value of the normal or t
  distribution for a confidence level, with the level checked.
- :func:`wald_interval`: estimate +/- z (or t) se with its two-sided p.
- :func:`mean_interval`: the mean of a sample (of paired differences,
  say) with its t interval and one-sample t-test.
- :func:`welch`: the difference in means of two samples with Welch's
  interval and test.
- :func:`hedges_g`: the bias-corrected standardised difference of two samples,
  with its standard error and interval, through pingouin.
"""

from __future__ import annotations

import numpy as np
import pingouin
from scipy import stats

from kantelmeter.errors import KantelmeterError

__all__ = ["ConfidenceError", "confidence_level", "critical", "hedges_g", "mean_interval", "wald_interval", "welch"]

# pingouin.compute_esci rounds its interval; this many decimals keeps it exact to double precision
_DECIMALS = 15


class ConfidenceError(KantelmeterError, ValueError):
    """A confidence level outside 0.5 to below 1 (an old ``alpha=0.05`` passed where a level belongs)."""


def confidence_level(confidence: float) -> float:
    """``confidence`` itself, after checking that it is a level from 0.5 to below 1.

    Raises
    ------
    ValueError
        Any other value: ``confidence=95`` or ``confidence=0.05`` (an ``alpha``) for 95% are the usual slips.

    Examples
    --------
    >>> confidence_level(0.9)
    0.9
    """
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0.5 <= confidence < 1:
        raise ConfidenceError(
            f"confidence={confidence!r}; allowed: a level from 0.5 to below 1, such as 0.95 for a "
            "95% interval (the level, not the 0.05 of alpha)"
        )
    return float(confidence)


def critical(confidence: float, dof: float | None = None) -> float:
    """The two-sided critical value for a confidence level: normal, or t with ``dof`` degrees of freedom.

    Examples
    --------
    >>> round(critical(0.95), 4), round(critical(0.95, dof=9), 4)
    (1.96, 2.2622)
    """
    tail = 0.5 + confidence_level(confidence) / 2
    return float(stats.norm.ppf(tail) if dof is None else stats.t.ppf(tail, dof))


def wald_interval(estimate, se, confidence: float = 0.95, dof: float | None = None) -> tuple:
    """The Wald interval estimate -/+ z se and the two-sided p of estimate / se (arrays allowed).

    With ``dof``, the t distribution with that many degrees of freedom takes the normal's place.

    Examples
    --------
    >>> [round(float(v), 4) for v in wald_interval(1.0, 0.5)]
    [0.02, 1.98, 0.0455]
    >>> [round(float(v), 4) for v in wald_interval(1.0, 0.5, dof=9)]
    [-0.1311, 2.1311, 0.0766]
    """
    z = critical(confidence, dof)
    estimate, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    tail = stats.norm if dof is None else stats.t(dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * tail.sf(np.abs(estimate / se))
    return estimate - z * se, estimate + z * se, p


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> dict:
    """Mean, standard deviation and t interval of a sample, with the one-sample t-test of mean 0.

    Applied to paired differences it is the paired t-test and its interval
    (Student 1908; R's ``t.test(x, y, paired = TRUE)``). With fewer than two
    values or no spread the interval, ``t`` and ``p`` are NaN.

    Returns
    -------
    dict
        ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``t``, ``dof``, ``p``.

    Examples
    --------
    Student's sleep data, drug 2 minus drug 1 (R: ``t.test(extra[11:20], extra[1:10], paired = TRUE)``
    with ``extra`` from ``datasets::sleep``: 1.58, 95% CI 0.7001142 to 2.4598858, p = 0.002833):

    >>> row = mean_interval(np.array([1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4]))
    >>> round(row["mean"], 2), round(row["ci_low"], 7), round(row["ci_high"], 7), round(row["p"], 6)
    (1.58, 0.7001142, 2.4598858, 0.002833)
    """
    values = np.asarray(values, dtype=float)
    n = len(values)
    mean = float(values.mean()) if n else np.nan
    sd = float(values.std(ddof=1)) if n > 1 else np.nan
    row = {"n": n, "mean": mean, "sd": sd, "ci_low": np.nan, "ci_high": np.nan, "t": np.nan, "dof": n - 1, "p": np.nan}
    if n > 1 and sd > 0:
        test = stats.ttest_1samp(values, 0.0)
        interval = test.confidence_interval(confidence_level(confidence))
        row.update(
            ci_low=float(interval.low), ci_high=float(interval.high), t=float(test.statistic), p=float(test.pvalue)
        )
    return row


def welch(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> dict:
    """Difference in means x - y with Welch's interval and test (Welch 1947, *Biometrika* 34:28-35).

    The standard error is sqrt(s_x^2 / n_x + s_y^2 / n_y) and the degrees of
    freedom Welch-Satterthwaite's, as ``scipy.stats.ttest_ind(equal_var=False)``
    and R's ``t.test(x, y)`` compute them.

    Returns
    -------
    dict
        ``difference``, ``se``, ``dof``, ``ci_low``, ``ci_high``, ``t``, ``p``.

    Examples
    --------
    R: ``t.test(extra ~ group, data = sleep)`` gives t = -1.8608, df = 17.776,
    p = 0.07939, 95% CI -3.3654832 to 0.2054832:

    >>> one = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
    >>> two = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])
    >>> row = welch(one, two)
    >>> round(row["t"], 4), round(row["dof"], 3), round(row["p"], 5), round(row["ci_low"], 7)
    (-1.8608, 17.776, 0.07939, -3.3654832)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    test = stats.ttest_ind(x, y, equal_var=False)
    interval = test.confidence_interval(confidence_level(confidence))
    return {
        "difference": float(x.mean() - y.mean()),
        "se": float(np.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))),
        "dof": float(test.df),
        "ci_low": float(interval.low),
        "ci_high": float(interval.high),
        "t": float(test.statistic),
        "p": float(test.pvalue),
    }


def hedges_g(x: np.ndarray, y: np.ndarray, confidence: float = 0.95) -> dict:
    """Hedges' g of x against y, with its large-sample standard error and t interval.

    Method: Cohen's d with the pooled standard deviation times the
    small-sample correction J = 1 - 3 / (4 (n_x + n_y) - 9)
    (``pingouin.compute_effsize(eftype="hedges")``); standard error
    sqrt((n_x + n_y) / (n_x n_y) + g^2 / (2 (n_x + n_y))) and interval
    g -/+ t(n_x + n_y - 2) se (Hedges & Olkin 1985, *Statistical Methods for
    Meta-Analysis*, ch. 5), the interval ``pingouin.compute_esci`` gives.
    The p value is that of the pooled-variance t-test.

    Returns
    -------
    dict
        ``g``, ``se``, ``ci_low``, ``ci_high``, ``p``; NaN throughout when
        both samples are constant.

    Examples
    --------
    pingouin's documented example has Cohen's d 0.1538; J = 1 - 3 / 79 makes g 0.1479:

    >>> row = hedges_g(np.array([3.0, 4, 6, 7, 5, 6, 7, 3, 5, 4, 2]), np.array([4.0, 6, 6, 7, 6, 5, 5, 2, 3, 4, 1]))
    >>> round(row["g"], 4), round(row["ci_low"], 3), round(row["ci_high"], 3)
    (0.1479, -0.743, 1.039)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    nx, ny = len(x), len(y)
    if x.var() + y.var() == 0:
        return {"g": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    g = float(pingouin.compute_effsize(x, y, eftype="hedges"))
    low, high = pingouin.compute_esci(
        g, nx, ny, eftype="hedges", confidence=confidence_level(confidence), decimals=_DECIMALS
    )
    se = np.sqrt((nx + ny) / (nx * ny) + g**2 / (2 * (nx + ny)))
    return {
        "g": g,
        "se": float(se),
        "ci_low": float(low),
        "ci_high": float(high),
        "p": float(stats.ttest_ind(x, y).pvalue),
    }
