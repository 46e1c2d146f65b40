"""Survey rounds: frame, sample, dispositions, letters and weights, keyed by pseudonym."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kantelmeter.instruments import Instrument
from kantelmeter.store.base import StoreCore, _among, _token_hash
from kantelmeter.store.errors import NotInStore, StoreError
from kantelmeter.store.records import Invitation
from kantelmeter.store.schema import (
    DISPOSITION_CODES,
    LETTER_KINDS,
    _now,
    invitations,
    respondents,
    responses_table,
    survey_dispositions,
    survey_frame,
    survey_letters,
    survey_rounds,
    survey_sample,
    survey_weights,
)


class SurveyRounds(StoreCore):
    # --- survey rounds (issue 13) -------------------------------------------------
    # A round's frame, sample, dispositions, letters and weights. Data in and out as
    # DataFrames keyed by pseudonym; kantelmeter.survey turns them into its Frame and Sample.

    def create_round(
        self,
        name: str,
        instrument: Instrument | str,
        occasion: str,
        units: pd.DataFrame,
        id_kind: str,
        strata: str | None,
        auxiliaries: list[str],
        actor: str | None = None,
    ) -> int:
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
        instrument.check_occasion(occasion)
        allowed = ["pseudonym", "stratum", *auxiliaries]
        extra = [c for c in units.columns if c not in allowed]
        if extra:
            raise StoreError(f"round {name!r}: frame column(s) {extra} are not allowed; allowed: {', '.join(allowed)}")
        if not name or len(name) > 64:
            raise StoreError(f"round name {name!r}: give 1 to 64 characters")
        rows = (
            (name, p, str(st), json.dumps({a: str(v) for a, v in zip(auxiliaries, values)}))
            for p, st, *values in units[allowed].itertuples(index=False, name=None)
        )
        try:
            with self._write() as conn:
                conn.execute(
                    insert(survey_rounds).values(
                        name=name,
                        instrument=instrument.id,
                        occasion=occasion,
                        id_kind=id_kind,
                        strata=strata,
                        auxiliaries=json.dumps(list(auxiliaries)),
                        created_at=_now(),
                    )
                )
                self._bulk_insert(conn, survey_frame, ["round", "pseudonym", "stratum", "auxiliaries"], rows)
                self._log(conn, "create_round", name, f"{len(units)} frame units", actor)
        except IntegrityError:
            raise StoreError(
                f"round {name!r} already exists, or its frame names a client twice; give the new round another name"
            ) from None
        return len(units)

    def round_info(self, name: str) -> dict[str, Any]:
        """A round's settings: instrument, occasion, id_kind, strata, auxiliaries, created_at, seed, sampled_at."""
        with self._read() as conn:
            row = conn.execute(select(survey_rounds).where(survey_rounds.c.name == name)).mappings().first()
            known = [] if row is not None else conn.execute(select(survey_rounds.c.name)).scalars().all()
        if row is None:
            raise NotInStore(
                f"no survey round {name!r} in this store; rounds: {', '.join(known) or 'none'} "
                "(create one with `kantelmeter frame import`)"
            )
        return {**row, "auxiliaries": json.loads(row["auxiliaries"])}

    def round_frame(self, name: str) -> pd.DataFrame:
        """The frame of a round: ``pseudonym``, ``stratum`` and one column per auxiliary."""
        auxiliaries = self.round_info(name)["auxiliaries"]
        with self._read() as conn:
            rows = conn.execute(
                select(survey_frame.c.pseudonym, survey_frame.c.stratum, survey_frame.c.auxiliaries)
                .where(survey_frame.c.round == name)
                .order_by(survey_frame.c.pseudonym)
            ).all()
        frame = pd.DataFrame([(p, st) for p, st, _ in rows], columns=["pseudonym", "stratum"], dtype=object)
        values = [json.loads(a) for *_, a in rows]
        for auxiliary in auxiliaries:
            frame[auxiliary] = [v[auxiliary] for v in values]
        return frame

    def save_sample(self, name: str, units: pd.DataFrame, seed: int | None = None, actor: str | None = None) -> int:
        """Store the sample of a round (``pseudonym``, ``inclusion_probability``, ``design_weight``); once only."""
        info = self.round_info(name)
        if info["sampled_at"] is not None:
            raise StoreError(
                f"round {name!r} already has its sample (drawn {info['sampled_at']:%Y-%m-%d}); a round is sampled once"
            )
        try:
            with self._write() as conn:
                self._bulk_insert(
                    conn,
                    survey_sample,
                    ["round", "pseudonym", "inclusion_probability", "design_weight"],
                    (
                        (name, p, float(pi), float(d))
                        for p, pi, d in units[["pseudonym", "inclusion_probability", "design_weight"]].itertuples(
                            index=False, name=None
                        )
                    ),
                )
                conn.execute(
                    update(survey_rounds).where(survey_rounds.c.name == name).values(seed=seed, sampled_at=_now())
                )
                self._log(conn, "save_sample", name, f"{len(units)} units", actor)
        except (IntegrityError, self.engine.dialect.loaded_dbapi.IntegrityError):
            raise StoreError(
                f"round {name!r}: the sample names a unit that is not in the frame, or one twice"
            ) from None
        return len(units)

    def round_sample(self, name: str) -> pd.DataFrame:
        """The sampled units with their frame columns, ``inclusion_probability`` and ``design_weight``."""
        frame = self.round_frame(name)
        with self._read() as conn:
            rows = conn.execute(
                select(
                    survey_sample.c.pseudonym, survey_sample.c.inclusion_probability, survey_sample.c.design_weight
                ).where(survey_sample.c.round == name)
            ).all()
        if not rows:
            raise StoreError(f"round {name!r} has no sample yet; draw one with `kantelmeter sample`")
        sample = pd.DataFrame(rows, columns=["pseudonym", "inclusion_probability", "design_weight"])
        return frame.merge(sample, on="pseudonym").sort_values(["stratum", "pseudonym"], ignore_index=True)

    def _sampled(self, conn: Connection, name: str, pseudonyms: Iterable[str]) -> list[str]:
        """These pseudonyms, after checking that each is in the round's sample."""
        pseudonyms = list(dict.fromkeys(pseudonyms))
        found = set(
            conn.execute(
                select(survey_sample.c.pseudonym).where(
                    survey_sample.c.round == name, _among(conn, survey_sample.c.pseudonym, pseudonyms)
                )
            ).scalars()
        )
        missing = [p for p in pseudonyms if p not in found]
        if missing:
            raise StoreError(
                f"round {name!r}: {len(missing)} client(s) are not in its sample, e.g. {', '.join(missing[:3])}"
            )
        return pseudonyms

    def record_dispositions(self, name: str, codes: Mapping[str, str], actor: str | None = None) -> int:
        """Record (or replace) the disposition code of sampled clients: pseudonym to one of the codes.

        Codes: ``moved``, ``deceased``, ``not_client`` (ineligible), ``refused``, ``no_contact``.
        """
        bad = {p: c for p, c in codes.items() if c not in DISPOSITION_CODES}
        if bad:
            code = next(iter(bad.values()))
            raise StoreError(
                f"round {name!r}: disposition {code!r} ({len(bad)} client(s)); allowed: {', '.join(DISPOSITION_CODES)}"
            )
        self.round_info(name)
        now = _now()
        with self._write() as conn:
            pseudonyms = self._sampled(conn, name, codes)
            conn.execute(
                delete(survey_dispositions).where(
                    survey_dispositions.c.round == name, _among(conn, survey_dispositions.c.pseudonym, pseudonyms)
                )
            )
            self._bulk_insert(
                conn,
                survey_dispositions,
                ["round", "pseudonym", "code", "recorded_at"],
                ((name, p, codes[p], now) for p in pseudonyms),
            )
            self._log(conn, "record_dispositions", name, f"{len(pseudonyms)} clients", actor)
        return len(pseudonyms)

    def invite_round(
        self, name: str, pseudonyms: Iterable[str], kind: str = "letter", actor: str | None = None
    ) -> pd.DataFrame:
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
                conn.execute(
                    insert(invitations).values(
                        token_sha256=_token_hash(token),
                        respondent_id=ids[p],
                        instrument=instrument.id,
                        version=instrument.version,
                        occasion=info["occasion"],
                        created_at=now,
                    )
                )
            invitation_of = dict(
                conn.execute(
                    select(invitations.c.token_sha256, invitations.c.id).where(
                        _among(conn, invitations.c.token_sha256, [_token_hash(t) for t in tokens])
                    )
                ).all()
            )
            self._bulk_insert(
                conn,
                survey_letters,
                ["round", "pseudonym", "invitation_id", "code_hmac", "kind", "created_at"],
                (
                    (name, p, invitation_of[_token_hash(t)], self._code_hmac(c), kind, now)
                    for p, t, c in zip(pseudonyms, tokens, codes)
                ),
            )
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
            invitation_id = conn.execute(
                select(survey_letters.c.invitation_id).where(survey_letters.c.code_hmac == self._code_hmac(code))
            ).scalar()
            if invitation_id is None:
                return None
            token = secrets.token_urlsafe(32)
            conn.execute(
                update(invitations).where(invitations.c.id == invitation_id).values(token_sha256=_token_hash(token))
            )
            self._log(conn, "login_code", invitation_id)
        return token, self.invitation(token)

    def round_outcomes(self, name: str) -> pd.DataFrame:
        """Per sampled client: ``pseudonym``, ``status`` and ``source`` of the round's response (None
        without one), ``disposition`` (code or None), ``letters`` and ``reminders`` sent."""
        info = self.round_info(name)
        response = (
            select(respondents.c.pseudonym, responses_table.c.status, responses_table.c.source)
            .join(responses_table, responses_table.c.respondent_id == respondents.c.id)
            .where(responses_table.c.instrument == info["instrument"], responses_table.c.occasion == info["occasion"])
            .subquery()
        )
        letters = (
            select(
                survey_letters.c.pseudonym,
                func.sum(case((survey_letters.c.kind == "letter", 1), else_=0)).label("letters"),
                func.sum(case((survey_letters.c.kind == "reminder", 1), else_=0)).label("reminders"),
            )
            .where(survey_letters.c.round == name)
            .group_by(survey_letters.c.pseudonym)
            .subquery()
        )
        query = (
            select(
                survey_sample.c.pseudonym,
                response.c.status,
                response.c.source,
                survey_dispositions.c.code,
                func.coalesce(letters.c.letters, 0),
                func.coalesce(letters.c.reminders, 0),
            )
            .select_from(survey_sample)
            .outerjoin(response, response.c.pseudonym == survey_sample.c.pseudonym)
            .outerjoin(
                survey_dispositions,
                (survey_dispositions.c.round == name) & (survey_dispositions.c.pseudonym == survey_sample.c.pseudonym),
            )
            .outerjoin(letters, letters.c.pseudonym == survey_sample.c.pseudonym)
            .where(survey_sample.c.round == name)
            .order_by(survey_sample.c.pseudonym)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["pseudonym", "status", "source", "disposition", "letters", "reminders"])
        return frame.astype({"letters": int, "reminders": int})

    def save_weights(self, name: str, weights: pd.DataFrame, method: str, actor: str | None = None) -> int:
        """Store (replacing earlier ones) the weights of a round's respondents: ``pseudonym``, ``weight``."""
        self.round_info(name)
        with self._write() as conn:
            conn.execute(delete(survey_weights).where(survey_weights.c.round == name))
            self._bulk_insert(
                conn,
                survey_weights,
                ["round", "pseudonym", "weight", "method"],
                (
                    (name, p, float(w), method)
                    for p, w in weights[["pseudonym", "weight"]].itertuples(index=False, name=None)
                ),
            )
            self._log(conn, "save_weights", name, f"{len(weights)} respondents, {method}", actor)
        return len(weights)

    def round_weights(self, name: str) -> pd.DataFrame:
        """The stored weights of a round: ``pseudonym``, ``weight``, ``method`` (empty when none)."""
        with self._read() as conn:
            rows = conn.execute(
                select(survey_weights.c.pseudonym, survey_weights.c.weight, survey_weights.c.method)
                .where(survey_weights.c.round == name)
                .order_by(survey_weights.c.pseudonym)
            ).all()
        return pd.DataFrame(rows, columns=["pseudonym", "weight", "method"])

    def _erase_from_rounds(self, conn: Connection, pseudonym: str) -> None:
        """Remove a client from every round's frame (and so its sample, dispositions, letters, weights)."""
        for table in (survey_letters, survey_weights, survey_dispositions, survey_sample, survey_frame):
            conn.execute(delete(table).where(table.c.pseudonym == pseudonym))

    # --- end of survey rounds -----------------------------------------------------


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
