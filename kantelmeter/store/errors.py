"""The errors the store raises: each message says what was refused and why."""

from __future__ import annotations

from kantelmeter.errors import KantelmeterError, NotFoundError
from kantelmeter.privacy import BSNError


class StoreError(KantelmeterError):
    """A request the store cannot carry out; the message says why."""


class NotInStore(StoreError, NotFoundError):
    """A respondent, response, instrument or round the store does not hold (a ``KeyError``, printed as written)."""


class ResponseLocked(StoreError):
    """A complete response is final: it can no longer be changed."""


class AnswerRefused(StoreError, ValueError):
    """An answer outside its item's domain; nothing of the save or bulk add was stored."""


class InvalidBSN(AnswerRefused, BSNError):
    """A BSN answer that fails the eleven-test (the message masks the number)."""


class DuplicateResponse(StoreError, ValueError):
    """A respondent already has a response to this instrument at this occasion."""
