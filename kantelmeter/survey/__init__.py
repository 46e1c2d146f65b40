"""The yearly survey round: from the client register to weighted, comparable indicators.

The steps a municipality takes for its Wmo client-experience survey (CEO)
or a baseline (nulmeting), one function each:

- :func:`frame` reads the client register into a frame keyed by pseudonym;
- :func:`sample_size` and :func:`draw` choose and draw a stratified sample
  with inclusion probabilities and design weights;
- :func:`response` counts the response (AAPOR RR1, RR2, by mode) and its
  representativeness (the R-indicator);
- :func:`calibrate` turns design weights into weights calibrated to the
  register's margins;
- :func:`estimate` gives weighted means and proportions with design-based
  standard errors and intervals.

The store keeps a round (frame, sample, dispositions, invitations, weights)
under its name; see ``Store.create_round``.

Examples
--------
>>> from kantelmeter import survey
>>> survey.sample_size(0.05, population=5000)
358
"""

from kantelmeter.survey.design import (
    ALLOCATIONS,
    ID_KINDS,
    Frame,
    FrameError,
    Sample,
    SurveyError,
    draw,
    frame,
    sample_size,
)
from kantelmeter.survey.estimates import estimate
from kantelmeter.survey.response import CODES, INELIGIBLE, NONRESPONSE, ResponseAccount, r_indicator, response
from kantelmeter.survey.weights import CalibrationError, Weights, calibrate, kish_deff

__all__ = [
    "ALLOCATIONS",
    "CODES",
    "ID_KINDS",
    "INELIGIBLE",
    "NONRESPONSE",
    "CalibrationError",
    "Frame",
    "FrameError",
    "ResponseAccount",
    "Sample",
    "SurveyError",
    "Weights",
    "calibrate",
    "draw",
    "estimate",
    "frame",
    "kish_deff",
    "r_indicator",
    "response",
    "sample_size",
]
