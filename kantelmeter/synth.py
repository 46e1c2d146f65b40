"""Synthetic data with known true effects, for tests, examples and notebooks.

Every generator takes a ``seed`` and the true parameters, and returns the
truth beside the data it generated, so that an estimator can be checked
against the value it should recover. Nothing here is real data: every
result built on it must say so (``synthetic=True``, respondents ``synth-...``).

- :func:`study`: citizens of a pilot and a regular cohort, answering every
  citizen instrument at intake and follow-up (issue 6, effects);
- :func:`professional_panel`: the pilot's professionals over waves (issue 7).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from kantelmeter.contract import DAYS_PER_MONTH
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, ItemType, load_instrument
from kantelmeter.scoring import ID_COLUMNS, answers, score
from kantelmeter.wheel import domains

# --- citizens: pilot versus regular service (issue 6) ---------------------------

#: The baseline covariates of the citizens, in the form :func:`kantelmeter.effects.compare_cohorts` takes.
#: The pilot's selection depends on complexity only after the front office started choosing cases, hence
#: the period-by-complexity term: with it the propensity model is the true one.
COVARIATES = ["age", "sex", "household", "benefit", "complexity", "period", "period:complexity"]


class SynthError(KantelmeterError, ValueError):
    """A synthetic study design that cannot be simulated; the message names the parameter and what is allowed."""


@dataclass(frozen=True)
class Family:
    """How one kind of latent outcome behaves, in the units of its natural range ``low``-``high``.

    A citizen's level is ``mean + complexity_level*(c - 3) + age*(age - 60)/15
    + u`` with ``u ~ N(0, sd_person)``; intake is that level plus ``N(0,
    sd_occasion)``; follow-up without the pilot adds ``change +
    complexity_change*(c - 3)`` (times the study's ``confounding``) and fresh
    occasion noise; the pilot adds its effect. Each item answer adds ``N(0,
    item_sd)`` before unbiased rounding to the item's codes.
    """

    low: float
    high: float
    mean: float
    sd_person: float
    sd_occasion: float
    change: float
    complexity_level: float
    complexity_change: float
    age: float
    item_sd: float


def truth_file(name: str) -> dict[str, Any]:
    """A truth file of ``data/synthetic`` (the synthetic truth is data, not code).

    Examples
    --------
    >>> sorted(truth_file("study.yaml"))
    ['families', 'instruments', 'ladder_item', 'outcome_items']
    """
    return yaml.safe_load(resources.files("kantelmeter.data").joinpath(f"synthetic/{name}").read_text(encoding="utf-8"))


_STUDY = truth_file("study.yaml")

# Complex questions (more life domains involved) start lower and, in regular
# service, improve less: the combination that makes naive comparisons of a
# pilot that selects complex cases too pessimistic.
FAMILIES = {name: Family(**values) for name, values in _STUDY["families"].items()}

# Which family drives each instrument's scales, and whether every scale has its
# own latent (the wheel's domains) or the scales share one (facets of one trait).
_SCALE_FAMILIES = {name: (spec["family"], spec["per_scale"]) for name, spec in _STUDY["instruments"].items()}

#: The family whose effect is given per scale (per domain of the participation wheel).
_WHEEL_FAMILY = "wheel"
_WHEEL = next(name for name, (family, _) in _SCALE_FAMILIES.items() if family == _WHEEL_FAMILY)

# The outcome items outside any scale that carry a truth of their own: item id to family, and the ladder rung.
OUTCOME_ITEMS: dict[str, str] = dict(_STUDY["outcome_items"])
LADDER_ITEM: str = _STUDY["ladder_item"]


@dataclass(frozen=True)
class StudyTruth:
    """The known design and effects of a synthetic pilot-versus-regular study.

    Timeline and selection follow the pilot 'Kansen en Kantelen' (Van der
    Zwaan 2014, ch. 4): pilot intakes on Tuesday and Thursday mornings from
    ``start`` to ``end``; until ``selection_from`` the pilot takes the first
    Wmo visitor of the morning (a random visitor), afterwards the front office
    picks complex cases: the chance of a visitor being picked is multiplied
    by ``exp(selection)`` per extra life domain in the question (complexity
    1-5). The regular cohort is a random sample of visitors over the same
    period. Effects are in the natural units of each outcome: well-being
    points (0-10), wheel levels (1-5, a number for all domains or a mapping
    per domain), SOC item units (1-7, so 13 times that on ``soc_total``),
    agreement units (1-5) for the citizen's experience scales, and a log odds
    ratio of a higher rung of the responsibility ladder. ``confounding``
    scales how much complexity slows improvement (0: not at all).
    Drop-out before follow-up has base probability ``dropout`` (more for
    complex cases: missing at random given the covariates); each answer is
    left blank with probability ``item_missing`` and answered "don't know"
    (where an item has such a code) with probability ``dont_know``.
    """

    n_pilot: int = 90
    n_regular: int = 300
    start: str = "2010-05-28"
    end: str = "2012-09-01"
    selection_from: str = "2011-03-01"
    selection: float = 0.8
    effect_wellbeing: float = 1.0
    effect_wheel: float | Mapping[str, float] = 0.3
    effect_soc: float = 0.25
    effect_experience: float = 0.3
    effect_ladder: float = -0.8
    confounding: float = 1.0
    dropout: float = 0.2
    item_missing: float = 0.03
    dont_know: float = 0.02
    follow_up_months: float = 4.0

    def wheel_effect(self, domain: str) -> float:
        """The pilot's effect on one wheel domain."""
        return self.effect_wheel[domain] if isinstance(self.effect_wheel, Mapping) else self.effect_wheel


@dataclass
class SyntheticStudy:
    """A synthetic pilot-versus-regular study and the truth it was drawn from. Not real data.

    Attributes
    ----------
    truth : StudyTruth
    seed : int
    citizens : pandas.DataFrame
        One row per citizen: respondent (``synth-p001``, ``synth-r001``),
        cohort (``pilot``/``regular``), intake_date, period
        (``first_visitor``/``selected``), professional, the covariates, and
        ``dropped_out``.
    responses : dict of str to pandas.DataFrame
        Per instrument id, the wide item-level answers (tidy contract:
        respondent, occasion, cohort, collected_at, one column per item).
    outcomes : pandas.DataFrame
        The outcome frame: one row per citizen and occasion answered, with the
        citizen columns, every scale score of every instrument, the
        well-being and ladder items, and ``<domain>_improved`` (0/1, at
        follow-up) per wheel domain.
    true_effects : pandas.DataFrame
        Index outcome; ``parameter`` (the effect put in, in the outcome's
        natural units; a log odds ratio for the ladder), ``ate`` and ``att``:
        the average effect of the pilot on the outcome as scored, over all
        citizens and over the pilot's, from every citizen's answers drawn with
        and without the pilot (same random draws), before drop-out and
        missingness.
    instruments : dict of str to Instrument
    synthetic : bool
        Always True: every table and store filled from this is synthetic.
    """

    truth: StudyTruth
    seed: int
    citizens: pd.DataFrame
    responses: dict[str, pd.DataFrame]
    outcomes: pd.DataFrame
    true_effects: pd.DataFrame
    instruments: dict[str, Instrument]
    synthetic: bool = True

    def to_store(self, store) -> int:
        """Put every response in a :class:`kantelmeter.store.Store`, marked as a synthetic import.

        The respondents keep their ``synth-`` pseudonyms, the cohorts are
        ``synth-pilot`` and ``synth-regular`` so that nothing synthetic can be
        mistaken for a real cohort, and each batch is keyed by the seed so
        filling the same store twice adds nothing. Returns the number of
        responses added.

        Examples
        --------
        >>> from kantelmeter.store import Store
        >>> store = Store("sqlite://")
        >>> small = study(seed=1, n_pilot=20, n_regular=30)
        >>> small.to_store(store) == sum(len(frame) for frame in small.responses.values())
        True
        >>> small.to_store(store)
        0
        """
        added = 0
        for instrument_id, responses in self.responses.items():
            instrument = self.instruments[instrument_id]
            store.register_instrument(instrument)
            for occasion, frame in responses.groupby("occasion", sort=False):
                frame = frame.drop(columns="occasion").assign(cohort="synth-" + frame["cohort"].astype(str))
                added += store.add_responses(
                    instrument,
                    occasion,
                    frame,
                    source="import",
                    batch=f"synthetic study seed {self.seed} {instrument_id} {occasion}",
                )
        return added


def study(seed: int = 0, **truth: Any) -> SyntheticStudy:
    """A synthetic pilot and regular cohort in the shape of the study, with known true effects.

    Covariates are drawn for Wmo counter visitors (age, sex, household,
    benefit, complexity = the number of life domains in the question, 1-5);
    the pilot cohort is selected as :class:`StudyTruth` describes, the
    regular cohort at random. Latent outcomes follow :class:`Family`; every
    item of every citizen instrument (citizen, participation_wheel, soc13
    with the invented demo overlay) is answered by reading the instrument:
    items of a scale follow the scale's latent (reversed where keyed -1), the
    well-being item and the ladder rung follow their own, other items are
    drawn over their valid codes, hidden items (show-if) stay blank. The
    scores come from :func:`kantelmeter.scoring.score`, so the path
    instrument -> answers -> score -> effects is the real one.

    Parameters
    ----------
    seed : int
    **truth
        Overrides of :class:`StudyTruth` fields.

    Returns
    -------
    SyntheticStudy

    Examples
    --------
    >>> s = study(seed=1)
    >>> s.synthetic, s.citizens.groupby("cohort").size().to_dict()
    (True, {'pilot': 90, 'regular': 300})
    >>> bool(s.citizens["respondent"].str.startswith("synth-").all())
    True
    >>> round(float(s.true_effects.loc["wellbeing", "ate"]), 1)
    1.0
    """
    truth_ = _design(StudyTruth, truth, "study")
    rng = np.random.default_rng(seed)
    instruments = dict(_citizen_instruments())
    citizens = _citizens(truth_, rng, _occasions_of(instruments))
    latent = _latent_outcomes(citizens, truth_, instruments, rng)
    draws = int(rng.integers(2**63))
    dropped = citizens["dropped_out"].to_numpy()
    pilot = (citizens["cohort"] == "pilot").to_numpy()

    responses, outcomes, arms = {}, [], {}
    for number, (instrument_id, instrument) in enumerate(instruments.items()):
        per_occasion = []
        for occasion in instrument.occasions:
            # the same draws answer with and without the pilot, so their difference is the pilot's alone
            answered = [
                _answer(
                    instrument,
                    occasion,
                    latent,
                    arm,
                    citizens,
                    np.random.default_rng([draws, number, len(per_occasion)]),
                )
                for arm in (0, 1)
            ]
            arms[instrument_id, occasion] = [_outcomes_of(instrument, frame) for frame in answered]
            frame = answered[0].mask(pd.Series(pilot, index=answered[0].index), answered[1], axis=0)
            keep = ~dropped if occasion != instrument.occasions[0] else np.ones(len(frame), bool)
            per_occasion.append(_with_missingness(instrument, frame[keep], truth_, rng))
        responses[instrument_id] = pd.concat(per_occasion, ignore_index=True)
        outcomes.append(_outcomes_of(instrument, responses[instrument_id]))
    wheel = instruments[_WHEEL]
    return SyntheticStudy(
        truth=truth_,
        seed=seed,
        citizens=citizens,
        responses=responses,
        outcomes=_outcome_frame(citizens, responses, outcomes, wheel),
        true_effects=_true_effects(arms, pilot, truth_, instruments),
        instruments=instruments,
    )


@functools.cache
def _citizen_instruments() -> tuple[tuple[str, Instrument], ...]:
    """The citizen instruments, SOC-13 with the invented demo text; loaded once (instruments are immutable)."""
    folder = resources.files("kantelmeter.data").joinpath("synthetic")
    return tuple(
        (name, load_instrument(name, overlay=folder.joinpath(spec["overlay"]) if "overlay" in spec else None))
        for name, spec in _STUDY["instruments"].items()
    )


def _choose(rng: np.random.Generator, options: list[str], probabilities: np.ndarray) -> np.ndarray:
    """One option per row, drawn with that row's probabilities (rows of ``probabilities``)."""
    cumulative = np.cumsum(probabilities, axis=1)
    picks = (rng.random((len(cumulative), 1)) > cumulative).sum(axis=1)
    return np.asarray(options, dtype=object)[np.minimum(picks, len(options) - 1)]


def _visitors(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Covariates of Wmo counter visitors: mostly older people, and younger ones with an income question."""
    older = rng.random(n) < 0.6
    age = np.clip(np.where(older, rng.normal(75, 8, n), rng.normal(42, 11, n)), 18, 98).round()
    household = _choose(
        rng,
        ["alone", "couple", "family", "other"],
        np.where(older[:, None], [0.45, 0.4, 0.05, 0.1], [0.3, 0.15, 0.4, 0.15]),
    )
    benefit = _choose(
        rng,
        ["pension", "none", "social_assistance", "disability"],
        np.where(older[:, None], [0.85, 0.05, 0.03, 0.07], [0.05, 0.35, 0.35, 0.25]),
    )
    chance = 0.3 + 0.15 * np.isin(benefit, ["social_assistance", "disability"]) + 0.1 * (household == "alone")
    return pd.DataFrame(
        {
            "age": age,
            "sex": np.where(rng.random(n) < 0.6, "female", "male"),
            "household": household,
            "benefit": benefit,
            "complexity": 1.0 + rng.binomial(4, chance),
        }
    )


def _occasions_of(instruments: dict[str, Instrument]) -> tuple[str, str]:
    """The two occasions every citizen instrument shares (intake and follow-up), refused otherwise."""
    occasions = {tuple(instrument.occasions) for instrument in instruments.values()}
    if len(occasions) != 1 or len(next(iter(occasions))) != 2:
        raise SynthError(
            f"study: the instruments of data/synthetic/study.yaml have occasions {sorted(occasions)}; "
            "allowed: the same two occasions (intake, follow-up) in all"
        )
    intake, follow_up = next(iter(occasions))
    return intake, follow_up


def _citizens(truth: StudyTruth, rng: np.random.Generator, occasions: tuple[str, str]) -> pd.DataFrame:
    """Both cohorts with a date per occasion (``<occasion>_date``), selection period, professional and drop-out."""
    intake, follow_up = (f"{occasion}_date" for occasion in occasions)
    start, end, shift = pd.Timestamp(truth.start), pd.Timestamp(truth.end), pd.Timestamp(truth.selection_from)
    mornings = pd.date_range(start, end, freq="W-TUE", inclusive="left").union(
        pd.date_range(start, end, freq="W-THU", inclusive="left")
    )
    if truth.n_pilot > len(mornings):
        raise SynthError(
            f"study: n_pilot={truth.n_pilot}; allowed: at most {len(mornings)}, one per intake morning "
            f"from {truth.start} to {truth.end}"
        )
    pilot_dates = pd.DatetimeIndex(np.sort(rng.choice(mornings.to_numpy(), truth.n_pilot, replace=False)))
    first_visitor = int((pilot_dates < shift).sum())
    picked = truth.n_pilot - first_visitor
    # the front office picks from many visitors, favouring complex questions: an exponential tilt,
    # so that the true propensity is logistic in complexity within the selection period
    pool = _visitors(40 * max(picked, 1), rng)
    weights = np.exp(truth.selection * pool["complexity"].to_numpy())
    chosen = rng.choice(len(pool), picked, replace=False, p=weights / weights.sum())
    pilot = pd.concat([_visitors(first_visitor, rng), pool.iloc[chosen]], ignore_index=True)
    pilot[intake] = pilot_dates
    regular = _visitors(truth.n_regular, rng)
    weekdays = pd.bdate_range(start, end, inclusive="left")
    regular[intake] = pd.DatetimeIndex(np.sort(rng.choice(weekdays.to_numpy(), truth.n_regular)))
    pilot["professional"] = [f"synth-regiehouder-{k:02d}" for k in rng.integers(1, 11, len(pilot))]
    regular["professional"] = [f"synth-counter-{k:02d}" for k in rng.integers(1, 13, len(regular))]
    pilot.insert(0, "respondent", [f"synth-p{k:03d}" for k in range(1, len(pilot) + 1)])
    regular.insert(0, "respondent", [f"synth-r{k:03d}" for k in range(1, len(regular) + 1)])
    citizens = pd.concat([pilot.assign(cohort="pilot"), regular.assign(cohort="regular")], ignore_index=True)
    citizens["period"] = np.where(citizens[intake] >= shift, "selected", "first_visitor")
    offset = truth.follow_up_months * DAYS_PER_MONTH + rng.integers(-14, 15, len(citizens))
    citizens[follow_up] = citizens[intake] + pd.to_timedelta(offset.round(), unit="D")
    leave = 1 / (1 + np.exp(-(np.log(truth.dropout / (1 - truth.dropout)) + 0.3 * (citizens["complexity"] - 3))))
    citizens["dropped_out"] = rng.random(len(citizens)) < leave
    columns = [
        "respondent",
        "cohort",
        intake,
        follow_up,
        "period",
        "professional",
        "age",
        "sex",
        "household",
        "benefit",
        "complexity",
        "dropped_out",
    ]
    return citizens[columns]


def _latent_outcomes(
    citizens: pd.DataFrame, truth: StudyTruth, instruments: dict[str, Instrument], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per latent outcome, a 3 x n array: intake, follow-up without the pilot, follow-up with it."""
    complexity = citizens["complexity"].to_numpy() - 3
    age = (citizens["age"].to_numpy() - 60) / 15
    n = len(citizens)
    units = {item: (family, _effect(truth, family, item)) for item, family in OUTCOME_ITEMS.items()}
    for instrument_id, (family, per_scale) in _SCALE_FAMILIES.items():
        scales = [scale.id for scale in instruments[instrument_id].scales] if per_scale else [family]
        units.update({name: (family, _effect(truth, family, name)) for name in scales})
    latent = {}
    for name, (family, effect) in units.items():
        f = FAMILIES[family]
        level = f.mean + f.complexity_level * complexity + f.age * age + rng.normal(0, f.sd_person, n)
        without = (
            level + f.change + truth.confounding * f.complexity_change * complexity + rng.normal(0, f.sd_occasion, n)
        )
        latent[name] = np.vstack([level + rng.normal(0, f.sd_occasion, n), without, without + effect])
    # the rung of the responsibility ladder: a proportional-odds latent, higher for complex questions
    ladder = 0.4 * complexity + rng.logistic(size=n)
    latent[LADDER_ITEM] = np.vstack([ladder, ladder, ladder + truth.effect_ladder])
    return latent


def _effect(truth: StudyTruth, family: str, name: str) -> float:
    """The pilot's effect on the latent of a family (``StudyTruth.effect_<family>``; per domain for the wheel)."""
    return truth.wheel_effect(name) if family == _WHEEL_FAMILY else getattr(truth, f"effect_{family}")


def _index(values: np.ndarray, n_codes: int, rng: np.random.Generator) -> np.ndarray:
    """Positions 0..n_codes-1 from continuous positions: unbiased rounding, clipped to the ends."""
    return np.clip(_stochastic_round(values, rng), 0, n_codes - 1).astype(int)


def _answer(
    instrument: Instrument,
    occasion: str,
    latent: dict[str, np.ndarray],
    arm: int,
    citizens: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Every item asked at an occasion, answered by every citizen (before drop-out and missingness)."""
    row = 0 if occasion == instrument.occasions[0] else 1 + arm
    family, per_scale = _SCALE_FAMILIES.get(instrument.id, (None, False))
    drivers = {
        member.item: (scale.id if per_scale else family, member.key)
        for scale in reversed(instrument.scales)
        for member in scale.items
    }
    n = len(citizens)
    columns: dict[str, np.ndarray] = {column: np.full(n, np.nan) for column in instrument.columns}
    for item in instrument.items_at(occasion):
        codes = np.asarray(instrument.valid_codes(item) or [], dtype=float)
        noise, uniform = rng.normal(size=n), rng.random(n)
        if item.type is ItemType.multiple_choice:
            columns.update({column: (rng.random(n) < 0.3).astype(float) for column in instrument.columns_of(item)})
        elif item.id in drivers or item.id in OUTCOME_ITEMS:
            unit, key = drivers.get(item.id, (item.id, 1))
            f = FAMILIES[family if item.id in drivers else OUTCOME_ITEMS[item.id]]
            position = (latent[unit][row] - f.low) / (f.high - f.low) * (len(codes) - 1) + f.item_sd * noise * (
                len(codes) - 1
            ) / (f.high - f.low)
            index = _index(position if key > 0 else len(codes) - 1 - position, len(codes), rng)
            columns[item.id] = codes[index]
        elif item.id == LADDER_ITEM:
            columns[item.id] = codes[np.digitize(latent[LADDER_ITEM][row], np.linspace(-1.5, 1.5, len(codes) - 1))]
        elif len(codes):
            columns[item.id] = codes[(uniform * len(codes)).astype(int)]
        elif item.type is ItemType.number:
            columns[item.id] = _number(item, citizens, uniform)
    frame = pd.DataFrame(columns)
    for item in instrument.items_at(occasion):
        condition = instrument.condition(item)
        if condition is not None:
            shown = [condition.evaluate(answers) for answers in _as_answers(instrument, frame, condition.items)]
            frame.loc[~np.asarray(shown, bool), instrument.columns_of(item)] = np.nan
    identity = pd.DataFrame(
        {
            "respondent": citizens["respondent"],
            "occasion": occasion,
            "cohort": citizens["cohort"],
            "collected_at": citizens[f"{occasion}_date"],
        }
    )
    return pd.concat([identity, frame], axis=1)


def _number(item, citizens: pd.DataFrame, uniform: np.ndarray) -> np.ndarray:
    """A number item: the citizen's covariate of the same name (age), else a value in the lower part of its range."""
    if item.id in citizens.columns and pd.api.types.is_numeric_dtype(citizens[item.id]):
        return citizens[item.id].to_numpy(float)
    low = item.min if item.min is not None else 0
    high = item.max if item.max is not None else low + 10
    return np.floor(low + uniform * (high - low) / 4)


def _as_answers(instrument: Instrument, frame: pd.DataFrame, items) -> list[dict]:
    """Per row, the answers a show-if condition reads (a set of codes for a multiple-choice item)."""
    values = {}
    for item_id in items:
        item = instrument.item(item_id)
        if item.type is ItemType.multiple_choice:
            codes = instrument.response_scale_of(item).valid_codes
            chosen = frame[instrument.columns_of(item)].to_numpy() == 1
            values[item_id] = [{code for code, on in zip(codes, row) if on} for row in chosen]
        else:
            values[item_id] = [None if pd.isna(v) else v for v in frame[item_id].to_numpy()]
    return [dict(zip(values, row)) for row in zip(*values.values())]


def _with_missingness(
    instrument: Instrument, frame: pd.DataFrame, truth: StudyTruth, rng: np.random.Generator
) -> pd.DataFrame:
    """Blank answers at random, and answer 'don't know' where an item has that code."""
    frame = frame.reset_index(drop=True)
    values = frame[instrument.columns].to_numpy(float, copy=True)
    for item in instrument.items:
        columns = [instrument.columns.index(column) for column in instrument.columns_of(item)]
        answered = ~np.isnan(values[:, columns]).any(axis=1)
        blank = answered & (rng.random(len(frame)) < truth.item_missing)
        values[np.ix_(blank, columns)] = np.nan
        missing_codes = instrument.missing_codes(item)
        if missing_codes and item.type is not ItemType.multiple_choice:
            dont_know = answered & ~blank & (rng.random(len(frame)) < truth.dont_know)
            values[dont_know, columns[0]] = missing_codes[0]
    return pd.concat([frame.drop(columns=instrument.columns), pd.DataFrame(values, columns=instrument.columns)], axis=1)


def _outcomes_of(instrument: Instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """The scale scores and outcome items of one instrument's responses (missing codes as NaN)."""
    scored = score(instrument, responses).drop(columns=list(ID_COLUMNS), errors="ignore")
    items = [item for item in (*OUTCOME_ITEMS, LADDER_ITEM) if item in instrument.columns]
    values, _ = answers(instrument, responses, items)
    return scored.assign(**dict(zip(items, values.T)))


def _outcome_frame(
    citizens: pd.DataFrame, responses: dict[str, pd.DataFrame], outcomes: list[pd.DataFrame], wheel: Instrument
) -> pd.DataFrame:
    """One row per citizen and occasion: the citizen's columns and every outcome; improvement per wheel domain."""
    keys = ["respondent", "occasion"]
    frames = [
        responses[instrument_id][keys + ["collected_at"]].join(scores)
        for instrument_id, scores in zip(responses, outcomes)
    ]
    clash = pd.Index([c for f in frames for c in f.columns if c not in keys + ["collected_at"]])
    if clash.duplicated().any():
        raise SynthError(
            f"study: outcome names used by more than one instrument: {sorted(set(clash[clash.duplicated()]))}"
        )
    merged = frames[0]
    for frame in frames[1:]:
        merged = merged.merge(frame.drop(columns="collected_at"), on=keys, how="outer")
    merged = citizens.drop(columns=f"{wheel.occasions[1]}_date").merge(merged, on="respondent", how="right")
    intake = merged[merged["occasion"] == wheel.occasions[0]].set_index("respondent")
    later = merged["occasion"] != wheel.occasions[0]
    for domain in domains(wheel):
        before = merged["respondent"].map(intake[domain])
        merged[f"{domain}_improved"] = (
            (merged[domain] > before).astype(float).where(later & merged[domain].notna() & before.notna())
        )
    merged = merged.sort_values(
        ["cohort", "respondent", "occasion"],
        key=lambda s: s.map({wheel.occasions[0]: 0}).fillna(1) if s.name == "occasion" else s,
        ignore_index=True,
    )
    merged.attrs["synthetic"] = True
    return merged


def _true_effects(arms: dict, pilot: np.ndarray, truth: StudyTruth, instruments: dict[str, Instrument]) -> pd.DataFrame:
    """Average effects on every outcome as scored, from each citizen's answers with and without the pilot."""
    rows = []
    wheel = instruments[_WHEEL]
    for (instrument_id, occasion), (without, with_) in arms.items():
        instrument = instruments[instrument_id]
        if occasion == instrument.occasions[0]:
            continue
        differences = {column: (with_[column] - without[column]).to_numpy() for column in without}
        if instrument_id == wheel.id:
            intake = arms[instrument_id, instrument.occasions[0]][0]
            for domain in domains(wheel):
                improved = [
                    np.where(arm[domain].notna() & intake[domain].notna(), arm[domain] > intake[domain], np.nan)
                    for arm in (without, with_)
                ]
                differences[f"{domain}_improved"] = improved[1] - improved[0]
        for column, difference in differences.items():
            rows.append(
                {
                    "outcome": column,
                    "parameter": _parameter(column, instrument, truth),
                    "ate": np.nanmean(difference),
                    "att": np.nanmean(difference[pilot]),
                }
            )
    return pd.DataFrame(rows).set_index("outcome")


def _parameter(outcome: str, instrument: Instrument, truth: StudyTruth) -> float:
    """The effect put into the latent outcome behind a scored outcome (NaN for derived 0/1 outcomes)."""
    if outcome in OUTCOME_ITEMS:
        return _effect(truth, OUTCOME_ITEMS[outcome], outcome)
    if outcome == LADDER_ITEM:
        return truth.effect_ladder
    if outcome not in {scale.id for scale in instrument.scales}:
        return np.nan
    effect = _effect(truth, _SCALE_FAMILIES[instrument.id][0], outcome)
    scale = instrument.scale(outcome)
    return effect * len(scale.items) if scale.method == "sum" else effect


# --- professionals over time (issue 7) ----------------------------------------


@dataclass(frozen=True)
class OutcomeTruth:
    """The true growth model of one outcome (a scale, or a score item) of the professional panel.

    The latent score of professional ``i`` at month ``t`` (months since the
    start of the pilot) is::

        intercept + partner*P + helper*H + team_2*T2
        + (slope + slope_municipal_helper*M*H) * t + end_dip*E
        + autonomy_loading * autonomy_it + u0_i + u1_i*t + e_it

    with P, H, T2, M indicators of a partner organisation, the helper role
    conception, team 2 and the municipality, E that the end of the pilot had
    been announced, ``autonomy_it`` the professional's latent autonomy at
    that moment (so an effect can run through autonomy), ``u0 ~ N(0,
    sd_intercept)``, ``u1 ~ N(0, sd_slope)`` independent, and ``e ~ N(0,
    sd_residual)``. Answering items adds measurement error on top.
    """

    intercept: float
    partner: float = 0.0
    helper: float = 0.0
    team_2: float = 0.0
    slope: float = 0.0
    slope_municipal_helper: float = 0.0
    end_dip: float = 0.0
    autonomy_loading: float = 0.0
    sd_intercept: float = 0.3
    sd_slope: float = 0.005
    sd_residual: float = 0.3


#: Fixed effects of :class:`OutcomeTruth` that pass through autonomy when an outcome loads on it.
_FIXED = ("intercept", "partner", "helper", "team_2", "slope", "slope_municipal_helper", "end_dip")

# The study's direction of findings (chapter 6), read from ``data/synthetic/professional_panel.yaml``.
_PANEL = truth_file("professional_panel.yaml")
_DEFAULT_OUTCOMES = {name: OutcomeTruth(**values) for name, values in _PANEL["outcomes"].items()}

#: The outcome the others load on (``autonomy_loading``): drawn first.
MEDIATOR: str = _PANEL["mediator"]


@dataclass(frozen=True)
class ProfessionalTruth:
    """The known shape and parameters of a synthetic professional panel.

    The timeline follows the pilot 'Kansen en Kantelen' (Van der Zwaan 2014,
    ch. 4 and 6): team 1 starts on ``start`` (March 2010, month 0); one
    municipal member leaves early and is not replaced; the others except the
    project leader are replaced one by one by team 2 between
    ``replacement_from`` and ``replacement_until``; the end is announced on
    ``end_announced`` and the team is dissolved on ``dissolved``. Waves are
    about six months apart; each professional present answers with
    probability ``response_rate``, within ``answer_window_days`` of the wave
    date. Within each team a share of the municipal staff (``helper_share``)
    and of the partners take the helper role conception.
    """

    start: str = "2010-03-01"
    wave_dates: tuple[str, ...] = ("2010-06-01", "2010-12-01", "2011-06-01", "2011-12-01", "2012-07-15")
    early_leave: str = "2011-04-01"
    replacement_from: str = "2011-09-01"
    replacement_until: str = "2012-03-01"
    end_announced: str = "2012-06-15"
    dissolved: str = "2012-09-01"
    answer_window_days: int = 14
    response_rate: float = 0.9
    helper_share_team_1: float = 0.6
    helper_share_team_2: float = 0.4
    helper_share_partner: float = 2 / 3
    item_sd: float = 0.45
    outcomes: dict[str, OutcomeTruth] = field(default_factory=lambda: dict(_DEFAULT_OUTCOMES))

    def total(self, outcome: str) -> OutcomeTruth:
        """The effects of an outcome including what runs through autonomy (what a model without autonomy estimates).

        Examples
        --------
        >>> truth = ProfessionalTruth()
        >>> round(truth.total("work_enjoyment").slope_municipal_helper, 3)
        0.025
        """
        own = self.outcomes[outcome]
        if not own.autonomy_loading:
            return own
        autonomy, loading = self.outcomes[MEDIATOR], own.autonomy_loading
        fixed = {name: getattr(own, name) + loading * getattr(autonomy, name) for name in _FIXED}
        spread = {
            name: float(np.hypot(getattr(own, name), loading * getattr(autonomy, name)))
            for name in ("sd_intercept", "sd_slope", "sd_residual")
        }
        return dataclasses.replace(own, **fixed, **spread, autonomy_loading=0.0)

    def month(self, date: str | pd.Timestamp) -> float:
        """Months since the start (March 2010 is 0)."""
        return (pd.Timestamp(date) - pd.Timestamp(self.start)).days / DAYS_PER_MONTH


@dataclass
class ProfessionalPanel:
    """A synthetic professional panel and the truth it was drawn from.

    Not real data: the professionals are ``synth-prof...`` and their cohort
    ``synth-professionals``.

    Attributes
    ----------
    truth : ProfessionalTruth
    roster : pandas.DataFrame
        One row per professional: professional, site, team, organisation,
        function, role, joined, left (missing for those who stayed to the end).
    data : pandas.DataFrame
        Tidy panel, one row per professional x wave answered: the roster
        columns, occasion, wave, date, months, end_announced, then one column
        per outcome (the scale scores computed by :func:`kantelmeter.scoring.score`
        from ``responses``, and the role-conception score items).
    responses : pandas.DataFrame
        The wide item-level answers (tidy contract: respondent, occasion,
        cohort, collected_at, then one column per item of the instrument).
    """

    truth: ProfessionalTruth
    roster: pd.DataFrame
    data: pd.DataFrame
    responses: pd.DataFrame
    instrument: Instrument
    seed: int
    synthetic: bool = True

    def to_store(self, store) -> int:
        """Put the responses in a :class:`kantelmeter.store.Store`, one batch per wave keyed by the seed.

        Returns the number of responses added (none when this panel is already stored).

        Examples
        --------
        >>> from kantelmeter.store import Store
        >>> store = Store("sqlite://")
        >>> professional_panel(seed=1).to_store(store)
        43
        """
        store.register_instrument(self.instrument)
        added = 0
        for occasion, frame in self.responses.groupby("occasion", sort=False):
            added += store.add_responses(
                self.instrument,
                occasion,
                frame.drop(columns="occasion"),
                source="import",
                batch=f"synthetic professional panel seed {self.seed} {occasion}",
            )
        return added


def _study_team(truth: ProfessionalTruth, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One site's professionals: team 1 of ten (the study's composition) and team 2 replacing eight of them."""
    municipal = [
        ("project management", None),
        ("front office", None),
        ("front office", None),
        ("back office Wmo", None),
        ("back office Wmo", None),
        ("back office Work & Income", None),
        ("extended front office", None),
    ]
    partners = [("consultant", "MEE"), ("consultant", "MeerWaarde"), ("consultant", "Steunpunt Mantelzorg")]
    start, dissolved = pd.Timestamp(truth.start), pd.Timestamp(truth.dissolved)
    window = (pd.Timestamp(truth.replacement_until) - pd.Timestamp(truth.replacement_from)).days
    people = []
    for organisation, members in (("municipality", municipal), ("partner", partners)):
        for function, partner in members:
            if function == "project management":
                left = pd.NaT
            elif function == "extended front office":
                left = pd.Timestamp(truth.early_leave)
            else:
                left = pd.Timestamp(truth.replacement_from) + pd.Timedelta(days=int(rng.integers(0, window + 1)))
            people.append(
                {
                    "team": 1,
                    "organisation": organisation,
                    "function": function,
                    "partner": partner,
                    "joined": start,
                    "left": left,
                }
            )
            if function not in ("project management", "extended front office"):
                people.append(
                    {
                        "team": 2,
                        "organisation": organisation,
                        "function": function,
                        "partner": partner,
                        "joined": left,
                        "left": pd.NaT,
                    }
                )
    for person in people:
        person["dissolved"] = dissolved
    return people


def _assign_roles(roster: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> pd.Series:
    """Exactly round(share x n) helpers per site, team and organisation, so no seed leaves a cell empty."""
    role = pd.Series("service_provider", index=roster.index)
    shares = {
        (1, "municipality"): truth.helper_share_team_1,
        (2, "municipality"): truth.helper_share_team_2,
        (1, "partner"): truth.helper_share_partner,
        (2, "partner"): truth.helper_share_partner,
    }
    for (_, team, organisation), group in roster.groupby(["site", "team", "organisation"]):
        chosen = rng.choice(group.index, size=int(round(shares[team, organisation] * len(group))), replace=False)
        role[chosen] = "helper"
    return role


def _occasions(roster: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> pd.DataFrame:
    """The waves each professional answered: present at the wave date and responding."""
    rows = []
    for wave, wave_date in enumerate(pd.to_datetime(list(truth.wave_dates)), start=1):
        present = (
            (roster["joined"] <= wave_date)
            & (roster["left"].isna() | (roster["left"] > wave_date))
            & (wave_date < pd.Timestamp(truth.dissolved))
        )
        answering = roster.index[present & (rng.random(len(roster)) < truth.response_rate)]
        offsets = rng.integers(-truth.answer_window_days, truth.answer_window_days + 1, size=len(answering))
        rows.append(
            pd.DataFrame({"row": answering, "wave": wave, "date": wave_date + pd.to_timedelta(offsets, unit="D")})
        )
    occasions = pd.concat(rows, ignore_index=True)
    return occasions.sort_values(["row", "wave"], ignore_index=True)


def _latent(panel: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Latent outcome scores per answered wave, autonomy first so others can load on it."""
    person = panel["row"].to_numpy()
    n_people = person.max() + 1
    design = {
        "partner": (panel["organisation"] == "partner").to_numpy(float),
        "helper": (panel["role"] == "helper").to_numpy(float),
        "team_2": (panel["team"] == 2).to_numpy(float),
        "end_dip": panel["end_announced"].to_numpy(float),
    }
    municipal_helper = design["helper"] * (1 - design["partner"])
    t = panel["months"].to_numpy()
    latent: dict[str, np.ndarray] = {}
    for name in sorted(truth.outcomes, key=lambda outcome: outcome != MEDIATOR):
        o = truth.outcomes[name]
        u0 = rng.normal(0, o.sd_intercept, n_people)[person]
        u1 = rng.normal(0, o.sd_slope, n_people)[person]
        value = (
            o.intercept
            + sum(getattr(o, key) * x for key, x in design.items())
            + (o.slope + o.slope_municipal_helper * municipal_helper + u1) * t
            + u0
            + rng.normal(0, o.sd_residual, len(panel))
        )
        if o.autonomy_loading:
            value = value + o.autonomy_loading * latent[MEDIATOR]
        latent[name] = value
    return latent


def _stochastic_round(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round up with probability equal to the fraction, so the rounded code is unbiased for the value."""
    low = np.floor(values)
    return low + (rng.random(values.shape) < values - low)


def _answers(
    instrument: Instrument, latent: dict[str, np.ndarray], truth: ProfessionalTruth, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Item codes consistent with the latent outcomes, read from the instrument's scales and keys."""
    columns: dict[str, np.ndarray] = {}
    scale_ids = {scale.id for scale in instrument.scales}
    for name, value in latent.items():
        if name in scale_ids:
            scale = instrument.scale(name)
            per_item = value / len(scale.items) if scale.method == "sum" else value
            for member in scale.items:
                codes = instrument.valid_codes(member.item)
                low, high = min(codes), max(codes)
                noisy = per_item + rng.normal(0, truth.item_sd, len(value))
                keyed = noisy if member.key > 0 else low + high - noisy
                columns[member.item] = np.clip(_stochastic_round(keyed, rng), low, high)
        else:
            item = instrument.item(name)
            if item.type is not ItemType.score:
                raise SynthError(
                    f"professional_panel: outcome {name!r} is a {item.type.value} item of "
                    f"{instrument.id!r}; allowed: a scale id or a score item"
                )
            codes = instrument.valid_codes(item)
            columns[name] = np.clip(_stochastic_round(value, rng), min(codes), max(codes))
    return columns


def _organisation_codes(instrument: Instrument) -> dict[str, int]:
    """The roster's organisation (``municipality``, ``partner``) to the code of the item of that name, by ``meaning:``."""
    if "organisation" not in instrument.columns:
        return {}
    scale = instrument.response_scale_of("organisation")
    codes = {c.meaning: c.code for c in (scale.codes if scale else []) if c.meaning}
    missing = sorted({"municipality", "partner"} - set(codes))
    if missing:
        raise SynthError(
            f"professional_panel: item 'organisation' of {instrument.id!r} has no code with meaning "
            f"{', '.join(missing)}; allowed: give its codes meaning: municipality and meaning: partner"
        )
    return codes


def professional_panel(
    seed: int = 0, n_teams: int = 1, instrument: str | Instrument = "professional", **truth: Any
) -> ProfessionalPanel:
    """A synthetic panel of professionals in the shape of the pilot, with known true effects.

    Each site (``n_teams`` of them; the study had one) has the study's team:
    ten people in team 1 (the project leader and six municipal staff, three
    partner consultants from MEE, MeerWaarde and Steunpunt Mantelzorg), eight
    of whom are replaced by team 2 during the replacement window; with the
    project leader team 2 counts nine. Latent outcomes follow
    :class:`OutcomeTruth`; item answers are drawn around them (normal noise of
    ``item_sd``, unbiased stochastic rounding to the codes, reversed for
    negatively keyed items, clipped to the codes) and scored with
    :func:`kantelmeter.scoring.score`, so the path instrument -> score ->
    model is the real one. True effects are on the latent scale; clipping at
    the ends of a scale shrinks them slightly.

    Parameters
    ----------
    seed : int
    n_teams : int
        Parallel sites of the study's composition (more professionals for
        simulation studies).
    instrument : str or Instrument
        The professional questionnaire; its scales and keys drive the items.
    **truth
        Overrides of :class:`ProfessionalTruth` fields; an outcome name takes
        an :class:`OutcomeTruth` or a dict of its fields to change, for
        example ``work_enjoyment={"end_dip": 0.0}``.

    Returns
    -------
    ProfessionalPanel

    Examples
    --------
    >>> panel = professional_panel(seed=1)
    >>> len(panel.roster), panel.roster.groupby("team").size().to_dict()
    (18, {1: 10, 2: 8})
    >>> panel.data.groupby("wave")["professional"].nunique().tolist()
    [8, 9, 8, 9, 9]
    >>> round(float(panel.data["work_enjoyment"].mean()), 2)
    3.29
    >>> panel.responses.filter(like="enjoy_").columns.size   # the work-enjoyment items, read from the instrument
    4
    """
    base = ProfessionalTruth()
    outcomes = dict(base.outcomes)
    fields = sorted({f.name for f in dataclasses.fields(ProfessionalTruth)} - {"outcomes"})
    settings = {}
    for key, value in truth.items():
        if key in outcomes:
            outcomes[key] = value if isinstance(value, OutcomeTruth) else dataclasses.replace(outcomes[key], **value)
        elif key in fields:
            settings[key] = value
        else:
            raise TypeError(
                f"professional_panel: unknown parameter {key!r}; allowed: {', '.join(fields)}, "
                f"or an outcome ({', '.join(outcomes)})"
            )
    if n_teams < 1:
        raise SynthError(f"professional_panel: n_teams={n_teams!r}; allowed: 1 or more")
    truth_ = dataclasses.replace(base, outcomes=outcomes, **settings)
    instrument = load_instrument(instrument) if isinstance(instrument, str) else instrument
    rng = np.random.default_rng(seed)

    people = [dict(person, site=site) for site in range(1, n_teams + 1) for person in _study_team(truth_, rng)]
    roster = pd.DataFrame(people)
    roster.insert(0, "professional", [f"synth-prof{index + 1:03d}" for index in range(len(roster))])
    roster["role"] = _assign_roles(roster, truth_, rng)

    occasions = _occasions(roster, truth_, rng)
    panel = occasions.join(roster, on="row")
    panel["months"] = (panel["date"] - pd.Timestamp(truth_.start)).dt.days / DAYS_PER_MONTH
    panel["end_announced"] = panel["date"] >= pd.Timestamp(truth_.end_announced)
    panel["occasion"] = "wave_" + panel["wave"].astype(str)
    latent = _latent(panel, truth_, rng)

    codes = _answers(instrument, latent, truth_, rng)
    background = {"organisation": panel["organisation"].map(_organisation_codes(instrument)), "team": panel["team"]}
    responses = pd.DataFrame(
        {
            "respondent": panel["professional"],
            "occasion": panel["occasion"],
            "cohort": "synth-professionals",
            "collected_at": panel["date"],
        }
    )
    item_columns = {column: np.nan for column in instrument.columns}
    item_columns.update({key: value.to_numpy(float) for key, value in background.items() if key in item_columns})
    item_columns.update(codes)
    responses = pd.concat([responses, pd.DataFrame(item_columns, index=responses.index)], axis=1)

    scored = score(
        instrument, responses, scales=[name for name in latent if name in {scale.id for scale in instrument.scales}]
    )
    categories = {"team": [1, 2], "organisation": ["municipality", "partner"], "role": ["service_provider", "helper"]}
    roster_columns = ["professional", "site", "team", "organisation", "function", "partner", "role", "joined", "left"]
    roster = roster[roster_columns].astype({key: pd.CategoricalDtype(value) for key, value in categories.items()})
    data = panel[["row", "occasion", "wave", "date", "months", "end_announced"]].join(roster, on="row")
    data = data[roster_columns + ["occasion", "wave", "date", "months", "end_announced"]]
    for name in latent:
        data[name] = scored[name] if name in scored.columns else codes[name]
    return ProfessionalPanel(
        truth=truth_,
        roster=roster,
        data=data.reset_index(drop=True),
        responses=responses.reset_index(drop=True),
        instrument=instrument,
        seed=seed,
    )


# --- effect designs with an exact truth (issue 17) -------------------------------


@dataclass(frozen=True)
class EffectDesign:
    """A pilot-versus-regular design whose true effects and models are known exactly.

    Where :func:`study` runs the whole path through instruments and scoring,
    this draws one continuous outcome (well-being, about 0-10, unrounded) in
    a Gaussian design, so that the propensity, response and outcome models
    :mod:`kantelmeter.effects` fits are the true ones and the population ATT
    and ATE are known in closed form. Fast enough for thousands of studies
    at n = 5,000 (``benchmarks/bench_effects_simulation.py``).

    Among regular-service visitors, complexity ``c`` and age ``a`` (both
    standardised) are independent N(0, 1), sex is female with chance 0.6, and
    the intake value is ``y0 = 5.5 - 0.4 c - 0.1 a + N(0, 1.2^2)``. The front
    office picks pilot citizens with chance proportional to
    ``exp(selection * c - selection_on_intake * (y0 - 5.5))``: an exponential
    tilt of a Gaussian, so the pilot's (c, a, y0) are Gaussian with mean
    shifted by the covariance times the tilt, and the propensity in the
    pooled sample is exactly logistic in c and y0. Follow-up without the pilot
    is ``2.2 + 0.6 y0 - 0.3 c + 0.1 [female] + N(0, 0.9^2)``; the pilot adds
    ``effect + heterogeneity * c`` (more complex cases gain more when
    ``heterogeneity`` > 0). A citizen misses the follow-up with a logistic
    chance whose intercept gives ``dropout_pilot`` and ``dropout_regular`` at
    the regular cohort's average and whose slopes are ``attrition`` per point
    lower intake value and 0.3 per unit complexity: missing at random given
    cohort, intake value and covariates.

    Attributes
    ----------
    n_pilot, n_regular : int
    effect, heterogeneity : float
        The effect at average regular-service complexity, and its change per unit complexity.
    selection, selection_on_intake : float
        Log selection tilt per unit complexity and per point *lower* intake value.
    attrition : float
        Log odds of missing the follow-up per point lower intake value (0: drop-out by cohort and complexity only).
    dropout_pilot, dropout_regular : float
        Chance of missing the follow-up at the regular cohort's average (0: nobody drops out).
    """

    n_pilot: int = 90
    n_regular: int = 300
    effect: float = 0.5
    heterogeneity: float = 0.0
    selection: float = 0.8
    selection_on_intake: float = 0.0
    attrition: float = 0.0
    dropout_pilot: float = 0.0
    dropout_regular: float = 0.0

    # (complexity, age, intake) among regular-service visitors
    _MEAN = (0.0, 0.0, 5.5)
    _COV = ((1.0, 0.0, -0.4), (0.0, 1.0, -0.1), (-0.4, -0.1, 0.16 + 0.01 + 1.44))

    @property
    def pilot_mean(self) -> np.ndarray:
        """Mean (complexity, age, intake) of the pilot: the regular mean plus covariance times the tilt."""
        tilt = np.array([self.selection, 0.0, -self.selection_on_intake])
        return np.asarray(self._MEAN) + np.asarray(self._COV) @ tilt

    @property
    def att(self) -> float:
        """The average effect on the pilot's citizens (population value)."""
        return self.effect + self.heterogeneity * float(self.pilot_mean[0])

    @property
    def atc(self) -> float:
        """The average effect the pilot would have had on regular-service citizens."""
        return self.effect

    @property
    def ate(self) -> float:
        """The average effect over the pooled sample (pilot and regular as sampled): it moves with n_regular."""
        return (self.n_pilot * self.att + self.n_regular * self.atc) / (self.n_pilot + self.n_regular)

    @property
    def sd(self) -> float:
        """The standard deviation of the follow-up without the pilot among regular citizens (for bias in SD units)."""
        cov = np.asarray(self._COV)
        weights = np.array([-0.3, 0.0, 0.6])
        return float(np.sqrt(weights @ cov @ weights + 0.1**2 * 0.24 + 0.9**2))


@dataclass
class EffectStudy:
    """One draw of an :class:`EffectDesign`. Not real data.

    Attributes
    ----------
    design : EffectDesign
    outcomes : pandas.DataFrame
        The outcome frame: ``respondent``, ``cohort``, ``occasion`` (intake,
        follow_up; no follow-up row for those who dropped out), ``age``,
        ``sex``, ``complexity``, ``wellbeing``.
    covariates : list of str
        The covariates to adjust for, in the form :func:`kantelmeter.effects.compare_cohorts` takes.
    synthetic : bool
    """

    design: EffectDesign
    outcomes: pd.DataFrame
    covariates: list[str]
    synthetic: bool = True


def effect_study(seed: int = 0, **design: Any) -> EffectStudy:
    """Draw a synthetic study from an :class:`EffectDesign` (heterogeneous effects, selection, attrition).

    Parameters
    ----------
    seed : int
    **design
        Fields of :class:`EffectDesign`.

    Returns
    -------
    EffectStudy

    Examples
    --------
    >>> s = effect_study(seed=1, heterogeneity=0.3, dropout_pilot=0.22, dropout_regular=0.15)
    >>> round(s.design.att, 2), round(s.design.ate, 3)
    (0.74, 0.555)
    >>> s.outcomes.groupby("occasion").size().to_dict()
    {'follow_up': 317, 'intake': 390}
    """
    truth = _design(EffectDesign, design, "effect_study")
    rng = np.random.default_rng(seed)
    cov = np.asarray(truth._COV)
    drawn = np.vstack(
        [
            rng.multivariate_normal(truth.pilot_mean, cov, truth.n_pilot),
            rng.multivariate_normal(truth._MEAN, cov, truth.n_regular),
        ]
    )
    complexity, age, intake = drawn.T
    pilot = np.r_[np.ones(truth.n_pilot), np.zeros(truth.n_regular)]
    female = rng.random(len(pilot)) < 0.6
    without = 2.2 + 0.6 * intake - 0.3 * complexity + 0.1 * female + rng.normal(0, 0.9, len(pilot))
    follow_up = without + pilot * (truth.effect + truth.heterogeneity * complexity)
    base = np.where(pilot == 1, truth.dropout_pilot, truth.dropout_regular)
    with np.errstate(divide="ignore"):
        logit = np.log(base) - np.log1p(-base)
    leave = 1 / (1 + np.exp(-(logit - truth.attrition * (intake - 5.5) + 0.3 * complexity)))
    stays = rng.random(len(pilot)) >= leave
    people = pd.DataFrame(
        {
            "respondent": [f"synth-{'p' if t else 'r'}{k:05d}" for k, t in enumerate(pilot)],
            "cohort": np.where(pilot == 1, "pilot", "regular"),
            "age": 60 + 15 * age,
            "sex": np.where(female, "female", "male"),
            "complexity": complexity,
        }
    )
    outcomes = pd.concat(
        [
            people.assign(occasion="intake", wellbeing=intake),
            people[stays].assign(occasion="follow_up", wellbeing=follow_up[stays]),
        ],
        ignore_index=True,
    )
    outcomes.attrs["synthetic"] = True
    return EffectStudy(design=truth, outcomes=outcomes, covariates=["age", "sex", "complexity"])


def _design(cls, given: dict, caller: str):
    """``cls(**given)``, refusing unknown parameters and cohorts of fewer than two by name."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(f"{caller}: unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}")
    design = cls(**given)
    if design.n_pilot < 2 or design.n_regular < 2:
        raise SynthError(f"{caller}: n_pilot={design.n_pilot}, n_regular={design.n_regular}; allowed: 2 or more each")
    return design
