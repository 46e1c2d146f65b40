"""Foreign keys checked in one pass, instead of row by row, while PostgreSQL takes a large import.

PostgreSQL checks a foreign key for each inserted row, and for an import that costs more
server time than storing the rows: each check is a query that also locks the row it finds.
Its manual advises, for populating a database, to drop the foreign keys, load, and add
them back, which checks every row in one join ("Populating a Database", section
*Remove Foreign Key Constraints*). :func:`keys_checked_at_end` does that inside the
import's own transaction, so no other session ever sees a table without its keys:
``ALTER TABLE`` holds the tables until the commit, and a rollback puts the keys back as
they were. While it holds them, other sessions wait for the import (on SQLite a writer
always does; there, foreign keys are cheap and nothing changes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

BULK_KEY_ROWS = 10_000
"""Responses in an import's first chunk from which its foreign keys are checked in one pass."""

LOCK_WAIT = "2s"
"""How long an import waits for the tables before it checks row by row instead: a long reader
must not make every other session queue behind the import's lock."""


@contextmanager
def keys_checked_at_end(conn: Connection, tables: Sequence[str]) -> Iterator[bool]:
    """Inside the block the foreign keys of ``tables`` are off; at its end they are added back and checked at once.

    Parameters
    ----------
    conn : Connection
        In the open write transaction of the import.
    tables : sequence of str
        Tables whose own foreign keys are taken off (those referencing them stay).

    Yields
    ------
    bool
        Whether the keys were taken off: False on SQLite, and when another session
        held one of the tables for longer than LOCK_WAIT (rows are then checked one by one).

    Raises
    ------
    sqlalchemy.exc.IntegrityError
        At the end, if a row loaded in the block has no row to refer to; the
        transaction is then rolled back whole.
    """
    if conn.dialect.name != "postgresql":
        yield False
        return
    keys = conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%(tables)s::regclass[]) ORDER BY conrelid, conname",
        {"tables": list(tables)},
    ).all()
    waited = conn.exec_driver_sql("SHOW lock_timeout").scalar()
    attempt = conn.begin_nested()
    try:
        conn.exec_driver_sql("SELECT set_config('lock_timeout', %(wait)s, true)", {"wait": LOCK_WAIT})
        for table, name, _ in keys:
            conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        attempt.rollback()
        yield False
        return
    attempt.commit()
    conn.exec_driver_sql("SELECT set_config('lock_timeout', %(wait)s, true)", {"wait": waited})
    yield True
    for table, name, definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
