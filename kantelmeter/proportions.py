"""Confidence intervals for proportions (shares of respondents).

Small cohorts (the pilot followed about ninety citizens) make the usual
Wald interval p +/- z sqrt(p(1-p)/n) useless near 0 and 1; the Wilson score
interval keeps good coverage there and never leaves [0, 1].
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from kantelmeter.errors import KantelmeterError

__all__ = ["ProportionsError", "wilson_interval"]


class ProportionsError(KantelmeterError, ValueError):
    """Counts or a confidence level an interval cannot be computed for."""


def wilson_interval(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion.

    Method: the interval of all p whose score test does not reject at the
    given level (Wilson 1927, *J Am Stat Assoc* 22:209-212; method 3 in
    Newcombe 1998, *Stat Med* 17:857-872):
    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``.
    Gives the same bounds as statsmodels'
    ``proportion_confint(successes, n, method="wilson")``.

    Parameters
    ----------
    successes, n : int or array_like
        Counts; where ``n`` is 0 both bounds are NaN.
    confidence : float

    Returns
    -------
    low, high : numpy.ndarray

    Examples
    --------
    >>> low, high = wilson_interval(3, 15)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0705, 0.4519)
    >>> wilson_interval([0, 2], [0, 2])
    (array([    nan, 0.3424...]), array([nan,  1.]))
    """
    if not 0 < confidence < 1:
        raise ProportionsError(f"confidence={confidence!r}; allowed: a number strictly between 0 and 1")
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(successes < 0) or np.any(successes > n):
        raise ProportionsError(f"successes {successes.tolist()} must lie between 0 and n {n.tolist()}")
    z = stats.norm.isf((1 - confidence) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # clip the rounding error at the bounds (p = 0 or 1 gives exactly 0 or 1)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
