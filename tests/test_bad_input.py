"""Malformed input on every way in (CSV, XLSX, SAV, the Python API): refused with where and why, or read right.

Each case is one row of a table: the file (or call), then either the problem the user must
see (row as the file numbers it, column, value, what is wrong) or the value that must be
stored. After a refusal the store is exactly as it was.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyreadstat
import pytest
from openpyxl import Workbook

from kantelmeter.io import ImportRejected, import_responses
from kantelmeter.store import StoreError

BASE = {"respondent": "r-1", "got_help": "2"}


def refused(row, column, value, problem):
    return ("refused", row, column, value, problem)


def read(column, value):
    return ("read", column, value)


# (case, format, rows of cells beyond BASE (or raw bytes), expectation)
CASES = [
    ("code out of range", "csv", [{"wellbeing": "0"}], refused(2, "wellbeing", "0", "not a code of this item")),
    ("fractional code", "csv", [{"wellbeing": "3.5"}], refused(2, "wellbeing", "3.5", "not a code")),
    (
        "label instead of code",
        "csv",
        [{"got_help": "1", "helped_well": "helemaal eens"}],
        refused(2, "helped_well", "helemaal eens", "a label, not a code: give 5"),
    ),
    ("text in a number column", "csv", [{"age": "oud"}], refused(2, "age", "oud", "not a number")),
    ("number out of range", "csv", [{"age": "17"}], refused(2, "age", "17", "outside the allowed range 18..110")),
    ("decimal comma", "csv", [{"age": "40,5"}], read("age", 40.5)),
    ("Dutch date is day-first", "csv", [{"visit_date": "12-04-2011"}], read("visit_date", pd.Timestamp("2011-04-12"))),
    (
        "Dutch date with slashes and one digit",
        "csv",
        [{"visit_date": "3/5/2011"}],
        read("visit_date", pd.Timestamp("2011-05-03")),
    ),
    ("month-first date", "csv", [{"visit_date": "04-13-2011"}], refused(2, "visit_date", "04-13-2011", "day-first")),
    ("two-digit year", "csv", [{"visit_date": "12-04-11"}], refused(2, "visit_date", "12-04-11", "allowed form")),
    ("impossible date", "csv", [{"visit_date": "31-02-2011"}], refused(2, "visit_date", "31-02-2011", "no such date")),
    (
        "time without offset is local",
        "csv",
        [{"collected_at": "03-05-2011 14:30"}],
        read("collected_at", pd.Timestamp("2011-05-03 12:30", tz="UTC")),
    ),
    (
        "month-first date-time",
        "csv",
        [{"collected_at": "05/13/2011 14:30"}],
        refused(2, "collected_at", "05/13/2011 14:30", "day-first"),
    ),
    ("duplicate respondent", "csv", [{}, {}], refused(2, "respondent", "r-1", "more than once")),
    (
        "wrong occasion",
        "csv",
        [{"occasion": "follow_up"}],
        refused(2, "occasion", "follow_up", "for occasion 'intake'"),
    ),
    (
        "unknown instrument version",
        "csv",
        [{"version": "7.0"}],
        refused(2, "version", "7.0", "not a registered version"),
    ),
    ("header with spaces and capitals", "csv", [{" Remarks ": "prima"}], read("remarks", "prima")),
    ("misspelt header", "csv", [{"remarkz": "prima"}], refused(None, "remarkz", None, "did you mean 'remarks'?")),
    (
        "option column not 0/1",
        "csv",
        [{"got_help": "1", "helped_well": "4", "help_kind_1": "2"}],
        refused(2, "help_kind_1", "2", "1 (chosen) or 0"),
    ),
    (
        "packed choices with an unknown code",
        "csv",
        [{"got_help": "1", "helped_well": "4", "help_kind": "1 7"}],
        refused(2, "help_kind", "1 7", "not codes of this item"),
    ),
    ("invalid BSN", "csv", [{"bsn": "123456789"}], refused(2, "bsn", "<withheld>", "eleven-test")),
    ("text too long", "csv", [{"remarks": "x" * 4001}], refused(2, "remarks", "x" * 4001, "longer than 4000")),
    ("Windows-1252 file", b"respondent;got_help;remarks\r\nr-1;2;caf\xe9\r\n", None, read("remarks", "café")),
    ("empty rows at the end", b"respondent;got_help\r\nr-1;2\r\n;\r\n;\r\n", None, read("got_help", 2.0)),
    (
        "date text in an Excel cell",
        "xlsx",
        [{"visit_date": "12-04-2011"}],
        read("visit_date", pd.Timestamp("2011-04-12")),
    ),
    ("fractional code in Excel", "xlsx", [{"wellbeing": 3.5}], refused(2, "wellbeing", 3.5, "not a code")),
    ("true/false in a code cell", "xlsx", [{"wellbeing": True}], refused(2, "wellbeing", True, "not a number")),
    (
        "Excel date-time in a date column",
        "xlsx",
        [{"visit_date": dt.datetime(2011, 4, 12, 9, 30)}],
        refused(2, "visit_date", dt.datetime(2011, 4, 12, 9, 30), "date only"),
    ),
    (
        "Excel time without zone is local",
        "xlsx",
        [{"collected_at": dt.datetime(2011, 12, 1, 9, 0)}],
        read("collected_at", pd.Timestamp("2011-12-01 08:00", tz="UTC")),
    ),
    ("SPSS code out of range", "sav", [{"wellbeing": 12.0}], refused(1, "wellbeing", 12.0, "not a code")),
    ("SPSS fractional code", "sav", [{"wellbeing": 2.5}], refused(1, "wellbeing", 2.5, "not a code")),
    ("SPSS text in a code variable", "sav", [{"wellbeing": "vier"}], refused(1, "wellbeing", "vier", "not a number")),
]


def _write(path, cells: list[dict], fmt: str):
    rows = [{**BASE, **row} for row in cells]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    if fmt == "csv":
        pd.DataFrame(rows, columns=columns).fillna("").to_csv(path, index=False)
    elif fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
        book.save(path)
    else:
        frame = pd.DataFrame(rows, columns=columns)
        for column in frame:
            numeric = pd.to_numeric(frame[column], errors="coerce")
            frame[column] = numeric if numeric.notna().all() and column != "respondent" else frame[column].astype(str)
        pyreadstat.write_sav(frame, str(path))


def _state(store, instrument):
    return (
        store.responses(instrument, include_partial=True).to_json(date_format="iso"),
        store.completion().to_json(date_format="iso"),
    )


@pytest.mark.parametrize("case, fmt, cells, expected", CASES, ids=[case[0] for case in CASES])
def test_bad_input_in_a_file(case, fmt, cells, expected, store, sample_instrument, tmp_path):
    if isinstance(fmt, bytes):
        path = tmp_path / "input.csv"
        path.write_bytes(fmt)
    else:
        path = tmp_path / f"input.{fmt}"
        _write(path, cells, fmt)
    store.register_instrument(sample_instrument)
    before = _state(store, sample_instrument)
    if expected[0] == "read":
        result = import_responses(store, sample_instrument, "intake", path)
        assert result.added == 1
        stored = store.responses(sample_instrument).iloc[0][expected[1]]
        assert stored == expected[2]
        if case == "Windows-1252 file":
            assert "read as cp1252" in str(result)
        return
    _, row, column, value, problem = expected
    with pytest.raises(ImportRejected) as rejected:
        import_responses(store, sample_instrument, "intake", path)
    problems = rejected.value.report.problems
    found = problems[(problems["column"] == column) & problems["problem"].str.contains(problem, regex=False)]
    assert len(found) >= 1, rejected.value.report.summary()
    first = found.iloc[0]
    assert (first["row"] if row is not None else None) == row
    if value is not None:
        assert first["value"] == value
    assert "allowed" in first["problem"] or "more than once" in first["problem"]
    text = str(rejected.value)
    assert path.name in text and column in text
    assert _state(store, sample_instrument) == before


API_CASES = [
    (
        "save: code out of range and fractional",
        "save",
        {"wellbeing": 42, "helped_well": 3.5},
        "item 'wellbeing' (column 'wellbeing'): value 42: not a code of this item; allowed: 1..7; missing codes: 8, 9",
    ),
    ("save: month-first date", "save", {"visit_date": "04-13-2011"}, "day-first"),
    ("save: text for a number", "save", {"age": "veertig"}, "allowed: a number in 18..110"),
    ("bulk: fractional code", "bulk", {"wellbeing": [2.5]}, "value 2.5: not a code of this item"),
    ("bulk: unknown version", "bulk", {"version": ["9"]}, "version '9' of 'sample' is not registered"),
    ("bulk: option column 2", "bulk", {"help_kind_2": [2.0]}, "1 (chosen) or 0"),
    ("bulk: wrong occasion", "bulk-occasion", {"occasion": ["afterwards"]}, "occasion 'afterwards' is not one"),
]


@pytest.mark.parametrize("case, way, values, message", API_CASES, ids=[case[0] for case in API_CASES])
def test_bad_input_through_the_python_api(case, way, values, message, store, sample_instrument):
    response = store.start_response(store.add_respondent(), sample_instrument, "intake")
    before = _state(store, sample_instrument)
    with pytest.raises(StoreError) as refused:
        if way == "save":
            store.save_answers(response, {"got_help": 2, **values}, complete=True)
        else:
            frame = pd.DataFrame({"respondent": ["r-9"], "got_help": [2.0], **values})
            store.add_responses(sample_instrument, None if way == "bulk-occasion" else "intake", frame)
    assert message in str(refused.value)
    assert _state(store, sample_instrument) == before
    assert store.response_status(response) == "partial"  # never marked complete with a refused answer
