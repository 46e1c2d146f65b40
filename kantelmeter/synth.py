"""Synthetic data with known true effects, for tests, examples and notebooks.

Every generator takes a ``seed`` and the true parameters, and returns the
truth beside the data it generated, so that an estimator can be checked
against the value it should recover. Nothing here is real data: every
result built on it must say so.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kantelmeter.instruments import Instrument, ItemType, load_instrument
from kantelmeter.scoring import score

# --- professionals over time (issue 7) ----------------------------------------

_DAYS_PER_MONTH = 365.25 / 12


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

# The study's direction of findings (chapter 6), in units of the 1-5 scales
# and per month: municipal staff who take the helper role gain autonomy and,
# mainly through it, work enjoyment; team 2 is more reserved; collaboration
# and competences grow for all; everything dips once the end is announced.
_DEFAULT_OUTCOMES = {
    "autonomy": OutcomeTruth(2.8, partner=0.6, helper=0.1, team_2=-0.2, slope_municipal_helper=0.035,
                             end_dip=-0.2, sd_intercept=0.35, sd_slope=0.01),
    "work_enjoyment": OutcomeTruth(1.6, helper=0.05, team_2=-0.3, slope_municipal_helper=0.004, end_dip=-0.3,
                                   autonomy_loading=0.6, sd_intercept=0.3, sd_slope=0.004, sd_residual=0.25),
    "work_motivation": OutcomeTruth(2.3, team_2=-0.2, end_dip=-0.3, autonomy_loading=0.4),
    "collaboration": OutcomeTruth(3.4, team_2=-0.2, slope=0.02, end_dip=-0.1),
    "emotional_load": OutcomeTruth(2.6, partner=-0.2, helper=0.3, slope=0.005),
    "time_pressure": OutcomeTruth(3.6, partner=-0.8),
    "management_support": OutcomeTruth(2.8, partner=0.5, team_2=-0.1, end_dip=-0.5),
    "competences": OutcomeTruth(3.2, partner=0.3, slope=0.02),
    "role_service_vs_helper": OutcomeTruth(2.5, helper=3.0, sd_intercept=0.4, sd_slope=0.0, sd_residual=0.6),
    "role_distance_vs_closeness": OutcomeTruth(3.0, helper=2.0, sd_intercept=0.5, sd_slope=0.0, sd_residual=0.7),
}


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
        autonomy, loading = self.outcomes["autonomy"], own.autonomy_loading
        fixed = {name: getattr(own, name) + loading * getattr(autonomy, name) for name in _FIXED}
        spread = {name: float(np.hypot(getattr(own, name), loading * getattr(autonomy, name)))
                  for name in ("sd_intercept", "sd_slope", "sd_residual")}
        return dataclasses.replace(own, **fixed, **spread, autonomy_loading=0.0)

    def month(self, date: str | pd.Timestamp) -> float:
        """Months since the start (March 2010 is 0)."""
        return (pd.Timestamp(date) - pd.Timestamp(self.start)).days / _DAYS_PER_MONTH


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
            added += store.add_responses(self.instrument, occasion, frame.drop(columns="occasion"), source="import",
                                         batch=f"synthetic professional panel seed {self.seed} {occasion}")
        return added


def _study_team(truth: ProfessionalTruth, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One site's professionals: team 1 of ten (the study's composition) and team 2 replacing eight of them."""
    municipal = [("project management", None), ("front office", None), ("front office", None),
                 ("back office Wmo", None), ("back office Wmo", None), ("back office Work & Income", None),
                 ("extended front office", None)]
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
            people.append({"team": 1, "organisation": organisation, "function": function, "partner": partner,
                           "joined": start, "left": left})
            if function not in ("project management", "extended front office"):
                people.append({"team": 2, "organisation": organisation, "function": function, "partner": partner,
                               "joined": left, "left": pd.NaT})
    for person in people:
        person["dissolved"] = dissolved
    return people


def _assign_roles(roster: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> pd.Series:
    """Exactly round(share x n) helpers per site, team and organisation, so no seed leaves a cell empty."""
    role = pd.Series("service_provider", index=roster.index)
    shares = {(1, "municipality"): truth.helper_share_team_1, (2, "municipality"): truth.helper_share_team_2,
              (1, "partner"): truth.helper_share_partner, (2, "partner"): truth.helper_share_partner}
    for (_, team, organisation), group in roster.groupby(["site", "team", "organisation"]):
        chosen = rng.choice(group.index, size=int(round(shares[team, organisation] * len(group))), replace=False)
        role[chosen] = "helper"
    return role


def _occasions(roster: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> pd.DataFrame:
    """The waves each professional answered: present at the wave date and responding."""
    rows = []
    for wave, wave_date in enumerate(pd.to_datetime(list(truth.wave_dates)), start=1):
        present = (roster["joined"] <= wave_date) & (roster["left"].isna() | (roster["left"] > wave_date)) & (
            wave_date < pd.Timestamp(truth.dissolved))
        answering = roster.index[present & (rng.random(len(roster)) < truth.response_rate)]
        offsets = rng.integers(-truth.answer_window_days, truth.answer_window_days + 1, size=len(answering))
        rows.append(pd.DataFrame({"row": answering, "wave": wave,
                                  "date": wave_date + pd.to_timedelta(offsets, unit="D")}))
    occasions = pd.concat(rows, ignore_index=True)
    return occasions.sort_values(["row", "wave"], ignore_index=True)


def _latent(panel: pd.DataFrame, truth: ProfessionalTruth, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Latent outcome scores per answered wave, autonomy first so others can load on it."""
    person = panel["row"].to_numpy()
    n_people = person.max() + 1
    design = {"partner": (panel["organisation"] == "partner").to_numpy(float),
              "helper": (panel["role"] == "helper").to_numpy(float),
              "team_2": (panel["team"] == 2).to_numpy(float),
              "end_dip": panel["end_announced"].to_numpy(float)}
    municipal_helper = design["helper"] * (1 - design["partner"])
    t = panel["months"].to_numpy()
    latent: dict[str, np.ndarray] = {}
    for name in sorted(truth.outcomes, key=lambda outcome: outcome != "autonomy"):
        o = truth.outcomes[name]
        u0 = rng.normal(0, o.sd_intercept, n_people)[person]
        u1 = rng.normal(0, o.sd_slope, n_people)[person]
        value = (o.intercept + sum(getattr(o, key) * x for key, x in design.items())
                 + (o.slope + o.slope_municipal_helper * municipal_helper + u1) * t + u0
                 + rng.normal(0, o.sd_residual, len(panel)))
        if o.autonomy_loading:
            value = value + o.autonomy_loading * latent["autonomy"]
        latent[name] = value
    return latent


def _stochastic_round(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round up with probability equal to the fraction, so the rounded code is unbiased for the value."""
    low = np.floor(values)
    return low + (rng.random(values.shape) < values - low)


def _answers(instrument: Instrument, latent: dict[str, np.ndarray], truth: ProfessionalTruth,
             rng: np.random.Generator) -> dict[str, np.ndarray]:
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
                raise ValueError(f"professional_panel: outcome {name!r} is a {item.type.value} item of "
                                 f"{instrument.id!r}; allowed: a scale id or a score item")
            codes = instrument.valid_codes(item)
            columns[name] = np.clip(_stochastic_round(value, rng), min(codes), max(codes))
    return columns


def professional_panel(seed: int = 0, n_teams: int = 1, instrument: str | Instrument = "professional",
                       **truth: Any) -> ProfessionalPanel:
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
            raise TypeError(f"professional_panel: unknown parameter {key!r}; allowed: {', '.join(fields)}, "
                            f"or an outcome ({', '.join(outcomes)})")
    if n_teams < 1:
        raise ValueError(f"professional_panel: n_teams={n_teams!r}; allowed: 1 or more")
    truth_ = dataclasses.replace(base, outcomes=outcomes, **settings)
    instrument = load_instrument(instrument) if isinstance(instrument, str) else instrument
    rng = np.random.default_rng(seed)

    people = [dict(person, site=site) for site in range(1, n_teams + 1) for person in _study_team(truth_, rng)]
    roster = pd.DataFrame(people)
    roster.insert(0, "professional", [f"synth-prof{index + 1:03d}" for index in range(len(roster))])
    roster["role"] = _assign_roles(roster, truth_, rng)

    occasions = _occasions(roster, truth_, rng)
    panel = occasions.join(roster, on="row")
    panel["months"] = (panel["date"] - pd.Timestamp(truth_.start)).dt.days / _DAYS_PER_MONTH
    panel["end_announced"] = panel["date"] >= pd.Timestamp(truth_.end_announced)
    panel["occasion"] = "wave_" + panel["wave"].astype(str)
    latent = _latent(panel, truth_, rng)

    codes = _answers(instrument, latent, truth_, rng)
    background = {"organisation": panel["organisation"].map({"municipality": 1, "partner": 2}),
                  "team": panel["team"]}
    responses = pd.DataFrame({"respondent": panel["professional"], "occasion": panel["occasion"],
                              "cohort": "synth-professionals", "collected_at": panel["date"]})
    item_columns = {column: np.nan for column in instrument.columns}
    item_columns.update({key: value.to_numpy(float) for key, value in background.items() if key in item_columns})
    item_columns.update(codes)
    responses = pd.concat([responses, pd.DataFrame(item_columns, index=responses.index)], axis=1)

    scored = score(instrument, responses, scales=[name for name in latent if name in
                                                  {scale.id for scale in instrument.scales}])
    categories = {"team": [1, 2], "organisation": ["municipality", "partner"], "role": ["service_provider", "helper"]}
    roster_columns = ["professional", "site", "team", "organisation", "function", "partner", "role", "joined", "left"]
    roster = roster[roster_columns].astype({key: pd.CategoricalDtype(value) for key, value in categories.items()})
    data = panel[["row", "occasion", "wave", "date", "months", "end_announced"]].join(roster, on="row")
    data = data[roster_columns + ["occasion", "wave", "date", "months", "end_announced"]]
    for name in latent:
        data[name] = scored[name] if name in scored.columns else codes[name]
    return ProfessionalPanel(truth=truth_, roster=roster, data=data.reset_index(drop=True),
                             responses=responses.reset_index(drop=True), instrument=instrument, seed=seed)
