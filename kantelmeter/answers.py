"""An item's answer domain: which stored values an answer may take, and how a raw value becomes one.

Every way in (the web form, a CSV/XLSX/SAV import, :meth:`kantelmeter.Store.save_answers`
and :meth:`~kantelmeter.Store.add_responses`) and scoring read answers through this
module, so a value is accepted or refused by the same rule wherever it comes from.

The domain of a wide response column (see :attr:`kantelmeter.Instrument.columns`) is
one of five kinds:

``code``
    single choice, rating and score items: a whole number among the item's valid
    codes or its missing codes ("weet niet"), stored as a float;
``option``
    one option column of a multiple-choice item: 1 (chosen) or 0 (not chosen);
``number``
    a finite number within the item's ``min``/``max`` (a whole number for a ``whole``
    item); a decimal comma is read;
``date``
    a calendar date, stored as ISO text; see :func:`parse_date` for the forms read;
``text``
    stripped text of at most :data:`TEXT_LIMIT` characters; a BSN item must pass
    the eleven-test (or already be a pseudonym, see :func:`is_pseudonym`).

Blank cells (None, NaN, empty or white-space text) are no answer: they parse to None
(NaN in a column). :func:`parse_column` checks a whole column at once: it parses each
distinct value a single time and spreads the result over the rows, so a survey column
of a million cells costs a handful of conversions.

Dates and times are Dutch first: ``dd-mm-yyyy`` is always day-first, and a date-time
without an offset is local time in :func:`local_zone` (Europe/Amsterdam unless the
environment variable ``KANTELMETER_TIMEZONE`` names another zone).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from numbers import Number
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.privacy import BSNError, validate_bsn

__all__ = [
    "TimeZoneError",
    "TEXT_LIMIT",
    "TIMEZONE_ENV",
    "AnswerError",
    "Domain",
    "ValueRefused",
    "Parsed",
    "closest",
    "domains",
    "is_blank",
    "is_pseudonym",
    "local_zone",
    "parse_choices",
    "parse_column",
    "parse_date",
    "parse_datetime",
    "parse_datetimes",
]

TEXT_LIMIT = 4000
"""The longest open answer kept, in characters: a guard against pasted documents."""

TIMEZONE_ENV = "KANTELMETER_TIMEZONE"
"""Environment variable naming the zone of date-times written without an offset."""

DEFAULT_ZONE = "Europe/Amsterdam"
WITHHELD = "<withheld>"

_PSEUDONYM = re.compile(r"p-[0-9a-f]{20}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DUTCH_DATE = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})")
_TIME = r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?)?"
_OFFSET = r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?"
_ISO_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})" + _TIME + _OFFSET)
_DUTCH_DATETIME = re.compile(r"(\d{1,2})([-/])(\d{1,2})\2(\d{4})" + _TIME + _OFFSET)
DATE_FORMS = "YYYY-MM-DD, or day first: DD-MM-YYYY, DD/MM/YYYY, D-M-YYYY"
DATETIME_FORMS = (
    f"a date ({DATE_FORMS}) with an optional time HH:MM[:SS] and offset (+02:00, Z); "
    "without an offset the time is local"
)

Kind = Literal["code", "option", "number", "date", "text"]


class ValueRefused(KantelmeterError, ValueError):
    """A raw value that cannot be read; ``problem`` says why, ``key`` and ``params`` give the form's message."""

    def __init__(self, problem: str, key: str, **params: Any):
        super().__init__(problem)
        self.problem, self.key, self.params = problem, key, params


class TimeZoneError(KantelmeterError, ValueError):
    """A configured time zone (``KANTELMETER_TIMEZONE``) that is not an IANA zone name."""


class AnswerError(ValueRefused):
    """A value outside its answer domain.

    Attributes
    ----------
    column : str
        The wide column.
    value : object
        The value as given (``"<withheld>"`` for identifiers).
    problem : str
        What is wrong, such as ``"not a code of this item"``.
    allowed : str
        What the column accepts.
    key : str
        The web form's message key (see ``kantelmeter.web.i18n``).
    params : dict
        Values for that message.
    """

    def __init__(self, column: str, value: Any, problem: str, allowed: str, key: str, **params: Any):
        super().__init__(problem, key, **params)
        self.column, self.value, self.allowed = column, value, allowed
        self.args = (f"column {column!r}, value {value!r}: {problem}; allowed: {allowed}",)


def is_blank(value: Any) -> bool:
    """Whether a raw value is no answer: None, NaN, NaT, pd.NA or blank text.

    Examples
    --------
    >>> [is_blank(v) for v in (None, float("nan"), " ", "0", 0)]
    [True, True, True, False, False]
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float | np.floating) and math.isnan(value)


def is_pseudonym(value: Any) -> bool:
    """Whether a value has the form of a kantelmeter pseudonym (``p-`` and 20 hex digits).

    An exported identifier leaves the store as its pseudonym; reading it back must
    keep it as it is, not pseudonymise it a second time.

    Examples
    --------
    >>> is_pseudonym("p-0123456789abcdef0123"), is_pseudonym("111222333")
    (True, False)
    """
    return isinstance(value, str) and _PSEUDONYM.fullmatch(value) is not None


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (after case folding), or None when none is close.

    Examples
    --------
    >>> closest("Household", ["household_size", "age", "household"])
    'household'
    >>> closest("colour", ["age", "soc1"]) is None
    True
    """
    candidates = list(candidates)
    folded = {c.casefold(): c for c in candidates}
    found = difflib.get_close_matches(str(name).strip().casefold(), list(folded), n=1, cutoff=0.6)
    return folded[found[0]] if found else None


# --- dates and times ---------------------------------------------------------------------------------


def local_zone() -> ZoneInfo:
    """The zone of date-times given without an offset: ``KANTELMETER_TIMEZONE`` or Europe/Amsterdam.

    Examples
    --------
    >>> str(local_zone())
    'Europe/Amsterdam'
    """
    name = os.environ.get(TIMEZONE_ENV) or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeZoneError(
            f"{TIMEZONE_ENV}={name!r} is not a time zone; allowed: an IANA zone name such as {DEFAULT_ZONE!r}"
        ) from None


def _calendar(year: str, month: str, day: str, form: str) -> date:
    if form.startswith("DD") and int(month) > 12 and int(day) <= 12:
        raise ValueRefused(
            f"month {int(month)} does not exist; {form} dates are read day-first, never month-first", "date"
        )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueRefused("no such date", "date") from None


def _date_of(value: Any) -> date:
    """A calendar date from text in an allowed form, or a date/datetime object at midnight."""
    if isinstance(value, datetime | pd.Timestamp):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            raise ValueRefused("a date and time; this item holds a date only", "date")
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueRefused("not a date", "date")
    text = value.strip()
    if found := _ISO_DATE.fullmatch(text):
        return _calendar(*found.groups(), form="YYYY-MM-DD")
    if found := _DUTCH_DATE.fullmatch(text):
        day, _, month, year = found.groups()
        return _calendar(year, month, day, form="DD-MM-YYYY")
    raise ValueRefused("not a date in an allowed form", "date")


def parse_date(value: Any) -> str:
    """A date as ISO text from ``YYYY-MM-DD``, a day-first ``DD-MM-YYYY``/``DD/MM/YYYY``/``D-M-YYYY``, or a date.

    Raises
    ------
    ValueRefused
        For another form (month-first, two-digit years, words), an impossible date,
        or a date-time with a time of day.

    Examples
    --------
    >>> parse_date("12-04-2011"), parse_date("3/5/2011"), parse_date("2011-04-12")
    ('2011-04-12', '2011-05-03', '2011-04-12')
    >>> parse_date("04-13-2011")
    Traceback (most recent call last):
    ...
    kantelmeter.answers.ValueRefused: month 13 does not exist; DD-MM-YYYY dates are read day-first, never month-first
    """
    return _date_of(value).isoformat()


def _offset(text: str | None) -> Any:
    if text is None:
        return None
    if text == "Z":
        return "UTC"
    sign, digits = text[0], text[1:].replace(":", "").ljust(4, "0")
    return f"{sign}{digits[:2]}:{digits[2:]}"


def parse_datetime(value: Any, zone: ZoneInfo | None = None) -> pd.Timestamp:
    """A moment in time (in UTC) from text, a datetime or a date; no offset means local time in ``zone``.

    Parameters
    ----------
    value : str, datetime, date or Timestamp
        ISO 8601 or a day-first Dutch date, each with an optional time and offset.
    zone : ZoneInfo, optional
        The zone of a time without offset; default :func:`local_zone`.

    Examples
    --------
    >>> parse_datetime("03-05-2011 14:30")
    Timestamp('2011-05-03 12:30:00+0000', tz='UTC')
    >>> parse_datetime("2011-05-03T14:30:00+00:00")
    Timestamp('2011-05-03 14:30:00+0000', tz='UTC')
    """
    zone = zone or local_zone()
    if isinstance(value, str):
        text = value.strip()
        if found := _ISO_DATETIME.fullmatch(text):
            year, month, day, *rest = found.groups()
            form = "YYYY-MM-DD"
        elif found := _DUTCH_DATETIME.fullmatch(text):
            day, _, month, year, *rest = found.groups()
            form = "DD-MM-YYYY"
        else:
            raise ValueRefused("not a date and time in an allowed form", "date")
        hour, minute, second, fraction, offset = rest
        moment = datetime.combine(_calendar(year, month, day, form), datetime.min.time())
        try:
            moment = moment.replace(
                hour=int(hour or 0),
                minute=int(minute or 0),
                second=int(second or 0),
                microsecond=int((fraction or "0").ljust(6, "0")),
            )
        except ValueError:
            raise ValueRefused("no such time of day", "date") from None
        stamp = pd.Timestamp(moment)
        offset = _offset(offset)
        stamp = (
            stamp.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
            if offset is None
            else stamp.tz_localize(offset)
        )
        return stamp.tz_convert("UTC")
    if isinstance(value, datetime | pd.Timestamp | date | np.datetime64):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
        return stamp.tz_convert("UTC")
    raise ValueRefused("not a date and time", "date")


# --- domains -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """A parsed column: the stored ``values`` and, per refused cell, its ``problems``.

    ``problems`` is an object Series with the same index, None where the cell is
    fine or blank; ``values`` is float64 (NaN for no answer or a refused cell) for
    numeric kinds and object (None) for dates and text.
    """

    values: pd.Series
    problems: pd.Series

    @property
    def refused(self) -> pd.Series:
        """Which cells were refused."""
        return self.problems.notna()


@dataclass(frozen=True)
class Domain:
    """The answer domain of one wide response column.

    Build them with :func:`domains`. ``codes`` are the valid codes and ``missing``
    the missing codes of a code column; ``low``/``high`` the bounds of a number.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc1 = domains(load_instrument("soc13"))["soc1"]
    >>> soc1.kind, soc1.allowed, soc1.parse("4"), soc1.parse(" ")
    ('code', '1..7', 4.0, None)
    >>> soc1.parse(3.5)
    Traceback (most recent call last):
    ...
    kantelmeter.answers.AnswerError: column 'soc1', value 3.5: not a code of this item; allowed: 1..7
    """

    column: str
    item: Item
    kind: Kind
    codes: tuple[int, ...] = ()
    missing: tuple[int, ...] = ()
    low: float | None = None
    high: float | None = None
    labels: Mapping[str, int] = field(default_factory=dict, repr=False, compare=False)

    @property
    def numeric(self) -> bool:
        """Whether the stored value is a number (codes, options, numbers)."""
        return self.kind in ("code", "option", "number")

    @property
    def identifier(self) -> str | None:
        """``bsn``, ``name`` or ``client_number`` for an identifier item."""
        return self.item.identifier

    @property
    def allowed(self) -> str:
        """What the column accepts, in words."""
        if self.kind == "code":
            return _code_list(self.codes) + (
                f"; missing codes: {', '.join(map(str, self.missing))}" if self.missing else ""
            )
        if self.kind == "option":
            return "1 (chosen) or 0 (not chosen)"
        if self.kind == "number":
            return (
                f"a {'whole ' if self.item.whole else ''}number in "
                f"{_bound(self.low, '-inf')}..{_bound(self.high, 'inf')}"
            )
        if self.kind == "date":
            return DATE_FORMS
        if self.identifier == "bsn":
            return "a valid BSN of 9 digits, or its pseudonym"
        return f"text of at most {TEXT_LIMIT} characters"

    def parse(self, value: Any) -> float | str | None:
        """The stored value of one raw value (None for no answer).

        Raises
        ------
        AnswerError
            Naming the column, the value (withheld for identifiers), the problem and what is allowed.
        """
        if is_blank(value):
            return None
        try:
            return self._parse(value)
        except ValueRefused as refusal:
            shown = WITHHELD if self.identifier else (value.item() if isinstance(value, np.generic) else value)
            raise AnswerError(
                self.column, shown, refusal.problem, self.allowed, refusal.key, **refusal.params
            ) from None
        except BSNError as exc:  # its message masks the number
            raise AnswerError(
                self.column, WITHHELD, str(exc).split("; allowed:")[0], self.allowed, "bsn_invalid"
            ) from None

    def _parse(self, value: Any) -> float | str:
        if self.kind == "text":
            return self._text(value)
        if self.kind == "date":
            return parse_date(value)
        try:
            number = _number(value, allow_bool=self.kind == "option")
        except ValueRefused:
            label = value.strip().casefold() if isinstance(value, str) else None
            if label in self.labels:
                raise ValueRefused(
                    f"a label, not a code: give {self.labels[label]} for {value.strip()!r}", "invalid_choice"
                ) from None
            if self.kind == "number" and self.item.whole:
                raise ValueRefused("not a whole number", "whole_number") from None
            if self.kind == "number":
                raise
            raise ValueRefused("not a number", "invalid_choice") from None
        if self.kind == "number":
            if self.item.whole and not number.is_integer():
                raise ValueRefused("not a whole number", "whole_number")
            if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
                raise ValueRefused(
                    f"outside the allowed range {_bound(self.low, '-inf')}..{_bound(self.high, 'inf')}",
                    "number_range",
                    min=_bound(self.low, ""),
                    max=_bound(self.high, ""),
                )
            return number
        if self.kind == "option":
            if number not in (0.0, 1.0):
                raise ValueRefused("an option column holds 1 (chosen) or 0 (not chosen)", "invalid_choice")
            return number
        if number not in self.codes and number not in self.missing:
            raise ValueRefused("not a code of this item", "invalid_choice")
        return number

    def _text(self, value: Any) -> str:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            value = int(value)  # a client number that Excel or SPSS read as 1234.0
        text = str(value).strip()
        if len(text) > TEXT_LIMIT:
            raise ValueRefused(f"longer than {TEXT_LIMIT} characters", "too_long", limit=TEXT_LIMIT)
        if "\x00" in text:  # PostgreSQL text cannot hold it, and SQLite's JSON functions cut the text at it
            raise ValueRefused("holds a NUL character (0x00)", "hidden_character")
        if self.identifier == "bsn" and not is_pseudonym(text):
            validate_bsn(text)
        return text

    def refusal(self, value: Any) -> AnswerError | None:
        """The refusal of a raw value, or None when it is allowed."""
        try:
            self.parse(value)
        except AnswerError as refused:
            return refused
        return None

    def parse_column(self, raw: pd.Series) -> Parsed:
        """Parse a whole column: see :func:`parse_column`."""
        return parse_column(self, raw)


def _code_list(codes: tuple[int, ...]) -> str:
    low, high = min(codes), max(codes)
    if len(codes) > 2 and list(codes) == list(range(low, high + 1)):
        return f"{low}..{high}"
    return ", ".join(map(str, codes))


def _bound(bound: float | None, none: str) -> str:
    return none if bound is None else f"{bound:g}"


_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
"""A number as people write it: digits with at most one decimal comma or point."""


def _number(value: Any, allow_bool: bool = False) -> float:
    """A finite float from a number or text (a decimal comma read as a point); booleans only where allowed."""
    if isinstance(value, bool | np.bool_):
        if allow_bool:
            return float(value)
        raise ValueRefused("true/false, not a number", "number")
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_NUMBER.match(text):  # no exponent, 'inf' or thousands separators: people do not write those
            raise ValueRefused("not a number", "number")
        number = float(text.replace(",", "."))
    elif isinstance(value, Number):
        number = float(value)
    else:
        raise ValueRefused(f"not a number (a {type(value).__name__})", "number")
    if not math.isfinite(number):
        raise ValueRefused("not a number", "number")
    return number


def _kind(item: Item) -> Kind:
    if item.type is ItemType.multiple_choice:
        return "option"
    if item.type in (ItemType.single_choice, ItemType.rating, ItemType.score):
        return "code"
    return item.type.value  # number, date, text


def domains(instrument: Instrument) -> dict[str, Domain]:
    """The answer domain of every wide column of an instrument, in column order.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> {column: d.kind for column, d in list(domains(load_instrument("citizen")).items())[:3]}
    {'household': 'code', 'household_size': 'number', 'age': 'number'}
    """
    return _domains(instrument.definition)


@cache
def _domains(definition: str) -> dict[str, Domain]:
    # Keyed by the instrument's content: instruments are not hashable, and a save or an import asks often.
    instrument = Instrument.model_validate_json(definition)
    found: dict[str, Domain] = {}
    for item in instrument.items:
        kind = _kind(item)
        scale = instrument.response_scale_of(item)
        labels = {
            text.casefold(): code.code
            for code in (scale.codes + scale.missing if scale else [])
            for text in (code.label.nl, code.label.en)
        }
        for column in instrument.columns_of(item):
            found[column] = Domain(
                column,
                item,
                kind,
                codes=tuple(instrument.valid_codes(item) or ()) if kind == "code" else (),
                missing=tuple(instrument.missing_codes(item)) if kind == "code" else (),
                low=item.min if kind == "number" else None,
                high=item.max if kind == "number" else None,
                labels=labels if kind == "code" else {},
            )
    return found


# --- whole columns -----------------------------------------------------------------------------------


def _distinct_apply(raw: pd.Series, parse) -> tuple[np.ndarray, np.ndarray]:
    """``parse`` (value -> (stored, problem)) on each distinct value of a column, spread back over the rows.

    Text and float columns are factorised; a column of mixed Python objects (Excel, hand-made
    frames) is parsed cell by cell, because hashing would merge 1, 1.0 and True.
    """
    mixed = raw.dtype == object and pd.api.types.infer_dtype(raw, skipna=True) not in ("string", "empty")
    if mixed or isinstance(raw.dtype, pd.DatetimeTZDtype):
        results = [parse(value) for value in raw.to_numpy(dtype=object)]
        stored = np.empty(len(results), dtype=object)
        stored[:] = [r[0] for r in results]
        problems = np.empty(len(results), dtype=object)
        problems[:] = [r[1] for r in results]
        return stored, problems
    codes, distinct = pd.factorize(raw, use_na_sentinel=True)
    results = [parse(value) for value in distinct]
    stored = np.empty(len(results) + 1, dtype=object)  # the last one is the blank: position -1
    stored[:-1] = [r[0] for r in results]
    problems = np.full(len(results) + 1, None, dtype=object)
    problems[:-1] = [r[1] for r in results]
    return stored[codes], problems[codes]


def parse_column(domain: Domain, raw: pd.Series) -> Parsed:
    """Parse every cell of a raw column in one domain; refused cells are NaN/None with their problem.

    Parameters
    ----------
    domain : Domain
    raw : Series
        Text (CSV), Excel objects, SPSS numbers or Python values.

    Returns
    -------
    Parsed

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc1 = domains(load_instrument("soc13"))["soc1"]
    >>> parsed = parse_column(soc1, pd.Series(["4", "", "9", "4"]))
    >>> parsed.values.tolist(), parsed.problems.tolist()
    ([4.0, nan, nan, 4.0], [None, None, 'not a code of this item', None])
    """

    def one(value: Any) -> tuple[Any, str | None]:
        try:
            return domain.parse(value), None
        except AnswerError as refused:
            return None, refused.problem

    if domain.numeric and pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        codes, distinct = pd.factorize(values, use_na_sentinel=True)
        problems = np.full(len(distinct) + 1, None, dtype=object)
        problems[:-1] = [one(value)[1] for value in distinct]
        if all(problem is None for problem in problems):  # the usual case, spared two passes over every cell
            return Parsed(pd.Series(values, index=raw.index), pd.Series(None, index=raw.index, dtype=object))
        cell_problems = problems[codes]
        values = np.where(pd.isna(cell_problems), values, np.nan)
        return Parsed(
            pd.Series(values, index=raw.index, dtype="float64"), pd.Series(cell_problems, index=raw.index, dtype=object)
        )
    stored, problems = _distinct_apply(raw, one)
    values = pd.Series(stored, index=raw.index, dtype=object)
    if domain.numeric:
        values = values.astype("float64")
    return Parsed(values, pd.Series(problems, index=raw.index, dtype=object))


def parse_datetimes(raw: pd.Series, zone: ZoneInfo | None = None) -> Parsed:
    """Parse a column of date-times (``collected_at``) to UTC; see :func:`parse_datetime`.

    Examples
    --------
    >>> parsed = parse_datetimes(pd.Series(["12-04-2011 09:00", "04/13/2011", None]))
    >>> parsed.values.iloc[0], parsed.problems.iloc[1]
    (Timestamp('2011-04-12 07:00:00+0000', tz='UTC'), 'month 13 does not exist; DD-MM-YYYY dates are read day-first, never month-first')
    """
    zone = zone or local_zone()

    def one(value: Any) -> tuple[Any, str | None]:
        if is_blank(value):
            return pd.NaT, None
        try:
            return parse_datetime(value, zone), None
        except ValueRefused as refusal:
            return pd.NaT, refusal.problem

    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return Parsed(raw.dt.tz_convert("UTC"), pd.Series(None, index=raw.index, dtype=object))
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return Parsed(
            raw.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC"),
            pd.Series(None, index=raw.index, dtype=object),
        )
    stored, problems = _distinct_apply(raw.astype(object), one)
    return Parsed(
        pd.Series(pd.to_datetime(pd.Series(stored, dtype=object), utc=True).array, index=raw.index),
        pd.Series(problems, index=raw.index, dtype=object),
    )


def parse_choices(instrument: Instrument, item: Item, raw: pd.Series) -> tuple[dict[str, pd.Series], Parsed, str]:
    """A multiple-choice answer written as codes in one cell ("1 3", as ODK exports it) as its 0/1 option columns.

    Returns
    -------
    columns : dict of str to Series
        Option column to 1.0/0.0 (NaN where the cell is blank or refused).
    parsed : Parsed
        The chosen codes per cell (as text), with the problem of every refused cell.
    allowed : str
        What such a cell may hold.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> columns, parsed, _ = parse_choices(citizen, citizen.item("interventions"), pd.Series(["1 3", "", "1 99"]))
    >>> columns["interventions_3"].tolist(), parsed.problems.notna().tolist()
    ([1.0, nan, nan], [False, False, True])
    """
    codes = {str(code) for code in instrument.valid_codes(item)}
    allowed = f"codes of this multiple-choice item separated by spaces: {', '.join(sorted(codes, key=int))}"

    def one(value: Any) -> tuple[Any, str | None]:
        if is_blank(value):
            return None, None
        text = str(int(value)) if isinstance(value, float | np.floating) and float(value).is_integer() else str(value)
        chosen = frozenset(text.replace(",", " ").split())
        return (chosen, None) if chosen <= codes else (None, "not codes of this item")

    stored, problems = _distinct_apply(raw, one)
    chosen = pd.Series(stored, index=raw.index, dtype=object)
    answered = chosen.notna()
    columns = {
        column: pd.Series(
            np.where(answered, [c is not None and str(code) in c for c in stored], np.nan),
            index=raw.index,
            dtype="float64",
        )
        for column, code in zip(instrument.columns_of(item), instrument.valid_codes(item))
    }
    return columns, Parsed(chosen, pd.Series(problems, index=raw.index, dtype=object)), allowed
