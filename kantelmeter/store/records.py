"""What the store hands out about invitations, accounts and responses (no answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
