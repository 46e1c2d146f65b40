"""The store's schema: its tables, the migrations between schema versions, and the explicit upgrade."""

from __future__ import annotations

import hashlib
import re
import threading
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

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
    case,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, make_url

from kantelmeter.answers import domains
from kantelmeter.files import private_path
from kantelmeter.instruments import Instrument
from kantelmeter.store.errors import StoreError

SOURCES = ("web", "import", "interview")
ROLES = ("interviewer", "evaluator")
"""Who signs in: an interviewer administers questionnaires, an evaluator sees counts only."""
STATUSES = ("partial", "complete")
# Pseudonyms derived from identifiers are preferred in this order: the most stable identifier wins.
IDENTIFIER_PRIORITY = ("bsn", "client_number", "name")
META_COLUMNS = ["respondent", "occasion", "cohort", "collected_at", "version"]
SESSION_IDLE = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(hours=8)
SESSION_TOUCH = timedelta(minutes=1)

metadata = MetaData()

schema_versions = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)
instruments = Table(
    "instruments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("definition", Text, nullable=False),  # the validated instrument as JSON
    Column("sha256", String(64), nullable=False),
    Column("registered_at", DateTime, nullable=False),
)
respondents = Table(
    "respondents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(64), nullable=False, unique=True),
    Column("cohort", String(64)),
    Column("created_at", DateTime, nullable=False),
)
batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instrument", String(64), nullable=False),
    Column("occasion", String(64), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("imported_at", DateTime, nullable=False),
    UniqueConstraint("instrument", "occasion", "sha256"),
)
responses_table = Table(
    "responses",
    metadata,
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
# Answers live in one table per instrument version, one row per response and one column per
# instrument column (see answer_table). The table below is the layout of schema versions 1 to 3,
# one row per answer; it is kept only to build and upgrade stores of that layout.
legacy_metadata = MetaData()
legacy_answers = Table(
    "answers",
    legacy_metadata,
    Column("response_id", Integer, ForeignKey(responses_table.c.id, ondelete="CASCADE"), primary_key=True),
    Column("column", String(64), primary_key=True),
    Column("value_numeric", Float),
    Column("value_text", Text),
    sqlite_with_rowid=False,
)
submissions = Table(
    "submissions",
    metadata,
    Column("response_id", Integer, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("saved_at", DateTime, nullable=False),
)
invitations = Table(
    "invitations",
    metadata,
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
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("role", String(16), nullable=False, server_default="interviewer"),  # since schema version 2
)
sessions = Table(
    "sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),  # the cookie holds the id; only its hash is kept
    Column("username", String(64), ForeignKey("users.username", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)
interviews = Table(
    "interviews",
    metadata,  # who started an interview response: only they may open it
    Column("response_id", Integer, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    Column("interviewer", String(64), nullable=False),
)
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("object", String(64)),
    Column("detail", String(255)),
)


# --- schema and migrations ---------------------------------------------------


def _migration_1(conn: Connection) -> None:
    """The first schema: every table, and an audit log that refuses updates and deletes."""
    metadata.create_all(
        conn, tables=[t for t in metadata.sorted_tables if t is not schema_versions and t.name not in VERSION_2_TABLES]
    )
    legacy_metadata.create_all(conn)
    _audit_append_only(conn)


def _audit_append_only(conn: Connection) -> None:
    """Triggers that refuse every update and delete of the audit log."""
    if conn.dialect.name == "sqlite":
        for event_name in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER audit_no_{event_name.lower()} BEFORE {event_name} ON audit "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )
    else:
        conn.exec_driver_sql(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )


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
    "survey_rounds",
    survey_metadata,
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
    "survey_frame",
    survey_metadata,
    Column("round", String(64), ForeignKey("survey_rounds.name", ondelete="CASCADE"), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("stratum", String(128), nullable=False),
    Column("auxiliaries", Text, nullable=False),  # JSON object: auxiliary -> category
)
survey_sample = Table(
    "survey_sample",
    survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("inclusion_probability", Float, nullable=False),
    Column("design_weight", Float, nullable=False),
    ForeignKeyConstraint(["round", "pseudonym"], ["survey_frame.round", "survey_frame.pseudonym"], ondelete="CASCADE"),
)
survey_dispositions = Table(
    "survey_dispositions",
    survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("code", String(16), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    ForeignKeyConstraint(
        ["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"
    ),
    CheckConstraint(f"code IN {DISPOSITION_CODES}", name="disposition_code"),
)
survey_letters = Table(
    "survey_letters",
    survey_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("round", String(64), nullable=False),
    Column("pseudonym", String(64), nullable=False),
    Column("invitation_id", Integer, ForeignKey(invitations.c.id, ondelete="CASCADE"), nullable=False),
    Column("code_hmac", String(64), nullable=False, unique=True),  # keyed HMAC of the login code, never the code
    Column("kind", String(8), nullable=False),
    Column("created_at", DateTime, nullable=False),
    ForeignKeyConstraint(
        ["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"
    ),
    CheckConstraint(f"kind IN {LETTER_KINDS}", name="letter_kind"),
)
survey_weights = Table(
    "survey_weights",
    survey_metadata,
    Column("round", String(64), primary_key=True),
    Column("pseudonym", String(64), primary_key=True),
    Column("weight", Float, nullable=False),
    Column("method", String(16), nullable=False),
    ForeignKeyConstraint(
        ["round", "pseudonym"], ["survey_sample.round", "survey_sample.pseudonym"], ondelete="CASCADE"
    ),
)
SURVEY_TABLES = [t.name for t in survey_metadata.sorted_tables]


def _migration_survey_rounds(conn: Connection) -> None:
    """Survey rounds: frame, sample, dispositions, letters and weights."""
    survey_metadata.create_all(conn)


MIGRATIONS[max(MIGRATIONS) + 1] = _migration_survey_rounds
# --- end of survey rounds: schema ---------------------------------------------


def answer_table(instrument: Instrument) -> Table:
    """The answers to one instrument version: one row per response, one column per instrument column.

    Numeric answers (codes, options, numbers) are floats, the others (text, dates as ISO text,
    identifiers as pseudonyms) text; a blank is NULL. The row is made when the response begins and
    goes with it (``ON DELETE CASCADE``), so a partial response is a row with NULLs and an erased
    respondent leaves no row. The name is readable and unique per (id, version).

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> table = answer_table(load_instrument("soc13"))
    >>> table.name, [str(c.type) for c in table.c][:2], len(table.c)
    ('answers_soc13_1_0_235a683f', ['INTEGER', 'FLOAT'], 14)
    """
    return _answer_table(
        instrument.id,
        instrument.version,
        tuple((column, domain.numeric) for column, domain in domains(instrument).items()),
    )


@cache
def _answer_table(instrument_id: str, version: str, columns: tuple[tuple[str, bool], ...]) -> Table:
    if any(column == "response_id" for column, _ in columns):
        raise StoreError(f"instrument {instrument_id!r}: a column may not be named 'response_id'")
    slug = "_".join(re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")[:24] for part in (instrument_id, version))
    digest = hashlib.sha256(f"{instrument_id}\0{version}".encode()).hexdigest()[:8]
    return Table(
        f"answers_{slug}_{digest}",
        MetaData(),
        Column("response_id", Integer, ForeignKey(responses_table.c.id, ondelete="CASCADE"), primary_key=True),
        *(Column(column, Float if numeric else Text) for column, numeric in columns),
    )


def _migration_answer_tables(conn: Connection) -> None:
    """One row per response: the answer rows of each instrument version become one wide row per response.

    Every response gets its row (a response without answers a row of NULLs); the old table goes.
    """
    for definition in conn.execute(select(instruments.c.definition)).scalars().all():
        instrument = Instrument.model_validate_json(definition)
        table = answer_table(instrument)
        table.create(conn)
        old = legacy_answers.c
        values = [
            func.max(case((old["column"] == column, old.value_numeric if domain.numeric else old.value_text)))
            for column, domain in domains(instrument).items()
        ]
        conn.execute(
            insert(table).from_select(
                list(table.c.keys()),
                select(responses_table.c.id, *values)
                .select_from(responses_table.outerjoin(legacy_answers, old.response_id == responses_table.c.id))
                .where(responses_table.c.instrument == instrument.id, responses_table.c.version == instrument.version)
                .group_by(responses_table.c.id),
            )
        )
    legacy_answers.drop(conn)


MIGRATIONS[max(MIGRATIONS) + 1] = _migration_answer_tables
SCHEMA_VERSION = max(MIGRATIONS)
UPGRADE_HINT = "run `kantelmeter db upgrade --db URL` (back up the database first)"


def _create_latest(conn: Connection) -> None:
    """A new store, made at :data:`SCHEMA_VERSION` directly rather than by replaying every migration."""
    metadata.create_all(conn)
    survey_metadata.create_all(conn)
    _audit_append_only(conn)
    conn.execute(insert(schema_versions), [{"version": v, "applied_at": _now()} for v in MIGRATIONS])


def _private_database(database: str | None) -> None:
    """Create a new SQLite file owner-only (SQLite gives its WAL and shared-memory files the same mode)."""
    if database and database != ":memory:" and not database.startswith("file:") and not Path(database).exists():
        private_path(database)


def _now() -> datetime:
    """The current time in UTC, stored without zone information (every stored time is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # The driver must not open transactions itself: _sqlite_begin chooses the kind.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # Under WAL, NORMAL syncs at checkpoints instead of at every commit: a killed process still loses no
    # committed page (the log is in the operating system's hands), a power cut can lose the last ones.
    # FULL made each page wait about 4 ms for an fsync behind the single writer (bench_store.py).
    cursor.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows are overwritten with zeros, so an erased respondent is not left in free pages.
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer takes the write lock at once: a deferred transaction that reads first and
    # writes later fails with 'database is locked' when another writer got in between.
    # Sent on the driver's own connection: through exec_driver_sql it cost a tenth of a form post.
    conn.connection.driver_connection.execute(
        "BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE"
    )


# The web server's worker threads, which run Starlette's blocking calls (anyio's limiter, 40 by default):
# they share one core through the GIL, and 40 of them spent a quarter of a form post's CPU handing it to
# each other (23 context switches per post against 6 with one thread). Four let the sign-in gate run
# two password checks while interviewer pages are served.
WORKER_THREADS = 4


def questionnaire_threads(backend: str) -> int:
    """The threads of the web form's lane for the questionnaire's pages (shown and saved), by database.

    On SQLite one: a page's work is Python under the GIL and SQLite has one writer, so a second
    thread adds no capacity, only the cost of handing the GIL over (under 50 connections posting at
    once a page save cost 1.95 ms of CPU on four threads, 1.3 ms on one). On PostgreSQL a page
    waits for the server at every statement, and other pages run meanwhile: four threads saved
    290 pages/s, one 160/s, eight 260/s (``bench_web.py``'s load on a store on this machine).

    >>> questionnaire_threads("sqlite"), questionnaire_threads("postgresql")
    (1, 4)
    """
    return 1 if backend == "sqlite" else WORKER_THREADS


def _engine(url: str) -> Engine:
    """An engine for a supported URL, with SQLite set up as the store needs it (WAL, foreign keys, writers queue)."""
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"database {backend!r} in {make_url(url).render_as_string(hide_password=True)!r} is "
            "not supported; use sqlite:///FILE or postgresql+psycopg://USER@HOST/DATABASE"
        )
    # Two connections for every thread of the web server, none beyond: a thread holding a write
    # may read an instrument not yet cached on a second one. An in-memory SQLite database is one
    # connection that SQLAlchemy keeps per thread, with no pool to size.
    in_memory = backend == "sqlite" and make_url(url).database in (None, "", ":memory:")
    threads = WORKER_THREADS + questionnaire_threads(backend)
    engine = create_engine(
        url,
        **({} if in_memory else {"pool_size": 2 * threads, "max_overflow": 0}),
        **({"connect_args": {"timeout": 30}} if backend == "sqlite" else {}),
    )
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _private_database(make_url(url).database)
    return engine


_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def writer_lock(url: str) -> AbstractContextManager:
    """What the writers of this database in this process queue on before they begin.

    SQLite has one writer at a time, and one that finds the database locked sleeps in its busy
    handler (1, 2, 5, ... 100 ms) before it tries again: under the web form's 40 threads most of a
    POST's time went to those sleeps. Queued on one lock per database file, a writer is woken as
    soon as the one before it commits. Writers in other processes (an import from the command
    line) still meet the busy handler. PostgreSQL locks rows, not the database: no queue.

    >>> writer_lock("sqlite:///a.db") is writer_lock("sqlite:///./a.db"), writer_lock("postgresql://h/db")
    (True, <contextlib.nullcontext object at ...>)
    """
    database = make_url(url).database
    if make_url(url).get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return nullcontext()
    path = str(Path(database).resolve())
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(path, threading.RLock())


def _schema_at(conn: Connection, create: bool = False) -> int:
    """The schema version of the database in this write transaction; with ``create``, an empty one is made new.

    Raises StoreError for a schema newer than this kantelmeter knows.
    """
    if conn.dialect.name == "postgresql":
        # Two processes opening (or upgrading) one database at once must not both change its tables.
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
    known = inspect(conn).has_table(schema_versions.name)
    current = (conn.execute(select(func.max(schema_versions.c.version))).scalar() if known else None) or 0
    if current == 0 and create:
        if known:
            schema_versions.drop(conn)
        _create_latest(conn)
        return SCHEMA_VERSION
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database has schema version {current}, newer than this kantelmeter knows "
            f"({SCHEMA_VERSION}); upgrade kantelmeter"
        )
    return current


def upgrade(url: str) -> tuple[int, int]:
    """Bring a store to the latest schema version in one transaction; a new one is made at it directly.

    Returns
    -------
    tuple of int
        The schema version before and after.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> url = f"sqlite:///{pathlib.Path(tempfile.mkdtemp()) / 'k.db'}"
    >>> upgrade(url) == (0, SCHEMA_VERSION), upgrade(url) == (SCHEMA_VERSION, SCHEMA_VERSION)
    (True, True)
    """
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            before = _schema_at(conn)
            if before == 0:
                _schema_at(conn, create=True)
            else:
                for version in range(before + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
                    conn.execute(insert(schema_versions).values(version=version, applied_at=_now()))
    finally:
        engine.dispose()
    return before, SCHEMA_VERSION
