"""Responses one at a time (a form page, an interview) and the wide DataFrame of all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import nullcontext
from functools import cache, partial
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Insert, Select, Table, Update, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kantelmeter.answers import AnswerError, Domain, domains, is_pseudonym
from kantelmeter.instruments import Instrument
from kantelmeter.store.base import WIDE_FETCH_CELLS, StoreCore, _driver_blocks
from kantelmeter.store.errors import AnswerRefused, InvalidBSN, NotInStore, ResponseLocked, StoreError
from kantelmeter.store.records import ResponseInfo
from kantelmeter.store.schema import (
    META_COLUMNS,
    SOURCES,
    _now,
    answer_table,
    instruments,
    interviews,
    respondents,
    responses_table,
    submissions,
)

# The queries a form request runs, built once: building a query costs more than running it.
_RESPONDENT_ID = select(respondents.c.id).where(respondents.c.pseudonym == bindparam("pseudonym"))
_RESPONSE = select(responses_table.c.instrument, responses_table.c.version, responses_table.c.status).where(
    responses_table.c.id == bindparam("response_id")
)
_LOCKED_RESPONSE = _RESPONSE.with_for_update()
_EXISTING = select(responses_table.c.id, responses_table.c.status).where(
    responses_table.c.respondent_id == bindparam("respondent_id"),
    responses_table.c.instrument == bindparam("instrument"),
    responses_table.c.occasion == bindparam("occasion"),
)
# The respondent's id and their response here, if any, in one look-up: what beginning a response needs first.
_RESPONDENT_AND_EXISTING = (
    select(respondents.c.id.label("respondent_id"), responses_table.c.id, responses_table.c.status)
    .outerjoin(
        responses_table,
        (responses_table.c.respondent_id == respondents.c.id)
        & (responses_table.c.instrument == bindparam("instrument"))
        & (responses_table.c.occasion == bindparam("occasion")),
    )
    .where(respondents.c.pseudonym == bindparam("pseudonym"))
)
_NEW_RESPONSE = insert(responses_table).returning(responses_table.c.id)
# The columns set are the parameters given with it; the row's id is bound by a name no column has.
_UPDATE_RESPONSE = update(responses_table).where(responses_table.c.id == bindparam("row_id"))
_SUBMISSION = insert(submissions)
_SUBMITTED = select(submissions.c.key).where(
    submissions.c.response_id == bindparam("response_id"), submissions.c.key == bindparam("key")
)
_RESPONSE_INFO = (
    select(
        respondents.c.pseudonym,
        responses_table.c.instrument,
        responses_table.c.version,
        responses_table.c.occasion,
        responses_table.c.status,
    )
    .join(respondents, respondents.c.id == responses_table.c.respondent_id)
    .where(responses_table.c.id == bindparam("response_id"))
)


@cache
def _update_of(table: Table) -> Update:
    """The update of one response's row of an answer table; the columns set are the parameters given with it."""
    return update(table).where(table.c.response_id == bindparam("row_id"))


@cache
def _new_row_of(table: Table) -> Insert:
    """The insert of a new response's (empty) row into an answer table."""
    return insert(table)


@cache
def _answers_of(table: Table) -> Select:
    """The query for one response's row of an instrument's answer table."""
    return select(table).where(table.c.response_id == bindparam("response_id"))


class Responses(StoreCore):
    # --- responses and answers ------------------------------------------------

    def start_response(
        self,
        respondent: str,
        instrument: Instrument | str,
        occasion: str,
        source: str = "web",
        actor: str | None = None,
    ) -> int:
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
        instrument = self._checked_start(instrument, occasion, source)
        with self._write() as conn:
            return self._begin(conn, respondent, instrument, occasion, source, actor)[0]

    def _checked_start(self, instrument: Instrument | str, occasion: str, source: str) -> Instrument:
        instrument = self._resolve(instrument)
        instrument.check_occasion(occasion)
        if source not in SOURCES:
            raise StoreError(f"source {source!r}; allowed: {', '.join(SOURCES)}")
        return instrument

    def _begin(
        self,
        conn: Connection,
        respondent: str,
        instrument: Instrument,
        occasion: str,
        source: str,
        actor: str | None,
        answers: Mapping[str, Any] | None = None,
    ) -> tuple[int, bool]:
        """The partial response of this respondent here, begun in this transaction if there is none; and whether it was.

        A response begun here gets its row of answers with ``answers`` in it: a form's first page is
        one insert, not an empty row and then its update.
        """
        found = conn.execute(
            _RESPONDENT_AND_EXISTING, {"pseudonym": respondent, "instrument": instrument.id, "occasion": occasion}
        ).first()
        if found is None:
            raise NotInStore(f"no respondent with pseudonym {respondent!r} in this store")
        existing = {"respondent_id": found.respondent_id, "instrument": instrument.id, "occasion": occasion}
        row = found if found.id is not None else None
        if row is None:
            try:
                # A savepoint on PostgreSQL: losing a race must not end the whole transaction. SQLite needs
                # none (and it cost a tenth of a form post): BEGIN IMMEDIATE holds the write lock, so no one races.
                with conn.begin_nested() if conn.dialect.name == "postgresql" else nullcontext():
                    response_id = conn.execute(
                        _NEW_RESPONSE, existing | {"version": instrument.version, "status": "partial", "source": source}
                    ).scalar()
                    values = _parsed_answers(instrument, partial(self._pseudonymise, conn), response_id, answers or {})
                    conn.execute(_new_row_of(answer_table(instrument)), values | {"response_id": response_id})
                    if source == "interview":
                        conn.execute(
                            insert(interviews).values(response_id=response_id, interviewer=actor or self.actor)
                        )
                    self._log(conn, "start_response", response_id, f"{instrument.id} {occasion}", actor)
                return response_id, True
            except IntegrityError:  # another request began it between the look and the insert (PostgreSQL)
                row = conn.execute(_EXISTING, existing).one()
        if row.status == "complete":
            raise ResponseLocked(
                f"response {row.id}: this respondent has already completed {instrument.id} at {occasion}"
            )
        return row.id, False

    @staticmethod
    def _respondent_id(conn: Connection, pseudonym: str) -> int:
        found = conn.execute(_RESPONDENT_ID, {"pseudonym": pseudonym}).scalar()
        if found is None:
            raise NotInStore(f"no respondent with pseudonym {pseudonym!r} in this store")
        return found

    def save_answers(
        self,
        response_id: int,
        answers: Mapping[str, Any],
        complete: bool = False,
        submission: str | None = None,
        actor: str | None = None,
    ) -> bool:
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
            return self._save(conn, response_id, answers, complete, submission, actor)

    def save_page(
        self,
        response_id: int | None,
        respondent: str,
        instrument: Instrument | str,
        occasion: str,
        answers: Mapping[str, Any],
        *,
        source: str = "web",
        complete: bool = False,
        submission: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Begin or continue a response and save a page of answers to it, in one write transaction.

        What a form POST needs: :meth:`start_response` (when ``response_id`` is None) and
        :meth:`save_answers`, with one wait for the single writer and one commit instead of two.

        Returns
        -------
        int
            The response id (the one given, or the response begun or found). A
            submission saved before (a retry) changes nothing, as in save_answers.

        Examples
        --------
        >>> from kantelmeter import load_instrument
        >>> from kantelmeter.store import Store
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
        >>> person = store.add_respondent()
        >>> response = store.save_page(None, person, load_instrument("soc13"), "intake", {"soc1": 4})
        >>> store.save_page(response, person, "soc13", "intake", {"soc2": 2}) == response, store.answers(response)
        (True, {'soc1': 4.0, 'soc2': 2.0})
        """
        if response_id is None:
            instrument = self._checked_start(instrument, occasion, source)
        with self._write() as conn:
            if response_id is None:
                response_id, begun = self._begin(conn, respondent, instrument, occasion, source, actor, answers)
                if begun:  # its answers are in; new, it has no submissions and is partial
                    self._saved(conn, response_id, len(answers), complete, submission, actor)
                    return response_id
            self._save(conn, response_id, answers, complete, submission, actor)
        return response_id

    def _save(
        self,
        conn: Connection,
        response_id: int,
        answers: Mapping[str, Any],
        complete: bool,
        submission: str | None,
        actor: str | None,
    ) -> bool:
        """save_answers inside an open write transaction."""
        instrument = self._open_for_saving(conn, response_id, submission)
        if instrument is None:
            return False
        values = _parsed_answers(instrument, partial(self._pseudonymise, conn), response_id, answers)
        if values:
            conn.execute(_update_of(answer_table(instrument)), values | {"row_id": response_id})
        self._saved(conn, response_id, len(answers), complete, submission, actor)
        return True

    def _saved(
        self,
        conn: Connection,
        response_id: int,
        columns: int,
        complete: bool,
        submission: str | None,
        actor: str | None,
    ) -> None:
        """What follows the answers of a save: its submission key, the completion, the audit row."""
        if submission is not None:
            conn.execute(_SUBMISSION, {"response_id": response_id, "key": submission, "saved_at": _now()})
        if complete:
            conn.execute(_UPDATE_RESPONSE, {"status": "complete", "collected_at": _now(), "row_id": response_id})
        self._log(conn, "complete_response" if complete else "save_answers", response_id, f"{columns} columns", actor)

    def _open_for_saving(self, conn: Connection, response_id: int, submission: str | None) -> Instrument | None:
        """The instrument of a response that may be saved to; None if this submission was saved before."""
        query = _LOCKED_RESPONSE if conn.dialect.name == "postgresql" else _RESPONSE
        row = conn.execute(query, {"response_id": response_id}).first()
        if row is None:
            raise NotInStore(f"no response with id {response_id}")
        if submission is not None and conn.execute(_SUBMITTED, {"response_id": response_id, "key": submission}).first():
            return None
        if row.status == "complete":
            raise ResponseLocked(f"response {response_id} is complete and can no longer be changed")
        return self.instrument(row.instrument, row.version)

    def answers(self, response_id: int) -> dict[str, Any]:
        """The stored answers of one response: column to value (identifier answers as pseudonyms)."""
        with self._read() as conn:  # one transaction: what a form request reads before each page
            info = self._response_info(conn, response_id)
            table = answer_table(self.instrument(info.instrument, info.version))
            row = conn.execute(_answers_of(table), {"response_id": response_id}).mappings().one()
        return {column: value for column, value in row.items() if column != "response_id" and value is not None}

    def response_status(self, response_id: int) -> str:
        """``"partial"`` or ``"complete"``."""
        with self._read() as conn:
            status = conn.execute(select(responses_table.c.status).where(responses_table.c.id == response_id)).scalar()
        if status is None:
            raise NotInStore(f"no response with id {response_id}")
        return status

    def response_info(self, response_id: int) -> ResponseInfo:
        """The respondent, instrument, occasion and status of a response (no answers).

        Raises
        ------
        KeyError
            For an unknown response id.
        """
        with self._read() as conn:
            return self._response_info(conn, response_id)

    @staticmethod
    def _response_info(conn: Connection, response_id: int) -> ResponseInfo:
        row = conn.execute(_RESPONSE_INFO, {"response_id": response_id}).first()
        if row is None:
            raise NotInStore(f"no response with id {response_id}")
        return ResponseInfo(*row)

    def versions(self, instrument_id: str) -> list[Instrument]:
        """Every registered version of an instrument, oldest first."""
        with self._read() as conn:
            found = (
                conn.execute(
                    select(instruments.c.version)
                    .where(instruments.c.id == instrument_id)
                    .order_by(instruments.c.registered_at, instruments.c.version)
                )
                .scalars()
                .all()
            )
        return [self.instrument(instrument_id, version) for version in found]

    def responses(
        self,
        instrument: Instrument | str,
        occasion: str | None = None,
        cohort: str | None = None,
        include_partial: bool = False,
    ) -> pd.DataFrame:
        """The responses to an instrument as a wide DataFrame (the tidy contract).

        Parameters
        ----------
        instrument : Instrument or str
            Responses to every registered version with this id are read: the
            columns are those of this version, then those that only older
            versions have (blank where a response's version lacks the item).
        occasion, cohort : str, optional
            Keep only these.
        include_partial : bool
            Also return responses that were begun but not completed.

        Returns
        -------
        DataFrame
            One row per response, ordered by respondent and occasion: columns
            ``respondent``, ``occasion``, ``cohort``, ``collected_at`` (UTC),
            ``version`` (of the instrument the response answered), then one
            column per instrument column: floats for coded, score and number
            items (NaN when missing), strings for text items, dates as
            datetime64.

        Notes
        -----
        Answers are fetched in blocks of about :data:`WIDE_FETCH_CELLS` and written into
        preallocated arrays, so memory stays close to the returned frame.
        """
        instrument = self._resolve(instrument)
        items = dict(domains(instrument))
        versions = self.versions(instrument.id)
        for older in reversed(versions):
            for column, domain in domains(older).items():
                items.setdefault(column, domain)
        text = [column for column, domain in items.items() if not domain.numeric]
        numeric = [column for column in items if column not in text]
        chosen = [responses_table.c.instrument == instrument.id]
        if occasion is not None:
            chosen.append(responses_table.c.occasion == occasion)
        if cohort is not None:
            chosen.append(respondents.c.cohort == cohort)
        if not include_partial:
            chosen.append(responses_table.c.status == "complete")
        joined = responses_table.join(respondents, respondents.c.id == responses_table.c.respondent_id)
        meta = (
            select(
                responses_table.c.id,
                respondents.c.pseudonym,
                responses_table.c.occasion,
                respondents.c.cohort,
                responses_table.c.collected_at,
                responses_table.c.version,
            )
            .select_from(joined)
            .where(*chosen)
            .order_by(respondents.c.pseudonym, responses_table.c.occasion)
        )

        def wide_blocks(conn: Connection, version: Instrument, columns: list[str]) -> Iterator[list[tuple]]:
            table = answer_table(version)
            return _driver_blocks(
                conn,
                select(table.c.response_id, *(table.c[c] for c in columns))
                .select_from(joined.join(table, table.c.response_id == responses_table.c.id))
                .where(*chosen, responses_table.c.version == version.version),
                rows=max(1, WIDE_FETCH_CELLS // (len(columns) + 1)),
            )

        with self._read() as conn:
            if conn.dialect.name == "postgresql":
                # The reads below must see one snapshot, not a response committed or erased between them.
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            wide, ids = _meta_columns(_driver_blocks(conn, meta, rows=WIDE_FETCH_CELLS // len(META_COLUMNS)))
            matrix = np.full((len(ids), len(numeric)), np.nan, order="F")
            strings = np.full((len(ids), len(text)), None, dtype=object)
            for version in versions:
                answered = domains(version)
                for columns, target, positions in (
                    ([c for c in numeric if c in answered], matrix, numeric),
                    ([c for c in text if c in answered], strings, text),
                ):
                    where = [positions.index(c) for c in columns]
                    for block in wide_blocks(conn, version, columns) if columns else ():
                        # numpy reads a block of tuples whole; None (no answer) becomes NaN in a float array.
                        cells = np.array(block, dtype=target.dtype)
                        target[np.ix_(ids.get_indexer(cells[:, 0].astype("int64")), where)] = cells[:, 1:]
        # The numbers become the frame's one float block without a copy; the other columns are inserted at
        # their places around it, so the columns are in order without copying the numbers again.
        frame = pd.DataFrame(matrix, columns=numeric, copy=False)
        del matrix
        for position, column in enumerate(META_COLUMNS):
            frame.insert(position, column, wide.pop(column))
        order = {column: len(META_COLUMNS) + position for position, column in enumerate(items)}
        for column, values in zip(text, strings.T):  # in the order of items, so each place is final
            values = pd.Series(values, dtype=object)
            frame.insert(
                order[column],
                column,
                pd.to_datetime(values) if items[column].kind == "date" else values.astype("str").where(values.notna()),
            )
        return frame

    def completion(self, instrument: Instrument | str | None = None) -> pd.DataFrame:
        """Counts of responses per instrument, occasion, cohort and status (no answer values).

        Returns
        -------
        DataFrame
            Columns instrument, occasion, cohort, status, n.
        """
        query = (
            select(
                responses_table.c.instrument,
                responses_table.c.occasion,
                respondents.c.cohort,
                responses_table.c.status,
                func.count().label("n"),
            )
            .join(respondents, respondents.c.id == responses_table.c.respondent_id)
            .group_by(
                responses_table.c.instrument, responses_table.c.occasion, respondents.c.cohort, responses_table.c.status
            )
            .order_by(
                responses_table.c.instrument, responses_table.c.occasion, respondents.c.cohort, responses_table.c.status
            )
        )
        if instrument is not None:
            query = query.where(
                responses_table.c.instrument == (instrument.id if isinstance(instrument, Instrument) else instrument)
            )
        with self._read() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(rows, columns=["instrument", "occasion", "cohort", "status", "n"])


def _meta_columns(blocks: Iterable[list[tuple]]) -> tuple[dict[str, Any], pd.Index]:
    """The identifying columns of the wide frame from (id, pseudonym, occasion, cohort, collected_at, version) rows.

    Repeated texts (occasion, cohort, version) share one string object each, so a million rows cost a
    pointer per cell rather than a string per cell.
    """
    ids, columns, shared = [], [[], [], [], [], []], {}
    for block in blocks:
        response, respondent, occasion, cohort, collected, version = zip(*block)
        ids.extend(response)
        columns[0].extend(respondent)
        columns[4].extend(collected)
        for position, values in ((1, occasion), (2, cohort), (3, version)):
            columns[position].extend(shared.setdefault(v, v) for v in values)
    wide: dict[str, Any] = {}
    for name, values in zip(("respondent", "occasion", "cohort", "version"), columns[:4]):
        values = pd.Series(values, dtype=object)
        wide[name] = values.astype("str").where(values.notna())
    # ISO8601: SQLite holds times written with and without their fraction of a second.
    wide["collected_at"] = pd.to_datetime(pd.Series(columns[4], dtype=object), format="ISO8601").dt.tz_localize("UTC")
    return wide, pd.Index(ids, dtype="int64")


def _refused(where: str, domain: Domain, error: AnswerError) -> AnswerRefused:
    refusal = InvalidBSN if error.key == "bsn_invalid" else AnswerRefused
    return refusal(
        f"{where}, item {domain.item.id!r} (column {domain.column!r}): value {error.value!r}: "
        f"{error.problem}; allowed: {error.allowed}"
    )


def _parsed_answers(
    instrument: Instrument, pseudonymise: Callable[..., str], response_id: int, answers: Mapping[str, Any]
) -> dict[str, float | str | None]:
    """Column to stored value (None clears it) for the given answers of one response, each parsed by its domain."""
    allowed = domains(instrument)
    unknown = [column for column in answers if column not in allowed]
    if unknown:
        raise StoreError(
            f"response {response_id}: column {unknown[0]!r} is not a column of instrument "
            f"{instrument.id!r}; columns: {', '.join(allowed)}"
        )
    return {
        column: _parsed_answer(allowed[column], pseudonymise, response_id, value) for column, value in answers.items()
    }


def _parsed_answer(
    domain: Domain, pseudonymise: Callable[..., str], response_id: int, value: Any
) -> float | str | None:
    """One answer as stored, parsed by its domain.

    Identifier answers become pseudonyms here, the one gate every write passes; a value that
    already is a pseudonym (read back from an export) is kept, never pseudonymised twice.
    """
    try:
        stored = domain.parse(value)
    except AnswerError as error:
        raise _refused(f"response {response_id}", domain, error) from None
    if stored is not None and domain.identifier and not is_pseudonym(stored):
        stored = pseudonymise(domain.identifier, stored, where=f"response {response_id}, column {domain.column!r}")
    return stored
