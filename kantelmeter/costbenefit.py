"""Benefits and investments of the integrated way of working, and their uncertainty.

A cost-benefit estimate is a list of line items on two sides, benefits and
investments. A line item is an amount, or a quantity times a unit price (hours
times an hourly rate, benefits ended times the yearly cost of a benefit). The
estimate of the pilot 'Kansen en Kantelen' (Radar, 2012; appendix 6 of the
source study) ships as data: :func:`load_radar_2012` reads it and reproduces
the published 0.98 euro back per euro invested from its line items.

The published figures are point estimates with unstated uncertainty.
:func:`check_published` shows where the published arithmetic is not exact and
where the estimate is not consistent with itself (hourly rates, scopes, time
counted as cash), :func:`sensitivity` varies one line item at a time over a
range (the table behind a tornado plot, :func:`kantelmeter.plots.tornado`) and
:func:`monte_carlo` varies all of them at once, drawing the items that rest on
a measured effect from that effect's confidence interval
(:func:`kantelmeter.compare_cohorts`).

A social cost-benefit analysis (Romijn & Renes 2013, *Algemene leidraad voor
maatschappelijke kosten-batenanalyse*, CPB/PBL) asks who pays and who gains,
compared with what (the null alternative), net of what would have happened
anyway (deadweight), over which period and at which discount rate. Each line
item carries an actor, a kind (cash, staff time, transfer), a scope and a
deadweight; :class:`Appraisal` holds the null alternative, time horizon and
discount rate with their sources, and :func:`by_actor` gives the balance per
actor (drawn by :func:`kantelmeter.plots.actor_balance`).

Methods follow Boardman, Greenberg, Vining & Weimer (2018), *Cost-Benefit
Analysis: Concepts and Practice*, 5th ed., Cambridge University Press,
chapter 11 (partial and Monte Carlo sensitivity analysis) and Briggs, Claxton &
Sculpher (2006), *Decision Modelling for Health Economic Evaluation*, Oxford
University Press, chapters 4 (probabilistic sensitivity analysis) and 5
(one-way analysis, tornado diagrams).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from kantelmeter.errors import ProblemsError
from kantelmeter.messages import message

__all__ = [
    "Appraisal",
    "CostBenefit",
    "CostBenefitError",
    "LineItem",
    "MonteCarloResult",
    "by_actor",
    "check_published",
    "load_radar_2012",
    "monte_carlo",
    "present_value_factor",
    "sensitivity",
]

Side = Literal["benefit", "investment"]
Kind = Literal["cash", "time", "transfer"]
KINDS = ("cash", "time", "transfer")

_SIDES: dict[str, Side] = {"benefits": "benefit", "investments": "investment"}
_ITEM_FIELDS = {
    "id",
    "description",
    "note",
    "amount",
    "quantity",
    "unit",
    "price",
    "hours",
    "amount_implied",
    "quantity_basis",
    "actor",
    "kind",
    "scope",
    "deadweight",
    "effect",
}
_EFFECT_FIELDS = {"published", "outcome", "what"}
_PUBLISHED_FIELDS = {
    "benefits_total_published": "benefits_total",
    "investments_total_published": "investments_total",
    "ratio_published": "ratio",
}
_OUTCOMES = ("benefits_total", "investments_total", "net_value", "ratio")


class CostBenefitError(ProblemsError):
    """A cost-benefit file or argument that cannot be used; lists every problem found."""


@dataclass(frozen=True)
class LineItem:
    """One benefit or investment: an amount, or a quantity times a unit price.

    Parameters
    ----------
    id, side, description
        Identifier, ``"benefit"`` or ``"investment"``, and what it is.
    quantity, unit, price
        Quantity in ``unit`` (for example 3790 ``hour``) and price per unit;
        ``None`` when the item is only known as an amount.
    published_amount
        The amount as published, ``None`` if the publication gave none.
    price_implied
        True when ``price`` is not published but derived as published amount
        divided by quantity.
    quantity_basis
        The factors whose product the publication used for the quantity.
    note
        Remarks on the published figures.
    actor
        Who pays (investment) or gains (benefit); a key of the estimate's actors.
    kind
        ``"cash"`` (money paid or not spent), ``"time"`` (staff hours valued
        at a rate: cash only when hours are cut or redeployed) or
        ``"transfer"`` (money moved between parties, such as a benefit that
        ends: a gain for the payer and a loss for the recipient, nothing for
        society as a whole).
    scope
        The population the figure is counted over; a key of the estimate's scopes.
    deadweight
        Share (0-1) of the benefit that the null alternative would also have
        brought; the benefit counts for ``1 - deadweight``.
    effect_published, effect_outcome
        The effect size the quantity rests on (for example 0.025: the share
        of clients whose benefit ends) and the outcome of
        :func:`kantelmeter.compare_cohorts` that measures it.

    Examples
    --------
    >>> LineItem("x", "benefit", "search time", quantity=10, unit="hour", price=50).amount
    500
    """

    id: str
    side: Side
    description: str
    quantity: float | None = None
    unit: str | None = None
    price: float | None = None
    published_amount: float | None = None
    price_implied: bool = False
    quantity_basis: tuple[float, ...] = ()
    note: str = ""
    actor: str = ""
    kind: Kind = "cash"
    scope: str = ""
    deadweight: float = 0.0
    effect_published: float | None = None
    effect_outcome: str | None = None

    @property
    def amount(self) -> float:
        """Quantity times price when both are known, otherwise the published amount."""
        if self.quantity is not None and self.price is not None:
            return self.quantity * self.price
        return self.published_amount

    @property
    def counted(self) -> float:
        """The amount that counts: a benefit net of its deadweight, ``amount x (1 - deadweight)``."""
        return self.amount * (1 - self.deadweight)


@dataclass(frozen=True)
class Appraisal:
    """The assumptions of a social cost-benefit reading, each with its source.

    Parameters
    ----------
    null_alternative : mapping of language to text
        What happens without the project; every benefit and investment is
        counted against it (Romijn & Renes 2013, ch. 3).
    time_horizon_years : int
        Years over which the yearly amounts recur; 1 as published.
    discount_rate : float
        Real discount rate per year. Default 2.25%, the standard rate of the
        Werkgroep discontovoet (2020), in force for Dutch social
        cost-benefit analyses since 1 January 2021 (a risk-free rate of -1%
        plus a risk premium of 3.25%); it was 3% from 1 April 2016 and 5.5%
        when the 2012 estimate was made.
    sources : mapping of field to text
        Where each default comes from.

    Examples
    --------
    >>> Appraisal().discount_rate
    0.0225
    >>> load_radar_2012().appraisal.time_horizon_years
    1
    """

    null_alternative: Mapping[str, str] = dataclasses.field(default_factory=dict)
    time_horizon_years: int = 1
    discount_rate: float = 0.0225
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class CostBenefit:
    """A cost-benefit estimate: line items with their totals, ratio and net value.

    The benefit/cost ratio is total benefits divided by total investments and
    the net value is their difference (Boardman et al. 2018, ch. 1); both are
    for one year, undiscounted, as published for the pilot.

    Examples
    --------
    >>> radar = load_radar_2012()
    >>> radar.benefits_total, radar.investments_total
    (1234250.0, 1264190.0)
    >>> round(radar.ratio, 4), radar.net_value
    (0.9763, -29940.0)
    """

    items: tuple[LineItem, ...]
    source: str = ""
    published: Mapping[str, float] = dataclasses.field(default_factory=dict)
    context: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    actors: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict)
    scopes: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    appraisal: Appraisal = dataclasses.field(default_factory=lambda: Appraisal())

    @classmethod
    def from_yaml(cls, path: str | Path) -> CostBenefit:
        """Read an estimate from a YAML file (schema: ``data/radar/cost_benefit_2012.yaml``).

        Every problem in the file is reported at once in a :class:`CostBenefitError`,
        each naming the file, the line item and field, the value and what is allowed.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> text = '''
        ... benefits:
        ...   - {id: saved_hours, hours: 100, price: 50}
        ... investments:
        ...   - {id: training, amount: 4000}
        ... '''
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "estimate.yaml"
        >>> _ = path.write_text(text)
        >>> CostBenefit.from_yaml(path).ratio
        1.25
        >>> _ = path.write_text(text.replace("price: 50", "price: fifty"))
        >>> CostBenefit.from_yaml(path)
        Traceback (most recent call last):
        ...
        kantelmeter.costbenefit.CostBenefitError: estimate.yaml: benefits[0] (saved_hours): field 'price': value 'fifty' is not allowed; allowed: a number >= 0
        """
        path = Path(path)
        return _parse(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)

    @property
    def benefits_total(self) -> float:
        """Sum of the benefit amounts, each net of its deadweight."""
        return float(sum(item.counted for item in self.items if item.side == "benefit"))

    @property
    def investments_total(self) -> float:
        """Sum of the investment amounts."""
        return float(sum(item.amount for item in self.items if item.side == "investment"))

    @property
    def ratio(self) -> float:
        """Benefits per euro invested (benefit/cost ratio)."""
        return self.benefits_total / self.investments_total

    @property
    def net_value(self) -> float:
        """Benefits minus investments."""
        return self.benefits_total - self.investments_total

    def item(self, item_id: str) -> LineItem:
        """The line item with this id.

        Examples
        --------
        >>> load_radar_2012().item("less_search_time").price
        175.0
        """
        for item in self.items:
            if item.id == item_id:
                return item
        raise CostBenefitError([f"line item {item_id!r} does not exist; allowed: {', '.join(self._ids())}"])

    def with_item(
        self, item_id: str, *, quantity: float | None = None, price: float | None = None, amount: float | None = None
    ) -> CostBenefit:
        """A copy with one line item changed: a scenario.

        An item that is quantity times price changes through ``quantity`` or
        ``price``; an item known only as an amount changes through ``amount``.

        Examples
        --------
        With the exact 2.5% of 1500 = 37.5 ended benefits instead of the
        published 40, the ratio drops from 0.976 to 0.951:

        >>> round(load_radar_2012().with_item("ended_benefits", quantity=37.5).ratio, 4)
        0.9506
        """
        item = self.item(item_id)
        is_product = item.quantity is not None
        if amount is not None and is_product:
            raise CostBenefitError(
                [
                    f"line item {item_id!r}: amount {amount!r} cannot be set; the item is "
                    f"quantity x price, allowed: quantity= or price="
                ]
            )
        if (quantity is not None or price is not None) and not is_product:
            raise CostBenefitError(
                [f"line item {item_id!r}: quantity/price cannot be set; the item is an amount only, allowed: amount="]
            )
        changes: dict[str, Any] = {}
        if quantity is not None:
            changes["quantity"] = float(quantity)
        if price is not None:
            changes.update(price=float(price), price_implied=False)
        if amount is not None:
            changes["published_amount"] = float(amount)
        items = tuple(dataclasses.replace(it, **changes) if it.id == item_id else it for it in self.items)
        return dataclasses.replace(self, items=items)

    def with_assumptions(
        self,
        *,
        time_horizon_years: int | None = None,
        discount_rate: float | None = None,
        deadweight: Mapping[str, float] | None = None,
    ) -> CostBenefit:
        """A copy under other assumptions: horizon, discount rate, deadweight per benefit.

        Examples
        --------
        >>> radar = load_radar_2012().with_assumptions(deadweight={"ended_benefits": 0.5})
        >>> radar.item("ended_benefits").deadweight, radar.item("less_search_time").deadweight
        (0.5, 0.0)
        """
        problems = []
        if time_horizon_years is not None and (
            isinstance(time_horizon_years, bool) or not isinstance(time_horizon_years, int) or time_horizon_years < 1
        ):
            problems.append(f"time_horizon_years {time_horizon_years!r} is not allowed; allowed: a whole number >= 1")
        if discount_rate is not None and not -0.05 <= discount_rate <= 0.2:
            problems.append(f"discount_rate {discount_rate!r} is not allowed; allowed: a yearly rate from -0.05 to 0.2")
        deadweight = dict(deadweight or {})
        for item_id, share in deadweight.items():
            if item_id not in self._ids():
                problems.append(f"deadweight: line item {item_id!r} does not exist; allowed: {', '.join(self._ids())}")
            elif not 0 <= share <= 1:
                problems.append(f"deadweight: line item {item_id!r}: share {share!r} is not allowed; allowed: 0 to 1")
            elif self.item(item_id).side != "benefit":
                problems.append(f"deadweight: line item {item_id!r} is an investment; allowed: benefits only")
        if problems:
            raise CostBenefitError(problems)
        appraisal = dataclasses.replace(
            self.appraisal,
            **{
                key: value
                for key, value in (("time_horizon_years", time_horizon_years), ("discount_rate", discount_rate))
                if value is not None
            },
        )
        items = tuple(
            dataclasses.replace(it, deadweight=float(deadweight[it.id])) if it.id in deadweight else it
            for it in self.items
        )
        return dataclasses.replace(self, items=items, appraisal=appraisal)

    def table(self) -> pd.DataFrame:
        """The line items as a DataFrame, one row per item.

        Examples
        --------
        >>> load_radar_2012().table()[["id", "quantity", "price", "amount"]].iloc[2]
        id          less_search_time
        quantity              3790.0
        price                  175.0
        amount              663250.0
        Name: 2, dtype: object
        """
        return pd.DataFrame(
            {
                "id": [it.id for it in self.items],
                "side": [it.side for it in self.items],
                "description": [it.description for it in self.items],
                "quantity": pd.array([it.quantity for it in self.items], dtype="Float64"),
                "unit": pd.array([it.unit for it in self.items], dtype="string"),
                "price": pd.array([it.price for it in self.items], dtype="Float64"),
                "price_implied": [it.price_implied for it in self.items],
                "amount": [float(it.amount) for it in self.items],
                "actor": [it.actor for it in self.items],
                "kind": [it.kind for it in self.items],
                "scope": [it.scope for it in self.items],
                "deadweight": [it.deadweight for it in self.items],
            }
        )

    def _ids(self) -> list[str]:
        return [item.id for item in self.items]


def load_radar_2012() -> CostBenefit:
    """The published estimate of the pilot by Radar (2012), appendix 6 of the source study.

    The hourly rate of the search-time benefit is not published: it is derived
    from the published amount as 663,250 / 3790 hours = 175 euro per hour
    (``price_implied`` is True for that item).

    Examples
    --------
    >>> radar = load_radar_2012()
    >>> round(radar.ratio, 2) == radar.published["ratio"]
    True
    >>> radar.item("less_search_time").price_implied
    True
    """
    path = resources.files("kantelmeter.data") / "radar" / "cost_benefit_2012.yaml"
    return _parse(yaml.safe_load(path.read_text(encoding="utf-8")), "radar/cost_benefit_2012.yaml")


def present_value_factor(discount_rate: float, years: int) -> float:
    """The present value of one euro a year for ``years`` years, the first year undiscounted.

    Method: sum over t = 0 .. years - 1 of (1 + r)^-t, amounts falling at the
    start of each year, the first year being the base year (Romijn & Renes
    2013, section 6.3; Boardman et al. 2018, ch. 6).

    Examples
    --------
    >>> present_value_factor(0.0225, 1)
    1.0
    >>> round(present_value_factor(0.0225, 5), 4)
    4.7847
    """
    return float(sum((1 + discount_rate) ** -t for t in range(int(years))))


def by_actor(estimate: CostBenefit, lang: str = "nl") -> pd.DataFrame:
    """Who pays and who gains: the balance per actor, and for all actors together.

    Method: per actor, benefits net of deadweight (amount x (1 - deadweight))
    and investments per year; their present values over the appraisal's
    time horizon at its discount rate (:func:`present_value_factor`); and
    the benefits split by kind. In the row for all actors together
    (``actor == "all"``) a transfer (a benefit that ends) is a gain for the
    payer but a loss for the recipient, a citizen who is not among the
    actors: ``pv_net_value_social`` leaves transfers out, as a social
    cost-benefit analysis does (Romijn & Renes 2013, section 2.4).
    ``pv_net_value_budget`` is what reaches a budget: benefits without staff
    time (time saved is cash only when hours are cut or redeployed), with
    transfers (a benefit not paid out is cash for the payer), minus the
    investments, which are paid.

    Returns
    -------
    pandas.DataFrame
        One row per actor (the estimate's order) and ``all``: ``actor``,
        ``label``, ``benefits``, ``investments``, ``net_value`` (per year),
        ``benefits_cash``, ``benefits_time``, ``benefits_transfer``,
        ``pv_benefits``, ``pv_investments``, ``pv_net_value``, ``ratio``,
        ``pv_net_value_social``, ``pv_net_value_budget``.

    Examples
    --------
    >>> table = by_actor(load_radar_2012()).set_index("actor")
    >>> table.loc[["mee", "housing_corporation"], ["benefits", "investments", "net_value"]]
                         benefits  investments  net_value
    actor
    mee                       0.0     157990.0  -157990.0
    housing_corporation   19500.0          0.0    19500.0
    >>> float(round(table.loc["all", "ratio"], 2))
    0.98
    """
    amounts = _amounts(estimate)
    factor = present_value_factor(estimate.appraisal.discount_rate, estimate.appraisal.time_horizon_years)
    actors = list(dict.fromkeys([*estimate.actors, *(item.actor for item in estimate.items)]))
    rows = []
    for actor in [*actors, "all"]:
        mine = [actor == "all" or item.actor == actor for item in estimate.items]

        def total(side: str, kind: str | None = None, mine: list[bool] = mine) -> float:
            return float(
                sum(
                    a
                    for a, item, m in zip(amounts, estimate.items, mine)
                    if m and item.side == side and (kind is None or item.kind == kind)
                )
            )

        benefits, investments = total("benefit"), total("investment")
        transfer, time = total("benefit", "transfer"), total("benefit", "time")
        rows.append(
            {
                "actor": actor,
                "label": message("report.all_actors", lang)
                if actor == "all"
                else estimate.actors.get(actor, {}).get(lang, actor),
                "benefits": benefits,
                "investments": investments,
                "net_value": benefits - investments,
                "benefits_cash": total("benefit", "cash"),
                "benefits_time": time,
                "benefits_transfer": transfer,
                "pv_benefits": factor * benefits,
                "pv_investments": factor * investments,
                "pv_net_value": factor * (benefits - investments),
                "ratio": benefits / investments if investments else np.nan,
                "pv_net_value_social": factor * (benefits - transfer - investments),
                "pv_net_value_budget": factor * (benefits - time - investments),
            }
        )
    return pd.DataFrame(rows)


def check_published(estimate: CostBenefit) -> pd.DataFrame:
    """Recompute every published figure of an estimate and show where it is not exact.

    Checks, in order: each quantity against the product of its published basis,
    each amount against quantity x price, each derived (implied) unit price,
    the two totals, and the ratio at the precision it was published; then
    the ratio with every quantity set to the exact product of its basis.

    Then the consistency of the estimate with itself (``kind ==
    "consistency"``, ``exact`` False where a problem is found):

    - ``hourly rates``: staff hours valued at different rates in different
      items (recomputed: highest rate / lowest rate);
    - ``scopes``: items counted over different populations (recomputed: the
      number of scopes), for example benefits from the pilot's cases set
      against investments for every client contact;
    - ``time counted as cash``: the share of benefits that is staff time,
      which becomes cash only when hours are cut or redeployed (recomputed:
      the ratio without it).

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``kind`` (arithmetic or consistency),
        ``published``, ``recomputed``, ``difference`` (recomputed minus
        published), ``exact`` (nullable boolean; NA for a derived figure that
        has no published counterpart) and ``note``.

    Examples
    --------
    >>> table = check_published(load_radar_2012())
    >>> arithmetic = table[table["kind"] == "arithmetic"]
    >>> arithmetic.loc[~arithmetic["exact"].fillna(True), ["check", "published", "recomputed"]]
                                        check  published  recomputed
    2                ended_benefits: quantity      40.00   37.500000
    11  ratio with exact published quantities       0.98    0.950609
    >>> table.loc[table["kind"] == "consistency", ["check", "recomputed"]].round(3)
                        check  recomputed
    12           hourly rates       3.500
    13                 scopes       3.000
    14  time counted as cash       0.434
    """
    rows = []
    for item in estimate.items:
        if item.quantity_basis:
            row = _check(
                f"{item.id}: quantity",
                item.quantity,
                math.prod(item.quantity_basis),
                " x ".join(f"{f:g}" for f in item.quantity_basis),
            )
            if not row["exact"] and item.note:
                row["note"] += f"; {item.note}"
            rows.append(row)
        if item.price_implied:
            rows.append(
                _check(
                    f"{item.id}: implied price per {item.unit}",
                    None,
                    item.price,
                    f"derived: published amount {item.published_amount:g} / {item.quantity:g} "
                    f"{item.unit}; the price itself is not published",
                )
            )
        elif item.quantity is not None and item.published_amount is not None:
            rows.append(
                _check(
                    f"{item.id}: amount",
                    item.published_amount,
                    item.amount,
                    f"{item.quantity:g} {item.unit} x {item.price:g}",
                )
            )
    for outcome in ("benefits_total", "investments_total"):
        if outcome in estimate.published:
            rows.append(
                _check(outcome, estimate.published[outcome], getattr(estimate, outcome), "sum of the line items")
            )
    if "ratio" in estimate.published:
        published = estimate.published["ratio"]
        decimals = _decimals(published)
        rows.append(
            _check("ratio", published, estimate.ratio, f"published rounded to {decimals} decimals", decimals=decimals)
        )
        exact = estimate
        for item in estimate.items:
            if item.quantity_basis:
                exact = exact.with_item(item.id, quantity=math.prod(item.quantity_basis))
        if exact is not estimate:
            rows.append(
                _check(
                    "ratio with exact published quantities",
                    published,
                    exact.ratio,
                    "every quantity set to the product of its published basis",
                    decimals=decimals,
                )
            )
    for row in rows:
        row["kind"] = "arithmetic"
    rows += _consistency(estimate)
    table = pd.DataFrame(rows, columns=["check", "kind", "published", "recomputed", "difference", "exact", "note"])
    table["exact"] = table["exact"].astype("boolean")
    return table


def _consistency(estimate: CostBenefit) -> list[dict[str, Any]]:
    """The rows of :func:`check_published` on the estimate's consistency with itself."""
    rows = []

    def flag(check: str, recomputed: float, problem: bool, note: str, published: float | None = None) -> None:
        row = _check(check, published, recomputed, note)
        rows.append({**row, "kind": "consistency", "exact": not problem})

    hourly = {item.id: item.price for item in estimate.items if item.unit == "hour" and item.price is not None}
    if hourly:
        low, high = min(hourly.values()), max(hourly.values())
        rates = ", ".join(f"{item_id} {price:,.0f} per hour" for item_id, price in hourly.items())
        flag(
            "hourly rates",
            high / low,
            not math.isclose(low, high),
            f"{rates}: the same kind of staff time is valued {high / low:.1f} times higher in one item than in "
            f"another; the rates are implied by the published amounts, not stated",
        )
    scopes: dict[str, list[str]] = {}
    for item in estimate.items:
        scopes.setdefault(item.scope or "(none)", []).append(item.id)
    if len(scopes) > 1 or any(item.scope for item in estimate.items):
        described = "; ".join(
            f"{scope} ({estimate.scopes.get(scope, {}).get('size', float('nan')):,.0f}): {', '.join(ids)}"
            for scope, ids in scopes.items()
        )
        flag(
            "scopes",
            len(scopes),
            len(scopes) > 1,
            f"{described}: figures counted over different populations are added up as if over one",
        )
    time = sum(item.counted for item in estimate.items if item.side == "benefit" and item.kind == "time")
    benefits = estimate.benefits_total
    if benefits:
        flag(
            "time counted as cash",
            (benefits - time) / estimate.investments_total,
            time > 0,
            f"{time:,.0f} of {benefits:,.0f} euro of benefits ({time / benefits:.0%}) is staff time valued at an "
            f"hourly rate; it becomes cash only when hours are cut or redeployed; recomputed: the ratio without it",
            published=estimate.published.get("ratio"),
        )
    return rows


def sensitivity(
    estimate: CostBenefit, ranges: Mapping[str, tuple[float, float]] | None = None, spread: float = 0.25
) -> pd.DataFrame:
    """One-way sensitivity analysis: vary each line item over its range, the rest fixed.

    Method: partial (one-way) sensitivity analysis (Boardman et al. 2018,
    ch. 11; Briggs et al. 2006, ch. 5): each line item in turn is set to the
    low and the high end of its range while every other item keeps its
    estimate; the outcomes are recomputed.

    Parameters
    ----------
    estimate : CostBenefit
    ranges : mapping of item id to (low, high), optional
        Plausible range of the item's amount in euro; it must contain the
        estimate. Items not given vary by ``spread``.
    spread : float, default 0.25
        Relative half-width of the default range: ``amount * (1 - spread)`` to
        ``amount * (1 + spread)``. A convention of kantelmeter, not a figure
        from the source.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per item and bound (``low``, ``high``) with ``item``,
        ``side``, ``bound``, ``amount``, the outcomes ``benefits_total``,
        ``investments_total``, ``net_value``, ``ratio`` and the base case
        ``base_ratio``, ``base_net_value``. Items are ordered by the swing of
        the ratio, widest first (the order of a tornado plot).

    Examples
    --------
    >>> table = sensitivity(load_radar_2012(), {"ended_benefits": (487500, 520000)})
    >>> table[["item", "bound", "ratio"]].head(4).round(4)
                   item bound   ratio
    0      municipality   low  1.2497
    1      municipality  high  0.8011
    2  less_search_time   low  0.8452
    3  less_search_time  high  1.1075
    >>> table.loc[table["item"] == "ended_benefits", "ratio"].round(4).tolist()
    [0.9506, 0.9763]
    """
    low, high = _ranges(estimate, ranges, spread)
    base = _amounts(estimate)
    n = len(base)
    # Row 2k is item k at its low end, row 2k+1 at its high end.
    amounts = np.repeat(base[None, :], 2 * n, axis=0)
    amounts[0::2][np.arange(n), np.arange(n)] = low
    amounts[1::2][np.arange(n), np.arange(n)] = high
    outcomes = _outcomes(estimate, amounts)
    table = pd.DataFrame(
        {
            "item": np.repeat(estimate._ids(), 2),
            "side": np.repeat([item.side for item in estimate.items], 2),
            "bound": ["low", "high"] * n,
            "amount": np.ravel(np.column_stack([low, high])),
            **outcomes,
            "base_ratio": estimate.ratio,
            "base_net_value": estimate.net_value,
        }
    )
    swing = table.groupby("item", sort=False)["ratio"].agg(lambda r: r.max() - r.min())
    order = swing.sort_values(ascending=False, kind="stable").index
    table["item"] = pd.Categorical(table["item"], categories=order, ordered=True)
    table = table.sort_values("item", kind="stable").reset_index(drop=True)
    table["item"] = table["item"].astype("string")
    return table


class MonteCarloResult(NamedTuple):
    """Result of :func:`monte_carlo`."""

    draws: pd.DataFrame
    """One row per draw: each item's amount and the outcomes."""
    summary: pd.DataFrame
    """Per outcome: mean, standard deviation and percentiles of the draws."""
    p_break_even: float
    """Share of draws with a ratio of at least 1 (benefits cover the investments)."""
    actors: pd.DataFrame | None = None
    """Per actor (and ``all``): mean, standard deviation and percentiles of the present net value."""
    links: Mapping[str, str] | None = None
    """Which line item was drawn from which measured effect (item id -> outcome)."""


def monte_carlo(
    estimate: CostBenefit,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    spread: float = 0.25,
    *,
    n: int = 10_000,
    seed: int = 2012,
    distribution: Literal["triangular", "uniform"] = "triangular",
    percentiles: tuple[float, ...] = (2.5, 50, 97.5),
    effects: pd.DataFrame | None = None,
    links: Mapping[str, str] | None = None,
    method: str | None = None,
    confidence: float = 0.95,
) -> MonteCarloResult:
    """Monte Carlo (probabilistic) sensitivity analysis over the line-item ranges and measured effects.

    Method: every line item is drawn independently from a distribution over its
    range (triangular with its mode at the estimate, or uniform), the outcomes
    are computed per draw and summarised by their mean, standard deviation and
    percentiles; the probability that benefits cover the investments is the
    share of draws with ratio >= 1 (Boardman et al. 2018, ch. 11; Briggs et
    al. 2006, ch. 4). Independence ignores correlation between items, which
    understates the spread when items move together.

    Items that rest on a measured effect are drawn from it instead: with a
    table of effects (:func:`kantelmeter.compare_cohorts`, read by its
    columns ``outcome``, ``estimate``, ``ci_low``, ``ci_high``), the effect
    of each linked outcome is drawn from a normal distribution with the
    estimate as mean and the standard error implied by the interval,
    (ci_high - ci_low) / (2 z), and the item's amount becomes its published
    amount x drawn effect / published effect (Briggs et al. 2006, ch. 4:
    parameters from their sampling distributions). One draw per outcome is
    shared by every item it drives, so the two eviction items move
    together. A measured effect is a difference with the regular service,
    the null alternative, so no deadweight is taken off a linked item;
    other benefits count for ``1 - deadweight``. Every amount is multiplied
    by the present-value factor of the appraisal (:func:`present_value_factor`):
    the ratio does not change with it, the net value does.

    Parameters
    ----------
    estimate, ranges, spread
        As in :func:`sensitivity`.
    n : int, default 10000
        Number of draws.
    seed : int, default 2012
        Seed of the random generator, so that a report is reproducible.
    distribution : {"triangular", "uniform"}
    percentiles : tuple of float
        Percentiles reported in the summary, as columns ``p2.5``, ``p50``, ...
    effects : pandas.DataFrame, optional
        Measured effects, one row per outcome (after ``method``), e.g. the
        result of :func:`kantelmeter.compare_cohorts`.
    links : mapping of item id to outcome, optional
        Which item rests on which outcome; default the ``effect.outcome``
        of each item whose outcome is in ``effects``.
    method : str, optional
        The row of ``effects`` to use when it holds several methods per
        outcome (e.g. ``"dr"`` or ``"risk_difference"``).
    confidence : float
        The level of the intervals in ``effects``.

    Returns
    -------
    MonteCarloResult
        ``draws``, ``summary`` (index ``benefits_total``,
        ``investments_total``, ``net_value``, ``ratio``), ``p_break_even``,
        ``actors`` (present net value per actor) and ``links``.

    Examples
    --------
    >>> result = monte_carlo(load_radar_2012(), n=2000, seed=1)
    >>> result.draws.shape
    (2000, 11)
    >>> list(result.summary.columns)
    ['mean', 'sd', 'p2.5', 'p50', 'p97.5']
    >>> 0.3 < result.p_break_even < 0.6
    True

    With a measured effect: ended benefits rest on a risk difference of
    0.02 (95% CI -0.01 to 0.05) instead of the published 0.025:

    >>> measured = pd.DataFrame({"outcome": ["eigen_inkomen_improved"], "estimate": [0.02],
    ...                          "ci_low": [-0.01], "ci_high": [0.05]})
    >>> result = monte_carlo(load_radar_2012(), effects=measured, n=2000, seed=1)
    >>> result.links
    {'ended_benefits': 'eigen_inkomen_improved'}
    >>> float(round(result.draws["ended_benefits"].mean() / 520000 * 0.025, 2))
    0.02
    """
    if distribution not in ("triangular", "uniform"):
        raise CostBenefitError([f"distribution {distribution!r} is not allowed; allowed: triangular, uniform"])
    if n < 1:
        raise CostBenefitError([f"n {n!r} is not allowed; allowed: a positive number of draws"])
    low, high = _ranges(estimate, ranges, spread)
    base = _amounts(estimate)
    rng = np.random.default_rng(seed)
    amounts = np.empty((n, len(base)))
    for k in range(len(base)):
        if low[k] == high[k]:
            amounts[:, k] = base[k]
        elif distribution == "triangular":
            amounts[:, k] = rng.triangular(low[k], base[k], high[k], size=n)
        else:
            amounts[:, k] = rng.uniform(low[k], high[k], size=n)
    linked = _links(estimate, effects, links, method)
    if linked:
        z = stats.norm.ppf(0.5 + confidence / 2)
        rows = _effect_rows(effects, method).set_index("outcome")
        drawn = {
            outcome: rng.normal(
                float(rows.loc[outcome, "estimate"]),
                float(rows.loc[outcome, "ci_high"] - rows.loc[outcome, "ci_low"]) / (2 * z),
                n,
            )
            for outcome in dict.fromkeys(linked.values())
        }
        for k, item in enumerate(estimate.items):
            if item.id in linked:
                # the measured effect replaces the published one and already nets out the null alternative
                amounts[:, k] = item.amount * drawn[linked[item.id]] / item.effect_published
    amounts *= present_value_factor(estimate.appraisal.discount_rate, estimate.appraisal.time_horizon_years)
    draws = pd.DataFrame(amounts, columns=estimate._ids())
    for outcome, values in _outcomes(estimate, amounts).items():
        draws[outcome] = values
    summary = _describe(draws[list(_OUTCOMES)], percentiles)
    actors = list(dict.fromkeys(item.actor for item in estimate.items))
    signs = np.array([1.0 if item.side == "benefit" else -1.0 for item in estimate.items])
    per_actor = pd.DataFrame(
        {actor: (amounts * signs)[:, [item.actor == actor for item in estimate.items]].sum(axis=1) for actor in actors}
    )
    per_actor["all"] = draws["net_value"]
    actor_summary = _describe(per_actor, percentiles).rename_axis("actor").reset_index()
    actor_summary.insert(1, "p_gain", (per_actor > 0).mean().to_numpy())
    return MonteCarloResult(draws, summary, float((draws["ratio"] >= 1).mean()), actor_summary, linked)


def _describe(frame: pd.DataFrame, percentiles: tuple[float, ...]) -> pd.DataFrame:
    summary = pd.DataFrame({"mean": frame.mean(), "sd": frame.std()})
    for q in percentiles:
        summary[f"p{q:g}"] = frame.quantile(q / 100)
    return summary


def _effect_rows(effects: pd.DataFrame, method: str | None) -> pd.DataFrame:
    missing = [c for c in ("outcome", "estimate", "ci_low", "ci_high") if c not in effects.columns]
    if missing:
        raise CostBenefitError(
            [
                f"effects: columns {', '.join(missing)} are missing; allowed: a table with outcome, "
                f"estimate, ci_low, ci_high (as compare_cohorts returns)"
            ]
        )
    if method is not None:
        if "method" not in effects.columns or method not in set(effects["method"]):
            known = sorted(set(effects["method"])) if "method" in effects.columns else []
            raise CostBenefitError(
                [f"effects: method {method!r} is not in the table; allowed: {', '.join(known) or '(no method column)'}"]
            )
        effects = effects[effects["method"] == method]
    return effects


def _links(
    estimate: CostBenefit, effects: pd.DataFrame | None, links: Mapping[str, str] | None, method: str | None
) -> dict[str, str]:
    if effects is None:
        if links:
            raise CostBenefitError(["links given without effects; allowed: effects= a table of measured effects"])
        return {}
    rows = _effect_rows(effects, method)
    available = set(rows["outcome"])
    chosen = (
        dict(links)
        if links is not None
        else {item.id: item.effect_outcome for item in estimate.items if item.effect_outcome in available}
    )
    problems = []
    for item_id, outcome in chosen.items():
        if item_id not in estimate._ids():
            problems.append(f"links: line item {item_id!r} does not exist; allowed: {', '.join(estimate._ids())}")
        elif estimate.item(item_id).effect_published is None:
            problems.append(
                f"links: line item {item_id!r} has no published effect to scale; allowed: items with "
                f"'effect: {{published: ...}}' in the file"
            )
        if outcome not in available:
            problems.append(
                f"links: outcome {outcome!r} is not in the effects; allowed: {', '.join(sorted(available))}"
            )
        elif (rows["outcome"] == outcome).sum() > 1:
            problems.append(
                f"effects: outcome {outcome!r} has {(rows['outcome'] == outcome).sum()} rows; allowed: "
                f"one, choose with method= (e.g. 'dr')"
            )
    if problems:
        raise CostBenefitError(problems)
    return chosen


def _amounts(estimate: CostBenefit) -> np.ndarray:
    return np.array([float(item.counted) for item in estimate.items])


def _outcomes(estimate: CostBenefit, amounts: np.ndarray) -> dict[str, np.ndarray]:
    is_benefit = np.array([item.side == "benefit" for item in estimate.items])
    benefits = amounts[:, is_benefit].sum(axis=1)
    investments = amounts[:, ~is_benefit].sum(axis=1)
    return {
        "benefits_total": benefits,
        "investments_total": investments,
        "net_value": benefits - investments,
        "ratio": benefits / investments,
    }


def _ranges(
    estimate: CostBenefit, ranges: Mapping[str, tuple[float, float]] | None, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    if not 0 <= spread <= 1:
        raise CostBenefitError([f"spread {spread!r} is not allowed; allowed: a fraction from 0 to 1"])
    ranges = dict(ranges or {})
    problems = [
        f"ranges: line item {key!r} does not exist; allowed: {', '.join(estimate._ids())}"
        for key in ranges
        if key not in estimate._ids()
    ]
    low, high = [], []
    for item in estimate.items:
        lo, hi = ranges.get(item.id, (item.counted * (1 - spread), item.counted * (1 + spread)))
        if not lo <= item.counted <= hi:
            problems.append(
                f"ranges: line item {item.id!r}: range ({lo!r}, {hi!r}) is not allowed; "
                f"allowed: low <= estimate {item.counted:g} <= high"
            )
        low.append(float(lo))
        high.append(float(hi))
    if problems:
        raise CostBenefitError(problems)
    return np.array(low), np.array(high)


def _check(
    check: str, published: float | None, recomputed: float, note: str, decimals: int | None = None
) -> dict[str, Any]:
    # Products of decimal fractions (18950 x 0.8 x 0.25) carry float noise.
    recomputed = round(float(recomputed), 9)
    if published is None:
        return {
            "check": check,
            "published": np.nan,
            "recomputed": recomputed,
            "difference": np.nan,
            "exact": pd.NA,
            "note": note,
        }
    shown = recomputed if decimals is None else round(recomputed, decimals)
    return {
        "check": check,
        "published": float(published),
        "recomputed": recomputed,
        "difference": round(recomputed - published, 9),
        "exact": math.isclose(shown, published),
        "note": note,
    }


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _parse(data: Any, name: str) -> CostBenefit:
    if not isinstance(data, dict):
        raise CostBenefitError(
            [f"{name}: the file must be a mapping with 'benefits' and 'investments', got {type(data).__name__}"]
        )
    problems: list[str] = []
    items: list[LineItem] = []
    published: dict[str, float] = {}
    context: dict[str, Any] = {}
    declared: dict[str, dict] = {"actors": {}, "scopes": {}}
    appraisal = Appraisal()
    for key, value in data.items():
        if key in _SIDES:
            if not isinstance(value, list) or not value:
                problems.append(
                    f"{name}: field {key!r}: value {value!r} is not allowed; allowed: a non-empty list of line items"
                )
                continue
            items.extend(
                filter(
                    None,
                    (_parse_item(raw, f"{name}: {key}[{i}]", _SIDES[key], problems) for i, raw in enumerate(value)),
                )
            )
        elif key in _PUBLISHED_FIELDS:
            published[_PUBLISHED_FIELDS[key]] = _number(value, f"{name}: field {key!r}", problems)
        elif key == "source":
            context[key] = str(value)
        elif key in ("actors", "scopes"):
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                problems.append(
                    f"{name}: field {key!r}: value {value!r} is not allowed; allowed: a mapping of "
                    f"id to labels ({{nl: ..., en: ...}}{', size: n' if key == 'scopes' else ''})"
                )
            else:
                declared[key] = value
        elif key == "appraisal":
            appraisal = _parse_appraisal(value, name, problems)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            # Other figures of the estimate (e.g. client contacts per year) are kept as context.
            context[key] = value
        else:
            problems.append(
                f"{name}: field {key!r} is not allowed; allowed: benefits, investments, source, "
                f"actors, scopes, appraisal, {', '.join(_PUBLISHED_FIELDS)} or a number as context"
            )
    for side in _SIDES:
        if side not in data:
            problems.append(f"{name}: field {side!r} is missing; it lists the {side} as line items")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(f"{name}: line item id {item.id!r} occurs twice; allowed: unique ids")
        seen.add(item.id)
        for field, value in (("actor", item.actor), ("scope", item.scope)):
            known = declared[f"{field}s"]
            if value and known and value not in known:
                problems.append(
                    f"{name}: line item {item.id!r}: {field} {value!r} is not allowed; allowed: "
                    f"{', '.join(known)} (the file's {field}s)"
                )
    if problems:
        raise CostBenefitError(problems)
    estimate = CostBenefit(
        tuple(items),
        source=context.pop("source", ""),
        published=published,
        context=context,
        actors=declared["actors"],
        scopes=declared["scopes"],
        appraisal=appraisal,
    )
    if estimate.investments_total <= 0:
        raise CostBenefitError(
            [
                f"{name}: investments total {estimate.investments_total:g} is not allowed; "
                f"allowed: a positive total (it is the denominator of the ratio)"
            ]
        )
    return estimate


def _parse_item(raw: Any, where: str, side: Side, problems: list[str]) -> LineItem | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(f"{where}: value {raw!r} is not allowed; allowed: a mapping with a text 'id'")
        return None
    where = f"{where} ({raw['id']})"
    for key in raw.keys() - _ITEM_FIELDS:
        problems.append(f"{where}: field {key!r} is not allowed; allowed: {', '.join(sorted(_ITEM_FIELDS))}")
    count = len(problems)
    numbers = {
        key: _number(raw[key], f"{where}: field {key!r}", problems)
        for key in ("amount", "quantity", "price", "hours", "amount_implied")
        if key in raw
    }
    basis = raw.get("quantity_basis", [])
    if not isinstance(basis, list):
        problems.append(f"{where}: field 'quantity_basis': value {basis!r} is not allowed; allowed: a list of numbers")
        basis = []
    basis = tuple(_number(f, f"{where}: field 'quantity_basis'", problems) for f in basis)
    if "hours" in numbers and "quantity" in numbers:
        problems.append(f"{where}: fields 'hours' and 'quantity' are both given; allowed: one of them")
    quantity = numbers.get("quantity", numbers.get("hours"))
    unit = "hour" if "hours" in numbers else raw.get("unit")
    price, published_amount = numbers.get("price"), numbers.get("amount")
    implied = "amount_implied" in numbers
    if implied:
        if price is not None or published_amount is not None or not quantity:
            problems.append(
                f"{where}: field 'amount_implied' is not allowed here; allowed: with a positive "
                f"quantity or hours and without price and amount"
            )
        else:
            published_amount = numbers["amount_implied"]
            price = published_amount / quantity
    if (quantity is None) != (price is None):
        problems.append(
            f"{where}: quantity {quantity!r} and price {price!r} do not go together; "
            f"allowed: both (or amount_implied instead of price), or neither"
        )
    if quantity is None and published_amount is None:
        problems.append(f"{where}: no amount; allowed: 'amount', or 'quantity'/'hours' with 'price'")
    kind = raw.get("kind", "cash")
    if kind not in KINDS:
        problems.append(f"{where}: field 'kind': value {kind!r} is not allowed; allowed: {', '.join(KINDS)}")
    deadweight = raw.get("deadweight", 0)
    if isinstance(deadweight, bool) or not isinstance(deadweight, int | float) or not 0 <= deadweight <= 1:
        problems.append(
            f"{where}: field 'deadweight': value {deadweight!r} is not allowed; allowed: a share from 0 to 1"
        )
    elif deadweight and side != "benefit":
        problems.append(f"{where}: field 'deadweight' is not allowed on an investment; allowed: on benefits")
    effect = raw.get("effect", {})
    if not isinstance(effect, dict) or effect.keys() - _EFFECT_FIELDS or (effect and "published" not in effect):
        problems.append(
            f"{where}: field 'effect': value {effect!r} is not allowed; allowed: a mapping with "
            f"'published' (the effect size) and optionally 'outcome' and 'what'"
        )
        effect = {}
    elif effect:
        effect = {**effect, "published": _number(effect["published"], f"{where}: field 'effect.published'", problems)}
        if effect["published"] == 0:
            problems.append(f"{where}: field 'effect.published': 0 is not allowed; allowed: a positive effect size")
    if len(problems) > count:
        return None
    return LineItem(
        id=raw["id"],
        side=side,
        description=str(raw.get("description", "")),
        quantity=quantity,
        unit=unit,
        price=price,
        published_amount=published_amount,
        price_implied=implied,
        quantity_basis=basis,
        note=str(raw.get("note", "")),
        actor=str(raw.get("actor", "")),
        kind=kind,
        scope=str(raw.get("scope", "")),
        deadweight=float(deadweight),
        effect_published=effect.get("published"),
        effect_outcome=effect.get("outcome"),
    )


def _parse_appraisal(raw: Any, name: str, problems: list[str]) -> Appraisal:
    allowed = {"null_alternative", "time_horizon_years", "discount_rate"}
    if not isinstance(raw, dict):
        problems.append(f"{name}: field 'appraisal': value {raw!r} is not allowed; allowed: a mapping")
        return Appraisal()
    sources = {key[: -len("_source")]: str(value) for key, value in raw.items() if key.endswith("_source")}
    for key in raw.keys() - allowed - {f"{k}_source" for k in sources}:
        problems.append(
            f"{name}: appraisal: field {key!r} is not allowed; allowed: {', '.join(sorted(allowed))} and <field>_source"
        )
    horizon = raw.get("time_horizon_years", 1)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        problems.append(
            f"{name}: appraisal: field 'time_horizon_years': value {horizon!r} is not allowed; "
            f"allowed: a whole number >= 1"
        )
        horizon = 1
    rate = raw.get("discount_rate", Appraisal.discount_rate)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not -0.05 <= rate <= 0.2:
        problems.append(
            f"{name}: appraisal: field 'discount_rate': value {rate!r} is not allowed; "
            f"allowed: a yearly rate from -0.05 to 0.2 (0.0225 is 2.25%)"
        )
        rate = Appraisal.discount_rate
    null = raw.get("null_alternative", {})
    return Appraisal(
        null_alternative=null if isinstance(null, dict) else {"en": str(null)},
        time_horizon_years=horizon,
        discount_rate=float(rate),
        sources=sources,
    )


def _number(value: Any, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        problems.append(f"{where}: value {value!r} is not allowed; allowed: a number >= 0")
        return math.nan
    return float(value)
