"""kantelmeter: measure the effects of 'de Kanteling' of the Wmo.

Questionnaires are data (``questionnaires/*.yaml``); answers flow one way from
collection through the store into tidy DataFrames, scores, effect estimates
and a publishable report. See README.md for a tour.

The public names below are imported on first use (PEP 562), so that the web
form and the command line start without loading statsmodels and pingouin.

Examples
--------
>>> import importlib.util
>>> import kantelmeter as km
>>> km.load_instrument("soc13").id
'soc13'
>>> "score" in km.__all__ and callable(km.score)
True
>>> km.__all__ == sorted(km._WHERE) + km._SUBMODULES
True
>>> all(importlib.util.find_spec(f"kantelmeter.{name}") for name in km._SUBMODULES)
True
"""

from importlib import import_module

__version__ = "0.2.0"

# Written out, so that editors, mypy and documentation tools see the exports without running the module;
# the doctest above checks it names exactly the lazy exports below and the topic modules.
__all__ = [
    "Appraisal",
    "BSNError",
    "Condition",
    "ConditionError",
    "CostBenefit",
    "CostBenefitError",
    "DisclosureError",
    "DuplicateResponse",
    "EffectsError",
    "GrowthFit",
    "ImportRejected",
    "Instrument",
    "InstrumentError",
    "ItemAnalysis",
    "KantelmeterError",
    "KeyFileError",
    "LongitudinalError",
    "OverlapWarning",
    "Pseudonymiser",
    "ResponseLocked",
    "ScoringError",
    "Store",
    "StoreError",
    "SuppressedTable",
    "by_actor",
    "check_published",
    "check_table",
    "compare_cohorts",
    "compare_growth",
    "display_table",
    "export_responses",
    "fit_growth",
    "import_responses",
    "is_valid_bsn",
    "item_analysis",
    "leavers_vs_stayers",
    "list_instruments",
    "load_instrument",
    "load_radar_2012",
    "method_statement",
    "minimal_detectable_effect",
    "monte_carlo",
    "panel_from_responses",
    "prepost",
    "present_value_factor",
    "sample_size",
    "score",
    "sensitivity",
    "suppress",
    "suppress_percentages",
    "validate_bsn",
    "validate_responses",
    "wave_changes",
    "write_redcap_dictionary",
    "write_xlsform",
    "agreement",
    "ceo",
    "coding",
    "effects",
    "formatting",
    "municipal",
    "plots",
    "publish",
    "report",
    "soc",
    "survey",
    "synth",
    "wheel",
]

# Public name -> the module that defines it, imported on first use.
_EXPORTS = {
    "kantelmeter.errors": ["KantelmeterError"],
    "kantelmeter.conditions": ["Condition", "ConditionError"],
    "kantelmeter.instruments": ["Instrument", "InstrumentError", "list_instruments", "load_instrument"],
    "kantelmeter.scoring": ["ScoringError", "score"],
    "kantelmeter.reliability": ["ItemAnalysis", "item_analysis"],
    "kantelmeter.effects": [
        "EffectsError",
        "OverlapWarning",
        "compare_cohorts",
        "minimal_detectable_effect",
        "prepost",
        "sample_size",
    ],
    "kantelmeter.longitudinal": [
        "GrowthFit",
        "LongitudinalError",
        "compare_growth",
        "fit_growth",
        "leavers_vs_stayers",
        "panel_from_responses",
        "wave_changes",
    ],
    "kantelmeter.costbenefit": [
        "Appraisal",
        "CostBenefit",
        "CostBenefitError",
        "by_actor",
        "check_published",
        "load_radar_2012",
        "monte_carlo",
        "present_value_factor",
        "sensitivity",
    ],
    "kantelmeter.disclosure": [
        "DisclosureError",
        "SuppressedTable",
        "check_table",
        "display_table",
        "method_statement",
        "suppress",
        "suppress_percentages",
    ],
    "kantelmeter.privacy": ["BSNError", "KeyFileError", "Pseudonymiser", "is_valid_bsn", "validate_bsn"],
    "kantelmeter.store": ["DuplicateResponse", "ResponseLocked", "Store", "StoreError"],
    "kantelmeter.io": [
        "ImportRejected",
        "export_responses",
        "import_responses",
        "validate_responses",
        "write_redcap_dictionary",
        "write_xlsform",
    ],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
# Topic modules used as namespaces (km.wheel.summarise, km.synth.study, ...): the rest of __all__.
_SUBMODULES = [name for name in __all__ if name not in _WHERE]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"kantelmeter.{name}")
    else:
        raise AttributeError(f"module 'kantelmeter' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
