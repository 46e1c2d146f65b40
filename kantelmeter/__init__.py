"""kantelmeter: measure the effects of 'de Kanteling' of the Wmo.

Questionnaires are data (``questionnaires/*.yaml``); answers flow one way from
collection through the store into tidy DataFrames, scores, effect estimates
and a publishable report. See README.md for a tour.
"""

from kantelmeter.conditions import Condition, ConditionError
from kantelmeter.instruments import (
    Instrument,
    InstrumentError,
    list_instruments,
    load_instrument,
)

__version__ = "0.1.0"

__all__ = [
    "Condition",
    "ConditionError",
    "Instrument",
    "InstrumentError",
    "list_instruments",
    "load_instrument",
]
