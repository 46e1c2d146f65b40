"""The append-only audit log: who did what and when, naming objects by internal numbers only."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from kantelmeter.store.base import StoreCore
from kantelmeter.store.schema import audit


class Audit(StoreCore):
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
            rows = conn.execute(
                select(audit.c.at, audit.c.actor, audit.c.action, audit.c.object, audit.c.detail).order_by(audit.c.id)
            ).all()
        return pd.DataFrame(rows, columns=["at", "actor", "action", "object", "detail"])
