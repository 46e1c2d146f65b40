"""Small-cell suppression, so that published tables do not single out people.

The pilot served about ninety citizens and the teams counted ten people: most
cross-tables of such groups have cells with a handful of people in them.
Before a table leaves the project, :func:`suppress` withholds every count
below a minimum (primary suppression) and then enough other cells that no
withheld count can be worked out from the row and column totals (secondary,
or complementary, suppression). :func:`check_table` audits any published
table the same way an intruder would: it computes, by linear programming, the
smallest and largest value each withheld cell can have given everything that
is published. :func:`suppress_percentages` withholds percentages on small
denominators, and :func:`method_statement` gives the paragraph a report
prints under its tables.

Method: threshold rule with cell suppression for frequency tables, Hundepool,
Domingo-Ferrer, Franconi, Giessing, Schulte Nordholt, Spicer & de Wolf (2012),
*Statistical Disclosure Control*, Wiley, chapter 5 (frequency tables) and
section 4.3 (secondary cell suppression, audit by linear programming).

Choices documented here:

- Zeros are not suppressed: a zero describes nobody. It can still disclose
  something about a group (if nobody in team 1 was dissatisfied, everybody in
  team 1 was satisfied); the threshold rule does not guard against that.
- The result always carries its total row and column, and the totals are
  lines like any other: a total below the minimum is withheld, and a total
  can be withheld as a complement (always so when another total of its line
  is small). The audit treats withheld totals as unknown, so a withheld total
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
from scipy.optimize import linprog

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


class DisclosureError(ValueError):
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


def suppress(table: pd.DataFrame, min_cell: int = 10, *, margins_name: str = "Totaal",
             min_width: int = 1) -> SuppressedTable:
    """Withhold small counts and enough complements that none can be recovered.

    Method (Hundepool et al. 2012, ch. 5 and sec. 4.3):

    1. Primary suppression: every count from 1 to ``min_cell - 1``, totals
       included, is withheld. Zeros are published.
    2. Secondary suppression: a row or column (totals included) with exactly
       one withheld cell would give that cell away by subtraction, so the
       smallest non-zero published cell of that line is withheld as well,
       inner cells before totals; repeated until every line with a withheld
       cell has at least two.
    3. Audit: for every withheld cell the smallest and largest value consistent
       with the published cells and totals are computed by linear
       programming. Where they lie closer than ``min_width`` (the cell is
       determined, for instance through a cycle of withheld cells that has
       zeros), the smallest published cell of its row or column is withheld
       too, and steps 2-3 repeat.

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
    min_width : int, default 1
        Required width (upper minus lower bound) of what a reader can infer
        about each withheld count.

    Returns
    -------
    SuppressedTable

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
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise DisclosureError(f"min_cell {min_cell!r} is not allowed; allowed: a whole number >= 1")
    values, rows, columns = _with_margins(table, margins_name)
    status = np.where((values > 0) & (values < min_cell), _PRIMARY, _NONE)
    while True:
        _complete_lines(values, status)
        exposed = _exposed(values, status, min_width)
        if not exposed:
            break
        i, j = exposed[0]
        line_cells = [(i, jj) for jj in range(values.shape[1])] + [(ii, j) for ii in range(values.shape[0])]
        candidates = [cell for cell in line_cells if status[cell] == _NONE] or list(zip(*np.nonzero(status == _NONE)))
        if not candidates:
            raise DisclosureError(f"suppress: cell ({rows[i]!r}, {columns[j]!r}) cannot be protected even with "
                                  f"every cell withheld; allowed: a smaller min_width than {min_width}")
        status[min(candidates, key=lambda cell: _complement_key(values, cell))] = _SECONDARY
    counts = pd.DataFrame(values, index=rows, columns=columns).astype("Int64").mask(status != _NONE)
    pattern = pd.DataFrame(_STATUS[status], index=rows, columns=columns)
    return SuppressedTable(counts=counts, pattern=pattern, min_cell=int(min_cell))


def check_table(published: pd.DataFrame, min_cell: int = 10, *, margins_name: str = "Totaal",
                min_width: int = 1, marker: str = MARKER) -> pd.DataFrame:
    """Audit a published table: does it reveal any count below ``min_cell``?

    A count is revealed when it is shown (1 to ``min_cell - 1``), or when it
    is withheld but its value follows from the other published cells and the
    totals. The second is found as an intruder would: the smallest and the
    largest value each withheld cell can take, given every published cell and
    total and that counts are not negative, are computed by linear programming
    (Hundepool et al. 2012, sec. 4.3, the 'audit' of a suppression pattern).
    Totals that the table does not show are treated as unknown.

    Parameters
    ----------
    published : pandas.DataFrame
        The table as published: numbers, with withheld cells as ``<NA>`` or
        ``marker``; totals in a row and/or column labelled ``margins_name``.
    min_cell, margins_name, min_width
        As in :func:`suppress`.
    marker : str, default "x"

    Returns
    -------
    pandas.DataFrame
        One row per problem, columns ``row``, ``column``, ``lower``,
        ``upper`` and ``problem``; empty when the table is safe.

    Examples
    --------
    >>> shown = pd.DataFrame({"ja": [5, 20], "nee": [12, 40]}, index=["a", "b"])
    >>> check_table(shown)
      row column  lower  upper                               problem
    0   a     ja    5.0    5.0  count 5 is shown; allowed: 0 or >= 10
    >>> one_withheld = pd.DataFrame({"ja": ["x", 20, 25], "nee": [12, 40, 52], "Totaal": [17, 60, 77]},
    ...                             index=["a", "b", "Totaal"])
    >>> check_table(one_withheld)["problem"].tolist()
    ['withheld, but follows from the other cells and totals: exactly 5']
    >>> check_table(suppress(shown).to_display()).empty
    True
    """
    values, rows, columns = _published_values(published, margins_name, marker)
    withheld = np.isnan(values)
    shown_in_table = np.ones_like(withheld)
    if margins_name not in published.index:
        shown_in_table[-1, :] = False
    if margins_name not in published.columns:
        shown_in_table[:, -1] = False
    lower, upper = _intervals(values)
    problems = []
    for i, j in zip(*np.nonzero(shown_in_table)):
        value = values[i, j]
        if not withheld[i, j] and 0 < value < min_cell:
            problems.append((rows[i], columns[j], value, value,
                             f"count {value:g} is shown; allowed: 0 or >= {min_cell}"))
        elif withheld[i, j] and upper[i, j] - lower[i, j] < min_width - 1e-9:
            if upper[i, j] - lower[i, j] < 1e-9:
                exact = f"exactly {lower[i, j]:g}"
            else:
                exact = f"between {lower[i, j]:g} and {upper[i, j]:g}"
            problems.append((rows[i], columns[j], lower[i, j], upper[i, j],
                             f"withheld, but follows from the other cells and totals: {exact}"))
    return pd.DataFrame(problems, columns=["row", "column", "lower", "upper", "problem"])


def suppress_percentages(numerators: pd.Series | pd.DataFrame, denominators: pd.Series | pd.DataFrame,
                         min_denominator: int = 10, *, decimals: int = 0) -> pd.Series | pd.DataFrame:
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
    if type(numerators) is not type(denominators) or not numerators.index.equals(denominators.index) or (
            isinstance(numerators, pd.DataFrame) and not numerators.columns.equals(denominators.columns)):
        raise DisclosureError("suppress_percentages: numerators and denominators have different labels; "
                              "allowed: two Series or two DataFrames with identical index and columns")
    num = numerators.astype("Float64")
    den = denominators.astype("Float64")
    bad = (num < 0) | (num > den)
    if bool(np.asarray(bad.fillna(True), dtype=bool).any()):
        where = bad.fillna(True).stack() if isinstance(bad, pd.DataFrame) else bad.fillna(True)
        label = where[where].index[0]
        raise DisclosureError(f"suppress_percentages: at {label!r} numerator {_show(numerators.loc[label])} and "
                              f"denominator {_show(denominators.loc[label])} are not allowed; allowed: "
                              f"0 <= numerator <= denominator")
    return (100 * num / den).round(decimals).mask(den < max(min_denominator, 1))


def display_table(values: pd.Series | pd.DataFrame, marker: str = MARKER,
                  decimals: int = 0) -> pd.Series | pd.DataFrame:
    """Numbers as text for a report, withheld values (``<NA>``) shown as ``marker``.

    Examples
    --------
    >>> display_table(pd.Series([12.0, None, 7.5]), decimals=1).tolist()
    ['12.0', 'x', '7.5']
    """
    def text(value):
        return marker if pd.isna(value) else f"{value:.{decimals}f}"

    return values.map(text).astype(object)


def method_statement(lang: str = "nl", *, min_cell: int = 10, min_denominator: int = 10,
                     marker: str = MARKER) -> str:
    """The paragraph a report prints to explain the suppression, in Dutch or English.

    Examples
    --------
    >>> print(method_statement("en", min_cell=5))  # doctest: +ELLIPSIS
    To protect the people behind the figures, counts from 1 to 4 are not published...
    """
    texts = {
        "nl": (f"Om de mensen achter de cijfers te beschermen zijn aantallen van 1 tot en met {min_cell - 1} "
               f"niet gepubliceerd (primaire onderdrukking); nullen worden wel getoond. Omdat een weggelaten "
               f"aantal anders terug te rekenen is uit de totalen van rij of kolom, zijn er zo nodig ook andere, "
               f"zo klein mogelijke cellen weggelaten (secundaire onderdrukking): elke rij en kolom met een "
               f"weggelaten cel bevat er minstens twee, en met lineaire programmering is gecontroleerd dat "
               f"geen weggelaten aantal uit de gepubliceerde cijfers exact te bepalen is. Alle weggelaten "
               f"cellen hebben hetzelfde teken, '{marker}', zodat niet te zien is welke cellen klein waren. "
               f"Percentages over minder dan {min_denominator} personen zijn niet gepubliceerd. Methode: "
               f"Hundepool e.a. (2012), Statistical Disclosure Control, Wiley."),
        "en": (f"To protect the people behind the figures, counts from 1 to {min_cell - 1} are not published "
               f"(primary suppression); zeros are shown. Because a withheld count could otherwise be worked "
               f"out from its row or column total, other cells, as small as possible, are withheld where "
               f"needed (secondary suppression): every row and column with a withheld cell has at least two, "
               f"and linear programming confirmed that no withheld count can be derived exactly from the "
               f"published figures. All withheld cells carry the same sign, '{marker}', so that the small "
               f"ones cannot be told apart. Percentages of fewer than {min_denominator} people are not "
               f"published. Method: Hundepool et al. (2012), Statistical Disclosure Control, Wiley."),
    }
    if lang not in texts:
        raise DisclosureError(f"method_statement: language {lang!r} is not allowed; allowed: {', '.join(texts)}")
    return texts[lang]


def _with_margins(table: pd.DataFrame, margins_name: str) -> tuple[np.ndarray, list, list]:
    """Counts with the total row and column last, validated against the given totals."""
    _check_labels(table)
    numeric = table.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() | (numeric < 0) | (numeric % 1 != 0)
    if bad.to_numpy().any():
        row, column = bad.stack()[lambda s: s].index[0]
        raise DisclosureError(f"suppress: cell ({row!r}, {column!r}) value {_show(table.loc[row, column])} is not "
                              f"allowed; allowed: a whole number >= 0")
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
            raise DisclosureError(f"suppress: {where} at {label!r} is {_show(value)}, but the cells add up to "
                                  f"{computed[label]}; allowed: totals equal to the sums")


def _published_values(published: pd.DataFrame, margins_name: str, marker: str) -> tuple[np.ndarray, list, list]:
    """Published cells as floats, NaN where withheld or where a total is not shown."""
    _check_labels(published)
    withheld = published.isna() | (published.astype(object) == marker)
    numeric = published.mask(withheld).apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna() & ~withheld
    if bad.to_numpy().any():
        row, column = bad.stack()[lambda s: s].index[0]
        raise DisclosureError(f"check_table: cell ({row!r}, {column!r}) value {_show(published.loc[row, column])} "
                              f"is not allowed; allowed: a number, <NA> or {marker!r}")
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
            raise DisclosureError(f"check_table: the cells of the line ending at ({order_rows[i]!r}, "
                                  f"{order_columns[j]!r}) add up to {cells[:-1].sum():g}, but the total is "
                                  f"{cells[-1]:g}; allowed: totals equal to the sums")
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
    return ([[(i, j) for j in range(n_columns)] for i in range(n_rows)]
            + [[(i, j) for i in range(n_rows)] for j in range(n_columns)])


def _complement_key(values: np.ndarray, cell: tuple[int, int]) -> tuple:
    """Order of preference for a complement: non-zero, inner before totals, smallest first."""
    i, j = cell
    margin_level = (i == values.shape[0] - 1) + (j == values.shape[1] - 1)
    # A zero cannot go below zero: withholding it hides little, so zeros come last.
    return values[cell] == 0, margin_level, values[cell], i, j


def _complete_lines(values: np.ndarray, status: np.ndarray) -> None:
    """Withhold complements until no line has exactly one withheld cell."""
    lines = _lines(values.shape)
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if status[cell] != _NONE]
            if len(hidden) != 1:
                continue
            candidates = [cell for cell in line if status[cell] == _NONE]
            single = {cell for other in lines for cell in other
                      if sum(status[c] != _NONE for c in other) == 1 and other is not line}
            # Among equally small cells, prefer one whose other line also needs a complement.
            best = min(candidates, key=lambda cell: (*_complement_key(values, cell)[:3], cell not in single,
                                                     *cell))
            status[best] = _SECONDARY
            changed = True


def _exposed(values: np.ndarray, status: np.ndarray, min_width: int) -> list[tuple[int, int]]:
    """Withheld cells whose feasible interval is narrower than ``min_width``."""
    published = np.where(status != _NONE, np.nan, values.astype(float))
    lower, upper = _intervals(published)
    hidden = status != _NONE
    return [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden & (upper - lower < min_width - 1e-9)))]


def _intervals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest value of every unknown (NaN) cell given the known cells and the line sums.

    Linear programming over the unknown cells: each line (row or column,
    totals included) says inner cells minus total = 0; counts are >= 0.
    Known cells get their own value as both bounds.
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
    for k, cell in enumerate(map(tuple, unknown)):
        for sense, bound in ((1.0, lower), (-1.0, upper)):
            objective = np.zeros(len(unknown))
            objective[k] = sense
            result = linprog(objective, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None),
                             method="highs")
            if result.status == 2:
                raise DisclosureError("the published cells and totals contradict each other: no non-negative "
                                      "counts fit them; allowed: a table whose totals are the sums of its cells")
            bound[cell] = np.inf if result.status == 3 else sense * result.fun
    return lower, upper
