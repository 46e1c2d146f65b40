"""A REDCap data export back into the store, through the normal import.

A REDCap "CSV (raw data)" export of a project made from
:func:`kantelmeter.io.redcap_dictionary` has one row per record and event:
the record id first, ``redcap_event_name`` in a longitudinal project, one
column per field under its REDCap name (see
:func:`kantelmeter.io.redcap.redcap_name`), one 0/1 column ``field___code``
per checkbox option, a ``<form>_complete`` status (0, 1, 2) per form and,
when survey fields are exported, ``<form>_timestamp``. Missing-data codes
arrive as their codes (8, 9), as kantelmeter stores them. A repeating
instrument (a repeated section) adds rows with ``redcap_repeat_instrument``
and ``redcap_repeat_instance``: :func:`join_instances` puts each beside its
record's main row as the wide ``<item>__k`` columns, ``k`` given by the
instance's element field (instances are numbered in order of entry).

:func:`redcap_columns` turns that table into the normal one (``respondent``,
``collected_at``, item columns, ``item_code`` option columns) and
:func:`import_redcap` hands it to :func:`kantelmeter.io.import_responses`, so
every check and the all-or-nothing rule are the import's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument, ItemType, Repetition, Section
from kantelmeter.io.redcap import element_field, redcap_form_names, redcap_name, repeating_form, unique_event_name
from kantelmeter.io.transfer import FIRST_ROW, ImportResult, import_responses
from kantelmeter.io.validation import ImportRejected, ValidationReport

__all__ = ["RedcapImport", "import_redcap", "join_instances", "redcap_columns"]

EVENT = "redcap_event_name"
# Columns REDCap adds that describe the record, not an answer.
RECORD_COLUMNS = {"redcap_data_access_group", "redcap_survey_identifier"}
REPEAT_COLUMNS = ("redcap_repeat_instrument", "redcap_repeat_instance")
NOT_COMPLETED = "[not completed]"


def _forms(instrument: Instrument) -> set[str]:
    """Every form name a kantelmeter dictionary of the instrument can have."""
    names = set(redcap_form_names(instrument).values())
    for occasion in instrument.occasions:
        names |= set(redcap_form_names(instrument, occasion).values())
    return names


def redcap_columns(
    frame: pd.DataFrame, instrument: Instrument, occasion: str, source: str = "<data>", first_row: int = 2
) -> tuple[pd.DataFrame, list[int]]:
    """The rows of one occasion of a REDCap export, with kantelmeter's columns.

    Parameters
    ----------
    frame : DataFrame
        The export as text cells, as :func:`kantelmeter.io.read_csv` reads it.
    instrument : Instrument
    occasion : str
        The rows of this occasion's event (``intake_arm_1`` for ``intake``)
        are kept; an export without ``redcap_event_name`` is one occasion.
    source : str
        The file name, for errors.
    first_row : int
        The file's row number of the frame's first row, for errors.

    Returns
    -------
    DataFrame, list of int
        The reshaped rows, and the position in ``frame`` of each.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> raw = pd.DataFrame({"record_id": ["r-1", "r-1"], "redcap_event_name": ["intake_arm_1", "follow_up_arm_1"],
    ...                     "soc1": ["3", "4"], "soc13_complete": ["2", "2"]})
    >>> rows, positions = redcap_columns(raw, load_instrument("soc13"), "follow_up")
    >>> rows.to_dict("records"), positions
    ([{'respondent': 'r-1', 'soc1': '4'}], [1])
    """
    if frame.columns.empty:
        raise ExchangeError(f"{source}: an empty file; a REDCap export starts with the record id column")
    frame, positions = join_instances(frame, instrument, source, first_row)
    if EVENT in frame:
        events = frame[EVENT].astype(str).str.strip()
        positions = [p for p, event in zip(positions, events) if event in (unique_event_name(occasion), occasion)]
        frame = frame[events.isin([unique_event_name(occasion), occasion]).to_numpy()]
    rows = frame.reset_index(drop=True)
    forms = _forms(instrument)
    item_of = {redcap_name(item.id): item for item in instrument.items}
    renamed, drop, stamps = {rows.columns[0]: "respondent"}, [], []
    for column in rows.columns[1:]:
        name, _, code = column.partition("___")
        form = re.sub(r"_(complete|timestamp)$", "", column)
        if (
            column in (EVENT, *REPEAT_COLUMNS)
            or column in RECORD_COLUMNS
            or (column.endswith("_complete") and form in forms)
        ):
            drop.append(column)
        elif column.endswith("_timestamp") and form in forms:
            stamps.append(column)
        elif code and name in item_of and item_of[name].type is ItemType.multiple_choice:
            # a code the item does not have keeps REDCap's name, and validation refuses it as an unknown column
            renamed[column] = {str(k): c for k, c in instrument.option_columns(item_of[name]).items()}.get(code, column)
        elif column in item_of:
            renamed[column] = item_of[column].id
    times = rows[stamps].replace(NOT_COMPLETED, "") if stamps else None
    rows = rows.drop(columns=drop + stamps).rename(columns=renamed)
    if times is not None:
        rows["collected_at"] = times.max(axis=1)  # ISO text: the latest form finished
    return _unticked_is_unanswered(rows, instrument), positions


def _text(value) -> str:
    return "" if pd.isna(value) else str(value).strip()


def join_instances(
    frame: pd.DataFrame, instrument: Instrument, source: str = "<data>", first_row: int = 2
) -> tuple[pd.DataFrame, list[int]]:
    """The main rows of an export, each with its repeating instances as ``<item>__k`` columns.

    An instance (a row whose ``redcap_repeat_instrument`` names a repeating
    form) joins the main row of its record and event; its element field
    gives ``k``, the element's position among the source item's options.

    Returns
    -------
    DataFrame, list of int
        The main rows, and the position in ``frame`` of each.

    Raises
    ------
    ExchangeError
        Naming the file row, field and value of every instance without an
        element, with an element that is no option or that the record did not
        choose in the source item, a second instance of one element, or with
        no main row to join.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> raw = pd.DataFrame({"record_id": ["r-1", "r-1"], "redcap_repeat_instrument": ["", "citizen_problem_follow_up"],
    ...                     "redcap_repeat_instance": ["", "1"], "problems_raised___3": ["1", ""],
    ...                     "problem_follow_up_element": ["", "3"], "problem_result": ["", "6"]})
    >>> main, positions = join_instances(raw, load_instrument("citizen"))
    >>> main[["record_id", "problems_raised___3", "problem_result__3"]].to_dict("records"), positions
    ([{'record_id': 'r-1', 'problems_raised___3': '1', 'problem_result__3': '6'}], [0])
    """
    kind = frame.get(REPEAT_COLUMNS[0])
    if kind is None:
        return frame, list(range(len(frame)))
    kind = kind.map(_text)
    sections = {repeating_form(instrument, r.template): r.template for r in instrument.repetitions}
    events = frame.get(EVENT, pd.Series("", index=frame.index))
    keys = [(_text(record), _text(event)) for record, event in zip(frame.iloc[:, 0], events)]
    positions = [p for p in range(len(frame)) if not kind.iloc[p]]  # a record given twice is the import's to refuse
    main_at: dict[tuple[str, str], int] = {}
    for position in positions:
        main_at.setdefault(keys[position], position)
    cells: dict[tuple[int, str], str] = {}
    seen: dict[tuple, int] = {}
    problems = []
    for position in (p for p in range(len(frame)) if kind.iloc[p]):
        row, form = position + first_row, kind.iloc[position]
        section = sections.get(form)
        if section is None:
            problems.append(
                f"row {row}: {REPEAT_COLUMNS[0]} = {form!r} is not a repeating form; allowed: {', '.join(sections)}"
            )
            continue
        found = _repetition(frame, instrument, section, position, keys, main_at, row)
        if isinstance(found, str):
            problems.append(found)
            continue
        main, repetition = found
        first = seen.setdefault((main, form, repetition.number), row)
        if first != row:
            problems.append(
                f"row {row}: a second instance of {form!r} for {element_field(section)} = {repetition.code} "
                f"of record {keys[position][0]!r} (the first is row {first})"
            )
        for declared, asked in repetition.items.items():
            pairs = zip(_fields(instrument, declared), _fields(instrument, declared, asked))
            cells.update(
                {(main, to): _text(frame.iat[position, frame.columns.get_loc(of)]) for of, to in pairs if of in frame}
            )
    if problems:
        raise ExchangeError(f"{source}: " + "; ".join(problems))
    instance_columns = {
        name for section in sections.values() for item in section.items for name in _fields(instrument, item.id)
    } | {element_field(section) for section in sections.values()}
    main = frame.iloc[positions].drop(columns=[c for c in frame.columns if c in instance_columns])
    wide = pd.DataFrame(index=positions, columns=list(dict.fromkeys(to for _, to in cells)), dtype=object).fillna("")
    for (at, to), value in cells.items():
        wide.at[at, to] = value
    return pd.concat([main, wide.set_axis(main.index)], axis=1), positions


def _fields(instrument: Instrument, declared: str, asked: str | None = None) -> list[str]:
    """The REDCap columns of an item of a repeating form, named as declared or (``asked``) as one repetition."""
    name, item = redcap_name(asked or declared), instrument.item(declared)
    if item.type is ItemType.multiple_choice:
        return [f"{name}___{code}" for code in instrument.valid_codes(item)]
    return [name]


def _repetition(
    frame: pd.DataFrame,
    instrument: Instrument,
    section: Section,
    position: int,
    keys: list[tuple[str, str]],
    main_at: dict[tuple[str, str], int],
    row: int,
) -> tuple[int, Repetition] | str:
    """The main row and repetition an instance belongs to, or what is wrong with it."""
    assert section.repeat is not None
    element = element_field(section)
    value = _text(frame.iat[position, frame.columns.get_loc(element)]) if element in frame else ""
    repetitions = {str(r.code): r for r in instrument.repetitions if r.template.id == section.id}
    if not value:
        return f"row {row}: an instance without {element}; allowed: {', '.join(repetitions)}"
    if value not in repetitions:
        return f"row {row}: {element} = {value!r} is no option of {section.repeat.for_each}; allowed: {', '.join(repetitions)}"
    main = main_at.get(keys[position])
    if main is None:
        return f"row {row}: no row of record {keys[position][0]!r} without {REPEAT_COLUMNS[0]} to join the instance to"
    source = redcap_name(section.repeat.for_each)
    boxes = [c for c in frame.columns if c.startswith(f"{source}___")]
    answered = [  # the record's answer to the source, in the instance's event or another
        p
        for p in [main, *(p for k, p in main_at.items() if k[0] == keys[position][0])]
        if any(_text(frame.iat[p, frame.columns.get_loc(c)]) == "1" for c in boxes)
    ]
    box = f"{source}___{value}"
    if answered and (box not in frame or _text(frame.iat[answered[0], frame.columns.get_loc(box)]) != "1"):
        return f"row {row}: {element} = {value!r}, but record {keys[position][0]!r} did not choose {value} in {source}"
    return main, repetitions[value]


def _unticked_is_unanswered(rows: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """A checkbox field with no box ticked as unanswered: REDCap exports 0 for both."""
    for item in instrument.items:
        columns = [c for c in instrument.columns_of(item) if c in rows] if item.type is ItemType.multiple_choice else []
        if columns:
            none = rows[columns].apply(lambda col: col.astype(str).str.strip().isin(["0", ""])).all(axis=1)
            rows.loc[none, columns] = ""
    return rows


@dataclass(frozen=True)
class RedcapImport:
    """The outcome of a REDCap import: the import's result, and the rows of other events left for their own."""

    result: ImportResult
    other_events: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        text = str(self.result)
        if self.other_events:
            left = ", ".join(f"{n} of {event}" for event, n in self.other_events.items())
            text += f"; rows of other events left for their own import (--occasion): {left}"
        return text


def import_redcap(
    store,
    instrument: Instrument,
    occasion: str,
    path: str | Path,
    *,
    cohort: str | None = None,
    actor: str | None = None,
) -> RedcapImport:
    """Import one occasion of a REDCap CSV export: all its rows or none.

    Problems are reported by the row number of the export file.

    Raises
    ------
    ImportRejected
        With every problem; nothing was imported.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from kantelmeter import Store, load_instrument
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "key")
    >>> _ = (folder / "export.csv").write_text("record_id,redcap_event_name,soc1,soc13_complete\\n"
    ...                                        "r-1,intake_arm_1,3,2\\nr-1,follow_up_arm_1,4,2\\n")
    >>> print(import_redcap(store, load_instrument("soc13"), "intake", folder / "export.csv"))
    export.csv: 1 responses added; rows of other events left for their own import (--occasion): 1 of follow_up_arm_1
    """
    path = Path(path)
    kept: list[int] = []
    counted: dict[str, int] = {}

    def reshape(frame: pd.DataFrame) -> pd.DataFrame:
        rows, positions = redcap_columns(frame, instrument, occasion, path.name, FIRST_ROW.get(path.suffix.lower(), 2))
        kept.extend(positions)
        if EVENT in frame:  # the records of other events, not their repeating instances
            main = frame if REPEAT_COLUMNS[0] not in frame else frame[frame[REPEAT_COLUMNS[0]].map(_text).eq("")]
            others = main[EVENT].drop(frame.index[positions])
            counted.update(others.value_counts(sort=False).to_dict())
        return rows

    try:
        result = import_responses(store, instrument, occasion, path, reshape=reshape, cohort=cohort, actor=actor)
    except ImportRejected as rejected:
        first = FIRST_ROW.get(path.suffix.lower(), 2)
        problems = rejected.report.problems.copy()
        problems["row"] = problems["row"].map(
            lambda r: None if r is None or pd.isna(r) else kept[int(r) - first] + first
        )
        raise ImportRejected(ValidationReport(rejected.report.source, problems)) from None
    return RedcapImport(result, counted)
