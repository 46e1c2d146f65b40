"""The response store: the only package that speaks SQL.

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

Layout
------
One facade, :class:`Store`, over one module per concern: :mod:`.schema`
(tables, migrations, :func:`upgrade`), :mod:`.base` (connection, key,
instruments, respondents), :mod:`.responses` (one response at a time and the
wide read), :mod:`.bulk` (imports), :mod:`.accounts` (users, sessions,
invitations), :mod:`.rounds` (survey rounds), :mod:`.audit` and
:mod:`.erasure`. Answers are one row per response, in a table per instrument
version (:func:`answer_table`).

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

from kantelmeter.store.accounts import Accounts
from kantelmeter.store.base import StoreCore
from kantelmeter.store.bulk import ANY_OCCASION, BulkLoad
from kantelmeter.store.erasure import Erasure
from kantelmeter.store.errors import (
    AnswerRefused,
    DuplicateResponse,
    InvalidBSN,
    NotInStore,
    ResponseLocked,
    StoreError,
)
from kantelmeter.store.records import Account, Invitation, ResponseInfo
from kantelmeter.store.responses import Responses
from kantelmeter.store.rounds import SurveyRounds
from kantelmeter.store.schema import (
    DISPOSITION_CODES,
    LETTER_KINDS,
    ROLES,
    SCHEMA_VERSION,
    SESSION_IDLE,
    SESSION_LIFETIME,
    SURVEY_TABLES,
    answer_table,
    upgrade,
)

__all__ = [
    "ANY_OCCASION",
    "DISPOSITION_CODES",
    "LETTER_KINDS",
    "ROLES",
    "SCHEMA_VERSION",
    "SESSION_IDLE",
    "SESSION_LIFETIME",
    "SURVEY_TABLES",
    "Account",
    "AnswerRefused",
    "DuplicateResponse",
    "InvalidBSN",
    "Invitation",
    "NotInStore",
    "ResponseInfo",
    "ResponseLocked",
    "Store",
    "StoreError",
    "answer_table",
    "upgrade",
]


class Store(Responses, BulkLoad, Accounts, SurveyRounds, Erasure, StoreCore):
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
    A new database is created at :data:`SCHEMA_VERSION` when the store is
    opened; one at an older version is refused until :func:`upgrade`
    (``kantelmeter db upgrade``) brings it up to date. Times are stored in UTC.
    """
