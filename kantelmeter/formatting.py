"""Numbers (and days) as a reader of the report's language writes them.

A Dutch reader writes 1.234,5 (decimal comma, thousands point), an English
reader 1,234.5. Every number a report shows, in its sentences, tables, axes
and CSV files, goes through :func:`number`, which asks babel (the CLDR locale
data) for the language's signs instead of swapping characters by hand.

Examples
--------
>>> number(1234.5, 1), number(1234.5, 1, lang="en")
('1.234,5', '1,234.5')
>>> percent(12.345, 1)
'12,3%'
>>> fill("{n:,} antwoorden, gemiddeld {mean:.1f} (in {year:d})", "nl", n=1200, mean=6.25, year=2013)
'1.200 antwoorden, gemiddeld 6,3 (in 2013)'
"""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
from babel.numbers import format_decimal

from kantelmeter.errors import KantelmeterError

__all__ = ["FormattingError", "LOCALES", "day", "fill", "number", "parse", "percent"]

#: The CLDR locale of each report language.
LOCALES = {"nl": "nl_NL", "en": "en_GB"}

# a format specification kantelmeter's texts use: optional grouping sign, precision, type
_SPEC = re.compile(r"^(?P<sign>[+])?(?P<group>,)?(?:\.(?P<decimals>\d+))?(?P<type>[dfg%])?$")


class FormattingError(KantelmeterError, ValueError):
    """A language numbers and dates cannot be written in; the message lists the languages."""


def _locale(lang: str) -> str:
    if lang not in LOCALES:
        raise FormattingError(f"language {lang!r} is not allowed; allowed: {', '.join(LOCALES)}")
    return LOCALES[lang]


def number(value: float, decimals: int = 0, lang: str = "nl", *, grouping: bool = True) -> str:
    """A number with ``decimals`` decimals in the language's style.

    Rounding is half away from zero (as printed tables round), and a value
    that rounds to zero loses its sign (no ``-0,0``).

    Examples
    --------
    >>> number(-0.04, 1), number(2.5), number(1234567), number(2013, grouping=False)
    ('0,0', '3', '1.234.567', '2013')
    """
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * decimals if decimals > 0 else "")
    scale = 10**decimals
    rounded = float(np.sign(value) * np.floor(abs(float(value)) * scale + 0.5) / scale) + 0.0
    return format_decimal(rounded, format=pattern, locale=_locale(lang), decimal_quantization=True)


def percent(value: float, decimals: int = 0, lang: str = "nl") -> str:
    """A percentage (``value`` from 0 to 100) with the sign written after it, without a space.

    Examples
    --------
    >>> percent(75), percent(7.25, 1, lang="en")
    ('75%', '7.3%')
    """
    return f"{number(value, decimals, lang)}%"


def day(value, lang: str = "nl") -> str:
    """A calendar day written out in the language (babel's long date format).

    Examples
    --------
    >>> import pandas as pd
    >>> day(pd.Timestamp("2026-09-07 10:00", tz="UTC")), day(pd.Timestamp("2011-03-01"), lang="en")
    ('7 september 2026', '1 March 2011')
    """
    import pandas as pd
    from babel.dates import format_date

    return format_date(pd.Timestamp(value).date(), format="long", locale=_locale(lang))


def parse(text: str, lang: str = "nl") -> float:
    """A number as :func:`number` wrote it, back as a float; NaN for anything else (``x``, empty).

    Examples
    --------
    >>> parse("1.234,5"), parse("1,234.5", "en"), parse("12%")
    (1234.5, 1234.5, 12.0)
    """
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        return float(parse_decimal(str(text).strip().removesuffix("%"), locale=_locale(lang), strict=True))
    except (NumberFormatError, ValueError):
        return float("nan")


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)
        match = _SPEC.match(format_spec)
        if not is_number:
            return super().format_field(value, format_spec)
        if not format_spec and isinstance(value, int | np.integer):
            # Dutch writes four digits without a point (2013, 1200): years stay years
            return number(value, 0, self.lang, grouping=abs(int(value)) >= 10_000)
        if match is None or not format_spec:
            # a layout option babel has no word for (width, fill): Python formats, the language's signs follow
            text = super().format_field(value, format_spec)
            swap = {",": ".", ".": ","} if self.lang == "nl" else {}
            return text.translate(str.maketrans(swap))
        kind = match["type"]
        if kind == "d":
            # a year or an identifier: digits only, no grouping sign
            text = number(value, 0, self.lang, grouping=bool(match["group"]))
        else:
            decimals = (
                int(match["decimals"]) if match["decimals"] is not None else (0 if float(value).is_integer() else 1)
            )
            text = (
                percent(100 * float(value), decimals, self.lang) if kind == "%" else number(value, decimals, self.lang)
            )
        return "+" + text if match["sign"] and not text.startswith("-") else text


def fill(template: str, lang: str, **values: Any) -> str:
    """``str.format`` with numbers in the language's style.

    A whole number without a format is grouped from five digits on (Dutch
    writes 2013 and 1200 without a point); a fraction without a format keeps
    Python's digits; ``:.2f`` sets the decimals; ``:,`` always groups; ``:d`` writes digits only (years);
    ``:.0%`` multiplies by 100 and adds the percent sign; ``:+.2f`` writes
    the sign of a positive number too.

    Examples
    --------
    >>> fill("{share:.1%} van {n}, in {year}, ratio {r}", "nl", share=0.1234, n=12000, year=2013, r=0.976)
    '12,3% van 12.000, in 2013, ratio 0,976'
    >>> fill("van {low:+.2f} tot {high:+.2f}", "nl", low=-0.051, high=0.4)
    'van -0,05 tot +0,40'
    """
    _locale(lang)
    return _Formatter(lang).format(template, **values)
