"""How stored answers become the cells of an export file, and how such cells read back.

One place decides, per answer domain (:mod:`kantelmeter.answers`), what a CSV, Excel or
SPSS cell holds, so every export of an instrument has the same layout and reads back
to the same answers:

* codes and option columns are whole numbers (``4``, never ``4.0``);
* dates are dates without a time part; ``collected_at`` is local time
  (:func:`kantelmeter.answers.local_zone`), in CSV with its offset;
* text that a spreadsheet would run as a formula (beginning with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return) is written as text: in CSV behind an
  apostrophe, which :func:`unquoted` removes on import; in Excel as a string cell;
* SPSS formats and string widths follow the instrument, not the data, so two
  exports of one instrument (per occasion or cohort) append with ``ADD FILES``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from kantelmeter.answers import TEXT_LIMIT, Domain, domains, local_zone
from kantelmeter.instruments import Instrument

__all__ = [
    "FORMULA_STARTS",
    "META_TEXT",
    "column_domains",
    "for_csv",
    "for_excel",
    "for_sav",
    "sav_formats",
    "unquoted",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection)."""

META_TEXT = ("respondent", "occasion", "cohort", "version")
META_WIDTH = 64  # the store keeps these in columns of 64 characters
NUMBER_FORMAT = "F12.4"


def column_domains(instrument: Instrument, older: Iterable[Instrument] = ()) -> dict[str, Domain]:
    """The domain of every column of an export: this version's first, then those only older versions have."""
    found = dict(domains(instrument))
    for version in older:
        for column, domain in domains(version).items():
            found.setdefault(column, domain)
    return found


def _guarded(values: pd.Series, prefix: str) -> pd.Series:
    text = values.astype(object)
    risky = text.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_STARTS)).astype(bool)
    return text.where(~risky, prefix + text.where(risky, ""))


def _text_columns(frame: pd.DataFrame, allowed: Mapping[str, Domain]) -> list[str]:
    return [c for c in frame.columns if c in META_TEXT or (c in allowed and allowed[c].kind == "text")]


def _local(times: pd.Series) -> pd.Series:
    return times.dt.tz_convert(local_zone()) if isinstance(times.dtype, pd.DatetimeTZDtype) else times


def _whole_numbers(frame: pd.DataFrame, allowed: Mapping[str, Domain]) -> dict[str, pd.Series]:
    return {
        c: frame[c].astype("Int64") for c in frame.columns if c in allowed and allowed[c].kind in ("code", "option")
    }


def for_csv(frame: pd.DataFrame, allowed: Mapping[str, Domain]) -> pd.DataFrame:
    """The cells of a CSV export: whole codes, ISO dates, local times with offset, guarded text.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> cells = for_csv(pd.DataFrame({"cohort": ["=1+1"], "soc1": [4.0]}), column_domains(soc))
    >>> print(cells.to_csv(index=False))
    cohort,soc1
    '=1+1,4
    <BLANKLINE>
    """
    data = frame.assign(**_whole_numbers(frame, allowed))
    for column in _text_columns(data, allowed):
        data[column] = _guarded(data[column], "'")
    for column in data.columns:
        if column in allowed and allowed[column].kind == "date":
            data[column] = pd.to_datetime(data[column]).dt.strftime("%Y-%m-%d")
    if "collected_at" in data:
        local = _local(data["collected_at"])
        data["collected_at"] = (
            local.map(lambda t: None if pd.isna(t) else t.isoformat())
            if isinstance(local.dtype, pd.DatetimeTZDtype)
            else local
        )
    return data


def for_excel(frame: pd.DataFrame, allowed: Mapping[str, Domain]) -> pd.DataFrame:
    """The cells of an Excel export: whole codes, dates as dates, local times (Excel holds no zone)."""
    data = frame.assign(**_whole_numbers(frame, allowed))
    for column in data.columns:
        if column in allowed and allowed[column].kind == "date":
            data[column] = data[column].map(lambda t: None if pd.isna(t) else pd.Timestamp(t).date()).astype(object)
    if "collected_at" in data and isinstance(data["collected_at"].dtype, pd.DatetimeTZDtype):
        data["collected_at"] = _local(data["collected_at"]).dt.tz_localize(None)
    return data


def unquoted(values: pd.Series) -> pd.Series:
    """Text cells of a CSV with the apostrophe that :func:`for_csv` put before a formula-like text removed.

    Examples
    --------
    >>> unquoted(pd.Series(["'=SUM(A1)", "'t is", "4"])).tolist()
    ['=SUM(A1)', "'t is", '4']
    """
    # Only the distinct cells that start with an apostrophe are looked at: checking every cell of
    # a 100,000-row file in Python took a second.
    quoted = values.astype(str).str.startswith("'").to_numpy(dtype=bool)
    guarded = {v for v in pd.unique(values[quoted]) if len(v) > 1 and v[1] in FORMULA_STARTS} if quoted.any() else ()
    if not guarded:
        return values
    return values.astype(object).map(lambda v: v[1:] if isinstance(v, str) and v in guarded else v)


def sav_formats(allowed: Mapping[str, Domain], columns: Iterable[str]) -> dict[str, str]:
    """SPSS print formats from the instrument: codes F1.0/F2.0..., numbers F12.4, dates DATE11.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> sav_formats(column_domains(load_instrument("citizen")), ["household", "age", "collected_at"])
    {'household': 'F1.0', 'age': 'F12.4', 'collected_at': 'DATETIME20'}
    """
    formats = {}
    for column in columns:
        domain = allowed.get(column)
        if column == "collected_at":
            formats[column] = "DATETIME20"
        elif domain is None:
            continue
        elif domain.kind in ("code", "option"):
            codes = (*domain.codes, *domain.missing) or (0, 1)
            width = max(len(str(code)) for code in codes)
            formats[column] = f"F{width}.0"
        elif domain.kind == "number":
            formats[column] = NUMBER_FORMAT
        elif domain.kind == "date":
            formats[column] = "DATE11"
    return formats


def for_sav(frame: pd.DataFrame, allowed: Mapping[str, Domain]) -> pd.DataFrame:
    """The cells of an SPSS export: strings padded to the instrument's fixed width, Python dates, local times.

    SPSS pads strings with spaces and readers strip them, so padding changes no value
    but fixes the width every export of the instrument declares.
    """
    data = frame.copy()
    if "collected_at" in data and isinstance(data["collected_at"].dtype, pd.DatetimeTZDtype):
        data["collected_at"] = _local(data["collected_at"]).dt.tz_localize(None)
    for column in data.columns:
        domain = allowed.get(column)
        if domain is not None and domain.kind == "date":
            # Python dates become SPSS DATE variables; datetime64 would become DATETIME. A column without
            # any date stays numeric (all missing), or the writer would make it a string.
            data[column] = (
                data[column].map(lambda t: None if pd.isna(t) else pd.Timestamp(t).date()).astype(object)
                if data[column].notna().any()
                else pd.Series(float("nan"), index=data.index)
            )
        elif column in META_TEXT or (domain is not None and domain.kind == "text"):
            width = META_WIDTH if column in META_TEXT else TEXT_LIMIT
            text = data[column].astype(object).where(data[column].notna(), "").astype(str)
            data[column] = text.str.ljust(width) if len(text) else text
    return data
