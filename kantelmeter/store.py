"""The response store: the only module that speaks SQL.

A :class:`Store` keeps instruments, respondents (by pseudonym only),
responses, answers, invitations, users and an append-only audit log in a
relational database through SQLAlchemy Core. SQLite is the default (one file,
write-ahead log, foreign keys on); a team points ``url`` at PostgreSQL
(``postgresql+psycopg://user@host/db``).

Privacy by construction
-----------------------
* Respondents are known by a pseudonym. :meth:`Store.add_respondent` derives
  it from an identifier (BSN, client number, name) with the keyed HMAC of
  :class:`kantelmeter.privacy.Pseudonymiser`; the key lives in a file outside
  the database, so the same BSN always gives the same pseudonym and the
  database alone cannot be reversed.
* Answers to identifier items (``identifier: bsn | name | client_number`` in
  the instrument) are pseudonymised by :meth:`Store.save_answers` and
  :meth:`Store.add_responses` before they are written: no caller can store
  one in plain text by mistake, and the stored pseudonym still links records
  of the same person. A BSN failing the eleven-test is rejected.
* The audit log records who did what and when, naming objects by internal
  numbers (response id, respondent number), never by answer values,
  identifiers or pseudonyms, so an erased respondent leaves no trace that
  links back to them.

Concurrency
-----------
Every method is one transaction, safe to call from several threads or
processes at once. On SQLite, writing transactions start with
``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing half-way; on PostgreSQL the response row is locked with
``SELECT ... FOR UPDATE`` while answers are saved.

Examples
--------
>>> from kantelmeter import load_instrument
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
>>> soc = load_instrument("soc13")
>>> person = store.add_respondent(cohort="pilot")
>>> response = store.start_response(person, soc, "intake")
>>> store.save_answers(response, {"soc1": 5, "soc2": 3}, complete=True, submission="s-1")
True
>>> store.save_answers(response, {"soc1": 5, "soc2": 3}, complete=True, submission="s-1")  # a double click
False
>>> store.responses(soc)[["cohort", "soc1", "soc2", "soc3"]]
  cohort  soc1  soc2  soc3
0  pilot   5.0   3.0   NaN
"""

from __future__ import annotations

import getpass
import hashlib
import json
import math
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    any_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError

from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.privacy import Pseudonymiser

__all__ = ["ROLES", "Account", "DuplicateResponse", "Invitation", "ResponseInfo", "ResponseLocked", "SCHEMA_VERSION",
           "Store", "StoreError"]

SOURCES = ("web", "import", "interview")
ROLES = ("interviewer", "evaluator")
"""Who signs in: an interviewer administers questionnaires, an evaluator sees counts only."""
STATUSES = ("partial", "complete")
TEXT_TYPES = {ItemType.text, ItemType.date}
# Pseudonyms derived from identifiers are preferred in this order: the most stable identifier wins.
IDENTIFIER_PRIORITY = ("bsn", "client_number", "name")
META_COLUMNS = ["respondent", "occasion", "cohort", "collected_at"]
SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=8)
SESSION_TOUCH = timedelta(minutes=1)

metadata = MetaData()

schema_versions = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)
instruments = Table(
    "instruments", metadata,
    Column("id", String(64), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("definition", Text, nullable=False),  # the validated instrument as JSON
    Column("sha256", String(64), nullable=False),
    Column("registered_at", DateTime, nullable=False),
)
respondents = Table(
    "respondents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(64), nullable=False, unique=True),
    Column("cohort", String(64)),
    Column("created_at", DateTime, nullable=False),
)
batches = Table(
    "batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instrument", String(64), nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("instrument", "occasion", "sha256"),
)
responses_table = Table(
    "responses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("respondent_id", Integer, ForeignKey("respondents.id", ondelete="CASCADE"), nullable=False),
    Column("instrument", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("collected_at", DateTime),
    Column("status", String(8), nullable=False),
    Column("source", String(16), nullable=False),
    Column("batch_id", Integer, ForeignKey("batches.id")),
    ForeignKeyConstraint(["instrument", "version"], ["instruments.id", "instruments.version"]),
    UniqueConstraint("respondent_id", "instrument", "occasion"),
    CheckConstraint(f"status IN {STATUSES}", name="response_status"),
    CheckConstraint(f"source IN {SOURCES}", name="response_source"),
)
answers_table = Table(
    "answers", metadata,
    Column("response_id", Integer, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("column", String(64), primary_key=True),
    Column("value_numeric", Float),
    Column("value_text", Text),
    sqlite_with_rowid=False,  # stored in key order: faster bulk inserts and reads by response
)
_column = answers_table.c["column"]  # named like the wide column it holds; "column" is quoted in SQL
submissions = Table(
    "submissions", metadata,
    Column("response_id", Integer, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("saved_at", DateTime, nullable=False),
)
invitations = Table(
    "invitations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("respondent_id", Integer, ForeignKey("respondents.id", ondelete="CASCADE"), nullable=False),
    Column("instrument", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    ForeignKeyConstraint(["instrument", "version"], ["instruments.id", "instruments.version"]),
)
users = Table(
    "users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("role", String(16), nullable=False, server_default="interviewer"),  # since schema version 2
)
sessions = Table(
    "sessions", metadata,
    Column("id_sha256", String(64), primary_key=True),  # the cookie holds the id; only its hash is kept
    Column("username", String(64), ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)
interviews = Table(
    "interviews", metadata,  # who started an interview response: only they may open it
    Column("response_id", Integer, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("interviewer", String(64), nullable=False),
)
audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("object", String(64)),
    Column("detail", String(255)),
)


class StoreError(Exception):
    """A request the store cannot carry out; the message says why."""


class ResponseLocked(StoreError):
    """A complete response is final: it can no longer be changed."""


class DuplicateResponse(StoreError, ValueError):
    """A respondent already has a response to this instrument at this occasion."""


@dataclass(frozen=True)
class Invitation:
    """What an invitation token opens: one respondent, instrument and occasion.

    ``response`` is the id of the response begun with it (None before the
    first save) and ``status`` its state: None, ``"partial"`` or ``"complete"``.
    """

    respondent: str
    instrument: str
    version: str
    occasion: str
    cohort: str | None
    created_at: datetime
    response: int | None
    status: str | None


@dataclass(frozen=True)
class Account:
    """A signed-in user as a session names them: user name and role (one of :data:`ROLES`)."""

    username: str
    role: str


@dataclass(frozen=True)
class ResponseInfo:
    """Which respondent, instrument version and occasion a response belongs to, and its status."""

    respondent: str
    instrument: str
    version: str
    occasion: str
    status: str


# --- schema and migrations ---------------------------------------------------

def _migration_1(conn: Connection) -> None:
    """The first schema: every table, and an audit log that refuses updates and deletes."""
    metadata.create_all(conn, tables=[t for t in metadata.sorted_tables if t is not schema_versions
                                      and t.name not in VERSION_2_TABLES])
    if conn.dialect.name == "sqlite":
        for event_name in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER audit_no_{event_name.lower()} BEFORE {event_name} ON audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    else:
        conn.exec_driver_sql(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$")
        conn.exec_driver_sql("CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
                             "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        conn.exec_driver_sql("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
                             "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


VERSION_2_TABLES = ("sessions", "interviews")


def _migration_2(conn: Connection) -> None:
    """Accounts: a role per user, server-side sessions and who started each interview.

    A database made at version 1 gets the role column (existing users become
    interviewers, which is what they could do before); one created afresh has
    it from the first migration, which builds the tables as defined here.
    """
    if "role" not in {column["name"] for column in inspect(conn).get_columns("users")}:
        conn.exec_driver_sql("ALTER TABLE users ADD COLUMN role VARCHAR(16) NOT NULL DEFAULT 'interviewer'")
    metadata.create_all(conn, tables=[sessions, interviews])


# Schema changes are appended here as numbered functions; a database is brought
# up to date by running, in order, the ones it has not seen.
MIGRATIONS = {1: _migration_1, 2: _migration_2}


# --- survey rounds: schema (issue 13) -----------------------------------------
# A yearly survey round: its frame, sample, dispositions, letter invitations and
# weights, every row keyed by pseudonym. A frame row holds a stratum and the
# auxiliaries only, never a name, address or BSN. The tables have their own
# MetaData, so that the first migration (which creates everything in
# ``metadata``) stays as it was and this one adds them.
survey_metadata = MetaData()
DISPOSITION_CODES = ("moved", "deceased", "not_client", "refused", "no_contact")
LETTER_KINDS = ("letter", "reminder")
survey_rounds = Table(
    "survey_rounds", survey_metadata,
    Column("name", String(64), primary_key=True),
    Column("instrument", String(64), nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("id_kind", String(32), nullable=False),
    Column("strata", String(64)),
    Column("auxiliaries", Text, nullable=False),  # JSON list of names
    Column("created_at", DateTime, nullable=False),
    Column("seed", Integer),
    Column("sampled_at", DateTime),
)
survey_frame = Table(
    "survey_frame", survey_metadata,
    Column("round", String(64), ForeignKey("survey_rounds.name", ondelete="CASCADE"), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("stratum", String(128), nullable=False),
    Column("auxiliaries", Text, nullable=False),  # JSON object: auxiliary -> category
)
survey_sample = Table(
    "survey_sample", survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("inclusion_probability", Float, nullable=False),
    Column("design_weight", Float, nullable=False),
    ForeignKeyConstraint(["round", "pseudonym"], ["survey_frame.round", "survey_frame.pseudonym"], ondelete="CASCADE"),
)
survey_dispositions = Table(
    "survey_dispositions", survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("code", String(16), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    ForeignKeyConstraint(["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"),
    CheckConstraint(f"code IN {DISPOSITION_CODES}", name="disposition_code"),
)
survey_letters = Table(
    "survey_letters", survey_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round", String(64), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("invitation_id", Integer, ForeignKey(invitations.c.id, ondelete="CASCADE"), nullable=False),
    Column("code_hmac", String(64), nullable=False, unique=True),  # keyed HMAC of the login code, never the code
    Column("kind", String(8), nullable=False),
    Column("created_at", DateTime, nullable=False),
    ForeignKeyConstraint(["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"),
    CheckConstraint(f"kind IN {LETTER_KINDS}", name="letter_kind"),
)
survey_weights = Table(
    "survey_weights", survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("weight", Float, nullable=False),
    Column("method", String(16), nullable=False),
    ForeignKeyConstraint(["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"),
)
SURVEY_TABLES = [t.name for t in survey_metadata.sorted_tables]


def _migration_survey_rounds(conn: Connection) -> None:
    """Survey rounds: frame, sample, dispositions, letters and weights."""
    survey_metadata.create_all(conn)


MIGRATIONS[max(MIGRATIONS) + 1] = _migration_survey_rounds
# --- end of survey rounds: schema ---------------------------------------------
SCHEMA_VERSION = max(MIGRATIONS)


def _now() -> datetime:
    """The current time in UTC, stored without zone information (every stored time is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver must not open transactions itself: _sqlite_begin chooses the kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # Deleted rows are overwritten with zeros, so an erased respondent is not left in free pages.
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock at once: a deferred transaction that reads first and
    # writes later fails with 'database is locked' when another writer got in between.
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")


BULK_CHUNK = 20_000  # rows per bulk insert call: large enough to be fast, small enough to bound memory


def _chunks(rows: Iterable, size: int = BULK_CHUNK) -> Iterator[list]:
    """Rows in lists of ``size``, so a bulk insert never holds everything twice."""
    rows = iter(rows)
    # islice fills each list in C: a Python loop over millions of answers cost seconds.
    while chunk := list(islice(rows, size)):
        yield chunk


class Store:
    """Responses, respondents and invitations in SQLite or PostgreSQL.

    Parameters
    ----------
    url : str
        An SQLAlchemy URL: ``sqlite:///kantelmeter.db`` (the default) or
        ``postgresql+psycopg://user@host:port/database``.
    key_file : path, optional
        The pseudonymisation key, created on first use with mode 0600; see
        :class:`kantelmeter.privacy.Pseudonymiser` for the default location.
        Keep it outside the database and its backups.
    actor : str, optional
        Who is recorded in the audit log when a method is not given an
        ``actor`` itself; by default the operating-system user.

    Notes
    -----
    The schema is created or migrated to :data:`SCHEMA_VERSION` when the
    store is opened. Times are stored in UTC.
    """

    def __init__(self, url: str = "sqlite:///kantelmeter.db", key_file: str | Path | None = None,
                 actor: str | None = None):
        backend = make_url(url).get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(f"database {backend!r} in {make_url(url).render_as_string(hide_password=True)!r} is "
                             "not supported; use sqlite:///FILE or postgresql+psycopg://USER@HOST/DATABASE")
        self.url = url
        self.engine: Engine = create_engine(url, **({"connect_args": {"timeout": 30}} if backend == "sqlite" else {}))
        if backend == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self.pseudonymiser = Pseudonymiser(key_file)
        self.actor = actor or getpass.getuser()
        self._instruments: dict[tuple[str, str], Instrument] = {}
        self._migrate()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # --- transactions ---------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(read_only=True) as conn, conn.begin():
            yield conn

    def _migrate(self) -> None:
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                # Two processes opening a new database at once must not both create the tables.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
            schema_versions.create(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_versions.c.version))).scalar() or 0
            if current > SCHEMA_VERSION:
                raise StoreError(f"the database {self!r} has schema version {current}, newer than this "
                                 f"kantelmeter knows ({SCHEMA_VERSION}); upgrade kantelmeter")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](conn)
                conn.execute(insert(schema_versions).values(version=version, applied_at=_now()))

    def schema_version(self) -> int:
        """The schema version of the database."""
        with self._read() as conn:
            return conn.execute(select(func.max(schema_versions.c.version))).scalar()

    def _log(self, conn: Connection, action: str, object_id: Any = None, detail: str | None = None,
             actor: str | None = None) -> None:
        conn.execute(insert(audit).values(at=_now(), actor=(actor or self.actor)[:64], action=action,
                                          object=None if object_id is None else str(object_id),
                                          detail=detail))

    def log(self, action: str, object_id: Any = None, detail: str | None = None, actor: str | None = None) -> None:
        """Append an entry to the audit log (for example an export or a login).

        Never pass answer values, identifiers or pseudonyms: name objects by
        instrument id, response id or file type.
        """
        with self._write() as conn:
            self._log(conn, action, object_id, detail, actor)

    def audit_log(self) -> pd.DataFrame:
        """The audit log: columns at, actor, action, object, detail, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(audit.c.at, audit.c.actor, audit.c.action, audit.c.object,
                                       audit.c.detail).order_by(audit.c.id)).all()
        return pd.DataFrame(rows, columns=["at", "actor", "action", "object", "detail"])

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
        stored = select(instruments.c.sha256).where(instruments.c.id == instrument.id,
                                                   instruments.c.version == instrument.version)
        try:
            with self._write() as conn:
                known = conn.execute(stored).scalar()
                if known is None:
                    conn.execute(insert(instruments).values(id=instrument.id, version=instrument.version,
                                                            definition=definition, sha256=digest,
                                                            registered_at=_now()))
                    self._log(conn, "register_instrument", f"{instrument.id} {instrument.version}", actor=actor)
        except IntegrityError:  # another process registered it at the same moment
            with self._read() as conn:
                known = conn.execute(stored).scalar()
        if known is not None and known != digest:
            raise StoreError(f"instrument {instrument.id!r} version {instrument.version!r} is already "
                                 "registered with different content; give the changed instrument a new version")
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
            raise KeyError(f"instrument {instrument_id!r}{'' if version is None else f' version {version!r}'} "
                           "is not registered in this store; register it with register_instrument()")
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

    def add_respondent(self, cohort: str | None = None, identifiers: Mapping[str, str] | None = None,
                       actor: str | None = None) -> str:
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
                raise StoreError(f"unknown identifier kind {sorted(unknown)}; allowed: {', '.join(IDENTIFIER_PRIORITY)}")
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
        return {row.pseudonym: (row.id, row.cohort) for row in conn.execute(
            select(respondents.c.pseudonym, respondents.c.id, respondents.c.cohort)
            .where(_among(conn, respondents.c.pseudonym, pseudonyms)))}

    def _respondent_ids(self, conn: Connection, cohorts: Mapping[str, str | None],
                        actor: str | None) -> dict[str, int]:
        """Internal numbers of these pseudonyms, adding the new ones with their cohort."""
        existing = self._known_respondents(conn, cohorts)
        conflicts = [(p, existing[p][1], c) for p, c in cohorts.items()
                     if p in existing and c is not None and existing[p][1] is not None and existing[p][1] != c]
        if conflicts:
            shown = "; ".join(f"respondent {p}: stored cohort {old!r}, given {new!r}" for p, old, new in conflicts[:5])
            raise StoreError(f"{len(conflicts)} respondent(s) already belong to another cohort: {shown}")
        ids = {p: existing[p][0] for p in existing}
        new = [p for p in cohorts if p not in existing]
        if new:
            now = _now()
            # New rows get numbers above every number handed out before (SQLite under its write lock, PostgreSQL
            # by its sequence), so one range query finds them; rows other writers added meanwhile are skipped.
            before = conn.execute(select(func.coalesce(func.max(respondents.c.id), 0))).scalar()
            self._bulk_insert(conn, respondents, ["pseudonym", "cohort", "created_at"],
                              ((p, cohorts[p], now) for p in new))
            added = set(new)
            ids.update((p, number) for p, number in conn.execute(
                select(respondents.c.pseudonym, respondents.c.id).where(respondents.c.id > before)) if p in added)
            self._log(conn, "add_respondent", ids[new[0]] if len(new) == 1 else None, f"{len(new)} added", actor)
        return ids

    def cohorts(self, pseudonyms: Iterable[str]) -> dict[str, str | None]:
        """The cohort of each of these respondents that the store knows."""
        with self._read() as conn:
            return dict(conn.execute(select(respondents.c.pseudonym, respondents.c.cohort)
                                     .where(_among(conn, respondents.c.pseudonym, pseudonyms))).all())

    # --- responses and answers ------------------------------------------------

    def start_response(self, respondent: str, instrument: Instrument | str, occasion: str,
                       source: str = "web", actor: str | None = None) -> int:
        """Begin a response, or return the partial one this respondent already has.

        Parameters
        ----------
        respondent : str
            A pseudonym from :meth:`add_respondent` or an invitation.
        instrument : Instrument or str
            An Instrument (registered if needed) or a registered instrument id.
        occasion : str
            One of the instrument's occasions.
        source : {'web', 'import', 'interview'}

        Returns
        -------
        int
            The response id.

        Raises
        ------
        ResponseLocked
            If the respondent has already completed this instrument at this occasion.
        KeyError
            For an unknown respondent or occasion.
        """
        instrument = self._resolve(instrument)
        if occasion not in instrument.occasions:
            raise KeyError(f"occasion {occasion!r} is not one of {instrument.id}'s occasions: "
                           f"{', '.join(instrument.occasions)}")
        if source not in SOURCES:
            raise StoreError(f"source {source!r}; allowed: {', '.join(SOURCES)}")
        try:
            with self._write() as conn:
                respondent_id = self._respondent_id(conn, respondent)
                response_id = conn.execute(insert(responses_table).values(
                    respondent_id=respondent_id, instrument=instrument.id, version=instrument.version,
                    occasion=occasion, status="partial", source=source).returning(responses_table.c.id)).scalar()
                if source == "interview":
                    conn.execute(insert(interviews).values(response_id=response_id, interviewer=actor or self.actor))
                self._log(conn, "start_response", response_id, f"{instrument.id} {occasion}", actor)
                return response_id
        except IntegrityError:
            pass  # the respondent already has a response here: a retry, or another request won the race
        with self._read() as conn:
            row = conn.execute(select(responses_table.c.id, responses_table.c.status)
                               .join(respondents, respondents.c.id == responses_table.c.respondent_id)
                               .where(respondents.c.pseudonym == respondent,
                                      responses_table.c.instrument == instrument.id,
                                      responses_table.c.occasion == occasion)).one()
        if row.status == "complete":
            raise ResponseLocked(f"response {row.id}: this respondent has already completed {instrument.id} "
                                 f"at {occasion}")
        return row.id

    @staticmethod
    def _respondent_id(conn: Connection, pseudonym: str) -> int:
        found = conn.execute(select(respondents.c.id).where(respondents.c.pseudonym == pseudonym)).scalar()
        if found is None:
            raise KeyError(f"no respondent with pseudonym {pseudonym!r} in this store")
        return found

    def save_answers(self, response_id: int, answers: Mapping[str, Any], complete: bool = False,
                     submission: str | None = None, actor: str | None = None) -> bool:
        """Save answers to a response in one transaction.

        Parameters
        ----------
        response_id : int
            From :meth:`start_response`.
        answers : mapping
            Wide column (see ``Instrument.columns``) to value: a number for
            coded, score and number items (0/1 for a multiple-choice option
            column), a string for text items, an ISO date or ``datetime.date``
            for date items. ``None`` or NaN clears an answer. Answers to
            identifier items are replaced by their pseudonym before storage.
        complete : bool
            Mark the response complete, which locks it.
        submission : str, optional
            An idempotency key, for example a random id in the form: a second
            save with the same key (a retry or a double click) changes nothing.

        Returns
        -------
        bool
            True if saved, False if this submission was saved before.

        Raises
        ------
        ResponseLocked
            If the response is already complete.
        StoreError
            For a column the instrument does not have, or a value of the wrong type.
        """
        with self._write() as conn:
            query = select(responses_table.c.instrument, responses_table.c.version, responses_table.c.status)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query.where(responses_table.c.id == response_id)).first()
            if row is None:
                raise KeyError(f"no response with id {response_id}")
            if submission is not None and conn.execute(select(submissions.c.key).where(
                    submissions.c.response_id == response_id, submissions.c.key == submission)).first():
                return False
            if row.status == "complete":
                raise ResponseLocked(f"response {response_id} is complete and can no longer be changed")
            instrument = self.instrument(row.instrument, row.version)
            values = list(_answer_rows(instrument, self.pseudonymiser, {response_id: answers}))
            if answers:
                conn.execute(delete(answers_table).where(answers_table.c.response_id == response_id,
                                                         _column.in_(list(answers))))
            if values:
                conn.execute(insert(answers_table), [dict(zip(("response_id", "column", "value_numeric",
                                                               "value_text"), v)) for v in values])
            if submission is not None:
                conn.execute(insert(submissions).values(response_id=response_id, key=submission, saved_at=_now()))
            if complete:
                conn.execute(update(responses_table).where(responses_table.c.id == response_id)
                             .values(status="complete", collected_at=_now()))
            self._log(conn, "complete_response" if complete else "save_answers", response_id,
                      f"{len(answers)} columns", actor)
        return True

    def answers(self, response_id: int) -> dict[str, Any]:
        """The stored answers of one response: column to value (identifier answers as pseudonyms)."""
        with self._read() as conn:
            rows = conn.execute(select(_column, answers_table.c.value_numeric,
                                       answers_table.c.value_text)
                                .where(answers_table.c.response_id == response_id)).all()
        return {r.column: r.value_text if r.value_numeric is None else r.value_numeric for r in rows}

    def response_status(self, response_id: int) -> str:
        """``"partial"`` or ``"complete"``."""
        with self._read() as conn:
            status = conn.execute(select(responses_table.c.status).where(responses_table.c.id == response_id)).scalar()
        if status is None:
            raise KeyError(f"no response with id {response_id}")
        return status

    def response_info(self, response_id: int) -> ResponseInfo:
        """The respondent, instrument, occasion and status of a response (no answers).

        Raises
        ------
        KeyError
            For an unknown response id.
        """
        with self._read() as conn:
            row = conn.execute(select(respondents.c.pseudonym, responses_table.c.instrument, responses_table.c.version,
                                      responses_table.c.occasion, responses_table.c.status)
                               .join(respondents, respondents.c.id == responses_table.c.respondent_id)
                               .where(responses_table.c.id == response_id)).first()
        if row is None:
            raise KeyError(f"no response with id {response_id}")
        return ResponseInfo(*row)

    def add_responses(self, instrument: Instrument | str, occasion: str, frame: pd.DataFrame,
                      source: str = "import", batch: str | None = None, actor: str | None = None) -> int:
        """Add many complete responses in one transaction: all of them or none.

        Parameters
        ----------
        instrument : Instrument or str
        occasion : str
        frame : DataFrame
            Column ``respondent`` (pseudonyms), optionally ``cohort`` and
            ``collected_at``, and wide instrument columns holding checked
            values (see :func:`kantelmeter.io.validate_responses`).
        source : {'import', 'interview', 'web'}
        batch : str, optional
            A key of this batch, such as the SHA-256 of the imported file: a
            batch already stored for this instrument and occasion is skipped.

        Returns
        -------
        int
            The number of responses added (0 for a batch seen before).

        Raises
        ------
        DuplicateResponse
            If a respondent already has a response at this occasion.
        """
        instrument = self._resolve(instrument)
        unknown = set(frame.columns) - set(instrument.columns) - set(META_COLUMNS)
        if unknown:
            raise StoreError(f"columns {sorted(unknown)} are not columns of instrument {instrument.id!r}")
        if frame.empty:
            return 0
        items = {column: item for item in instrument.items for column in instrument.columns_of(item)}
        numeric = [c for c in frame.columns
                   if c in items and items[c].type not in TEXT_TYPES and not items[c].identifier]
        others = [c for c in frame.columns if c in items and c not in numeric]
        now = _now()
        cohorts = (frame["cohort"].astype(object).where(frame["cohort"].notna(), None)
                   if "cohort" in frame else pd.Series(None, index=frame.index, dtype=object))
        collected = (pd.to_datetime(frame["collected_at"], utc=True).dt.tz_localize(None)
                     if "collected_at" in frame else pd.Series(now, index=frame.index))
        try:
            with self._write() as conn:
                batch_id = None
                if batch is not None:
                    if self._batch_seen(conn, instrument.id, occasion, batch):
                        return 0
                    batch_id = conn.execute(insert(batches).values(
                        instrument=instrument.id, occasion=occasion, sha256=batch, rows=len(frame),
                        imported_at=now).returning(batches.c.id)).scalar()
                ids = self._respondent_ids(conn, dict(zip(frame["respondent"], cohorts)), actor)
                self._bulk_insert(conn, responses_table, ["respondent_id", "instrument", "version", "occasion",
                                                          "collected_at", "status", "source", "batch_id"],
                                  ((ids[p], instrument.id, instrument.version, occasion,
                                    None if pd.isna(t) else t.to_pydatetime(), "complete", source, batch_id)
                                   for p, t in zip(frame["respondent"], collected)))
                # Each respondent has one response per instrument and occasion, so the ids follow from it.
                response_of = dict(conn.execute(
                    select(responses_table.c.respondent_id, responses_table.c.id)
                    .where(responses_table.c.instrument == instrument.id,
                           responses_table.c.occasion == occasion)).all())
                response_ids = [response_of[ids[p]] for p in frame["respondent"]]
                # Text, date and identifier answers pass _answer_rows, the same gate as single saves.
                self._insert_answers(conn, _NumericAnswers.of(frame[numeric], response_ids), _answer_rows(
                    instrument, self.pseudonymiser, dict(zip(response_ids, frame[others].to_dict("records"))))
                    if others else ())
                self._log(conn, "add_responses", batch_id, f"{instrument.id} {occasion}: {len(frame)} responses",
                          actor)
        except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError) as exc:
            raise DuplicateResponse(f"some respondents already have a response to {instrument.id!r} at "
                                    f"{occasion!r}, or appear twice; nothing was added ({getattr(exc, 'orig', exc)})") from None
        return len(frame)

    @classmethod
    def _insert_answers(cls, conn: Connection, numeric: _NumericAnswers, others: Iterable[tuple]) -> None:
        """Insert answers in bulk: numeric ones by binary COPY (PostgreSQL) or executemany (SQLite), others per row."""
        columns = list(answers_table.c.keys())
        if conn.dialect.name == "postgresql":
            driver = conn.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY answers ({_quoted(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                for block in numeric.binary_copy(driver.info.encoding):
                    copy.write(block)
        else:
            # Leaving out the always-empty text column makes executemany about a third faster.
            cls._bulk_insert(conn, answers_table, columns[:3], numeric.rows())
        cls._bulk_insert(conn, answers_table, columns, others)

    @staticmethod
    def _bulk_insert(conn: Connection, table: Table, columns: list[str], rows: Iterable[tuple]) -> None:
        """Insert many rows through the driver's own bulk path: COPY on PostgreSQL, executemany on SQLite.

        Both run inside the open transaction, so a failure or a killed process leaves nothing.
        """
        names = _quoted(columns)
        cursor = conn.connection.driver_connection.cursor()
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for chunk in _chunks(rows, BULK_CHUNK):
                    for row in chunk:
                        copy.write_row(row)
        else:
            statement = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join('?' * len(columns))})"
            for chunk in _chunks(rows, BULK_CHUNK):
                cursor.executemany(statement, chunk)
        cursor.close()

    @staticmethod
    def _batch_seen(conn: Connection, instrument_id: str, occasion: str, batch: str) -> bool:
        return conn.execute(select(batches.c.id).where(batches.c.instrument == instrument_id,
                                                       batches.c.occasion == occasion,
                                                       batches.c.sha256 == batch)).first() is not None

    def batch_seen(self, instrument: Instrument | str, occasion: str, batch: str) -> bool:
        """Whether a batch with this key (a file's SHA-256) was added for this instrument and occasion."""
        instrument_id = instrument.id if isinstance(instrument, Instrument) else instrument
        with self._read() as conn:
            return self._batch_seen(conn, instrument_id, occasion, batch)

    def responded(self, instrument: Instrument | str, occasion: str, pseudonyms: Iterable[str]) -> set[str]:
        """Which of these respondents already have a response to the instrument at this occasion."""
        instrument_id = instrument.id if isinstance(instrument, Instrument) else instrument
        with self._read() as conn:
            return set(conn.execute(
                select(respondents.c.pseudonym)
                .join(responses_table, responses_table.c.respondent_id == respondents.c.id)
                .where(responses_table.c.instrument == instrument_id, responses_table.c.occasion == occasion,
                       _among(conn, respondents.c.pseudonym, pseudonyms))).scalars())

    def responses(self, instrument: Instrument | str, occasion: str | None = None, cohort: str | None = None,
                  include_partial: bool = False) -> pd.DataFrame:
        """The responses to an instrument as a wide DataFrame (the tidy contract).

        Parameters
        ----------
        instrument : Instrument or str
            Its :attr:`~Instrument.columns` give the item columns; responses to
            every version with this id are read.
        occasion, cohort : str, optional
            Keep only these.
        include_partial : bool
            Also return responses that were begun but not completed.

        Returns
        -------
        DataFrame
            One row per response, ordered by respondent and occasion: columns
            ``respondent``, ``occasion``, ``cohort``, ``collected_at`` (UTC),
            then one column per instrument column: floats for coded, score and
            number items (NaN when missing), strings for text items, dates as
            datetime64.
        """
        instrument = self._resolve(instrument)
        items = {column: item for item in instrument.items for column in instrument.columns_of(item)}
        text = [column for column, item in items.items() if item.type in TEXT_TYPES]
        numeric = [column for column in items if column not in text]
        chosen = [responses_table.c.instrument == instrument.id]
        if occasion is not None:
            chosen.append(responses_table.c.occasion == occasion)
        if cohort is not None:
            chosen.append(respondents.c.cohort == cohort)
        if not include_partial:
            chosen.append(responses_table.c.status == "complete")
        joined = responses_table.join(respondents, respondents.c.id == responses_table.c.respondent_id)
        meta = (select(responses_table.c.id, respondents.c.pseudonym, responses_table.c.occasion, respondents.c.cohort,
                       responses_table.c.collected_at)
                .select_from(joined).where(*chosen).order_by(respondents.c.pseudonym, responses_table.c.occasion))

        def long(columns: list[str], value) -> Any:
            # The answers stay long on the way out (response id, position of the column, value) and are
            # pivoted with numpy: one aggregate per column in SQL was the slowest part of a read. Columns
            # the instrument does not have get position -1 and are dropped after the fetch, because a
            # filter on "column" made SQLite look up every column of every response by key.
            position = case({c: i for i, c in enumerate(columns)}, value=_column, else_=-1)
            return (select(answers_table.c.response_id, position, value)
                    .select_from(joined.join(answers_table, answers_table.c.response_id == responses_table.c.id))
                    .where(*chosen, value.is_not(None)))

        with self._read() as conn:
            if conn.dialect.name == "postgresql":
                # The reads below must see one snapshot, not a response committed or erased between them.
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            rows = conn.execute(meta).all()
            numbers = _driver_rows(conn, long(numeric, answers_table.c.value_numeric)) if numeric else []
            texts = _driver_rows(conn, long(text, answers_table.c.value_text)) if text else []
        ids = pd.Index([row[0] for row in rows], dtype="int64")
        frame = pd.DataFrame([row[1:] for row in rows], columns=META_COLUMNS)
        wide = {column: frame[column].astype("str").where(frame[column].notna())
                for column in ("respondent", "occasion", "cohort")}
        wide["collected_at"] = pd.to_datetime(frame["collected_at"]).dt.tz_localize("UTC")
        # Every value is a float (ids and positions exactly so), so one fromiter reads them without a tuple per row.
        flat = np.fromiter(chain.from_iterable(numbers), dtype="float64", count=3 * len(numbers)).reshape(-1, 3)
        flat = flat[flat[:, 1] >= 0]
        matrix = np.full((len(ids), len(numeric)), np.nan, order="F")
        matrix[ids.get_indexer(flat[:, 0].astype("int64")), flat[:, 1].astype("intp")] = flat[:, 2]
        wide.update(zip(numeric, matrix.T))
        strings = np.full((len(ids), len(text)), None, dtype=object)
        texts = [row for row in texts if row[1] >= 0]
        if texts:
            response, position, value = zip(*texts)
            strings[ids.get_indexer(response), list(position)] = value
        for column, values in zip(text, strings.T):
            values = pd.Series(values, dtype=object)
            wide[column] = (pd.to_datetime(values) if items[column].type is ItemType.date
                            else values.astype("str").where(values.notna()))
        return pd.DataFrame(wide)[META_COLUMNS + list(items)]

    def completion(self, instrument: Instrument | str | None = None) -> pd.DataFrame:
        """Counts of responses per instrument, occasion, cohort and status (no answer values).

        Returns
        -------
        DataFrame
            Columns instrument, occasion, cohort, status, n.
        """
        query = (select(responses_table.c.instrument, responses_table.c.occasion, respondents.c.cohort,
                        responses_table.c.status, func.count().label("n"))
                 .join(respondents, respondents.c.id == responses_table.c.respondent_id)
                 .group_by(responses_table.c.instrument, responses_table.c.occasion, respondents.c.cohort,
                           responses_table.c.status)
                 .order_by(responses_table.c.instrument, responses_table.c.occasion, respondents.c.cohort,
                           responses_table.c.status))
        if instrument is not None:
            query = query.where(responses_table.c.instrument ==
                                (instrument.id if isinstance(instrument, Instrument) else instrument))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(rows, columns=["instrument", "occasion", "cohort", "status", "n"])

    # --- invitations ----------------------------------------------------------

    def create_invitations(self, instrument: Instrument | str, occasion: str, count: int,
                           cohort: str | None = None, actor: str | None = None) -> list[str]:
        """Create ``count`` invitations, each for a new respondent, and return their tokens.

        A token carries 256 random bits (``secrets.token_urlsafe(32)``); only
        its SHA-256 is stored, so the database cannot be used to answer in
        someone's name. Hand the tokens out once: they cannot be recovered.
        """
        instrument = self._resolve(instrument)
        if occasion not in instrument.occasions:
            raise KeyError(f"occasion {occasion!r} is not one of {instrument.id}'s occasions: "
                           f"{', '.join(instrument.occasions)}")
        tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        pseudonyms = {"r-" + secrets.token_hex(10): cohort for _ in range(count)}
        with self._write() as conn:
            ids = self._respondent_ids(conn, pseudonyms, actor)
            if tokens:
                conn.execute(insert(invitations), [
                    {"token_sha256": _token_hash(token), "respondent_id": ids[p], "instrument": instrument.id,
                     "version": instrument.version, "occasion": occasion, "created_at": _now()}
                    for token, p in zip(tokens, pseudonyms)])
            self._log(conn, "create_invitations", instrument.id, f"{occasion}: {count} invitations", actor)
        return tokens

    def invitation(self, token: str) -> Invitation | None:
        """What a token opens, or None for an unknown (or erased) token."""
        query = (select(respondents.c.pseudonym, invitations.c.instrument, invitations.c.version,
                        invitations.c.occasion, respondents.c.cohort, invitations.c.created_at,
                        responses_table.c.id, responses_table.c.status)
                 .join(respondents, respondents.c.id == invitations.c.respondent_id)
                 .outerjoin(responses_table, (responses_table.c.respondent_id == invitations.c.respondent_id)
                            & (responses_table.c.instrument == invitations.c.instrument)
                            & (responses_table.c.occasion == invitations.c.occasion))
                 .where(invitations.c.token_sha256 == _token_hash(token)))
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else Invitation(*row)

    # --- users ----------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str = "interviewer", actor: str | None = None) -> None:
        """Add a user who may sign in with a role; the password is kept as an argon2id hash.

        Parameters
        ----------
        username : str
            1 to 64 characters.
        password : str
            At least 12 characters.
        role : {'interviewer', 'evaluator'}
            An interviewer administers questionnaires and opens only the
            interviews they started; an evaluator sees completion counts only.
        """
        if not username or len(username) > 64:
            raise StoreError(f"username {username!r}: give 1 to 64 characters")
        if role not in ROLES:
            raise StoreError(f"role {role!r} for {username!r}; allowed: {', '.join(ROLES)}")
        try:
            with self._write() as conn:
                conn.execute(insert(users).values(username=username, password_hash=_password_hash(username, password),
                                                  created_at=_now(), role=role))
                self._log(conn, "add_user", username, role, actor=actor)
        except IntegrityError:
            raise StoreError(f"user {username!r} already exists") from None

    def set_password(self, username: str, password: str, actor: str | None = None) -> None:
        """Give a user a new password; every session they have open ends."""
        hashed = _password_hash(username, password)
        with self._write() as conn:
            if not conn.execute(update(users).where(users.c.username == username)
                                .values(password_hash=hashed)).rowcount:
                raise StoreError(f"no user {username!r} in this store")
            conn.execute(delete(sessions).where(sessions.c.username == username))
            self._log(conn, "set_password", username, actor=actor)

    def remove_user(self, username: str, actor: str | None = None) -> None:
        """Remove a user: their sessions end and the interviews they started are no longer theirs to open."""
        with self._write() as conn:
            conn.execute(delete(sessions).where(sessions.c.username == username))
            conn.execute(delete(interviews).where(interviews.c.interviewer == username))
            if not conn.execute(delete(users).where(users.c.username == username)).rowcount:
                raise StoreError(f"no user {username!r} in this store")
            self._log(conn, "remove_user", username, actor=actor)

    def verify_user(self, username: str, password: str) -> bool:
        """Whether this password belongs to this user; each attempt is logged."""
        hasher = PasswordHasher()
        with self._read() as conn:
            stored = conn.execute(select(users.c.password_hash).where(users.c.username == username)).scalar()
        try:
            # An unknown user costs a hash too, so timing does not reveal which usernames exist.
            ok = hasher.verify(stored or _dummy_hash(), password) and stored is not None
        except VerificationError:
            ok = False
        self.log("sign_in" if ok else "sign_in_failed", username[:64], actor=username[:64] or "?")
        return ok

    # --- sessions -------------------------------------------------------------

    def open_session(self, username: str) -> str:
        """Begin a session for a user who has just signed in, and return its id (for the cookie).

        The id carries 256 random bits; the store keeps only its SHA-256, so
        the database cannot be used to take over a session. Sessions past
        their time are removed here too.
        """
        session_id = secrets.token_urlsafe(32)
        now = _now()
        with self._write() as conn:
            role = conn.execute(select(users.c.role).where(users.c.username == username)).scalar()
            if role is None:
                raise StoreError(f"no user {username!r} in this store")
            conn.execute(delete(sessions).where(sessions.c.created_at < now - SESSION_LIFETIME))
            conn.execute(insert(sessions).values(id_sha256=_token_hash(session_id), username=username, role=role,
                                                 created_at=now, seen_at=now))
        return session_id

    def session(self, session_id: str | None, idle: timedelta = SESSION_IDLE,
                lifetime: timedelta = SESSION_LIFETIME) -> Account | None:
        """The account a session id belongs to, or None when it is unknown, ended or past its time.

        A session ends after ``idle`` without use and ``lifetime`` in all, and
        with its user (removed, password changed, role changed). A session in
        use is marked as seen at most once a minute, to spare the database a
        write per request.
        """
        if not session_id:
            return None
        key, now = _token_hash(session_id), _now()
        with self._read() as conn:
            row = conn.execute(select(sessions.c.username, sessions.c.role, sessions.c.created_at, sessions.c.seen_at)
                               .join(users, (users.c.username == sessions.c.username) & (users.c.role == sessions.c.role))
                               .where(sessions.c.id_sha256 == key)).first()
        if row is None:
            return None
        if now - row.seen_at > idle or now - row.created_at > lifetime:
            self.end_session(session_id)
            return None
        if now - row.seen_at > SESSION_TOUCH:
            with self._write() as conn:
                conn.execute(update(sessions).where(sessions.c.id_sha256 == key).values(seen_at=now))
        return Account(row.username, row.role)

    def end_session(self, session_id: str | None) -> None:
        """End a session (sign-out); an unknown id is ignored."""
        if session_id:
            with self._write() as conn:
                conn.execute(delete(sessions).where(sessions.c.id_sha256 == _token_hash(session_id)))

    def interviewer(self, response_id: int) -> str | None:
        """Who started this response as an interview, or None (a web or imported response, or an orphan)."""
        with self._read() as conn:
            return conn.execute(select(interviews.c.interviewer)
                                .where(interviews.c.response_id == response_id)).scalar()

    # --- erasure --------------------------------------------------------------

    def erase(self, respondent: str, actor: str | None = None) -> int:
        """Remove everything stored about a respondent and log the erasure.

        Responses, answers, submissions and invitations go with the
        respondent. The audit entry names only the internal respondent
        number and how many responses were removed. On SQLite deleted pages
        are zeroed and the write-ahead log is checkpointed; on PostgreSQL the
        tables are vacuumed, so the data do not linger on disk.

        Returns
        -------
        int
            The number of responses removed.
        """
        with self._write() as conn:
            respondent_id = self._respondent_id(conn, respondent)
            removed = conn.execute(select(func.count()).select_from(responses_table)
                                   .where(responses_table.c.respondent_id == respondent_id)).scalar()
            conn.execute(delete(respondents).where(respondents.c.id == respondent_id))
            self._erase_from_rounds(conn, respondent)
            self._log(conn, "erase", respondent_id, f"{removed} responses", actor)
        raw = self.engine.raw_connection()
        try:
            driver = raw.driver_connection
            if self.engine.dialect.name == "sqlite":
                driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                driver.autocommit = True  # VACUUM cannot run inside a transaction
                driver.execute("VACUUM respondents, responses, answers, submissions, invitations, "
                               + ", ".join(SURVEY_TABLES))
                driver.autocommit = False
        finally:
            raw.close()
        return removed

    # --- survey rounds (issue 13) -------------------------------------------------
    # A round's frame, sample, dispositions, letters and weights. Data in and out as
    # DataFrames keyed by pseudonym; kantelmeter.survey turns them into its Frame and Sample.

    def create_round(self, name: str, instrument: Instrument | str, occasion: str, units: pd.DataFrame,
                     id_kind: str, strata: str | None, auxiliaries: list[str], actor: str | None = None) -> int:
        """Store a new survey round with its frame, every row or none.

        Parameters
        ----------
        name : str
            For example ``"2026-ceo"``.
        instrument : Instrument or str
            The questionnaire of the round; ``occasion`` one of its occasions.
        units : DataFrame
            The frame: ``pseudonym``, ``stratum`` and one column per auxiliary
            (see :func:`kantelmeter.survey.frame`). Any other column is refused,
            so no name, address or BSN can be stored by mistake.

        Returns
        -------
        int
            The number of frame units stored.
        """
        instrument = self._resolve(instrument)
        if occasion not in instrument.occasions:
            raise KeyError(f"occasion {occasion!r} is not one of {instrument.id}'s occasions: "
                           f"{', '.join(instrument.occasions)}")
        allowed = ["pseudonym", "stratum", *auxiliaries]
        extra = [c for c in units.columns if c not in allowed]
        if extra:
            raise StoreError(f"round {name!r}: frame column(s) {extra} are not allowed; allowed: {', '.join(allowed)}")
        if not name or len(name) > 64:
            raise StoreError(f"round name {name!r}: give 1 to 64 characters")
        rows = ((name, p, str(st), json.dumps({a: str(v) for a, v in zip(auxiliaries, values)}))
                for p, st, *values in units[allowed].itertuples(index=False, name=None))
        try:
            with self._write() as conn:
                conn.execute(insert(survey_rounds).values(
                    name=name, instrument=instrument.id, occasion=occasion, id_kind=id_kind, strata=strata,
                    auxiliaries=json.dumps(list(auxiliaries)), created_at=_now()))
                self._bulk_insert(conn, survey_frame, ["round", "pseudonym", "stratum", "auxiliaries"], rows)
                self._log(conn, "create_round", name, f"{len(units)} frame units", actor)
        except IntegrityError:
            raise StoreError(f"round {name!r} already exists, or its frame names a client twice; "
                             "give the new round another name") from None
        return len(units)

    def round_info(self, name: str) -> dict[str, Any]:
        """A round's settings: instrument, occasion, id_kind, strata, auxiliaries, created_at, seed, sampled_at."""
        with self._read() as conn:
            row = conn.execute(select(survey_rounds).where(survey_rounds.c.name == name)).mappings().first()
            known = [] if row is not None else conn.execute(select(survey_rounds.c.name)).scalars().all()
        if row is None:
            raise KeyError(f"no survey round {name!r} in this store; rounds: {', '.join(known) or 'none'} "
                           "(create one with `kantelmeter frame import`)")
        return {**row, "auxiliaries": json.loads(row["auxiliaries"])}

    def round_frame(self, name: str) -> pd.DataFrame:
        """The frame of a round: ``pseudonym``, ``stratum`` and one column per auxiliary."""
        auxiliaries = self.round_info(name)["auxiliaries"]
        with self._read() as conn:
            rows = conn.execute(select(survey_frame.c.pseudonym, survey_frame.c.stratum, survey_frame.c.auxiliaries)
                                .where(survey_frame.c.round == name).order_by(survey_frame.c.pseudonym)).all()
        frame = pd.DataFrame([(p, st) for p, st, _ in rows], columns=["pseudonym", "stratum"], dtype=object)
        values = [json.loads(a) for *_, a in rows]
        for auxiliary in auxiliaries:
            frame[auxiliary] = [v[auxiliary] for v in values]
        return frame

    def save_sample(self, name: str, units: pd.DataFrame, seed: int | None = None, actor: str | None = None) -> int:
        """Store the sample of a round (``pseudonym``, ``inclusion_probability``, ``design_weight``); once only."""
        info = self.round_info(name)
        if info["sampled_at"] is not None:
            raise StoreError(f"round {name!r} already has its sample (drawn {info['sampled_at']:%Y-%m-%d}); "
                             "a round is sampled once")
        try:
            with self._write() as conn:
                self._bulk_insert(conn, survey_sample, ["round", "pseudonym", "inclusion_probability", "design_weight"],
                                  ((name, p, float(pi), float(d)) for p, pi, d in units[
                                      ["pseudonym", "inclusion_probability", "design_weight"]].itertuples(
                                      index=False, name=None)))
                conn.execute(update(survey_rounds).where(survey_rounds.c.name == name)
                             .values(seed=seed, sampled_at=_now()))
                self._log(conn, "save_sample", name, f"{len(units)} units", actor)
        except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError):
            raise StoreError(f"round {name!r}: the sample names a unit that is not in the frame, or one twice") from None
        return len(units)

    def round_sample(self, name: str) -> pd.DataFrame:
        """The sampled units with their frame columns, ``inclusion_probability`` and ``design_weight``."""
        frame = self.round_frame(name)
        with self._read() as conn:
            rows = conn.execute(select(survey_sample.c.pseudonym, survey_sample.c.inclusion_probability,
                                       survey_sample.c.design_weight).where(survey_sample.c.round == name)).all()
        if not rows:
            raise StoreError(f"round {name!r} has no sample yet; draw one with `kantelmeter sample`")
        sample = pd.DataFrame(rows, columns=["pseudonym", "inclusion_probability", "design_weight"])
        return frame.merge(sample, on="pseudonym").sort_values(["stratum", "pseudonym"], ignore_index=True)

    def _sampled(self, conn: Connection, name: str, pseudonyms: Iterable[str]) -> list[str]:
        """These pseudonyms, after checking that each is in the round's sample."""
        pseudonyms = list(dict.fromkeys(pseudonyms))
        found = set(conn.execute(select(survey_sample.c.pseudonym).where(
            survey_sample.c.round == name, _among(conn, survey_sample.c.pseudonym, pseudonyms))).scalars())
        missing = [p for p in pseudonyms if p not in found]
        if missing:
            raise StoreError(f"round {name!r}: {len(missing)} client(s) are not in its sample, e.g. "
                             f"{', '.join(missing[:3])}")
        return pseudonyms

    def record_dispositions(self, name: str, codes: Mapping[str, str], actor: str | None = None) -> int:
        """Record (or replace) the disposition code of sampled clients: pseudonym to one of the codes.

        Codes: ``moved``, ``deceased``, ``not_client`` (ineligible), ``refused``, ``no_contact``.
        """
        bad = {p: c for p, c in codes.items() if c not in DISPOSITION_CODES}
        if bad:
            code = next(iter(bad.values()))
            raise StoreError(f"round {name!r}: disposition {code!r} ({len(bad)} client(s)); allowed: "
                             f"{', '.join(DISPOSITION_CODES)}")
        self.round_info(name)
        now = _now()
        with self._write() as conn:
            pseudonyms = self._sampled(conn, name, codes)
            conn.execute(delete(survey_dispositions).where(survey_dispositions.c.round == name,
                                                           _among(conn, survey_dispositions.c.pseudonym, pseudonyms)))
            self._bulk_insert(conn, survey_dispositions, ["round", "pseudonym", "code", "recorded_at"],
                              ((name, p, codes[p], now) for p in pseudonyms))
            self._log(conn, "record_dispositions", name, f"{len(pseudonyms)} clients", actor)
        return len(pseudonyms)

    def invite_round(self, name: str, pseudonyms: Iterable[str], kind: str = "letter",
                     actor: str | None = None) -> pd.DataFrame:
        """Invitations for sampled clients of a round, each with a link token and a short login code.

        Every client becomes (or stays) a respondent under the frame's pseudonym, so a reply links to
        the sample, and a later round's invitation reaches the same respondent. The token (256 bits)
        is kept as its SHA-256 like any invitation; the login code (10 letters and digits, about 49
        bits, for typing in) as its keyed HMAC (the pseudonym key, outside the database), so neither
        can be recovered from the database. A reminder is a new letter with a new token and code;
        the earlier ones keep working.

        Returns
        -------
        DataFrame
            ``pseudonym``, ``token``, ``code``: the only copy of the tokens and codes.
        """
        if kind not in LETTER_KINDS:
            raise StoreError(f"letter kind {kind!r}; allowed: {', '.join(LETTER_KINDS)}")
        info = self.round_info(name)
        instrument = self.instrument(info["instrument"])
        now = _now()
        with self._write() as conn:
            pseudonyms = self._sampled(conn, name, pseudonyms)
            ids = self._respondent_ids(conn, dict.fromkeys(pseudonyms), actor)
            tokens = [secrets.token_urlsafe(32) for _ in pseudonyms]
            codes = [_login_code() for _ in pseudonyms]
            for token, p in zip(tokens, pseudonyms):
                conn.execute(insert(invitations).values(
                    token_sha256=_token_hash(token), respondent_id=ids[p], instrument=instrument.id,
                    version=instrument.version, occasion=info["occasion"], created_at=now))
            invitation_of = dict(conn.execute(select(invitations.c.token_sha256, invitations.c.id).where(
                _among(conn, invitations.c.token_sha256, [_token_hash(t) for t in tokens]))).all())
            self._bulk_insert(conn, survey_letters, ["round", "pseudonym", "invitation_id", "code_hmac", "kind",
                                                     "created_at"],
                              ((name, p, invitation_of[_token_hash(t)], self._code_hmac(c), kind, now)
                               for p, t, c in zip(pseudonyms, tokens, codes)))
            self._log(conn, "invite_round", name, f"{len(pseudonyms)} {kind}s", actor)
        return pd.DataFrame({"pseudonym": pseudonyms, "token": tokens, "code": codes})

    def _code_hmac(self, code: str) -> str:
        return self.pseudonymiser.pseudonymise("login_code", _normal_code(code))

    def invitation_by_code(self, code: str) -> tuple[str, Invitation] | None:
        """What a typed login code opens: a fresh link token for its invitation and the Invitation, or None.

        The stored token cannot be recovered, so a valid code replaces it: the earlier link of
        that letter stops working and the returned token opens the same form (the same respondent,
        instrument and occasion; a begun response continues).
        """
        if not _normal_code(code):
            return None
        with self._write() as conn:
            invitation_id = conn.execute(select(survey_letters.c.invitation_id).where(
                survey_letters.c.code_hmac == self._code_hmac(code))).scalar()
            if invitation_id is None:
                return None
            token = secrets.token_urlsafe(32)
            conn.execute(update(invitations).where(invitations.c.id == invitation_id)
                         .values(token_sha256=_token_hash(token)))
            self._log(conn, "login_code", invitation_id)
        return token, self.invitation(token)

    def round_outcomes(self, name: str) -> pd.DataFrame:
        """Per sampled client: ``pseudonym``, ``status`` and ``source`` of the round's response (None
        without one), ``disposition`` (code or None), ``letters`` and ``reminders`` sent."""
        info = self.round_info(name)
        response = (select(respondents.c.pseudonym, responses_table.c.status, responses_table.c.source)
                    .join(responses_table, responses_table.c.respondent_id == respondents.c.id)
                    .where(responses_table.c.instrument == info["instrument"],
                           responses_table.c.occasion == info["occasion"]).subquery())
        letters = (select(survey_letters.c.pseudonym,
                          func.sum(case((survey_letters.c.kind == "letter", 1), else_=0)).label("letters"),
                          func.sum(case((survey_letters.c.kind == "reminder", 1), else_=0)).label("reminders"))
                   .where(survey_letters.c.round == name).group_by(survey_letters.c.pseudonym).subquery())
        query = (select(survey_sample.c.pseudonym, response.c.status, response.c.source, survey_dispositions.c.code,
                        func.coalesce(letters.c.letters, 0), func.coalesce(letters.c.reminders, 0))
                 .select_from(survey_sample)
                 .outerjoin(response, response.c.pseudonym == survey_sample.c.pseudonym)
                 .outerjoin(survey_dispositions, (survey_dispositions.c.round == name)
                            & (survey_dispositions.c.pseudonym == survey_sample.c.pseudonym))
                 .outerjoin(letters, letters.c.pseudonym == survey_sample.c.pseudonym)
                 .where(survey_sample.c.round == name).order_by(survey_sample.c.pseudonym))
        with self._read() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["pseudonym", "status", "source", "disposition", "letters", "reminders"])
        return frame.astype({"letters": int, "reminders": int})

    def save_weights(self, name: str, weights: pd.DataFrame, method: str, actor: str | None = None) -> int:
        """Store (replacing earlier ones) the weights of a round's respondents: ``pseudonym``, ``weight``."""
        self.round_info(name)
        with self._write() as conn:
            conn.execute(delete(survey_weights).where(survey_weights.c.round == name))
            self._bulk_insert(conn, survey_weights, ["round", "pseudonym", "weight", "method"],
                              ((name, p, float(w), method) for p, w in weights[["pseudonym", "weight"]].itertuples(
                                  index=False, name=None)))
            self._log(conn, "save_weights", name, f"{len(weights)} respondents, {method}", actor)
        return len(weights)

    def round_weights(self, name: str) -> pd.DataFrame:
        """The stored weights of a round: ``pseudonym``, ``weight``, ``method`` (empty when none)."""
        with self._read() as conn:
            rows = conn.execute(select(survey_weights.c.pseudonym, survey_weights.c.weight, survey_weights.c.method)
                                .where(survey_weights.c.round == name).order_by(survey_weights.c.pseudonym)).all()
        return pd.DataFrame(rows, columns=["pseudonym", "weight", "method"])

    def invite_respondents(self, instrument: Instrument | str, occasion: str, pseudonyms: Iterable[str],
                           actor: str | None = None) -> list[str]:
        """Invitations for existing respondents (a follow-up under the same pseudonym); tokens in order.

        Raises
        ------
        KeyError
            Naming the pseudonyms the store does not have.
        """
        instrument = self._resolve(instrument)
        if occasion not in instrument.occasions:
            raise KeyError(f"occasion {occasion!r} is not one of {instrument.id}'s occasions: "
                           f"{', '.join(instrument.occasions)}")
        pseudonyms = list(dict.fromkeys(pseudonyms))
        tokens = [secrets.token_urlsafe(32) for _ in pseudonyms]
        with self._write() as conn:
            known = self._known_respondents(conn, pseudonyms)
            missing = [p for p in pseudonyms if p not in known]
            if missing:
                raise KeyError(f"{len(missing)} respondent(s) are not in this store, e.g. {', '.join(missing[:3])}; "
                               "allowed: pseudonyms of existing respondents")
            if tokens:
                conn.execute(insert(invitations), [
                    {"token_sha256": _token_hash(t), "respondent_id": known[p][0], "instrument": instrument.id,
                     "version": instrument.version, "occasion": occasion, "created_at": _now()}
                    for t, p in zip(tokens, pseudonyms)])
            self._log(conn, "invite_respondents", instrument.id, f"{occasion}: {len(tokens)} invitations", actor)
        return tokens

    def _erase_from_rounds(self, conn: Connection, pseudonym: str) -> None:
        """Remove a client from every round's frame (and so its sample, dispositions, letters, weights)."""
        for table in (survey_letters, survey_weights, survey_dispositions, survey_sample, survey_frame):
            conn.execute(delete(table).where(table.c.pseudonym == pseudonym))

    # --- end of survey rounds -----------------------------------------------------


def _among(conn: Connection, column: Any, values: Iterable[str]) -> Any:
    """The condition that ``column`` is one of ``values``, with all values bound as one parameter.

    A lookup of a whole import's respondents was hundreds of IN lists of 500 parameters, each
    expanded by SQLAlchemy; one array (PostgreSQL) or one JSON text read by ``json_each``
    (SQLite, built in since 3.38) does it in a single statement.
    """
    values = list(dict.fromkeys(values))
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("among", values, type_=ARRAY(String)))
    return column.in_(select(func.json_each(json.dumps(values)).table_valued("value").c.value))


def _driver_rows(conn: Connection, query: Any) -> list[tuple]:
    """The rows of a query fetched by the driver's own cursor, as plain tuples.

    For millions of answers, building SQLAlchemy rows cost as much as the fetch itself; the query
    is still composed and bound by SQLAlchemy, so no value is pasted into SQL text.
    """
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    driver = conn.connection.driver_connection
    # PostgreSQL sends numbers in binary, sparing the server their formatting and the client their parsing.
    cursor = driver.cursor(binary=True) if conn.dialect.name == "postgresql" else driver.cursor()
    try:
        return cursor.execute(str(compiled), params).fetchall()
    finally:
        cursor.close()


def _quoted(columns: list[str]) -> str:
    """Column names for driver-level SQL, quoted because one of them is named "column"."""
    return ", ".join(f'"{c}"' for c in columns)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Login codes on survey letters: no 0/O, 1/I/L or U, so a typed code is read back as printed.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 10


def _login_code() -> str:
    """A random login code, printed in two groups of five (``K7QMX-4RT9B``)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def _normal_code(code: str) -> str:
    """A typed code as stored: upper case, without spaces or hyphens."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def _answer_rows(instrument: Instrument, pseudonymiser: Pseudonymiser,
                 answers: Mapping[int, Mapping[str, Any]]) -> Iterator[tuple[int, str, float | None, str | None]]:
    """(response id, column, numeric value, text value) for every given answer.

    Identifier answers become pseudonyms here, the one gate every write passes.
    """
    items: dict[str, Item] = {column: item for item in instrument.items for column in instrument.columns_of(item)}
    for response_id, values in answers.items():
        for column, value in values.items():
            item = items.get(column)
            if item is None:
                raise StoreError(f"response {response_id}: column {column!r} is not a column of instrument "
                                 f"{instrument.id!r}; columns: {', '.join(items)}")
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
                continue
            if item.identifier:
                yield response_id, column, None, pseudonymiser.pseudonymise(
                    item.identifier, str(value), where=f"response {response_id}, column {column!r}")
            elif item.type is ItemType.date:
                yield response_id, column, None, _iso_date(response_id, column, value)
            elif item.type is ItemType.text:
                yield response_id, column, None, str(value)
            else:
                yield response_id, column, _number(response_id, column, value), None


@dataclass(frozen=True)
class _NumericAnswers:
    """The coded, score and number answers of a wide frame in long form, as arrays in response order.

    They are the bulk of any import (every column but text, date and identifier items), so they are
    stacked with numpy and reach the database without a Python object per answer where the driver
    allows it. NaN (no answer) is left out, as a single save leaves it out.
    """

    response_id: np.ndarray
    column: np.ndarray  # position in names
    value: np.ndarray
    names: list[str]

    @classmethod
    def of(cls, values: pd.DataFrame, response_ids: list[int]) -> _NumericAnswers:
        try:
            matrix = values.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"columns {list(values.columns)} must hold numbers: {exc}") from None
        rows, columns = np.nonzero(~np.isnan(matrix))  # row-major: the answers of a response stay together
        return cls(np.asarray(response_ids, dtype=np.int64)[rows], columns, matrix[rows, columns],
                   list(values.columns))

    def rows(self) -> Iterator[tuple[int, str, float]]:
        """(response id, column, value) tuples, as executemany takes them."""
        return zip(self.response_id.tolist(), np.asarray(self.names, dtype=object)[self.column].tolist(),
                   self.value.tolist())

    def binary_copy(self, encoding: str) -> Iterator[bytes]:
        """The answers in PostgreSQL's binary COPY format, a block of at most ``BULK_CHUNK`` rows at a time.

        Layout (PostgreSQL manual, COPY, "Binary Format"): a signature and two zero words, then per
        row a 16-bit field count and each field as a 32-bit length and its bytes (length -1 for NULL),
        then -1 as a 16-bit trailer; integers and floats are big-endian. Every row of one column has
        the same length, so a block sorted by column is a few numpy record arrays written whole.
        """
        yield b"PGCOPY\n\xff\r\n\x00" + bytes(8)
        names = [name.encode(encoding) for name in self.names]
        for start in range(0, len(self.value), BULK_CHUNK):
            block = slice(start, start + BULK_CHUNK)
            order = np.argsort(self.column[block], kind="stable")
            bounds = np.searchsorted(self.column[block][order], np.arange(len(names) + 1))
            parts = []
            for position, name in enumerate(names):
                take = order[bounds[position]:bounds[position + 1]]
                if len(take):
                    records = np.empty(len(take), _answer_record(len(name)))
                    records["fields"], records["id_size"], records["column_size"] = 4, 4, len(name)
                    records["value_size"], records["text_size"] = 8, -1
                    records["response_id"] = self.response_id[block][take]
                    records["column"] = name
                    records["value"] = self.value[block][take]
                    parts.append(records.tobytes())
            yield b"".join(parts)
        yield b"\xff\xff"


@cache
def _answer_record(name_length: int) -> np.dtype:
    """One numeric answer row of a binary COPY into answers (response_id int4, column, value float8, NULL text)."""
    return np.dtype([("fields", ">i2"), ("id_size", ">i4"), ("response_id", ">i4"), ("column_size", ">i4"),
                     ("column", f"S{name_length}"), ("value_size", ">i4"), ("value", ">f8"), ("text_size", ">i4")])


def _number(response_id: int, column: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise StoreError(f"response {response_id}, column {column!r}: value {value!r} is not a number") from None


def _iso_date(response_id: int, column: str, value: Any) -> str:
    if isinstance(value, (date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise StoreError(f"response {response_id}, column {column!r}: value {value!r} is not a date "
                         "(YYYY-MM-DD)") from None


def _password_hash(username: str, password: str) -> str:
    if len(password) < 12:
        raise StoreError(f"the password for {username!r} is too short: give at least 12 characters")
    return PasswordHasher().hash(password)


@cache
def _dummy_hash() -> str:
    """The hash of a random password, checked against when a username is unknown."""
    return PasswordHasher().hash(secrets.token_hex(16))
