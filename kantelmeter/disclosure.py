"""Small-cell suppression, so that published tables do not single out people.

The pilot served about ninety citizens and the teams counted ten people: most
cross-tables of such groups have cells with a handful of people in them.
Before a table leaves the project, :func:`suppress` withholds every count
below a minimum (primary suppression) and then the fewest other cells, chosen
by mixed-integer programming, such that a reader who knows the method cannot
tell any withheld count from one of ``min_cell`` or more (secondary, or
complementary, suppression). :func:`check_table` audits any published table
the same way an intruder would: by linear programming over everything
published, knowing that zeros are shown, it computes the largest value each
withheld cell can have. :func:`suppress_percentages` withholds percentages on
small denominators, and :func:`method_statement` gives the paragraph a report
prints under its tables.

Method: threshold rule with cell suppression for frequency tables, Hundepool,
Domingo-Ferrer, Franconi, Giessing, Schulte Nordholt, Spicer & de Wolf (2012),
*Statistical Disclosure Control*, Wiley, chapter 5 (frequency tables: upper
protection level ``min_cell - value``, as tau-ARGUS sets it) and section 4.3
(secondary cell suppression as an optimisation problem, audit by linear
programming); the model is that of Fischetti & Salazar-González (2000).

Choices documented here:

- Zeros are not suppressed: a zero describes nobody. It can still disclose
  something about a group (if nobody in team 1 was dissatisfied, everybody in
  team 1 was satisfied); the threshold rule does not guard against that. The
  method statement says zeros are shown, so both :func:`suppress` and
  :func:`check_table` assume the reader knows every withheld cell is >= 1.
- Only the upper side is protected (the rule tau-ARGUS applies to frequency
  tables): a reader may learn that a withheld cell is at least
  1, never that it is below ``min_cell``.
- The result always carries its total row and column, and the totals are
  lines like any other: a total below the minimum is withheld, and a total
  can be withheld as a complement. The audit treats withheld totals as unknown, so a withheld total
  must not be published elsewhere (for instance the number of respondents of
  a cohort in another table): with it, a withheld count can follow by
  subtraction. Totals cannot all be assumed public: a small total would then
  follow from the grand total and the other totals.
- All withheld cells carry the same marker, ``x`` (the CBS sign for 'secret'):
  marking small cells differently from their complements would tell the
  reader which cells are small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from kantelmeter.errors import KantelmeterError

__all__ = [
    "MARKER",
    "DisclosureError",
    "SuppressedTable",
    "check_table",
    "display_table",
    "method_statement",
    "suppress",
    "suppress_percentages",
]

MARKER = "x"
"""The sign of a withheld value in a published table (CBS: 'x = geheim')."""

_NONE, _PRIMARY, _SECONDARY = 0, 1, 2
_STATUS = np.array(["", "primary", "secondary"], dtype=object)


class DisclosureError(KantelmeterError, ValueError):
    """A table that cannot be suppressed or checked, naming the cell and its value."""


@dataclass(frozen=True)
class SuppressedTable:
    """A frequency table after cell suppression, ready for publication.

    Attributes
    ----------
    counts : pandas.DataFrame
        The table with its totals, nullable ``Int64``, ``<NA>`` where withheld:
        what may be published.
    pattern : pandas.DataFrame
        ``"primary"``, ``"secondary"`` or ``""`` per cell. For the producer's
        records only: publishing it would reveal which cells are small.
    min_cell : int
        The minimum count that was applied.
    """

    counts: pd.DataFrame
    pattern: pd.DataFrame
    min_cell: int

    def to_display(self, marker: str = MARKER) -> pd.DataFrame:
        """The table as text, withheld cells shown as ``marker``.

        Examples
        --------
        >>> table = pd.DataFrame({"yes": [3, 20, 15], "no": [12, 40, 30]}, index=["a", "b", "c"])
        >>> suppress(table).to_display()
                yes   no Totaal
        a         x    x     15
        b        20   40     60
        c         x    x     45
        Totaal   38   82    120
        """
        return display_table(self.counts, marker=marker)

    def to_html(self, marker: str = MARKER, **kwargs) -> str:
        """HTML of :meth:`to_display`; keyword arguments go to ``DataFrame.to_html``."""
        return self.to_display(marker).to_html(**kwargs)

    def _repr_html_(self) -> str:
        return self.to_html()


def suppress(table: pd.DataFrame, min_cell: int = 10, *, margins_name: str = "Totaal") -> SuppressedTable:
    """Withhold small counts, and the fewest other cells that keep each of them protected.

    Method (Hundepool et al. 2012, ch. 5 and sec. 4.3; Fischetti & Salazar-González
    2000, *Math. Programming* 84, "Models and algorithms for optimizing cell
    suppression in tabular data with linear constraints"):

    1. Primary suppression: every count from 1 to ``min_cell - 1``, totals
       included, is withheld. Zeros are published, and the method statement
       says so, so a reader knows that every withheld cell is at least 1.
    2. Protection rule: for every primary cell with value ``a``, the largest
       value a reader can reach, by linear programming over everything
       published and that knowledge, must be at least ``min_cell`` (an upper
       protection level of ``min_cell - a``, as tau-ARGUS sets for frequency
       tables). A reader then cannot tell the cell from a publishable count.
    3. Secondary suppression, optimal: one mixed-integer programme chooses the
       cells to withhold. A binary per non-zero cell says whether it is
       withheld; per primary cell, a copy of the table's deviations (a move
       of the withheld cells that keeps every row and column sum) must raise
       that cell by ``min_cell - a`` while no withheld cell drops below 1 and
       no published cell moves. The objective is the number of withheld
       cells, ties broken towards small values (information loss). HiGHS
       solves it (:func:`scipy.optimize.milp`); :func:`check_table` then audits
       the result independently.

    Parameters
    ----------
    table : pandas.DataFrame
        Counts (non-negative whole numbers), rows and columns with unique
        labels. A row and/or column labelled ``margins_name`` holds the
        totals; a total that is missing is added.
    min_cell : int, default 10
        Smallest count that may be published.
    margins_name : str, default "Totaal"
        Label of the total row and column.

    Returns
    -------
    SuppressedTable

    Raises
    ------
    DisclosureError
        Invalid counts, or a table no pattern can protect.

    Examples
    --------
    >>> table = pd.DataFrame({"team 1": [4, 12, 25], "team 2": [11, 14, 30]},
    ...                      index=["gemeente", "MEE", "overig"])
    >>> result = suppress(table)
    >>> result.counts
              team 1  team 2  Totaal
    gemeente    <NA>    <NA>      15
    MEE         <NA>    <NA>      26
    overig        25      30      55
    Totaal        41      55      96
    >>> result.pattern.loc["gemeente", "team 1"], result.pattern.loc["MEE", "team 1"]
    ('primary', 'secondary')
    >>> check_table(result.counts).empty
    True
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise DisclosureError(f"min_cell {min_cell!r} is not allowed; allowed: a whole number >= 1")
    values, rows, columns = _with_margins(table, margins_name)
    primary = (values > 0) & (values < min_cell)
    withheld = _secondary_pattern(values, primary, int(min_cell))
    status = np.where(primary, _PRIMARY, np.where(withheld, _SECONDARY, _NONE))
    counts = pd.DataFrame(values, index=rows, columns=columns).astype("Int64").mask(status != _NONE)
    pattern = pd.DataFrame(_STATUS[status], index=rows, columns=columns)
    return SuppressedTable(counts=counts, pattern=pattern, min_cell=int(min_cell))


def check_table(
    published: pd.DataFrame, min_cell: int = 10, *, margins_name: str = "Totaal", marker: str = MARKER
) -> pd.DataFrame:
    """Audit a published table as a reader who knows the method would attack it.

    The reader knows every published cell and total, that rows and columns
    add up, and (from the method statement) that zeros are shown, so every
    withheld cell is at least 1. A table passes when it shows no count from
    1 to ``min_cell - 1`` and when, for every withheld cell, the largest value
    consistent with all that (found by linear programming, HiGHS) is at
    least ``min_cell``: otherwise the reader knows the cell is a small count
    and how small it is at most. Totals the table does not show are unknowns
    (at least 0). For a withheld count of ``min_cell`` or more the rule holds
    by itself, so checking every withheld cell checks every small one.

    Parameters
    ----------
    published : pandas.DataFrame
        The table as published: numbers, and ``marker`` or ``<NA>`` where withheld.
    min_cell : int, default 10
    margins_name : str, default "Totaal"
    marker : str, default "x"

    Returns
    -------
    pandas.DataFrame
        One row per problem: ``row``, ``column``, ``lower`` and ``upper`` (what
        the reader can infer) and ``problem``; empty when the table is safe.

    Examples
    --------
    >>> shown = pd.DataFrame({"ja": [5, 20], "nee": [12, 40]}, index=["a", "b"])
    >>> check_table(shown)
      row column  lower  upper                               problem
    0   a     ja    5.0    5.0  count 5 is shown; allowed: 0 or >= 10
    >>> pair = pd.DataFrame({"p": ["x", 20], "q": ["x", 25], "r": [30, 30], "Totaal": [32, 75]},
    ...                     index=["a", "b"])
    >>> check_table(pair)["problem"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['withheld, but a reader can tell it is exactly 1 (zeros are shown); allowed: a largest possible value of 10 or more',
     'withheld, but a reader can tell it is exactly 1 (zeros are shown); allowed: a largest possible value of 10 or more']
    >>> check_table(suppress(pd.DataFrame({"p": [1, 20], "q": [1, 25], "r": [30, 30]},
    ...                                   index=["a", "b"])).to_display()).empty
    True
    """
    values, rows, columns = _published_values(published, margins_name, marker)
    withheld = np.isnan(values)
    shown_in_table = np.ones_like(withheld)
    if margins_name not in published.index:
        shown_in_table[-1, :] = False
    if margins_name not in published.columns:
        shown_in_table[:, -1] = False
    floor = np.where(withheld & shown_in_table, 1.0, 0.0)
    lower, upper = _intervals(values, floor)
    problems = []
    for i, j in zip(*np.nonzero(shown_in_table)):
        value = values[i, j]
        if not withheld[i, j] and 0 < value < min_cell:
            problems.append(
                (rows[i], columns[j], value, value, f"count {value:g} is shown; allowed: 0 or >= {min_cell}")
            )
        elif withheld[i, j] and upper[i, j] < min_cell - 1e-9:
            if upper[i, j] - lower[i, j] < 1e-9:
                inferred = f"exactly {lower[i, j]:g}"
            else:
                inferred = f"between {lower[i, j]:g} and {upper[i, j]:g}"
            problems.append(
                (
                    rows[i],
                    columns[j],
                    lower[i, j],
                    upper[i, j],
                    f"withheld, but a reader can tell it is {inferred} (zeros are shown); "
                    f"allowed: a largest possible value of {min_cell} or more",
                )
            )
    return pd.DataFrame(problems, columns=["row", "column", "lower", "upper", "problem"])


def suppress_percentages(
    numerators: pd.Series | pd.DataFrame,
    denominators: pd.Series | pd.DataFrame,
    min_denominator: int = 10,
    *,
    decimals: int = 0,
) -> pd.Series | pd.DataFrame:
    """Percentages, withheld where the denominator is below ``min_denominator``.

    A percentage of a handful of people discloses nearly as much as the count
    (one of four is 25%), so it is withheld (Hundepool et al. 2012, ch. 5,
    threshold rule applied to the base of a percentage). With a published
    denominator, a percentage still gives its numerator back (n x p); where
    the numerator itself is a sensitive count, publish it through
    :func:`suppress` instead.

    Parameters
    ----------
    numerators, denominators : pandas.Series or DataFrame
        Counts with identical labels, ``0 <= numerator <= denominator``
        (for the CEO: the number who (fully) agree, and the valid answers).
    min_denominator : int, default 10
    decimals : int, default 0

    Returns
    -------
    pandas.Series or DataFrame
        Percentages as ``Float64``, ``<NA>`` where withheld (or the
        denominator is 0).

    Examples
    --------
    >>> agree = pd.Series([30, 3], index=["toegang", "effect"])
    >>> valid = pd.Series([40, 6], index=["toegang", "effect"])
    >>> suppress_percentages(agree, valid)
    toegang    75.0
    effect     <NA>
    dtype: Float64
    >>> display_table(suppress_percentages(agree, valid)).tolist()
    ['75', 'x']
    """
    if (
        type(numerators) is not type(denominators)
        or not numerators.index.equals(denominators.index)
        or (isinstance(numerators, pd.DataFrame) and not numerators.columns.equals(denominators.columns))
    ):
        raise DisclosureError(
            "suppress_percentages: numerators and denominators have different labels; "
            "allowed: two Series or two DataFrames with identical index and columns"
        )
    num = numerators.astype("Float64")
    den = denominators.astype("Float64")
    bad = (num < 0) | (num > den)
    if bool(np.asarray(bad.fillna(True), dtype=bool).any()):
        where = bad.fillna(True).stack() if isinstance(bad, pd.DataFrame) else bad.fillna(True)
        label = where[where].index[0]
        raise DisclosureError(
            f"suppress_percentages: at {label!r} numerator {_show(numerators.loc[label])} and "
            f"denominator {_show(denominators.loc[label])} are not allowed; allowed: "
            f"0 <= numerator <= denominator"
        )
    return (100 * num / den).round(decimals).mask(den < max(min_denominator, 1))


def display_table(
    values: pd.Series | pd.DataFrame, marker: str = MARKER, decimals: int = 0
) -> pd.Series | pd.DataFrame:
    """Numbers as text for a report, withheld values (``<NA>``) shown as ``marker``.

    Examples
    --------
    >>> display_table(pd.Series([12.0, None, 7.5]), decimals=1).tolist()
    ['12.0', 'x', '7.5']
    """

    def text(value):
        return marker if pd.isna(value) else f"{value:.{decimals}f}"

    return values.map(text).astype(object)


def method_statement(lang: str = "nl", *, min_cell: int = 10, min_denominator: int = 10, marker: str = MARKER) -> str:
    """The paragraph a report prints to explain the suppression (``report.method_statement`` in the catalogues).

    Examples
    --------
    >>> print(method_statement("en", min_cell=5))  # doctest: +ELLIPSIS
    To protect the people behind the figures, counts from 1 to 4 are not published...
    """
    from kantelmeter.instruments import LANGUAGES
    from kantelmeter.messages import message

    if lang not in LANGUAGES:
        raise DisclosureError(f"method_statement: language {lang!r} is not allowed; allowed: {', '.join(LANGUAGES)}")
    return message(
        "report.method_statement",
        lang,
        largest=min_cell - 1,
        min_cell=min_cell,
        min_denominator=min_denominator,
        marker=marker,
    )


def _with_margins(table: pd.DataFrame, margins_name: str) -> tuple[np.ndarray, list, list]:
    """Counts with the total row and column last, validated against the given totals."""
    _check_labels(table)
    numeric = table.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() | (numeric < 0) | (numeric % 1 != 0)
    if bad.to_numpy().any():
        row, column = bad.stack()[lambda s: s].index[0]
        raise DisclosureError(
            f"suppress: cell ({row!r}, {column!r}) value {_show(table.loc[row, column])} is not "
            f"allowed; allowed: a whole number >= 0"
        )
    inner = numeric.drop(index=margins_name, columns=margins_name, errors="ignore").astype("int64")
    full = inner.copy()
    full[margins_name] = inner.sum(axis=1)
    full.loc[margins_name] = full.sum(axis=0)
    if margins_name in numeric.index:
        _check_totals(numeric.loc[margins_name], full.loc[margins_name], f"total row {margins_name!r}")
    if margins_name in numeric.columns:
        _check_totals(numeric[margins_name], full[margins_name], f"total column {margins_name!r}")
    return full.to_numpy(dtype="int64"), list(full.index), list(full.columns)


def _check_totals(given: pd.Series, computed: pd.Series, where: str) -> None:
    for label, value in given.items():
        if value != computed[label]:
            raise DisclosureError(
                f"suppress: {where} at {label!r} is {_show(value)}, but the cells add up to "
                f"{computed[label]}; allowed: totals equal to the sums"
            )


def _published_values(published: pd.DataFrame, margins_name: str, marker: str) -> tuple[np.ndarray, list, list]:
    """Published cells as floats, NaN where withheld or where a total is not shown."""
    _check_labels(published)
    withheld = published.isna() | (published.astype(object) == marker)
    numeric = published.mask(withheld).apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & ~withheld
    if bad.to_numpy().any():
        row, column = bad.stack()[lambda s: s].index[0]
        raise DisclosureError(
            f"check_table: cell ({row!r}, {column!r}) value {_show(published.loc[row, column])} "
            f"is not allowed; allowed: a number, <NA> or {marker!r}"
        )
    full = numeric.astype("float64")
    if margins_name not in full.columns:
        full[margins_name] = np.nan
    if margins_name not in full.index:
        full.loc[margins_name] = np.nan
    order_rows = [r for r in full.index if r != margins_name] + [margins_name]
    order_columns = [c for c in full.columns if c != margins_name] + [margins_name]
    full = full.loc[order_rows, order_columns]
    values = full.to_numpy()
    for line in _lines(values.shape):
        cells = values[tuple(np.array(line).T)]
        if not np.isnan(cells).any() and cells[:-1].sum() != cells[-1]:
            i, j = line[-1]
            raise DisclosureError(
                f"check_table: the cells of the line ending at ({order_rows[i]!r}, "
                f"{order_columns[j]!r}) add up to {cells[:-1].sum():g}, but the total is "
                f"{cells[-1]:g}; allowed: totals equal to the sums"
            )
    return values, order_rows, order_columns


def _show(value) -> str:
    """A cell value for an error message: numpy scalars as plain numbers."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _check_labels(table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise DisclosureError(f"table of type {type(table).__name__} is not allowed; allowed: a non-empty DataFrame")
    for axis, labels in (("row", table.index), ("column", table.columns)):
        if not labels.is_unique:
            duplicate = labels[labels.duplicated()][0]
            raise DisclosureError(f"{axis} label {duplicate!r} occurs twice; allowed: unique labels")


def _lines(shape: tuple[int, int]) -> list[list[tuple[int, int]]]:
    """Every row and column of a table with totals; the total is the last cell of each line."""
    n_rows, n_columns = shape
    return [[(i, j) for j in range(n_columns)] for i in range(n_rows)] + [
        [(i, j) for i in range(n_rows)] for j in range(n_columns)
    ]


def _secondary_pattern(values: np.ndarray, primary: np.ndarray, min_cell: int) -> np.ndarray:
    """Cells to withhold (primary ones included) at the least loss, by mixed-integer programming.

    Variables: ``y`` (n binaries, 1 = withheld) and, per primary cell ``p``,
    deviations ``d`` (n continuous) of a table that agrees with every
    published cell and every line sum and has ``p`` raised by
    ``delta = min_cell - a_p``. A deviation may only be non-zero on a
    withheld cell, between ``-(a_c - 1)`` (no withheld cell below 1) and
    ``delta``. The bound ``delta`` loses no solution: a deviation that raises
    ``p`` by more can be scaled down, and one of a two-way table with
    margins (a network) splits into cycles through ``p`` each moving a cell
    by at most what it moves ``p``.
    """
    shape = values.shape
    n = values.size
    flat = values.ravel().astype(float)
    primaries = np.flatnonzero(primary.ravel())
    if not len(primaries):
        return np.zeros(shape, dtype=bool)
    lines = [[i * shape[1] + j for i, j in line] for line in _lines(shape)]
    n_variables = n * (1 + len(primaries))
    lower = np.zeros(n_variables)
    upper = np.zeros(n_variables)
    upper[:n] = (flat > 0).astype(float)  # a zero is published: the reader may count on it
    lower[primaries] = 1.0
    rows, cols, data, row_low, row_high = [], [], [], [], []

    def add(entries: list[tuple[int, float]], low: float, high: float) -> None:
        for column, coefficient in entries:
            rows.append(len(row_low))
            cols.append(column)
            data.append(coefficient)
        row_low.append(low)
        row_high.append(high)

    for q, p in enumerate(primaries):
        offset = n * (q + 1)
        delta = min_cell - flat[p]
        down = np.minimum(np.maximum(flat - 1, 0), delta)
        lower[offset : offset + n] = np.where(flat > 0, -down, 0.0)
        upper[offset : offset + n] = np.where(flat > 0, delta, 0.0)
        lower[offset + p] = upper[offset + p] = delta
        for line in lines:
            add([(offset + c, 1.0) for c in line[:-1]] + [(offset + line[-1], -1.0)], 0.0, 0.0)
        for c in np.flatnonzero(flat > 0):
            if c == p:
                continue
            add([(offset + c, 1.0), (c, -delta)], -np.inf, 0.0)
            if down[c] > 0:
                add([(offset + c, -1.0), (c, -down[c])], -np.inf, 0.0)
    # information loss: the number of withheld cells, ties broken towards the smaller values
    cost = np.zeros(n_variables)
    cost[:n] = 1.0 + flat / (2.0 * (flat.max() + 1.0))
    matrix = sparse.csr_array((data, (rows, cols)), shape=(len(row_low), n_variables))
    integrality = np.zeros(n_variables)
    integrality[:n] = 1
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, row_low, row_high),
        integrality=integrality,
        bounds=Bounds(lower, upper),
        options={"time_limit": 60},
    )
    if result.x is None:
        raise DisclosureError(
            f"suppress: no pattern of withheld cells protects every count below {min_cell} "
            f"in this table ({result.message}); allowed: a table with more or larger cells, "
            f"or a smaller min_cell"
        )
    return result.x[:n].reshape(shape) > 0.5


def _intervals(values: np.ndarray, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of every unknown (NaN) cell given the known cells and the line sums.

    Linear programming over the unknown cells: each line (row or column,
    totals included) says inner cells minus total = 0; an unknown cell is at
    least its ``floor`` (1 for a withheld cell, as zeros are shown; 0 for a
    total that is not published). Known cells get their own value as both bounds.
    """
    unknown = np.argwhere(np.isnan(values))
    index = {tuple(cell): k for k, cell in enumerate(unknown)}
    lower = np.where(np.isnan(values), 0.0, values)
    upper = lower.copy()
    if not len(unknown):
        return lower, upper
    a_eq, b_eq = [], []
    for line in _lines(values.shape):
        coefficients = np.zeros(len(unknown))
        constant = 0.0
        for position, cell in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            if cell in index:
                coefficients[index[cell]] += sign
            else:
                constant += sign * values[cell]
        if coefficients.any():
            a_eq.append(coefficients)
            b_eq.append(-constant)
    bounds = [(floor[tuple(cell)], None) for cell in unknown]
    for k, cell in enumerate(map(tuple, unknown)):
        for sense, bound in ((1.0, lower), (-1.0, upper)):
            objective = np.zeros(len(unknown))
            objective[k] = sense
            result = linprog(objective, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
            if result.status == 2:
                raise DisclosureError(
                    "the published cells and totals contradict each other: no counts of at "
                    "least 1 in the withheld cells fit them; allowed: a table whose totals are "
                    "the sums of its cells"
                )
            bound[cell] = np.inf if result.status == 3 else sense * result.fun
    return lower, upper
