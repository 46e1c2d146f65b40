"""The bulk path's pieces: binary COPY data, the one-parameter look-up, and row numbers taken before the rows."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, Text, func, insert, literal, select

from kantelmeter.store import Store
from kantelmeter.store.base import StoreCore, _among, _new_ids
from kantelmeter.store.errors import StoreError
from kantelmeter.store.schema import respondents

# Values the text COPY format had to escape, and some that an array literal must quote.
AWKWARD = ["tab\there", "new\nline", "cr\rhere", "back\\slash", 'quote"d', "{braced}", "a,b", "NULL", " ", "é ü 中", ""]


def sample_table() -> Table:
    return Table(
        "sample",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("number", Float),
        Column("note", Text),
        Column("code", String(64)),
        Column("at", DateTime),
    )


def test_every_kind_of_value_comes_back_as_it_was_written(store_url, key_file):
    store = Store(store_url, key_file=key_file)
    table = sample_table()
    rows = len(AWKWARD) + 3
    frame = pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "number": [0.1, -2.5e300, 5e-324, np.nan, 4.0, 1 / 3, *range(rows - 6)],
            "note": pd.Series([*AWKWARD, None, "x" * 4000, None], dtype=object),
            "code": pd.Series([None, "r-1", *[f"c{i % 3}" for i in range(rows - 2)]], dtype=object),
            "at": pd.Series([datetime(1999, 12, 31, 23, 59, 59, 999999), None, datetime(2026, 12, 3, 17, 0, 0, 1)] * 5)[
                :rows
            ],
        }
    )
    with store.engine.begin() as conn:
        table.create(conn)
        StoreCore._bulk_insert_frame(conn, table, frame)
        stored = pd.DataFrame(conn.execute(select(table).order_by(table.c.id)).all(), columns=frame.columns)
    store.close()
    assert plain(stored["id"]) == plain(frame["id"])
    np.testing.assert_array_equal(stored["number"].astype(float), frame["number"])  # exact, NaN as NULL
    assert stored["number"].isna().tolist() == frame["number"].isna().tolist()
    for column in ("note", "code", "at"):
        assert plain(stored[column]) == plain(frame[column]), column


def plain(column: pd.Series) -> list:
    """The values of a column, any kind of blank as None, times as datetime."""
    return [None if pd.isna(v) else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v for v in column]


def test_a_time_with_a_zone_is_stored_at_its_wall_clock_time(store_url, key_file):
    """As the text COPY did: PostgreSQL reads a timestamp without zone from the text and ignores the zone."""
    store = Store(store_url, key_file=key_file)
    table = sample_table()
    at = pd.Series(pd.to_datetime(["2026-03-29 01:30", "2026-10-25 12:15"]).tz_localize("Europe/Amsterdam"))
    with store.engine.begin() as conn:
        table.create(conn)
        StoreCore._bulk_insert_frame(conn, table, pd.DataFrame({"id": [1, 2], "at": at}))
        stored = conn.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    store.close()
    assert stored == [datetime(2026, 3, 29, 1, 30), datetime(2026, 10, 25, 12, 15)]


def test_a_lookup_finds_exactly_the_values_it_was_given(store_url, key_file):
    store = Store(store_url, key_file=key_file)
    with store.engine.connect() as conn:
        found = [conn.execute(select(_among(conn, literal(value), AWKWARD))).scalar() for value in AWKWARD]
        near = ["tab", "quote", "braced", "null", "", "a"]
        missed = [conn.execute(select(_among(conn, literal(value), AWKWARD[:-1]))).scalar() for value in near]
        empty = conn.execute(select(_among(conn, literal("x"), []))).scalar()
    store.close()
    assert found == [True] * len(AWKWARD)
    assert missed == [False] * len(near)
    assert empty is False


def test_a_look_up_of_a_value_with_a_nul_character_is_refused_by_name(store_url, key_file):
    """PostgreSQL text cannot hold a NUL, and SQLite's json_each cut the value at it: a silent miss."""
    store = Store(store_url, key_file=key_file)
    with (
        store.engine.connect() as conn,
        pytest.raises(StoreError, match="a look-up: value 'a\\\\x00b' holds a NUL character"),
    ):
        conn.execute(select(_among(conn, literal("a"), ["a", "a\x00b"])))
    store.close()


@pytest.mark.parametrize("dtype", [object, "str"])
def test_bulk_text_with_a_nul_character_is_refused_by_column_whatever_its_dtype(store_url, key_file, dtype):
    store = Store(store_url, key_file=key_file)
    table = sample_table()
    frame = pd.DataFrame({"id": [1, 2], "note": pd.Series(["fine", "cut\x00here"], dtype=dtype)})
    with store.engine.begin() as conn:
        table.create(conn)
    with store.engine.begin() as conn, pytest.raises(StoreError, match="sample.note: value 'cut\\\\x00here'"):
        StoreCore._bulk_insert_frame(conn, table, frame)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
    store.close()


def test_row_numbers_taken_first_are_never_given_out_again(store_url, key_file):
    """Numbers a bulk insert takes are above every stored one, and a later ordinary insert does not reuse them."""
    store = Store(store_url, key_file=key_file)
    first = store.add_respondent()
    with store.engine.begin() as conn:
        taken = _new_ids(conn, respondents, 5)
        stored = conn.execute(select(respondents.c.id)).scalars().all()
        StoreCore._bulk_insert_frame(
            conn,
            respondents,
            pd.DataFrame({"id": taken, "pseudonym": [f"r-{n}" for n in taken], "created_at": datetime(2026, 1, 1)}),
        )
        later = conn.execute(
            insert(respondents).values(pseudonym="r-later", created_at=datetime(2026, 1, 1)).returning(respondents.c.id)
        ).scalar()
    assert len(set(taken)) == 5 and min(taken) > max(stored)
    assert later > max(taken)
    assert store.cohorts([first, *(f"r-{n}" for n in taken), "r-later"]).keys() == {
        first,
        *(f"r-{n}" for n in taken),
        "r-later",
    }
    store.close()
