"""The core of the store: connection, transactions, pseudonymisation key, instruments and respondents."""

from __future__ import annotations

import getpass
import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table, any_, bindparam, cast, func, insert, select, true
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import UserDefinedType

from kantelmeter.instruments import Instrument
from kantelmeter.privacy import Pseudonymiser
from kantelmeter.store.errors import NotInStore, StoreError
from kantelmeter.store.pgcopy import column_kinds, copy_data
from kantelmeter.store.schema import (
    IDENTIFIER_PRIORITY,
    SCHEMA_VERSION,
    UPGRADE_HINT,
    _engine,
    _now,
    _schema_at,
    answer_table,
    audit,
    instruments,
    respondents,
    responses_table,
    schema_versions,
    writer_lock,
)

KEY_ACTIONS = ("key_fingerprint", "adopt_key")
KEY_FINGERPRINT_KIND, KEY_FINGERPRINT_TEXT = "key_fingerprint", "kantelmeter"
_AUDIT_ROW = insert(audit)  # built once: every write logs, and building a statement costs more than running it


BULK_CHUNK = 20_000  # rows per bulk insert call: large enough to be fast, small enough to bound memory
BULK_CELLS = 200_000  # values per bulk insert call of a wide table: its rows as Python tuples take about 7 MB


def bulk_rows(columns: int) -> int:
    """Rows per bulk insert call of a table with this many columns: BULK_CHUNK, fewer for a wide table.

    >>> bulk_rows(3), bulk_rows(41)
    (20000, 4878)
    """
    return max(1, min(BULK_CHUNK, BULK_CELLS // columns))


def _chunks(rows: Iterable, size: int = BULK_CHUNK) -> Iterator[list]:
    """Rows in lists of ``size``, so a bulk insert never holds everything twice."""
    rows = iter(rows)
    # islice fills each list in C: a Python loop over millions of answers cost seconds.
    while chunk := list(islice(rows, size)):
        yield chunk


class StoreCore:
    """The store's connection, key check, schema check, instruments and respondents.

    The facade :class:`kantelmeter.store.Store` adds the other concerns; its
    docstring describes the parameters.
    """

    def __init__(
        self,
        url: str = "sqlite:///kantelmeter.db",
        key_file: str | Path | None = None,
        actor: str | None = None,
        adopt_new_key: bool = False,
    ):
        self.url = url
        self.engine: Engine = _engine(url)
        self._writers = writer_lock(url)
        self._importing = threading.local()  # this thread's import transaction, which its own reads share
        self._pseudonymiser = Pseudonymiser(key_file)
        self._key_checked = False
        self._adopt_new_key = adopt_new_key
        self.actor = actor or getpass.getuser()
        self._instruments: dict[tuple[str, str], Instrument] = {}
        self._open_schema()
        if self._recorded_key() is not None:
            self._check_key()  # a store that has pseudonymised before: refuse a wrong key before any work

    # --- the pseudonymisation key ---------------------------------------------

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        """The pseudonymiser, once its key is checked against the fingerprint this store recorded."""
        if not self._key_checked:
            self._check_key()
        return self._pseudonymiser

    def _recorded_key(self, conn: Connection | None = None) -> tuple[str, str] | None:
        """The (fingerprint, key file) of the key in use, from the latest key entry of the audit log."""
        query = select(audit.c.detail).where(audit.c.action.in_(KEY_ACTIONS)).order_by(audit.c.id.desc()).limit(1)
        if conn is None:
            with self._read() as conn:
                detail = conn.execute(query).scalar()
        else:
            detail = conn.execute(query).scalar()
        if detail is None:
            return None
        fingerprint, _, key_file = detail.partition(" ")
        return fingerprint, key_file

    def _check_key(self, conn: Connection | None = None) -> None:
        """Record the key's fingerprint on first use; refuse another key unless adopting it was asked for.

        The fingerprint is the keyed hash (the pseudonym function itself) of a constant: it shows
        whether two keys are the same without revealing either. It lives in the append-only audit
        log, so a change of key is itself on record. Inside a write, ``conn`` is that transaction.
        """
        recorded = self._recorded_key(conn)
        key_file = self._pseudonymiser.key_file
        if recorded is not None and not key_file.exists() and not self._adopt_new_key:
            raise StoreError(self._wrong_key(recorded, f"the key file {key_file} does not exist"))
        fingerprint = self._pseudonymiser.pseudonymise(KEY_FINGERPRINT_KIND, KEY_FINGERPRINT_TEXT)
        if recorded is None or (recorded[0] != fingerprint and self._adopt_new_key):
            action = "key_fingerprint" if recorded is None else "adopt_key"
            with nullcontext(conn) if conn is not None else self._write() as writing:
                self._log(writing, action, detail=f"{fingerprint} {key_file}"[:255])
        elif recorded[0] != fingerprint:
            raise StoreError(self._wrong_key(recorded, f"the key file {key_file} holds another key"))
        self._key_checked = True

    def _pseudonymise(self, conn: Connection, kind: str, value: str, where: str = "") -> str:
        """A pseudonym made inside a write transaction, the key checked in that same transaction."""
        if not self._key_checked:
            self._check_key(conn)
        return self._pseudonymiser.pseudonymise(kind, value, where=where)

    def _wrong_key(self, recorded: tuple[str, str], found: str) -> str:
        return (
            f"{self!r} was pseudonymised with the key in {recorded[1] or 'another key file'}, but {found}. "
            "With another key the same BSN, name or client number gets another pseudonym, so new responses "
            "would not link to the respondents already stored. Point --key-file or KANTELMETER_KEY_FILE at "
            "the original key file (restore it from its backup). Only if it is lost for good: open the store "
            "with adopt_new_key=True (--adopt-new-key); respondents stored before then stay unlinked."
        )

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # --- transactions ---------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writers, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction; inside an import (:meth:`_import`), on the same thread, the import's own.

        An import's chunks are checked against the store while it writes: in its transaction
        they see the chunks it stored before, and on PostgreSQL they do not wait for the tables
        it holds (:mod:`kantelmeter.store.keys`).
        """
        importing = getattr(self._importing, "conn", None)
        if importing is not None:
            yield importing
            return
        with self.engine.connect().execution_options(read_only=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _import(self) -> Iterator[Connection]:
        """The write transaction of an import, which this thread's reads share until it ends."""
        with self._write() as conn:
            self._importing.conn = conn
            self._importing.last_response = conn.execute(
                select(func.coalesce(func.max(responses_table.c.id), 0))
            ).scalar()
            try:
                yield conn
            finally:
                self._importing.conn = None

    def _stored_before_import(self) -> Any:
        """The condition that a response was stored before this thread's import began (true outside one).

        A chunk is checked against the store as it was, so that a respondent repeated across two
        chunks is reported with both rows rather than as already stored.
        """
        if getattr(self._importing, "conn", None) is None:
            return true()
        return responses_table.c.id <= self._importing.last_response

    def _open_schema(self) -> None:
        """Create a new store at the latest schema; refuse one at an older schema instead of migrating it."""
        with self._write() as conn:
            current = _schema_at(conn, create=True)
        if current < SCHEMA_VERSION:
            raise StoreError(
                f"the database {self!r} has schema version {current}, older than this kantelmeter "
                f"uses ({SCHEMA_VERSION}); nothing was read or changed. To bring it up to date, " + UPGRADE_HINT
            )

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._read() as conn:
            return conn.execute(select(func.max(schema_versions.c.version))).scalar()

    def _log(
        self, conn: Connection, action: str, object_id: Any = None, detail: str | None = None, actor: str | None = None
    ) -> None:
        row = {"at": _now(), "actor": (actor or self.actor)[:64], "action": action, "detail": detail}
        conn.execute(_AUDIT_ROW, row | {"object": None if object_id is None else str(object_id)})

    # --- instruments ----------------------------------------------------------

    def register_instrument(self, instrument: Instrument, actor: str | None = None) -> None:
        """Record an instrument version; registering the same version again is a no-op.

        Raises
        ------
        StoreError
            If this id and version are registered with a different content:
            a changed questionnaire needs a new ``version``.
        """
        definition = instrument.model_dump_json()
        digest = hashlib.sha256(definition.encode()).hexdigest()
        key = (instrument.id, instrument.version)
        stored = select(instruments.c.sha256).where(
            instruments.c.id == instrument.id, instruments.c.version == instrument.version
        )
        try:
            with self._write() as conn:
                known = conn.execute(stored).scalar()
                if known is None:
                    conn.execute(
                        insert(instruments).values(
                            id=instrument.id,
                            version=instrument.version,
                            definition=definition,
                            sha256=digest,
                            registered_at=_now(),
                        )
                    )
                    answer_table(instrument).create(conn)
                    self._log(conn, "register_instrument", f"{instrument.id} {instrument.version}", actor=actor)
        except IntegrityError:  # another process registered it at the same moment
            with self._read() as conn:
                known = conn.execute(stored).scalar()
        if known is not None and known != digest:
            raise StoreError(
                f"instrument {instrument.id!r} version {instrument.version!r} is already "
                "registered with different content; give the changed instrument a new version"
            )
        self._instruments[key] = instrument

    def instrument(self, instrument_id: str, version: str | None = None) -> Instrument:
        """A registered instrument; the most recently registered version unless ``version`` is given."""
        if version is not None and (instrument_id, version) in self._instruments:
            return self._instruments[(instrument_id, version)]
        query = select(instruments.c.version, instruments.c.definition).where(instruments.c.id == instrument_id)
        if version is not None:
            query = query.where(instruments.c.version == version)
        with self._read() as conn:
            row = conn.execute(query.order_by(instruments.c.registered_at.desc()).limit(1)).first()
        if row is None:
            raise NotInStore(
                f"instrument {instrument_id!r}{'' if version is None else f' version {version!r}'} "
                "is not registered in this store; register it with register_instrument()"
            )
        loaded = Instrument.model_validate_json(row.definition)
        self._instruments[(instrument_id, row.version)] = loaded
        return loaded

    def _resolve(self, instrument: Instrument | str) -> Instrument:
        if isinstance(instrument, Instrument):
            if self._instruments.get((instrument.id, instrument.version)) != instrument:
                self.register_instrument(instrument)
            return instrument
        return self.instrument(instrument)

    # --- respondents ----------------------------------------------------------

    def pseudonym(self, kind: str, value: str) -> str:
        """The pseudonym of an identifier (``kind`` bsn, client_number or name).

        Raises :class:`kantelmeter.privacy.BSNError` for a BSN that fails the
        eleven-test.
        """
        return self.pseudonymiser.pseudonymise(kind, value)

    def add_respondent(
        self, cohort: str | None = None, identifiers: Mapping[str, str] | None = None, actor: str | None = None
    ) -> str:
        """Add a respondent (or find the one these identifiers belong to) and return the pseudonym.

        Parameters
        ----------
        cohort : str, optional
            For example ``"pilot"`` or ``"regular"``.
        identifiers : mapping, optional
            Kind (``bsn``, ``client_number``, ``name``) to value. The pseudonym
            is the keyed HMAC of the first kind present in that order, so the
            same BSN always gives the same pseudonym; the values themselves are
            never stored. Without identifiers the pseudonym is random.

        Raises
        ------
        StoreError
            If the respondent exists with another cohort.
        """
        if identifiers:
            unknown = set(identifiers) - set(IDENTIFIER_PRIORITY)
            if unknown:
                raise StoreError(
                    f"unknown identifier kind {sorted(unknown)}; allowed: {', '.join(IDENTIFIER_PRIORITY)}"
                )
            kind = next(k for k in IDENTIFIER_PRIORITY if k in identifiers)
            pseudonym = self.pseudonym(kind, identifiers[kind])
        else:
            pseudonym = "r-" + secrets.token_hex(10)
        try:
            with self._write() as conn:
                self._respondent_ids(conn, {pseudonym: cohort}, actor)
        except IntegrityError:
            # Another request added the same identifier at the same moment; it exists now, so check its cohort.
            with self._write() as conn:
                self._respondent_ids(conn, {pseudonym: cohort}, actor)
        return pseudonym

    @staticmethod
    def _known_respondents(conn: Connection, pseudonyms: Iterable[str]) -> dict[str, tuple[int, str | None]]:
        """Pseudonym to (internal number, cohort) for those of these pseudonyms the store has."""
        return {
            row.pseudonym: (row.id, row.cohort)
            for row in conn.execute(
                select(respondents.c.pseudonym, respondents.c.id, respondents.c.cohort).where(
                    _among(conn, respondents.c.pseudonym, pseudonyms)
                )
            )
        }

    def _respondent_ids(self, conn: Connection, cohorts: Mapping[str, str | None], actor: str | None) -> dict[str, int]:
        """Internal numbers of these pseudonyms, adding the new ones with their cohort."""
        existing = self._known_respondents(conn, cohorts)
        conflicts = [
            (p, existing[p][1], c)
            for p, c in cohorts.items()
            if p in existing and c is not None and existing[p][1] is not None and existing[p][1] != c
        ]
        if conflicts:
            shown = "; ".join(f"respondent {p}: stored cohort {old!r}, given {new!r}" for p, old, new in conflicts[:5])
            raise StoreError(f"{len(conflicts)} respondent(s) already belong to another cohort: {shown}")
        ids = {p: existing[p][0] for p in existing}
        new = [p for p in cohorts if p not in existing]
        if new:
            now = _now()
            numbers = _new_ids(conn, respondents, len(new))
            self._bulk_insert_frame(
                conn,
                respondents,
                pd.DataFrame(
                    {
                        "id": numbers,
                        "pseudonym": pd.Series(new, dtype=object),
                        "cohort": pd.Series([cohorts[p] for p in new], dtype=object),
                        "created_at": pd.Series(now, index=range(len(new))),
                    }
                ),
            )
            ids.update(zip(new, numbers))
            self._log(conn, "add_respondent", ids[new[0]] if len(new) == 1 else None, f"{len(new)} added", actor)
        return ids

    def cohorts(self, pseudonyms: Iterable[str]) -> dict[str, str | None]:
        """The cohort of each of these respondents that the store knows."""
        with self._read() as conn:
            return dict(
                conn.execute(
                    select(respondents.c.pseudonym, respondents.c.cohort).where(
                        _among(conn, respondents.c.pseudonym, pseudonyms)
                    )
                ).all()
            )

    @staticmethod
    def _bulk_insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
        """Insert the rows of a frame whose columns are named as the table's, blanks (NaN, None) as NULL.

        On PostgreSQL the rows go as binary COPY data made a column at a time (:mod:`kantelmeter.store.pgcopy`):
        writing 4 million answers a row at a time (``write_row``) cost more client time than the server's work.
        """
        for name, column in frame.items():
            if pd.api.types.is_string_dtype(column.dtype):  # object columns and pandas' own strings alike
                _refuse_nul(column.dropna(), f"{table.name}.{name}")
        if conn.dialect.name != "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            for block in _frame_blocks(frame, bulk_rows(frame.shape[1])):
                _sqlite_insert(cursor, table, block)
            cursor.close()
            return
        columns = list(frame.columns)
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({_quoted(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            # Blocks of BULK_CHUNK rows, whatever their width: encoding a block costs a little per column.
            for data in copy_data(_frame_blocks(frame, BULK_CHUNK), column_kinds(table, columns)):
                copy.write(data)
        cursor.close()

    @staticmethod
    def _bulk_insert(conn: Connection, table: Table, columns: list[str], rows: Iterable[tuple]) -> None:
        """Insert many rows through the driver's own bulk path: COPY on PostgreSQL, executemany on SQLite.

        Both run inside the open transaction, so a failure or a killed process leaves nothing.
        """
        names = _quoted(columns)
        size = bulk_rows(len(columns))
        cursor = conn.connection.driver_connection.cursor()
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for chunk in _chunks(rows, size):
                    for row in chunk:
                        copy.write_row(row)
        else:
            statement = _insert_statement(table, columns)
            for chunk in _chunks(rows, size):
                cursor.executemany(statement, chunk)
        cursor.close()


def _among(conn: Connection, column: Any, values: Iterable[str]) -> Any:
    """The condition that ``column`` is one of ``values``, with all values bound as one parameter.

    A lookup of a whole import's respondents was hundreds of IN lists of 500 parameters, each
    expanded by SQLAlchemy; one array (PostgreSQL) or one JSON text read by ``json_each``
    (SQLite, built in since 3.38) does it in a single statement. The array goes as the text of
    an array literal, made by joining strings: the driver built a bound list one value at a
    time in Python, a third of a second for an import of 100,000 respondents.
    """
    values = list(dict.fromkeys(values))
    _refuse_nul(values, "a look-up")
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("among", _array_literal(values), type_=ArrayText()))
    return column.in_(select(func.json_each(json.dumps(values)).table_valued("value").c.value))


def _refuse_nul(values: Iterable[str] | pd.Series, where: str) -> None:
    """Refuse text with a NUL character: PostgreSQL cannot hold one and SQLite's JSON functions cut text at it.

    A column of pandas' own strings is searched by Arrow, in C; iterating it from Python cost 0.4 s
    for an import of 100,000 responses.

    >>> _refuse_nul(["a", "b"], "respondents.cohort")
    >>> _refuse_nul(pd.Series(["a", "b\\x00"], dtype="string"), "respondents.cohort")
    Traceback (most recent call last):
    kantelmeter.store.errors.StoreError: respondents.cohort: value 'b\\x00' holds a NUL character; allowed: text without NUL characters
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype):
        held = values[values.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool)].tolist()
    else:
        values = [str(value) for value in values]
        # one pass in C; the value is looked for only when there is one
        held = [value for value in values if "\x00" in value] if "\x00" in "".join(values) else []
    if held:
        raise StoreError(f"{where}: value {held[0]!r} holds a NUL character; allowed: text without NUL characters")


class ArrayText(UserDefinedType):
    """A parameter holding the text of a PostgreSQL array of strings, sent as it is and read as ``varchar[]``.

    The text is the array parameter itself, which the server reads as one constant; cast from a
    text parameter instead it is no constant, and ANY compares each row with every element.
    """

    cache_ok = True
    render_bind_cast = True

    def get_col_spec(self, **kw: Any) -> str:
        return "VARCHAR[]"


ARRAY_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
"""What an element of a PostgreSQL array literal needs escaped inside its double quotes."""


def _array_literal(values: list[str]) -> str:
    r"""The text form of a PostgreSQL array of these strings, each quoted (so none reads as NULL).

    The values are escaped as one joined text, in C: a Python step per value cost a microsecond,
    a third of a second for the look-ups of an import of 100,000 respondents. They are joined by
    NUL, which no PostgreSQL text can hold (:func:`_among` refuses a value with one).

    >>> print(_array_literal(["r-1", 'a"b', "c\\d", "NULL"]))
    {"r-1","a\"b","c\\d","NULL"}
    >>> _array_literal([])
    '{}'
    """
    joined = "\x00".join(values)
    return '{"' + joined.translate(ARRAY_ESCAPES).replace("\x00", '","') + '"}' if values else "{}"


FETCH_ROWS = 100_000  # rows per fetchmany: a read never holds more than one block of driver tuples
WIDE_FETCH_CELLS = 100_000  # answers per fetchmany of a wide answer table: about 4 MB of Python floats


def _driver_blocks(conn: Connection, query: Any, rows: int = FETCH_ROWS) -> Iterator[list[tuple]]:
    """The rows of a query fetched by the driver's own cursor, as lists of at most FETCH_ROWS plain tuples.

    For millions of answers, building SQLAlchemy rows cost as much as the fetch itself, and fetching
    them all at once held every tuple in memory; the query is still composed and bound by SQLAlchemy,
    so no value is pasted into SQL text.
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    driver = conn.connection.driver_connection
    # PostgreSQL sends numbers in binary, sparing the server their formatting and the client their parsing;
    # a named (server-side) cursor sends the rows a block at a time instead of all at once.
    cursor = (
        driver.cursor(name=f"kantelmeter_{secrets.token_hex(4)}", binary=True)
        if conn.dialect.name == "postgresql"
        else driver.cursor()
    )
    try:
        cursor.execute(str(compiled), params)
        while block := cursor.fetchmany(rows):
            yield block
    finally:
        cursor.close()


def _new_ids(conn: Connection, table: Table, rows: int) -> list[int]:
    """Numbers for ``rows`` new rows of a table with an ``id`` key, taken before the rows are written.

    A bulk insert gives its rows these numbers, so that it need not read them back: for an import
    of 100,000 respondents, reading back which number each pseudonym got cost a third of a second.
    PostgreSQL takes them from the column's sequence, as its default would, so concurrent writers
    never get the same; SQLite, under the write lock, continues above the largest, as it would.
    """
    if conn.dialect.name == "postgresql":
        # The sequence is looked up once: as an argument of nextval its lookup ran for every number.
        sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, "id"))).scalar()
        # One array rather than a row per number: reading 100,000 rows cost the client ten times as much.
        numbers = select(func.array_agg(func.nextval(cast(sequence, REGCLASS)))).select_from(
            func.generate_series(1, rows)
        )
        return conn.execute(numbers).scalar() or []
    largest = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar()
    return list(range(largest + 1, largest + 1 + rows))


def _frame_blocks(frame: pd.DataFrame, size: int) -> Iterator[pd.DataFrame]:
    """The frame in blocks of ``size`` rows, so a bulk insert converts one block at a time."""
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]


def _insert_statement(table: Table, columns: list[str]) -> str:
    """The driver-level INSERT of these columns for SQLite, one ``?`` per column."""
    return f"INSERT INTO {table.name} ({_quoted(columns)}) VALUES ({', '.join('?' * len(columns))})"


NARROW_ROWS = 3
"""Columns that differ between rows up to which a block goes to SQLite as one JSON array (see _sqlite_insert)."""


def _sqlite_insert(cursor: Any, table: Table, block: pd.DataFrame) -> None:
    """Insert a block of rows into a SQLite table with the driver's cursor.

    When at most NARROW_ROWS columns differ between the rows (responses and respondents of an
    import share their instrument, occasion, status and time), the columns all rows share are
    bound once and the others are read by ``json_each`` from one JSON array: binding every
    value of every row cost twice the insert. Other blocks (answers) go by ``executemany``.

    >>> import sqlite3
    >>> from sqlalchemy import MetaData
    >>> db = sqlite3.connect(":memory:")
    >>> _ = db.execute("CREATE TABLE r (id INTEGER, occasion TEXT, note TEXT)")
    >>> rows = pd.DataFrame({"id": [1, 2], "occasion": "intake", "note": ["a\tb", None]})
    >>> _sqlite_insert(db.cursor(), Table("r", MetaData()), rows)
    >>> db.execute("SELECT * FROM r").fetchall()
    [(1, 'intake', 'a\tb'), (2, 'intake', None)]
    """
    values = {name: _sqlite_values(column) for name, column in block.items()}
    varying: list[str] = []
    for name, column in values.items():
        if column.count(column[0]) != len(column):  # counted in C: a shared column is compared in full
            varying.append(name)
        if len(varying) > NARROW_ROWS or block[name].dtype.kind == "f":  # a NaN has no JSON: bind floats
            cursor.executemany(_insert_statement(table, list(values)), zip(*values.values()))
            return
    rows = list(zip(*(values[name] for name in varying))) if varying else [()] * len(block)
    chosen = [f"value ->> {varying.index(name)}" if name in varying else "?" for name in values]
    shared = [values[name][0] for name in values if name not in varying]
    statement = f"INSERT INTO {table.name} ({_quoted(list(values))}) SELECT {', '.join(chosen)} FROM json_each(?)"
    cursor.execute(statement, [*shared, json.dumps(rows)])


SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
"""How SQLAlchemy writes a DateTime on SQLite; bulk rows use the same text, so every stored time reads alike."""


def _sqlite_values(column: pd.Series) -> list:
    """A column's values as SQLite's driver binds them.

    Plain numbers go as they are: SQLite stores a NaN as NULL. A time is written once per
    distinct value (an import's rows mostly share one), other blanks go as None. A column at
    a time: a row at a time, with blanks found cell by cell, cost more than the insert itself.

    >>> _sqlite_values(pd.Series(["x", None])), _sqlite_values(pd.to_datetime(pd.Series(["2026-01-02 03:04", None])))
    (['x', None], ['2026-01-02 03:04:00.000000', None])
    """
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iufb":
        return column.tolist()
    if column.dtype.kind == "M":
        codes, distinct = pd.factorize(column)  # NaT gets code -1: the None appended last
        return np.array([*distinct.strftime(SQLITE_DATETIME), None], dtype=object)[codes].tolist()
    return column.astype(object).where(column.notna(), None).tolist()


def _quoted(columns: list[str]) -> str:
    """Column names for driver-level SQL, quoted because one of them is named "column"."""
    return ", ".join(f'"{c}"' for c in columns)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
