"""Citizen service numbers (BSN) and pseudonyms: no name or BSN is ever stored.

An intake record carries a BSN and a name; kantelmeter keeps neither. At the
moment data enter (web form, import) :class:`Pseudonymiser` turns them into
pseudonyms: a keyed hash (HMAC-SHA256, RFC 2104 / FIPS 198-1) whose key lives
in a file outside the database, so that someone with the database alone
cannot recompute a pseudonym from a known BSN, while the same citizen gets
the same pseudonym at every occasion. A BSN is first checked with the
eleven-test (:func:`validate_bsn`), so that a typing error does not silently
create a second respondent.

Error messages never show a whole BSN: only its last four characters
(``*****2334``), enough to find the row without spreading the number in logs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
from pathlib import Path

import pandas as pd

from kantelmeter.errors import KantelmeterError

__all__ = [
    "IdentifierError",
    "KEY_FILE_ENV",
    "BSNError",
    "KeyFileError",
    "Pseudonymiser",
    "find_bsns",
    "is_valid_bsn",
    "load_or_create_secret",
    "mask_bsns",
    "mask_bsns_in_columns",
    "validate_bsn",
]

KEY_FILE_ENV = "KANTELMETER_KEY_FILE"
"""Environment variable with the path of the pseudonym key file."""

_DEFAULT_KEY_FILE = Path("~/.config/kantelmeter/pseudonym.key")
_KEY_BYTES = 32
_PSEUDONYM_HEX = 20
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_KIND = re.compile(r"[a-z][a-z0-9_]*")
# Nine digits, optionally grouped by single spaces, dots or hyphens (as people write a BSN), not inside a longer number.
_NINE_DIGITS = re.compile(r"(?<![\d.-])(?:\d[ .-]?){8}\d(?![\d]|[.-]\d)")
BSN_MASK = "*********"


class IdentifierError(KantelmeterError, ValueError):
    """An identifier that cannot be pseudonymised: an unknown kind, an empty value or one that is not text."""


class BSNError(IdentifierError):
    """A value that is not a valid BSN; the message masks the number."""


class KeyFileError(KantelmeterError, OSError):
    """The pseudonym key file is unsafe or unusable; the message says how to fix it."""


def validate_bsn(value: str | int, *, where: str = "") -> str:
    """Check a citizen service number (BSN) and return it as nine digits.

    The eleven-test (elfproef) of the BSN: with digits d1..d9, the sum
    9*d1 + 8*d2 + ... + 2*d8 - 1*d9 must be divisible by 11 (Besluit BSN,
    art. 3 / Logius, specification of the BSN). An eight-digit number is a
    BSN with its leading zero lost (for example read as a number by a
    spreadsheet) and gets it back. Spaces, dots and hyphens between digit
    groups are ignored. 000000000 passes the arithmetic but is not a BSN.

    Parameters
    ----------
    value : str or int
    where : str, optional
        Where the value comes from (file, row, field), for the error message.

    Returns
    -------
    str
        The nine digits.

    Raises
    ------
    BSNError
        Naming ``where``, the masked value and what is allowed.

    Examples
    --------
    >>> validate_bsn("1112.22.333")
    '111222333'
    >>> validate_bsn(12345672)  # eight digits: the leading zero was lost
    '012345672'
    >>> validate_bsn("111222334", where="intake.csv row 4, field 'bsn'")
    Traceback (most recent call last):
    ...
    kantelmeter.privacy.BSNError: intake.csv row 4, field 'bsn': BSN *****2334 fails the eleven-test; allowed: a valid BSN of 9 digits
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BSNError(
            f"{prefix}BSN of type {type(value).__name__} is not allowed; allowed: text or a whole "
            f"number (read BSNs as text so that leading zeros survive)"
        )
    text = str(value).strip()
    # Separators are a way of writing text; in a number a minus sign is just wrong.
    digits = re.sub(r"[\s.\-]", "", text) if isinstance(value, str) else text
    masked = _mask(text)
    if not digits.isascii() or not digits.isdigit():
        raise BSNError(f"{prefix}BSN {masked} contains characters other than digits; allowed: 9 digits")
    if len(digits) not in (8, 9):
        raise BSNError(
            f"{prefix}BSN {masked} has {len(digits)} digits; allowed: 9 digits (8 when the leading zero was lost)"
        )
    digits = digits.zfill(9)
    if digits == "000000000":
        raise BSNError(f"{prefix}BSN {masked} is all zeros; allowed: a valid BSN of 9 digits")
    if sum(w * int(d) for w, d in zip(_BSN_WEIGHTS, digits)) % 11:
        raise BSNError(f"{prefix}BSN {masked} fails the eleven-test; allowed: a valid BSN of 9 digits")
    return digits


def is_valid_bsn(value: str | int) -> bool:
    """Whether a value passes :func:`validate_bsn`.

    Examples
    --------
    >>> is_valid_bsn("111222333"), is_valid_bsn("123456789"), is_valid_bsn(None)
    (True, False, False)
    """
    try:
        validate_bsn(value)
    except BSNError:
        return False
    return True


def find_bsns(text: str) -> list[str]:
    """The numbers in a text that pass the eleven-test of a BSN (see :func:`validate_bsn`), as written.

    Meant for open answers, where a respondent may type their own BSN
    ("Mijn BSN is 111222333"): a 9-digit number, also written in groups
    (``111 22 2333``, ``1112.22.333``), that is not part of a longer number.
    About one in eleven random 9-digit numbers passes the test, so a few
    other numbers (a long reference number) are caught too; that is the safe
    side for free text.

    Examples
    --------
    >>> find_bsns("Mijn BSN is 111222333, telefoon 0612345678.")
    ['111222333']
    >>> find_bsns("nummer 1112.22.333 en 123456789 (geen BSN)")
    ['1112.22.333']
    >>> find_bsns("ik ben 83 en woon hier 12 jaar")
    []
    """
    return [match.group() for match in _NINE_DIGITS.finditer(text) if is_valid_bsn(match.group())]


def mask_bsns(text: str) -> tuple[str, int]:
    """A text with every number :func:`find_bsns` finds replaced by asterisks, and how many there were.

    Examples
    --------
    >>> mask_bsns("BSN 111222333 of 111 222 333?")
    ('BSN ********* of *********?', 2)
    >>> mask_bsns("geen nummer")
    ('geen nummer', 0)
    """
    count = 0

    def mask(match: re.Match) -> str:
        nonlocal count
        if not is_valid_bsn(match.group()):
            return match.group()
        count += 1
        return BSN_MASK

    return _NINE_DIGITS.sub(mask, text), count


def mask_bsns_in_columns(frame: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """A copy of ``frame`` with :func:`mask_bsns` applied to the text in ``columns``, and the count masked.

    Examples
    --------
    >>> frame = pd.DataFrame({"remarks": ["BSN 111222333", None, "goed"], "age": [70, 80, 90]})
    >>> masked, count = mask_bsns_in_columns(frame, ["remarks"])
    >>> masked["remarks"].tolist(), count
    (['BSN *********', nan, 'goed'], 1)
    """
    frame, total = frame.copy(), 0

    def mask(value: object) -> object:
        nonlocal total
        if not isinstance(value, str):
            return value
        text, count = mask_bsns(value)
        total += count
        return text

    for column in columns:
        if column in frame:
            frame[column] = frame[column].map(mask, na_action="ignore")
    return frame, total


class Pseudonymiser:
    """Turn names and BSNs into stable pseudonyms with a secret key kept outside the database.

    Method: the pseudonym is ``"p-"`` followed by the first 20 hexadecimal
    characters (80 bits) of HMAC-SHA256(key, kind + U+001F + normalised
    value) (RFC 2104; keyed hashing as pseudonymisation: ENISA 2019,
    *Pseudonymisation techniques and best practices*, sec. 4.2). The kind
    separates domains: a name and a BSN with the same text get different
    pseudonyms. Two different values share a pseudonym with probability
    about n^2 / 2^81 among n values: 4e-15 for 100,000 citizens, 4e-11 for
    ten million.

    The key is 32 random bytes (``secrets``) in a key file, created on first
    use with mode 0600 (owner only) and never written anywhere else. Whoever
    holds the key file and a BSN can find its pseudonym: keep it out of
    backups of the database and away from exports. A key file that group or
    others can read is refused.

    Parameters
    ----------
    key_file : path, optional
        Default: the environment variable ``KANTELMETER_KEY_FILE``, otherwise
        ``~/.config/kantelmeter/pseudonym.key``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> key_file = pathlib.Path(tempfile.mkdtemp()) / "pseudonym.key"
    >>> pseudonymiser = Pseudonymiser(key_file)
    >>> first = pseudonymiser.pseudonymise("name", "  Jan  de Vries ")
    >>> first == pseudonymiser.pseudonymise("name", "JAN DE VRIES")
    True
    >>> len(first), first.startswith("p-")
    (22, True)
    >>> oct(key_file.stat().st_mode & 0o777)
    '0o600'
    """

    def __init__(self, key_file: str | os.PathLike | None = None):
        self.key_file = Path(key_file or os.environ.get(KEY_FILE_ENV) or _DEFAULT_KEY_FILE).expanduser()
        self._key: bytes | None = None

    def __repr__(self) -> str:
        return f"Pseudonymiser(key_file={str(self.key_file)!r})"

    def pseudonymise(self, kind: str, value: str | int, *, where: str = "") -> str:
        """The pseudonym of one value.

        Normalisation first, so that spelling variants meet: for ``"bsn"``
        the nine digits after :func:`validate_bsn`; for ``"name"`` Unicode
        NFKC, outer spaces stripped, inner runs of white space collapsed and
        case folded; for any other kind (a client number) the same without
        case folding.

        Parameters
        ----------
        kind : str
            ``"bsn"``, ``"name"`` or another lower-case identifier.
        value : str or int
        where : str, optional
            Where the value comes from, for error messages.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = Pseudonymiser(pathlib.Path(tempfile.mkdtemp()) / "k")
        >>> p.pseudonymise("bsn", "111 222 333") == p.pseudonymise("bsn", 111222333)
        True
        >>> p.pseudonymise("bsn", 111222333) == p.pseudonymise("client_number", "111222333")
        False
        """
        if not isinstance(kind, str) or not _KIND.fullmatch(kind):
            raise IdentifierError(
                f"pseudonymise: kind {kind!r} is not allowed; allowed: a lower-case identifier such as 'bsn' or 'name'"
            )
        text = validate_bsn(value, where=where) if kind == "bsn" else self._normalise(kind, value, where)
        digest = hmac.new(self._secret(), f"{kind}\x1f{text}".encode(), hashlib.sha256).hexdigest()
        return "p-" + digest[:_PSEUDONYM_HEX]

    def pseudonymise_series(self, kind: str, values: pd.Series, *, source: str = "") -> pd.Series:
        """Pseudonyms for a column; missing values stay missing, errors name the row.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = Pseudonymiser(pathlib.Path(tempfile.mkdtemp()) / "k")
        >>> p.pseudonymise_series("bsn", pd.Series(["111222333", None])).isna().tolist()
        [False, True]
        >>> p.pseudonymise_series("bsn", pd.Series(["111222333", "12"], name="bsn"), source="intake.csv")
        Traceback (most recent call last):
        ...
        kantelmeter.privacy.BSNError: intake.csv row 1, field 'bsn': BSN ** has 2 digits; allowed: 9 digits (8 when the leading zero was lost)
        """
        prefix = f"{source} " if source else ""
        field = f", field {values.name!r}" if values.name is not None else ""
        result = [
            pd.NA if pd.isna(value) else self.pseudonymise(kind, value, where=f"{prefix}row {label}{field}")
            for label, value in values.items()
        ]
        return pd.Series(result, index=values.index, name=values.name, dtype="string")

    @staticmethod
    def _normalise(kind: str, value: str | int, where: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise IdentifierError(
                f"{where or 'pseudonymise'}: {kind} of type {type(value).__name__} is not allowed; allowed: text"
            )
        text = " ".join(unicodedata.normalize("NFKC", str(value)).split())
        if not text:
            raise IdentifierError(
                f"{where or 'pseudonymise'}: an empty {kind} is not allowed; allowed: a non-empty "
                f"value (leave it missing instead)"
            )
        return text.casefold() if kind == "name" else text

    def _secret(self) -> bytes:
        if self._key is None:
            self._key = load_or_create_secret(self.key_file)
        return self._key


def load_or_create_secret(path: Path, what: str = "key file") -> bytes:
    """Read a file of 32 secret bytes, creating it (owner-only, mode 0600) when it does not exist yet.

    Refused, with the fix in the message: a file group or others can read,
    one owned by another user, one of another size. ``what`` names the file
    in those messages (the pseudonym key, the web form's secret).
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: never overwrite an existing key, which would orphan every pseudonym made with it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(_KEY_BYTES))
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{what} {path} is not a regular file; allowed: a file of {_KEY_BYTES} bytes")
    if os.name == "posix":
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"{what} {path} has mode {stat.S_IMODE(info.st_mode):04o}, so group or others "
                f"can read or change it; allowed: 0600 (owner only). Fix: chmod 600 {path}"
            )
        if info.st_uid != os.getuid():
            raise KeyFileError(
                f"{what} {path} belongs to user id {info.st_uid}, not to the current user "
                f"{os.getuid()}; allowed: a {what} owned by the user who runs kantelmeter"
            )
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise KeyFileError(
            f"{what} {path} holds {len(key)} bytes; allowed: exactly {_KEY_BYTES} bytes. "
            f"Restore it from its backup: a new one would change every pseudonym or signature"
        )
    return key


def _mask(text: str) -> str:
    """All but the last four characters as asterisks; short values entirely."""
    return "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]
