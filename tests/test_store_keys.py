"""A large import checks its foreign keys in one pass on PostgreSQL, and every key is back afterwards."""

from __future__ import annotations

from contextlib import contextmanager

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from kantelmeter.store import answer_table, bulk
from kantelmeter.store.keys import keys_checked_at_end

KEYS = """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
          WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[])) ORDER BY 1, 2"""


def foreign_keys(store, tables):
    with store.engine.connect() as conn:
        return conn.execute(text(KEYS), {"tables": tables}).all()


def responses_of(n: int) -> pd.DataFrame:
    return pd.DataFrame({"respondent": [f"r{i}" for i in range(n)], "got_help": [1 + i % 2 for i in range(n)]})


@pytest.fixture
def taken_off(monkeypatch):
    """Imports of more than 5 rows check their keys at the end; what each import found: (keys off, keys inside)."""
    monkeypatch.setattr(bulk, "BULK_KEY_ROWS", 5)
    seen = []

    @contextmanager
    def watched(conn, tables):
        with keys_checked_at_end(conn, tables) as off:
            seen.append((off, conn.execute(text(KEYS), {"tables": tables}).all()))
            yield off

    monkeypatch.setattr(bulk, "keys_checked_at_end", watched)
    return seen


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_a_large_import_puts_back_every_key_and_erasure_still_cascades(store, sample_instrument, taken_off):
    store.register_instrument(sample_instrument)
    tables = ["responses", answer_table(sample_instrument).name]
    before = foreign_keys(store, tables)
    assert len(before) == 4  # respondent, instrument version and batch; the answers' response
    assert store.add_responses(sample_instrument, "intake", responses_of(20)) == 20
    assert taken_off == [(True, [])]  # off inside the import's transaction ...
    assert foreign_keys(store, tables) == before  # ... and back, the same, after it
    store.erase(store.responses(sample_instrument)["respondent"].iloc[3])
    with store.engine.connect() as conn:
        left = conn.execute(text(f"SELECT count(*) FROM {tables[1]}")).scalar()
    assert left == 19 and len(store.responses(sample_instrument)) == 19


def test_a_row_without_its_response_is_refused_and_nothing_is_kept(store, sample_instrument):
    # On PostgreSQL the orphan is found when the keys come back, on SQLite at once: either way all is rolled back.
    store.register_instrument(sample_instrument)
    table = answer_table(sample_instrument).name
    with pytest.raises(IntegrityError):
        with store.engine.begin() as conn, keys_checked_at_end(conn, ["responses", table]) as off:
            assert off is (conn.dialect.name == "postgresql")
            conn.execute(text(f"INSERT INTO {table} (response_id, got_help) VALUES (999, 1)"))
    with store.engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    if store.engine.dialect.name == "postgresql":
        assert len(foreign_keys(store, ["responses", table])) == 4


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_an_import_checks_row_by_row_when_another_session_holds_the_table(store, sample_instrument, taken_off):
    # A long reader (an analyst's open transaction) must not make the import, and everyone queued behind its lock,
    # wait: after LOCK_WAIT the import goes on with its keys in place.
    store.register_instrument(sample_instrument)
    reader = create_engine(store.url)
    with reader.connect() as other, other.begin():
        other.execute(text("LOCK TABLE responses IN ACCESS SHARE MODE"))
        assert store.add_responses(sample_instrument, "intake", responses_of(20)) == 20
    reader.dispose()
    assert [off for off, _ in taken_off] == [False]
    assert len(store.responses(sample_instrument)) == 20
