"""Checking imported response rows against their instrument, all problems at once.

:func:`validate_responses` takes a table of raw cells (text from CSV, objects
from Excel, numbers from SPSS) whose columns are already named after the
instrument (see :mod:`kantelmeter.io.mapping`) and checks every cell and
every row: codes and ranges, types, unknown columns, items not asked at the
occasion, required items whose show-if condition holds, duplicate
respondents within the file and in the store, cohort conflicts. Like
pandera's lazy validation it reports every failure in one table, each with
its row and column, instead of stopping at the first. When there are none it
also returns the typed rows, ready for :meth:`kantelmeter.Store.add_responses`.

Identifier values (BSN, name, client number) are never shown in a report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kantelmeter.answers import (
    DATETIME_FORMS,
    Domain,
    Parsed,
    closest,
    domains,
    is_pseudonym,
    parse_choices,
    parse_datetimes,
)
from kantelmeter.contract import IMPORT_COLUMNS
from kantelmeter.errors import ExchangeError, KantelmeterError, NotFoundError
from kantelmeter.instruments import Instrument, Item, ItemType

__all__ = ["ImportRejected", "ValidationReport", "validate_responses"]

META_COLUMNS = IMPORT_COLUMNS
WITHHELD = "<withheld>"
PROBLEM_COLUMNS = ["row", "column", "value", "problem"]


@dataclass
class ValidationReport:
    """Every problem found in a table of responses.

    Attributes
    ----------
    source : str
        The file (or other source) checked.
    problems : DataFrame
        One row per problem: ``row`` (the row number as the user sees it; None
        for a problem with a whole column), ``column``, ``value`` and ``problem``.
    data : DataFrame or None
        The checked rows with typed values and pseudonymised respondents,
        when there were no problems.
    """

    source: str
    problems: pd.DataFrame
    data: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.problems.empty

    def __str__(self) -> str:
        return self.summary()

    def summary(self, limit: int | None = None, rest: str = "see the problems table") -> str:
        """The report as text: a header line, then one line per problem.

        Parameters
        ----------
        limit : int, optional
            Show at most this many problems and end with a line counting the
            others; a file with a wrong column can have a problem in every
            row, and hundreds of lines hide the first, usually telling, ones.
        rest : str
            Where the others can be read, for that last line.

        Examples
        --------
        >>> from kantelmeter import load_instrument
        >>> raw = pd.DataFrame({"respondent": ["r1", "r2", "r3"], "soc1": ["8", "9", "0"]})
        >>> report = validate_responses(load_instrument("soc13"), raw, "intake", source="wave1.csv")
        >>> print(report.summary(limit=1))
        wave1.csv: 3 problems; nothing was imported
          row 2, column soc1 (value '8'): not a code of this item; allowed: 1..7
          ... and 2 more problems (see the problems table)
        """
        if self.ok:
            return f"{self.source}: no problems in {0 if self.data is None else len(self.data)} rows"
        lines = [
            f"{self.source}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}; nothing was imported"
        ]
        shown_problems = self.problems if limit is None else self.problems.head(limit)
        for row, column, value, problem in shown_problems.itertuples(index=False):
            where = f"row {row}, " if row is not None and not pd.isna(row) else ""
            shown = "" if value is None or (isinstance(value, float) and math.isnan(value)) else f" (value {value!r})"
            lines.append(f"  {where}column {column}{shown}: {problem}")
        more = len(self.problems) - len(shown_problems)
        if more:
            lines.append(f"  ... and {more} more problem{'s' if more != 1 else ''} ({rest})")
        return "\n".join(lines)


class ImportRejected(KantelmeterError, ValueError):
    """An import that was refused; ``report`` lists every problem."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(str(report))


class _Problems:
    """Collects problems; identifier values are masked on the way in."""

    def __init__(self, row_numbers: pd.Series, withheld: set[str]):
        self.rows: list[tuple] = []
        self.row_numbers = row_numbers
        self.withheld = withheld

    def column(self, column: str, problem: str, value: Any = None) -> None:
        self.rows.append((None, column, value, problem))

    def cell(self, index: Any, column: str, value: Any, problem: str) -> None:
        self.rows.append(
            (int(self.row_numbers.at[index]), column, WITHHELD if column in self.withheld else _shown(value), problem)
        )

    def refused(self, parsed: Parsed, raw: pd.Series, column: str, allowed: str) -> None:
        """Every cell a parse refused, with its problem and what is allowed."""
        refused = parsed.problems.dropna()
        for index, problem in refused.items():
            self.cell(index, column, raw.at[index], f"{problem}; allowed: {allowed}")

    def cells(self, mask: pd.Series, raw: pd.Series, column: str, problem: str | Callable[[Any], str]) -> None:
        for index in mask[mask].index:
            value = raw.at[index]
            self.cell(index, column, value, problem(value) if callable(problem) else problem)

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS, dtype=object)
        order = table["row"].map(lambda r: -1 if r is None else r)
        return (
            table.assign(_order=order)
            .sort_values(["_order"], kind="stable")
            .drop(columns="_order")
            .reset_index(drop=True)
        )


def _shown(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def validate_responses(
    instrument: Instrument,
    frame: pd.DataFrame,
    occasion: str,
    *,
    respondent: str = "respondent",
    respondent_kind: str | None = None,
    pseudonymise: Callable[[str, Any], str] | None = None,
    cohort: str | None = None,
    store=None,
    first_row: int = 2,
    source: str = "<data>",
    row_numbers: list[int] | None = None,
) -> ValidationReport:
    """Check raw response rows against an instrument and report every problem.

    Parameters
    ----------
    instrument : Instrument
    frame : DataFrame
        Raw cells, columns named by instrument column (``soc1``, a
        multiple-choice option ``interventions_3``, or the item id of a
        multiple-choice item holding space-separated codes such as ``"1 3"``)
        or a meta column (``respondent``, ``occasion``, ``cohort``,
        ``collected_at``). Empty strings and None are missing.
    occasion : str
        The occasion all rows belong to.
    respondent : str
        The column that identifies the respondent.
    respondent_kind : {'bsn', 'client_number', 'name'}, optional
        The respondent column holds this identifier and is pseudonymised. If
        not given and the respondent column is an identifier item of the
        instrument, its kind is used; otherwise the column holds pseudonyms.
    pseudonymise : callable, optional
        ``(kind, value) -> pseudonym``, for example ``store.pseudonym``;
        needed when the respondent column holds identifiers.
    cohort : str, optional
        The cohort of every row when the table has no ``cohort`` column.
    store : Store, optional
        Also report respondents that already have a response at this
        occasion, and cohorts that differ from the stored ones.
    first_row : int
        The number the user sees for the first data row (2 in a spreadsheet
        with a header row, 1 for SPSS cases).
    source : str
        The file name, for the report.
    row_numbers : list of int, optional
        The number the user sees for each row, when the rows are not
        consecutive (one occasion of a file holding several); overrides ``first_row``.

    Returns
    -------
    ValidationReport

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> raw = pd.DataFrame({"respondent": ["r1", "r2", "r2"], "soc1": ["4", "9", ""], "mood": ["", "", ""]})
    >>> print(validate_responses(soc, raw, "intake", source="wave1.csv"))
    wave1.csv: 4 problems; nothing was imported
      column mood: not a column of instrument 'soc13'...
      row 3, column soc1 (value '9'): not a code of this item; allowed: 1..7
      row 3, column respondent (value 'r2'): respondent appears more than once at occasion 'intake' (rows 3, 4)
      row 4, column respondent (value 'r2'): respondent appears more than once at occasion 'intake' (rows 3, 4)
    >>> validate_responses(soc, raw.iloc[:1, :2], "intake").data[["respondent", "soc1"]]
      respondent  soc1
    0         r1   4.0
    """
    frame = _matched_headers(frame.reset_index(drop=True), instrument, respondent)
    rows = pd.Series(
        row_numbers if row_numbers is not None else range(first_row, first_row + len(frame)), index=frame.index
    )
    identifier_items = {item.id: item.identifier for item in instrument.identifiers}
    kind = respondent_kind or identifier_items.get(respondent)
    problems = _Problems(rows, set(identifier_items) | ({respondent} if kind else set()))
    checked: dict[str, pd.Series] = {}  # made a frame once: a column at a time fragments it

    by_column = domains(instrument)
    multiple = {item.id: item for item in instrument.items if item.type is ItemType.multiple_choice}
    try:
        asked = {item.id for item in instrument.items_at(occasion)}
        # an occasion's response also holds what its repeated sections repeat over, carried from an earlier one
        carried = {item.id for item in instrument.carried(occasion)}
    except NotFoundError as exc:
        asked = carried = set()
        problems.column("occasion", str(exc), occasion)

    for column in frame.columns:
        if column in META_COLUMNS or column in by_column or column in multiple or column == respondent:
            continue
        near = closest(column, [*by_column, *multiple, *META_COLUMNS])
        hint = f" (did you mean {near!r}?)" if near else ""
        problems.column(
            column,
            f"not a column of instrument {instrument.id!r}{hint}; allowed: item ids "
            f"({', '.join(instrument.columns[:8])}, ...) and {', '.join(META_COLUMNS)}",
        )

    pseudonyms = _respondents(frame, respondent, kind, pseudonymise, problems)
    checked["respondent"] = pseudonyms
    checked["cohort"] = _cohorts(frame, cohort)
    if "collected_at" in frame:
        checked["collected_at"] = _times(frame["collected_at"], problems)
    if "occasion" in frame:
        raw = frame["occasion"].astype(object)
        problems.cells(
            _present(raw) & (raw.astype(str).str.strip() != occasion),
            raw,
            "occasion",
            f"this import is for occasion {occasion!r}; allowed: {occasion!r}, or import without an "
            "occasion to take each row's occasion from this column",
        )

    for item in instrument.items:
        columns = [c for c in instrument.columns_of(item)]
        if item.id in multiple and item.id in frame:
            values = _packed_choices(instrument, item, frame[item.id], problems)
        else:
            values = {c: _typed(by_column[c], frame[c], problems) for c in columns if c in frame}
        for column, series in values.items():
            if item.id not in asked | carried:
                problems.cells(
                    series.notna(),
                    frame.get(column, frame.get(item.id)),
                    column,
                    f"item {item.id!r} is not asked at occasion {occasion!r}",
                )
            checked[column] = series
    typed = pd.DataFrame(checked, index=frame.index)

    _required(instrument, occasion, asked, typed, frame, problems)
    _duplicates(instrument, occasion, typed, store, problems, rows)
    report_problems = problems.frame()
    data = None
    if report_problems.empty:
        data = typed[[c for c in ["respondent", "cohort", "collected_at", *instrument.columns] if c in typed]]
    return ValidationReport(source=source, problems=report_problems, data=data)


def _matched_headers(frame: pd.DataFrame, instrument: Instrument, respondent: str) -> pd.DataFrame:
    """Headers renamed to the instrument's columns they match after trimming spaces and case folding."""
    known = [*instrument.columns, *(item.id for item in instrument.items), *META_COLUMNS, respondent]
    folded = {name.casefold(): name for name in known}
    renamed = {
        column: folded[str(column).strip().casefold()]
        for column in frame.columns
        if column not in known and str(column).strip().casefold() in folded
    }
    taken = set(frame.columns) - set(renamed)
    return frame.rename(columns={c: n for c, n in renamed.items() if n not in taken})


def _is_text(raw: pd.Series) -> bool:
    """Whether a column holds only text (as read from CSV), so vectorised string methods apply."""
    return pd.api.types.is_string_dtype(raw.dtype) and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty")


def _by_distinct(raw: pd.Series, convert: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``convert`` applied to a column's cells, once per distinct value when the column holds text.

    A survey column repeats a handful of codes, so the Python work of ``convert`` runs on those
    few values and is spread back over the rows with integer indexing. Columns of other objects
    (Excel, SPSS) are converted cell by cell, because Python equality merges 1, 1.0 and True.
    """
    if not _is_text(raw):
        return convert(raw.astype(object))
    codes, distinct = pd.factorize(raw, use_na_sentinel=False)
    converted = convert(pd.Series(distinct, dtype=object))
    return pd.Series(converted.to_numpy()[codes], index=raw.index, dtype=converted.dtype)


def _filled(cells: pd.Series) -> pd.Series:
    """Cells of an object column holding something: not None/NaN and not blank text."""
    return cells.notna() & ~cells.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)


def _present(raw: pd.Series) -> pd.Series:
    """Cells holding something: not None/NaN and not blank text."""
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.notna()
    return _by_distinct(raw, _filled)


def _respondents(frame: pd.DataFrame, column: str, kind: str | None, pseudonymise, problems: _Problems) -> pd.Series:
    if column not in frame:
        problems.column(
            column,
            f"the respondent column {column!r} is missing; name it with the respondent option or map a column to it",
        )
        return pd.Series(None, index=frame.index, dtype=object)
    raw = frame[column].astype(object)
    present = _present(raw)
    problems.cells(~present, raw, column, "no respondent given")
    if kind is None:
        return _text_cells(raw)
    if pseudonymise is None:
        raise ExchangeError(f"column {column!r} holds {kind} identifiers: pass pseudonymise (such as store.pseudonym)")
    result = pd.Series(None, index=frame.index, dtype=object)
    for index in present[present].index:
        value = _plain(raw.at[index])
        if is_pseudonym(value):  # exported by kantelmeter: pseudonymised once, never twice
            result.at[index] = value
            continue
        try:
            result.at[index] = pseudonymise(kind, value)
        except ValueError as exc:  # BSNError masks the number in its message
            problems.cell(index, column, raw.at[index], str(exc))
    return result


def _text_cells(raw: pd.Series, default: str | None = None) -> pd.Series:
    """Cells as stripped text in an object Series, ``default`` where a cell is empty."""
    return _by_distinct(
        raw,
        lambda cells: pd.Series(
            [_plain(value) if filled else default for value, filled in zip(cells, _filled(cells))],
            index=cells.index,
            dtype=object,
        ),
    )


def _plain(value: Any) -> str:
    """A cell as text; a whole float (1234.0 from Excel or SPSS) loses its decimals."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cohorts(frame: pd.DataFrame, cohort: str | None) -> pd.Series:
    if "cohort" in frame:
        return _text_cells(frame["cohort"], default=cohort)
    return pd.Series(cohort, index=frame.index, dtype=object)


def _times(raw: pd.Series, problems: _Problems) -> pd.Series:
    parsed = parse_datetimes(raw)
    problems.refused(parsed, raw, "collected_at", DATETIME_FORMS)
    return parsed.values


def _typed(domain: Domain, raw: pd.Series, problems: _Problems) -> pd.Series:
    """One column converted to its stored value by its answer domain, with every refused cell reported."""
    parsed = domain.parse_column(raw)
    problems.refused(parsed, raw, domain.column, domain.allowed)
    return parsed.values


def _packed_choices(instrument: Instrument, item: Item, raw: pd.Series, problems: _Problems) -> dict[str, pd.Series]:
    """A multiple-choice answer written as space-separated codes ("1 3", as ODK exports it) as 0/1 columns."""
    columns, parsed, allowed = parse_choices(instrument, item, raw)
    problems.refused(parsed, raw, item.id, allowed)
    return columns


def _answer_value(item: Item, instrument: Instrument, typed: pd.DataFrame, index: int) -> Any:
    """One typed answer in the form a show-if condition expects (a set of codes for multiple choice)."""
    if item.type is ItemType.multiple_choice:
        columns = [c for c in instrument.columns_of(item) if c in typed]
        if not columns or all(pd.isna(typed.at[index, c]) for c in columns):
            return None
        return {
            code
            for code, c in zip(instrument.valid_codes(item), instrument.columns_of(item))
            if c in typed and typed.at[index, c] == 1
        }
    return typed.at[index, item.id] if item.id in typed else None


def _required(
    instrument: Instrument,
    occasion: str,
    asked: set[str],
    typed: pd.DataFrame,
    frame: pd.DataFrame,
    problems: _Problems,
) -> None:
    """Required items asked at this occasion must be answered wherever their show-if condition holds."""
    for item in instrument.items:
        if not item.required or item.id not in asked:
            continue
        columns = [c for c in instrument.columns_of(item) if c in typed]
        answered = typed[columns].notna().any(axis=1) if columns else pd.Series(False, index=typed.index)
        # A cell that holds something unusable is reported as such, not also as unanswered.
        for column in {*instrument.columns_of(item), item.id} & set(frame.columns):
            answered |= _present(frame[column])
        unanswered = ~answered
        condition = instrument.condition(item)
        if condition is not None and unanswered.any():
            refs = [instrument.item(ref) for ref in condition.items]
            shown = {
                index: condition.evaluate({ref.id: _answer_value(ref, instrument, typed, index) for ref in refs})
                for index in unanswered[unanswered].index
            }
            unanswered &= pd.Series(shown, dtype=bool).reindex(typed.index, fill_value=False)
        rule = f" (shown because {item.show_if})" if item.show_if else ""
        problems.cells(
            unanswered,
            pd.Series(None, index=typed.index, dtype=object),
            item.id,
            f"required item {item.id!r} is not answered{rule}",
        )


def _duplicates(
    instrument: Instrument, occasion: str, typed: pd.DataFrame, store, problems: _Problems, rows: pd.Series
) -> None:
    respondents = typed["respondent"]
    known = respondents.notna()
    twice = known & respondents.duplicated(keep=False)
    for pseudonym, group in respondents[twice].groupby(respondents[twice]):
        numbers = ", ".join(str(rows.at[i]) for i in group.index)
        problems.cells(
            respondents == pseudonym,
            respondents,
            "respondent",
            f"respondent appears more than once at occasion {occasion!r} (rows {numbers})",
        )
    if store is None or not known.any():
        return
    already = store.responded(instrument, occasion, respondents[known])
    problems.cells(
        respondents.isin(already),
        respondents,
        "respondent",
        f"respondent already has a response to {instrument.id!r} at {occasion!r} in the store",
    )
    stored = store.cohorts(respondents[known])
    conflict = (
        respondents.map(lambda p: p in stored and stored[p] is not None)
        & typed["cohort"].notna()
        & (typed["cohort"] != respondents.map(stored))
    )
    problems.cells(
        conflict,
        typed["cohort"],
        "cohort",
        lambda value: f"the store has this respondent in another cohort; given {value!r}",
    )
