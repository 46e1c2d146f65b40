"""kantelmeter: measure the effects of 'de Kanteling' of the Wmo.

Questionnaires are data (``questionnaires/*.yaml``); answers flow one way from
collection through the store into tidy DataFrames, scores, effect estimates
and a publishable report. See README.md for a tour.
"""

from kantelmeter.conditions import Condition, ConditionError
from kantelmeter.costbenefit import (
    CostBenefit,
    CostBenefitError,
    check_published,
    load_radar_2012,
    monte_carlo,
    sensitivity,
)
from kantelmeter.disclosure import (
    DisclosureError,
    SuppressedTable,
    check_table,
    display_table,
    method_statement,
    suppress,
    suppress_percentages,
)
from kantelmeter.instruments import (
    Instrument,
    InstrumentError,
    list_instruments,
    load_instrument,
)
from kantelmeter.io import (
    ImportRejected,
    export_responses,
    import_responses,
    validate_responses,
    write_redcap_dictionary,
    write_xlsform,
)
from kantelmeter import effects, synth, wheel
from kantelmeter.effects import (
    EffectsError,
    OverlapWarning,
    compare_cohorts,
    minimal_detectable_effect,
    prepost,
    sample_size,
)
from kantelmeter.reliability import ItemAnalysis, item_analysis
from kantelmeter.longitudinal import (
    GrowthFit,
    LongitudinalError,
    compare_growth,
    fit_growth,
    leavers_vs_stayers,
    panel_from_responses,
    wave_changes,
)
from kantelmeter.scoring import ScoringError, score
from kantelmeter.privacy import BSNError, KeyFileError, Pseudonymiser, is_valid_bsn, validate_bsn
from kantelmeter.store import DuplicateResponse, ResponseLocked, Store, StoreError

__version__ = "0.1.0"

__all__ = [
    "effects",
    "synth",
    "EffectsError",
    "OverlapWarning",
    "compare_cohorts",
    "minimal_detectable_effect",
    "prepost",
    "sample_size",
    "GrowthFit",
    "LongitudinalError",
    "compare_growth",
    "fit_growth",
    "leavers_vs_stayers",
    "panel_from_responses",
    "wave_changes",
    "ItemAnalysis",
    "ScoringError",
    "item_analysis",
    "score",
    "wheel",
    "DuplicateResponse",
    "ImportRejected",
    "ResponseLocked",
    "Store",
    "StoreError",
    "export_responses",
    "import_responses",
    "validate_responses",
    "write_redcap_dictionary",
    "write_xlsform",
    "BSNError",
    "CostBenefit",
    "CostBenefitError",
    "DisclosureError",
    "KeyFileError",
    "Pseudonymiser",
    "SuppressedTable",
    "check_published",
    "check_table",
    "display_table",
    "is_valid_bsn",
    "load_radar_2012",
    "method_statement",
    "monte_carlo",
    "sensitivity",
    "suppress",
    "suppress_percentages",
    "validate_bsn",
    "Condition",
    "ConditionError",
    "Instrument",
    "InstrumentError",
    "list_instruments",
    "load_instrument",
]
