"""Bulk load: many complete responses (an import) in one transaction, all of them or none."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from datetime import datetime
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kantelmeter.answers import DATETIME_FORMS, Domain, domains, parse_datetimes
from kantelmeter.instruments import Instrument
from kantelmeter.store.base import StoreCore, _among, _new_ids
from kantelmeter.store.errors import DuplicateResponse, StoreError
from kantelmeter.store.keys import BULK_KEY_ROWS, keys_checked_at_end
from kantelmeter.store.responses import _parsed_answer, _refused
from kantelmeter.store.schema import META_COLUMNS, _now, answer_table, batches, respondents, responses_table

ANSWER_BLOCK = 50_000  # responses whose answers are checked and written together by add_responses
ANY_OCCASION = "*"  # the occasion recorded for a batch whose rows hold several occasions


class BulkLoad(StoreCore):
    def add_responses(
        self,
        instrument: Instrument | str,
        occasion: str | None,
        frame: pd.DataFrame,
        source: str = "import",
        batch: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Add many complete responses in one transaction: all of them or none.

        Parameters
        ----------
        instrument : Instrument or str
        occasion : str or None
            The occasion of every row; None when the frame has an ``occasion``
            column (several occasions, as a whole-instrument export holds).
        frame : DataFrame
            Column ``respondent`` (pseudonyms), optionally ``cohort``,
            ``collected_at``, ``occasion`` and ``version`` (a registered
            version of the instrument; rows without one answer ``instrument``),
            and wide instrument columns. Every answer is parsed by its answer
            domain (:mod:`kantelmeter.answers`); one refused value refuses all.
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
        AnswerRefused
            For a value outside its item's domain, naming item, value and what is allowed.
        """
        return self.add_response_chunks(instrument, occasion, [frame], source, batch, actor)

    def add_response_chunks(
        self,
        instrument: Instrument | str,
        occasion: str | None,
        chunks: Iterable[pd.DataFrame],
        source: str = "import",
        batch: str | None = None,
        actor: str | None = None,
    ) -> int:
        """Add the responses of each frame in ``chunks``, as :meth:`add_responses` does, all in one transaction.

        A million-row file never has to sit in memory whole: each chunk is checked and
        written before the next is made. An error raised by the chunks themselves (a
        file refused halfway) or by any chunk's answers rolls back every chunk. The chunks are made
        inside the write transaction, so making them may read the store but not write to it.

        Examples
        --------
        >>> from kantelmeter import load_instrument
        >>> from kantelmeter.store import Store
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
        >>> soc = load_instrument("soc13")
        >>> people = [store.add_respondent(), store.add_respondent()]
        >>> halves = (pd.DataFrame({"respondent": [person], "soc1": [n]}) for person, n in zip(people, (4, 6)))
        >>> store.add_response_chunks(soc, "intake", halves), len(store.responses(soc))
        (2, 2)
        """
        instrument = self._resolve(instrument)
        now = _now()
        added = 0
        try:
            with self._import() as conn, ExitStack() as keys:
                if batch is not None and self._batch_seen(conn, instrument.id, occasion or ANY_OCCASION, batch):
                    return 0
                batch_id = None
                for frame in chunks:
                    groups = self._response_groups(instrument, occasion, frame)
                    if frame.empty:
                        continue
                    if added == 0 and len(frame) >= BULK_KEY_ROWS:  # a large import: its keys checked in one pass
                        tables = [responses_table.name, *dict.fromkeys(answer_table(v).name for v, _, _ in groups)]
                        keys.enter_context(keys_checked_at_end(conn, tables))
                    if batch is not None and batch_id is None:  # recorded with its first response
                        batch_id = conn.execute(
                            insert(batches)
                            .values(
                                instrument=instrument.id,
                                occasion=occasion or ANY_OCCASION,
                                sha256=batch,
                                rows=0,
                                imported_at=now,
                            )
                            .returning(batches.c.id)
                        ).scalar()
                    for version, at, rows in groups:
                        self._add_group(conn, version, at, rows, source, batch_id, now, actor)
                    added += len(frame)
                keys.close()
                if batch_id is not None:
                    conn.execute(update(batches).where(batches.c.id == batch_id).values(rows=added))
        except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError) as exc:
            raise DuplicateResponse(
                f"some respondents already have a response to {instrument.id!r} at "
                f"{occasion or 'these occasions'!r}, or appear twice; nothing was added "
                f"({getattr(exc, 'orig', exc)})"
            ) from None
        return added

    def _response_groups(
        self, instrument: Instrument, occasion: str | None, frame: pd.DataFrame
    ) -> list[tuple[Instrument, str, pd.DataFrame]]:
        """The frame split by occasion and instrument version, each group checked before anything is written."""
        if occasion is None and "occasion" not in frame:
            raise StoreError("no occasion given and the frame has no occasion column; give one of them")
        occasions = frame["occasion"] if occasion is None else pd.Series(occasion, index=frame.index)
        versions = frame["version"] if "version" in frame else pd.Series(instrument.version, index=frame.index)
        groups = []
        for (at, version), rows in frame.groupby([occasions, versions.fillna(instrument.version)], sort=False):
            try:
                answered = instrument if version == instrument.version else self.instrument(instrument.id, version)
            except KeyError:
                known = ", ".join(v.version for v in self.versions(instrument.id))
                raise StoreError(
                    f"version {version!r} of {instrument.id!r} is not registered; allowed: {known}"
                ) from None
            if at not in answered.occasions:
                raise StoreError(
                    f"occasion {at!r} is not one of {answered.id}'s occasions: {', '.join(answered.occasions)}"
                )
            # Columns only other versions have, blank in these rows, come from reading all versions at once.
            padding = [
                c for c in rows.columns if c not in answered.columns and c not in META_COLUMNS and rows[c].isna().all()
            ]
            rows = rows.drop(columns=[*padding, *(c for c in ("occasion", "version") if c in rows)])
            unknown = set(rows.columns) - set(answered.columns) - set(META_COLUMNS)
            if unknown:
                raise StoreError(
                    f"columns {sorted(unknown)} are not columns of instrument {answered.id!r} "
                    f"version {answered.version!r}"
                )
            groups.append((answered, at, rows))
        return groups

    def _add_group(
        self,
        conn: Connection,
        instrument: Instrument,
        occasion: str,
        frame: pd.DataFrame,
        source: str,
        batch_id: int | None,
        now: datetime,
        actor: str | None,
    ) -> None:
        """Add the responses of one instrument version at one occasion, a block of responses at a time."""
        allowed = domains(instrument)
        numeric = [c for c in frame.columns if c in allowed and allowed[c].numeric]
        others = [c for c in frame.columns if c in allowed and c not in numeric]
        cohorts = (
            frame["cohort"].astype(object) if "cohort" in frame else pd.Series(None, index=frame.index, dtype=object)
        )
        cohorts = cohorts.where(cohorts.notna(), None)  # a NaN would reach PostgreSQL as the text 'nan'
        collected = parse_datetimes(frame["collected_at"]) if "collected_at" in frame else None
        if collected is not None and collected.refused.any():
            first = np.flatnonzero(collected.refused.to_numpy())[0]
            raise StoreError(
                f"row {first} of the frame, column 'collected_at': value "
                f"{frame['collected_at'].iloc[first]!r}: {collected.problems.iloc[first]}; allowed: "
                f"{DATETIME_FORMS}"
            )
        times = collected.values.dt.tz_localize(None) if collected is not None else pd.Series(now, index=frame.index)
        ids = self._respondent_ids(conn, dict(zip(frame["respondent"], cohorts)), actor)
        response_ids = _new_ids(conn, responses_table, len(frame))
        self._bulk_insert_frame(
            conn,
            responses_table,
            pd.DataFrame(
                {
                    "id": response_ids,
                    "respondent_id": frame["respondent"].map(ids).to_numpy(),
                    "instrument": instrument.id,
                    "version": instrument.version,
                    "occasion": occasion,
                    "collected_at": times.reset_index(drop=True),
                    "status": "complete",
                    "source": source,
                    "batch_id": pd.Series(batch_id, index=range(len(frame)), dtype=object),
                }
            ),
        )
        table = answer_table(instrument)
        columns = [c for c in table.c.keys() if c in frame.columns]
        for start in range(0, len(frame), ANSWER_BLOCK):
            # A block of responses at a time: the checked copy of a million responses would not fit beside the frame.
            block = frame.iloc[start : start + ANSWER_BLOCK]
            block_ids = response_ids[start : start + ANSWER_BLOCK]
            checked = _checked_numbers(block[numeric], allowed, block["respondent"], start)
            # Text, date and identifier answers pass _parsed_answers, the same gate as single saves.
            for column in others:
                checked[column] = [
                    _parsed_answer(allowed[column], partial(self._pseudonymise, conn), response, value)
                    for response, value in zip(block_ids, block[column])
                ]
            self._bulk_insert_frame(
                conn,
                table,
                pd.concat([pd.Series(block_ids, index=block.index, name="response_id"), checked[columns]], axis=1),
            )
        self._log(conn, "add_responses", batch_id, f"{instrument.id} {occasion}: {len(frame)} responses", actor)

    @staticmethod
    def _batch_seen(conn: Connection, instrument_id: str, occasion: str, batch: str) -> bool:
        return (
            conn.execute(
                select(batches.c.id).where(
                    batches.c.instrument == instrument_id, batches.c.occasion == occasion, batches.c.sha256 == batch
                )
            ).first()
            is not None
        )

    def batch_seen(self, instrument: Instrument | str, occasion: str, batch: str) -> bool:
        """Whether a batch with this key (a file's SHA-256) was added for this instrument and occasion."""
        instrument_id = instrument.id if isinstance(instrument, Instrument) else instrument
        with self._read() as conn:
            return self._batch_seen(conn, instrument_id, occasion, batch)

    def responded(self, instrument: Instrument | str, occasion: str, pseudonyms: Iterable[str]) -> set[str]:
        """Which of these respondents already have a response to the instrument at this occasion."""
        instrument_id = instrument.id if isinstance(instrument, Instrument) else instrument
        with self._read() as conn:
            return set(
                conn.execute(
                    select(respondents.c.pseudonym)
                    .join(responses_table, responses_table.c.respondent_id == respondents.c.id)
                    .where(
                        responses_table.c.instrument == instrument_id,
                        responses_table.c.occasion == occasion,
                        _among(conn, respondents.c.pseudonym, pseudonyms),
                        self._stored_before_import(),
                    )
                ).scalars()
            )


def _checked_numbers(
    frame: pd.DataFrame, allowed: Mapping[str, Domain], respondent: pd.Series, start: int = 0
) -> pd.DataFrame:
    """Numeric answer columns parsed by their domains, a whole column at a time; the first refusal is raised."""
    checked = {}
    for column in frame.columns:
        parsed = allowed[column].parse_column(frame[column])
        refused = np.flatnonzero(parsed.refused.to_numpy())
        if len(refused):
            first = refused[0]
            raise _refused(
                f"row {start + first} of the frame (respondent {respondent.iloc[first]!r}; {len(refused)} "
                f"refused value(s) in this column)",
                allowed[column],
                allowed[column].refusal(frame[column].iloc[first]),
            )
        checked[column] = parsed.values
    return pd.DataFrame(checked, index=frame.index)
