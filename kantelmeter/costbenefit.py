"""Benefits and investments of the integrated way of working, and their uncertainty.

A cost-benefit estimate is a list of line items on two sides, benefits and
investments. A line item is an amount, or a quantity times a unit price (hours
times an hourly rate, benefits ended times the yearly cost of a benefit). The
estimate of the pilot 'Kansen en Kantelen' (Radar, 2012; appendix 6 of the
source study) ships as data: :func:`load_radar_2012` reads it and reproduces
the published 0.98 euro back per euro invested from its line items.

The published figures are point estimates with unstated uncertainty.
:func:`check_published` shows where the published arithmetic is not exact,
:func:`sensitivity` varies one line item at a time over a range (the table
behind a tornado plot, :func:`kantelmeter.plots.tornado`) and
:func:`monte_carlo` varies all of them at once.

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

__all__ = [
    "CostBenefit",
    "CostBenefitError",
    "LineItem",
    "MonteCarloResult",
    "check_published",
    "load_radar_2012",
    "monte_carlo",
    "sensitivity",
]

Side = Literal["benefit", "investment"]

_SIDES: dict[str, Side] = {"benefits": "benefit", "investments": "investment"}
_ITEM_FIELDS = {"id", "description", "note", "amount", "quantity", "unit", "price", "hours",
                "amount_implied", "quantity_basis"}
_PUBLISHED_FIELDS = {"benefits_total_published": "benefits_total",
                     "investments_total_published": "investments_total",
                     "ratio_published": "ratio"}
_OUTCOMES = ("benefits_total", "investments_total", "net_value", "ratio")


class CostBenefitError(ValueError):
    """A cost-benefit file or argument that cannot be used; lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


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

    @property
    def amount(self) -> float:
        """Quantity times price when both are known, otherwise the published amount."""
        if self.quantity is not None and self.price is not None:
            return self.quantity * self.price
        return self.published_amount


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
        """Sum of the benefit amounts."""
        return float(sum(item.amount for item in self.items if item.side == "benefit"))

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

    def with_item(self, item_id: str, *, quantity: float | None = None, price: float | None = None,
                  amount: float | None = None) -> CostBenefit:
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
            raise CostBenefitError([f"line item {item_id!r}: amount {amount!r} cannot be set; the item is "
                                    f"quantity x price, allowed: quantity= or price="])
        if (quantity is not None or price is not None) and not is_product:
            raise CostBenefitError([f"line item {item_id!r}: quantity/price cannot be set; the item is an "
                                    f"amount only, allowed: amount="])
        changes: dict[str, Any] = {}
        if quantity is not None:
            changes["quantity"] = float(quantity)
        if price is not None:
            changes.update(price=float(price), price_implied=False)
        if amount is not None:
            changes["published_amount"] = float(amount)
        items = tuple(dataclasses.replace(it, **changes) if it.id == item_id else it for it in self.items)
        return dataclasses.replace(self, items=items)

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
        return pd.DataFrame({
            "id": [it.id for it in self.items],
            "side": [it.side for it in self.items],
            "description": [it.description for it in self.items],
            "quantity": pd.array([it.quantity for it in self.items], dtype="Float64"),
            "unit": pd.array([it.unit for it in self.items], dtype="string"),
            "price": pd.array([it.price for it in self.items], dtype="Float64"),
            "price_implied": [it.price_implied for it in self.items],
            "amount": [float(it.amount) for it in self.items],
        })

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


def check_published(estimate: CostBenefit) -> pd.DataFrame:
    """Recompute every published figure of an estimate and show where it is not exact.

    Checks, in order: each quantity against the product of its published basis,
    each amount against quantity x price, each derived (implied) unit price,
    the two totals, and the ratio at the precision it was published. The last
    row gives the ratio with every quantity set to the exact product of its
    basis.

    Returns
    -------
    pandas.DataFrame
        Columns ``check``, ``published``, ``recomputed``, ``difference``
        (recomputed minus published), ``exact`` (nullable boolean; NA for a
        derived figure that has no published counterpart) and ``note``.

    Examples
    --------
    >>> table = check_published(load_radar_2012())
    >>> table.loc[~table["exact"].fillna(True), ["check", "published", "recomputed"]]
                                       check  published  recomputed
    0              ended_benefits: quantity      40.00   37.500000
    9  ratio with exact published quantities       0.98    0.950609
    """
    rows = []
    for item in estimate.items:
        if item.quantity_basis:
            row = _check(f"{item.id}: quantity", item.quantity, math.prod(item.quantity_basis),
                         " x ".join(f"{f:g}" for f in item.quantity_basis))
            if not row["exact"] and item.note:
                row["note"] += f"; {item.note}"
            rows.append(row)
        if item.price_implied:
            rows.append(_check(f"{item.id}: implied price per {item.unit}", None, item.price,
                               f"derived: published amount {item.published_amount:g} / {item.quantity:g} "
                               f"{item.unit}; the price itself is not published"))
        elif item.quantity is not None and item.published_amount is not None:
            rows.append(_check(f"{item.id}: amount", item.published_amount, item.amount,
                               f"{item.quantity:g} {item.unit} x {item.price:g}"))
    for outcome in ("benefits_total", "investments_total"):
        if outcome in estimate.published:
            rows.append(_check(outcome, estimate.published[outcome], getattr(estimate, outcome),
                               "sum of the line items"))
    if "ratio" in estimate.published:
        published = estimate.published["ratio"]
        decimals = _decimals(published)
        rows.append(_check("ratio", published, estimate.ratio,
                           f"published rounded to {decimals} decimals", decimals=decimals))
        exact = estimate
        for item in estimate.items:
            if item.quantity_basis:
                exact = exact.with_item(item.id, quantity=math.prod(item.quantity_basis))
        if exact is not estimate:
            rows.append(_check("ratio with exact published quantities", published, exact.ratio,
                               "every quantity set to the product of its published basis", decimals=decimals))
    table = pd.DataFrame(rows, columns=["check", "published", "recomputed", "difference", "exact", "note"])
    table["exact"] = table["exact"].astype("boolean")
    return table


def sensitivity(estimate: CostBenefit, ranges: Mapping[str, tuple[float, float]] | None = None,
                spread: float = 0.25) -> pd.DataFrame:
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
    table = pd.DataFrame({
        "item": np.repeat(estimate._ids(), 2),
        "side": np.repeat([item.side for item in estimate.items], 2),
        "bound": ["low", "high"] * n,
        "amount": np.ravel(np.column_stack([low, high])),
        **outcomes,
        "base_ratio": estimate.ratio,
        "base_net_value": estimate.net_value,
    })
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


def monte_carlo(estimate: CostBenefit, ranges: Mapping[str, tuple[float, float]] | None = None,
                spread: float = 0.25, *, n: int = 10_000, seed: int = 2012,
                distribution: Literal["triangular", "uniform"] = "triangular",
                percentiles: tuple[float, ...] = (2.5, 50, 97.5)) -> MonteCarloResult:
    """Monte Carlo (probabilistic) sensitivity analysis over the line-item ranges.

    Method: every line item is drawn independently from a distribution over its
    range (triangular with its mode at the estimate, or uniform), the outcomes
    are computed per draw and summarised by their mean, standard deviation and
    percentiles; the probability that benefits cover the investments is the
    share of draws with ratio >= 1 (Boardman et al. 2018, ch. 11; Briggs et
    al. 2006, ch. 4). Independence ignores correlation between items (both
    eviction items rest on the same three cases), which understates the spread
    when such items move together.

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

    Returns
    -------
    MonteCarloResult
        ``draws``, ``summary`` (index ``benefits_total``,
        ``investments_total``, ``net_value``, ``ratio``) and ``p_break_even``.

    Examples
    --------
    >>> result = monte_carlo(load_radar_2012(), n=2000, seed=1)
    >>> result.draws.shape
    (2000, 11)
    >>> list(result.summary.columns)
    ['mean', 'sd', 'p2.5', 'p50', 'p97.5']
    >>> 0.3 < result.p_break_even < 0.6
    True
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
    draws = pd.DataFrame(amounts, columns=estimate._ids())
    for outcome, values in _outcomes(estimate, amounts).items():
        draws[outcome] = values
    summary = pd.DataFrame({"mean": draws[list(_OUTCOMES)].mean(), "sd": draws[list(_OUTCOMES)].std()})
    for q in percentiles:
        summary[f"p{q:g}"] = draws[list(_OUTCOMES)].quantile(q / 100)
    return MonteCarloResult(draws, summary, float((draws["ratio"] >= 1).mean()))


def _amounts(estimate: CostBenefit) -> np.ndarray:
    return np.array([float(item.amount) for item in estimate.items])


def _outcomes(estimate: CostBenefit, amounts: np.ndarray) -> dict[str, np.ndarray]:
    is_benefit = np.array([item.side == "benefit" for item in estimate.items])
    benefits = amounts[:, is_benefit].sum(axis=1)
    investments = amounts[:, ~is_benefit].sum(axis=1)
    return {"benefits_total": benefits, "investments_total": investments,
            "net_value": benefits - investments, "ratio": benefits / investments}


def _ranges(estimate: CostBenefit, ranges: Mapping[str, tuple[float, float]] | None,
            spread: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0 <= spread <= 1:
        raise CostBenefitError([f"spread {spread!r} is not allowed; allowed: a fraction from 0 to 1"])
    ranges = dict(ranges or {})
    problems = [f"ranges: line item {key!r} does not exist; allowed: {', '.join(estimate._ids())}"
                for key in ranges if key not in estimate._ids()]
    low, high = [], []
    for item in estimate.items:
        lo, hi = ranges.get(item.id, (item.amount * (1 - spread), item.amount * (1 + spread)))
        if not lo <= item.amount <= hi:
            problems.append(f"ranges: line item {item.id!r}: range ({lo!r}, {hi!r}) is not allowed; "
                            f"allowed: low <= estimate {item.amount:g} <= high")
        low.append(float(lo))
        high.append(float(hi))
    if problems:
        raise CostBenefitError(problems)
    return np.array(low), np.array(high)


def _check(check: str, published: float | None, recomputed: float, note: str,
           decimals: int | None = None) -> dict[str, Any]:
    # Products of decimal fractions (18950 x 0.8 x 0.25) carry float noise.
    recomputed = round(float(recomputed), 9)
    if published is None:
        return {"check": check, "published": np.nan, "recomputed": recomputed, "difference": np.nan,
                "exact": pd.NA, "note": note}
    shown = recomputed if decimals is None else round(recomputed, decimals)
    return {"check": check, "published": float(published), "recomputed": recomputed,
            "difference": round(recomputed - published, 9), "exact": math.isclose(shown, published),
            "note": note}


def _decimals(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _parse(data: Any, name: str) -> CostBenefit:
    if not isinstance(data, dict):
        raise CostBenefitError([f"{name}: the file must be a mapping with 'benefits' and 'investments', "
                                f"got {type(data).__name__}"])
    problems: list[str] = []
    items: list[LineItem] = []
    published: dict[str, float] = {}
    context: dict[str, Any] = {}
    for key, value in data.items():
        if key in _SIDES:
            if not isinstance(value, list) or not value:
                problems.append(f"{name}: field {key!r}: value {value!r} is not allowed; "
                                f"allowed: a non-empty list of line items")
                continue
            items.extend(filter(None, (_parse_item(raw, f"{name}: {key}[{i}]", _SIDES[key], problems)
                                       for i, raw in enumerate(value))))
        elif key in _PUBLISHED_FIELDS:
            published[_PUBLISHED_FIELDS[key]] = _number(value, f"{name}: field {key!r}", problems)
        elif key == "source":
            context[key] = str(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            # Other figures of the estimate (e.g. client contacts per year) are kept as context.
            context[key] = value
        else:
            problems.append(f"{name}: field {key!r} is not allowed; allowed: benefits, investments, source, "
                            f"{', '.join(_PUBLISHED_FIELDS)} or a number as context")
    for side in _SIDES:
        if side not in data:
            problems.append(f"{name}: field {side!r} is missing; it lists the {side} as line items")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(f"{name}: line item id {item.id!r} occurs twice; allowed: unique ids")
        seen.add(item.id)
    if problems:
        raise CostBenefitError(problems)
    estimate = CostBenefit(tuple(items), source=context.pop("source", ""), published=published, context=context)
    if estimate.investments_total <= 0:
        raise CostBenefitError([f"{name}: investments total {estimate.investments_total:g} is not allowed; "
                                f"allowed: a positive total (it is the denominator of the ratio)"])
    return estimate


def _parse_item(raw: Any, where: str, side: Side, problems: list[str]) -> LineItem | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        problems.append(f"{where}: value {raw!r} is not allowed; allowed: a mapping with a text 'id'")
        return None
    where = f"{where} ({raw['id']})"
    for key in raw.keys() - _ITEM_FIELDS:
        problems.append(f"{where}: field {key!r} is not allowed; allowed: {', '.join(sorted(_ITEM_FIELDS))}")
    count = len(problems)
    numbers = {key: _number(raw[key], f"{where}: field {key!r}", problems)
               for key in ("amount", "quantity", "price", "hours", "amount_implied") if key in raw}
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
            problems.append(f"{where}: field 'amount_implied' is not allowed here; allowed: with a positive "
                            f"quantity or hours and without price and amount")
        else:
            published_amount = numbers["amount_implied"]
            price = published_amount / quantity
    if (quantity is None) != (price is None):
        problems.append(f"{where}: quantity {quantity!r} and price {price!r} do not go together; "
                        f"allowed: both (or amount_implied instead of price), or neither")
    if quantity is None and published_amount is None:
        problems.append(f"{where}: no amount; allowed: 'amount', or 'quantity'/'hours' with 'price'")
    if len(problems) > count:
        return None
    return LineItem(id=raw["id"], side=side, description=str(raw.get("description", "")), quantity=quantity,
                    unit=unit, price=price, published_amount=published_amount, price_implied=implied,
                    quantity_basis=basis, note=str(raw.get("note", "")))


def _number(value: Any, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        problems.append(f"{where}: value {value!r} is not allowed; allowed: a number >= 0")
        return math.nan
    return float(value)
