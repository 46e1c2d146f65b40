"""Sense of coherence (Antonovsky): comparing scores with a reference population.

The SOC-13 and SOC-29 scores themselves come from
:func:`kantelmeter.scoring.score` with the shipped keys (``soc13``,
``soc29``: comprehensibility, manageability, meaningfulness, soc_total).
This module places them against a reference population: the user's own
mean and SD, or a published norm from :data:`REFERENCES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from kantelmeter.errors import KantelmeterError, NotFoundError
from kantelmeter.scoring import ID_COLUMNS

__all__ = ["SOCError", "REFERENCES", "Reference", "compare_to_reference"]


class SOCError(KantelmeterError, ValueError):
    """Scores or a reference the SOC norms cannot be applied to; the message says what is allowed."""


@dataclass(frozen=True)
class Reference:
    """A reference population for a SOC scale: its mean, SD and where they come from."""

    instrument: str
    scale: str
    mean: float
    sd: float
    n: int | None
    population: str
    citation: str


def _load_references() -> dict[str, Reference]:
    """The published norms in ``data/norms/soc.yaml``: each names its instrument, scale and source."""
    text = resources.files("kantelmeter.data").joinpath("norms/soc.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {
        name: Reference(
            entry["instrument"],
            entry["scale"],
            mean=float(entry["mean"]),
            sd=float(entry["sd"]),
            n=entry.get("n"),
            population=entry["population"],
            citation=data["sources"][entry["source"]],
        )
        for name, entry in data["references"].items()
    }


#: Published norms, by name, from ``data/norms/soc.yaml`` (a new norm is a new entry there).
REFERENCES: dict[str, Reference] = _load_references()


def compare_to_reference(
    scores: pd.DataFrame,
    reference: str | Reference | None = None,
    *,
    mean: float | None = None,
    sd: float | None = None,
    scale: str | None = None,
) -> pd.DataFrame:
    """z-scores and percentiles of SOC scores relative to a reference population.

    Method: ``z = (score - mean) / sd`` with the reference mean and SD; the
    percentile is ``100 * Phi(z)``, the normal approximation to the reference
    distribution. SOC scores are somewhat skewed towards high values
    (Eriksson & Lindström 2005, *J Epidemiol Community Health* 59:460-466,
    report SOC-13 means of 35 to 77 across studies), so percentiles far in
    the tails are approximate; z-scores are exact given the mean and SD.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`kantelmeter.scoring.score` (or any frame with the
        ``scale`` column).
    reference : str or Reference, optional
        A key of :data:`REFERENCES` or a :class:`Reference`.
    mean, sd : float, optional
        The reference mean and SD, instead of ``reference``.
    scale : str, optional
        The score column to compare with ``mean`` and ``sd`` (a reference names its own scale).

    Returns
    -------
    pandas.DataFrame
        The identifying columns, ``score``, ``z``, ``percentile``; the
        reference used is in ``.attrs["reference"]``.

    Examples
    --------
    >>> scores = pd.DataFrame({"respondent": ["a", "b"], "soc_total": [70.0, 58.0]})
    >>> compare_to_reference(scores, "soc13_germany_2004").round(2)
      respondent  score     z  percentile
    0          a   70.0  0.00       50.00
    1          b   58.0 -1.09       13.77
    >>> compare_to_reference(scores, mean=60, sd=10, scale="soc_total")["z"].tolist()
    [1.0, -0.2]
    """
    reference = _reference(reference, mean, sd, scale)
    if reference.scale not in scores.columns:
        raise NotFoundError(f"the scores have no column {reference.scale!r}; columns: {', '.join(scores.columns)}")
    values = scores[reference.scale].to_numpy(dtype=float, na_value=np.nan)
    z = (values - reference.mean) / reference.sd
    result = scores.loc[:, [column for column in ID_COLUMNS if column in scores.columns]]
    result["score"] = values
    result["z"] = z
    result["percentile"] = 100 * stats.norm.cdf(z)
    result.attrs["reference"] = reference
    return result


def _reference(reference, mean, sd, scale) -> Reference:
    if reference is not None and (mean is not None or sd is not None):
        raise SOCError("give either a reference or mean and sd, not both")
    if reference is None and scale is None:
        raise SOCError("with mean and sd, give the scale (the score column) they are a norm for")
    if isinstance(reference, str):
        if reference not in REFERENCES:
            raise NotFoundError(f"no published reference {reference!r}; known: {', '.join(REFERENCES)}")
        return REFERENCES[reference]
    if isinstance(reference, Reference):
        return reference
    if mean is None or sd is None:
        raise SOCError(f"give a reference ({', '.join(REFERENCES)}) or both mean and sd")
    if not sd > 0:
        raise SOCError(f"sd={sd!r}; allowed: a positive number")
    return Reference("", scale, float(mean), float(sd), None, "given by the user", "given by the user")
