"""Users, their sessions, and invitations: who may sign in or answer, and as whom."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kantelmeter.contract import PASSWORD_MIN
from kantelmeter.instruments import Instrument
from kantelmeter.store.audit import Audit
from kantelmeter.store.base import _token_hash
from kantelmeter.store.errors import NotInStore, StoreError
from kantelmeter.store.records import Account, Invitation
from kantelmeter.store.schema import (
    ROLES,
    SESSION_IDLE,
    SESSION_LIFETIME,
    SESSION_TOUCH,
    _now,
    interviews,
    invitations,
    respondents,
    responses_table,
    sessions,
    users,
)

# Built once: a form request asks for it every time, and building a query costs more than running it.
_INVITATION = (
    select(
        respondents.c.pseudonym,
        invitations.c.instrument,
        invitations.c.version,
        invitations.c.occasion,
        respondents.c.cohort,
        invitations.c.created_at,
        responses_table.c.id,
        responses_table.c.status,
    )
    .join(respondents, respondents.c.id == invitations.c.respondent_id)
    .outerjoin(
        responses_table,
        (responses_table.c.respondent_id == invitations.c.respondent_id)
        & (responses_table.c.instrument == invitations.c.instrument)
        & (responses_table.c.occasion == invitations.c.occasion),
    )
    .where(invitations.c.token_sha256 == bindparam("token_sha256"))
)


class Accounts(Audit):
    # --- invitations ----------------------------------------------------------

    def create_invitations(
        self,
        instrument: Instrument | str,
        occasion: str,
        count: int,
        cohort: str | None = None,
        actor: str | None = None,
    ) -> list[str]:
        """Create ``count`` invitations, each for a new respondent, and return their tokens.

        A token carries 256 random bits (``secrets.token_urlsafe(32)``); only
        its SHA-256 is stored, so the database cannot be used to answer in
        someone's name. Hand the tokens out once: they cannot be recovered.
        """
        instrument = self._resolve(instrument)
        instrument.check_occasion(occasion)
        tokens = [secrets.token_urlsafe(32) for _ in range(count)]
        pseudonyms = {"r-" + secrets.token_hex(10): cohort for _ in range(count)}
        with self._write() as conn:
            ids = self._respondent_ids(conn, pseudonyms, actor)
            if tokens:
                conn.execute(
                    insert(invitations),
                    [
                        {
                            "token_sha256": _token_hash(token),
                            "respondent_id": ids[p],
                            "instrument": instrument.id,
                            "version": instrument.version,
                            "occasion": occasion,
                            "created_at": _now(),
                        }
                        for token, p in zip(tokens, pseudonyms)
                    ],
                )
            self._log(conn, "create_invitations", instrument.id, f"{occasion}: {count} invitations", actor)
        return tokens

    def invitation(self, token: str) -> Invitation | None:
        """What a token opens, or None for an unknown (or erased) token."""
        with self._read() as conn:
            row = conn.execute(_INVITATION, {"token_sha256": _token_hash(token)}).first()
        return None if row is None else Invitation(*row)

    # --- users ----------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str = "interviewer", actor: str | None = None) -> None:
        """Add a user who may sign in with a role; the password is kept as an argon2id hash.

        Parameters
        ----------
        username : str
            1 to 64 characters.
        password : str
            At least :data:`kantelmeter.contract.PASSWORD_MIN` (12) characters.
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
                conn.execute(
                    insert(users).values(
                        username=username,
                        password_hash=_password_hash(username, password),
                        created_at=_now(),
                        role=role,
                    )
                )
                self._log(conn, "add_user", username, role, actor=actor)
        except IntegrityError:
            raise StoreError(f"user {username!r} already exists") from None

    def set_password(self, username: str, password: str, actor: str | None = None) -> None:
        """Give a user a new password; every session they have open ends."""
        hashed = _password_hash(username, password)
        with self._write() as conn:
            if not conn.execute(
                update(users).where(users.c.username == username).values(password_hash=hashed)
            ).rowcount:
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
            conn.execute(
                insert(sessions).values(
                    id_sha256=_token_hash(session_id), username=username, role=role, created_at=now, seen_at=now
                )
            )
        return session_id

    def session(
        self, session_id: str | None, idle: timedelta = SESSION_IDLE, lifetime: timedelta = SESSION_LIFETIME
    ) -> Account | None:
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
            row = conn.execute(
                select(sessions.c.username, sessions.c.role, sessions.c.created_at, sessions.c.seen_at)
                .join(users, (users.c.username == sessions.c.username) & (users.c.role == sessions.c.role))
                .where(sessions.c.id_sha256 == key)
            ).first()
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
            return conn.execute(
                select(interviews.c.interviewer).where(interviews.c.response_id == response_id)
            ).scalar()

    def invite_respondents(
        self, instrument: Instrument | str, occasion: str, pseudonyms: Iterable[str], actor: str | None = None
    ) -> list[str]:
        """Invitations for existing respondents (a follow-up under the same pseudonym); tokens in order.

        Raises
        ------
        KeyError
            Naming the pseudonyms the store does not have.
        """
        instrument = self._resolve(instrument)
        instrument.check_occasion(occasion)
        pseudonyms = list(dict.fromkeys(pseudonyms))
        tokens = [secrets.token_urlsafe(32) for _ in pseudonyms]
        with self._write() as conn:
            known = self._known_respondents(conn, pseudonyms)
            missing = [p for p in pseudonyms if p not in known]
            if missing:
                raise NotInStore(
                    f"{len(missing)} respondent(s) are not in this store, e.g. {', '.join(missing[:3])}; "
                    "allowed: pseudonyms of existing respondents"
                )
            if tokens:
                conn.execute(
                    insert(invitations),
                    [
                        {
                            "token_sha256": _token_hash(t),
                            "respondent_id": known[p][0],
                            "instrument": instrument.id,
                            "version": instrument.version,
                            "occasion": occasion,
                            "created_at": _now(),
                        }
                        for t, p in zip(tokens, pseudonyms)
                    ],
                )
            self._log(conn, "invite_respondents", instrument.id, f"{occasion}: {len(tokens)} invitations", actor)
        return tokens


def _password_hash(username: str, password: str) -> str:
    if len(password) < PASSWORD_MIN:
        raise StoreError(f"the password for {username!r} is too short: give at least {PASSWORD_MIN} characters")
    return PasswordHasher().hash(password)


@cache
def _dummy_hash() -> str:
    """The hash of a random password, checked against when a username is unknown."""
    return PasswordHasher().hash(secrets.token_hex(16))
