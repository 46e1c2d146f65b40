"""Erasure: a respondent removed completely, on request (AVG article 17)."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from kantelmeter.store.base import StoreCore
from kantelmeter.store.schema import SURVEY_TABLES, answer_table, respondents, responses_table


class Erasure(StoreCore):
    # --- erasure --------------------------------------------------------------

    def erase(self, respondent: str, actor: str | None = None) -> int:
        """Remove everything stored about a respondent and log the erasure.

        Responses, their rows of answers, submissions and invitations go
        with the respondent. The audit entry names only the internal respondent
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
            answered = conn.execute(
                select(responses_table.c.instrument, responses_table.c.version)
                .distinct()
                .where(responses_table.c.respondent_id == respondent_id)
            ).all()
            removed = conn.execute(
                select(func.count())
                .select_from(responses_table)
                .where(responses_table.c.respondent_id == respondent_id)
            ).scalar()
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
                tables = [answer_table(self.instrument(*version)).name for version in answered]
                driver.execute(
                    ", ".join(["VACUUM respondents, responses, submissions, invitations", *SURVEY_TABLES, *tables])
                )
                driver.autocommit = False
        finally:
            raw.close()
        return removed
