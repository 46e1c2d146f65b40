"""Weights: design weights calibrated to the frame's margins, so respondents stand for every client.

Non-response is rarely at random: older clients and some provisions answer
more often. Calibration (Deville & Särndal 1992, *JASA* 87: 376-382) moves
the design weights d_i = N_h / n_h of the respondents as little as possible
so that their weighted counts match the register's known counts on each
auxiliary: raking (iterative proportional fitting, Deming & Stephan 1940)
or linear calibration (the GREG weights). Both are svy's
(``Sample.weighting.rake`` and ``.calibrate``), as is trimming
(``svy.TrimConfig``: weights above a cap are cut and the excess spread
over the others, then the margins are met again).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kantelmeter.survey.design import FrameError, Sample, _problem

__all__ = ["METHODS", "CalibrationError", "Weights", "calibrate", "kish_deff"]

METHODS = ("raking", "linear")


class CalibrationError(FrameError):
    """Weights that cannot be made: no response, an empty respondent cell, a margin that is not an auxiliary."""


@dataclass(frozen=True)
class Weights:
    """Calibrated weights of the respondents of a round; what :func:`calibrate` returns.

    Attributes
    ----------
    weights : pandas.DataFrame
        One row per respondent: ``pseudonym``, ``stratum``, ``design_weight``,
        ``weight`` (calibrated and trimmed).
    population : pandas.Series
        N_h per stratum, for the finite-population correction of estimates.
    method : str
    margins : list of str
    kish_deff : float
        Kish's design effect of unequal weights (:func:`kish_deff`).
    spread : dict
        ``min``, ``max``, ``ratio`` (max / min) and ``cv`` of the weights.
    design : svy.Sample
        The calibrated design, which :func:`kantelmeter.survey.estimate` uses:
        it carries the calibration into the standard errors, as R's
        ``calibrate()`` and ``rake()`` do.
    """

    weights: pd.DataFrame
    population: pd.Series
    method: str
    margins: list[str]
    kish_deff: float
    spread: dict
    design: Any = field(repr=False, compare=False, default=None)


def kish_deff(weights) -> float:
    """Kish's design effect of unequal weights: n sum(w^2) / (sum w)^2 = 1 + cv^2 (Kish 1965, sec. 11.7).

    Examples
    --------
    >>> kish_deff([1, 1, 1, 1]), kish_deff([1, 3])
    (1.0, 1.25)
    """
    w = np.asarray(weights, dtype=float)
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


def calibrate(
    sample: Sample,
    respondents: pd.DataFrame,
    margins: list[str] | None = None,
    method: str = "raking",
    trim: float | None = None,
) -> Weights:
    """Calibrate the respondents' design weights to the frame's margins, with optional trimming.

    Method: the targets are the frame's counts per stratum and per category
    of each margin (an auxiliary of the register, so known for every client). ``raking``
    adjusts the weights margin by margin until all are met (svy
    ``rake``, tolerance 1e-4); ``linear`` gives GREG weights matching all
    margins at once (svy ``calibrate``; weights may fall below 1). With
    ``trim``, no weight may exceed ``trim`` times the mean weight; the excess
    is redistributed and the margins met again. Checked against R survey's
    ``rake()`` and ``calibrate()`` on the api data (tests/test_survey.py).

    Parameters
    ----------
    sample : Sample
    respondents : pandas.DataFrame
        A ``pseudonym`` column naming the sampled units that responded (for
        example ``ResponseAccount.respondents``).
    margins : list of str, optional
        Auxiliaries to calibrate on; default all of the frame's.
    method : {"raking", "linear"}
    trim : float, optional
        Cap on a weight as a multiple of the mean weight (e.g. 3.5).

    Raises
    ------
    CalibrationError
        With no respondents; for a margin that is not an auxiliary of the
        frame; for a margin category that holds clients but no respondent
        (calibration would have to give them infinite weight): merge it with
        a neighbouring category first.

    Examples
    --------
    >>> from kantelmeter.survey.design import Frame, draw
    >>> units = pd.DataFrame({"pseudonym": [f"p-{i}" for i in range(400)], "stratum": "all",
    ...                       "age": ["young"] * 200 + ["old"] * 200})
    >>> s = draw(Frame(units, None, ["age"]), n=400, allocation="census")
    >>> quarter = [f"p-{i}" for i in range(0, 200, 4)]  # a quarter of the young answer, all of the old
    >>> answered = s.units[(s.units.age == "old") | s.units.pseudonym.isin(quarter)]
    >>> w = calibrate(s, answered)
    >>> w.weights.groupby(s.units.set_index("pseudonym").loc[w.weights.pseudonym, "age"].to_numpy()).weight.sum()
    old      200.0
    young    200.0
    Name: weight, dtype: float64
    >>> round(w.kish_deff, 4)  # 250 (200 x 1 + 50 x 16) / 400^2
    1.5625
    """
    import polars as pl
    import svy

    if method not in METHODS:
        raise CalibrationError("weights", [_problem(None, "method", method, f"allowed: {', '.join(METHODS)}")])
    frame = sample.frame
    margins = list(frame.auxiliaries if margins is None else margins)
    unknown = [m for m in margins if m not in frame.auxiliaries]
    if unknown:
        raise CalibrationError(
            "weights",
            [
                _problem(
                    None,
                    "margins",
                    m,
                    f"not an auxiliary of the frame; allowed: {', '.join(frame.auxiliaries) or 'none'}",
                )
                for m in unknown
            ],
        )
    if "pseudonym" not in respondents.columns:
        raise CalibrationError("weights", [_problem(None, "respondents", None, "no pseudonym column")])
    units = sample.units[sample.units["pseudonym"].isin(respondents["pseudonym"])].reset_index(drop=True)
    if units.empty:
        raise CalibrationError(
            "weights",
            [
                _problem(
                    None,
                    "respondents",
                    0,
                    "this round has no response yet: weights need at least one complete response",
                )
            ],
        )
    targets = frame.margins(margins)
    population = frame.population
    if len(population) > 1:  # the strata's sizes are margins too: calibration must not undo them
        targets = {"stratum": {str(k): int(v) for k, v in population.items()}, **targets}
    empty = [
        _problem(
            None,
            name,
            category,
            f"{count} clients in the frame but no respondent: an empty "
            "respondent cell; merge the category with another before calibrating",
        )
        for name in targets
        for category, count in targets[name].items()
        if count > 0 and not (units[name] == category).any()
    ]
    if empty:
        raise CalibrationError("weights", empty)
    data = pl.from_pandas(units.assign(population=units["stratum"].map(population).astype(float)))
    design = svy.Sample(data, svy.Design(stratum="stratum", wgt="design_weight", pop_size="population"))
    trimming = None if trim is None else svy.TrimConfig(upper=svy.Threshold("mean") * float(trim), max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if method == "raking":
                calibrated = design.weighting.rake(controls=targets, wgt_name="weight", trimming=trimming, max_iter=200)
            else:
                calibrated = design.weighting.calibrate(
                    controls={svy.Cat(n): t for n, t in targets.items()}, wgt_name="weight", trimming=trimming
                )
        except svy.errors.SvyError as exc:
            raise CalibrationError(
                "weights",
                [
                    _problem(
                        None,
                        "trim" if trim else "margins",
                        trim,
                        f"calibration failed: {str(exc).strip().splitlines()[0]}",
                    )
                ],
            ) from None
    weighted = calibrated.data.to_pandas()[["pseudonym", "stratum", "design_weight", "weight"]]
    w = weighted["weight"].to_numpy()
    spread = {
        "min": float(w.min()),
        "max": float(w.max()),
        "ratio": float(w.max() / w.min()) if w.min() > 0 else np.inf,
        "cv": float(w.std(ddof=0) / w.mean()),
    }
    return Weights(
        weights=weighted,
        population=population,
        method=method,
        margins=margins,
        kish_deff=kish_deff(w),
        spread=spread,
        design=calibrated,
    )
