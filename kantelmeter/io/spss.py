"""Responses as SPSS .sav files, with every label an analyst needs.

:func:`write_sav` gives each variable its question as variable label, its
answer options as value labels, declares the instrument's missing codes
("weet niet", "n.v.t.") as user-missing, so SPSS leaves them out of
statistics while keeping them visible, and sets the measurement level
(nominal, ordinal or scale) from the item type. Items' analyst notes become
the file's documents. :func:`read_sav` reads a
file back with user-missing codes kept as codes, for import.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyreadstat

from kantelmeter.errors import ExchangeError
from kantelmeter.files import private_path
from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.io.cells import column_domains, for_sav, sav_formats
from kantelmeter.messages import message

__all__ = ["read_sav", "spss_metadata", "write_sav"]

MEASURE = {
    ItemType.single_choice: "nominal",
    ItemType.multiple_choice: "nominal",
    ItemType.rating: "ordinal",
    ItemType.score: "scale",
    ItemType.number: "scale",
    ItemType.date: "scale",
    ItemType.text: "nominal",
}
#: The columns every export has besides the items; their labels are ``exports.columns.<column>`` in the catalogues.
META_COLUMNS = ("respondent", "occasion", "cohort", "collected_at", "version")
# SPSS allows at most three discrete user-missing values per variable, or one range plus one value.
MAX_DISCRETE_MISSING = 3
MAX_LABEL = 255
SPSS_NOTE_WIDTH = 80


def read_sav(path: str | Path) -> pd.DataFrame:
    """Read an SPSS file of responses; user-missing codes stay codes (not NaN)."""
    frame, _ = pyreadstat.read_sav(str(path), user_missing=True, apply_value_formats=False)
    return frame


def read_sav_chunks(path: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """Read an SPSS file as :func:`read_sav` does, ``rows`` cases at a time; the index numbers the cases from 0.

    At least one (possibly empty) frame is given.
    """
    given = False
    start = 0
    for frame, _ in pyreadstat.read_file_in_chunks(
        pyreadstat.read_sav, str(path), chunksize=rows, user_missing=True, apply_value_formats=False
    ):
        if len(frame) or not given:
            given = True
            yield frame.set_axis(pd.RangeIndex(start, start + len(frame)))
        start += len(frame)
    if not given:
        yield read_sav(path)


def spss_metadata(
    instrument: Instrument, columns: list[str], lang: str = "nl", older: Sequence[Instrument] = ()
) -> dict:
    """Variable labels, value labels, missing declarations and measures for these columns.

    Returns
    -------
    dict
        Keyword arguments of :func:`pyreadstat.write_sav`: ``column_labels``,
        ``variable_value_labels``, ``missing_ranges``, ``variable_measure``,
        ``variable_format`` (from the instrument, see :func:`kantelmeter.io.cells.sav_formats`).

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> meta = spss_metadata(load_instrument("soc13"), ["respondent", "soc1"], "en")
    >>> meta["variable_measure"], meta["variable_value_labels"]["soc1"][1]
    ({'respondent': 'nominal', 'soc1': 'ordinal'}, '1 - one extreme')
    """
    allowed = column_domains(instrument, older)
    owner = {column: version for version in (*older, instrument) for column in version.columns}
    labels, values, missing, measure = {}, {}, {}, {}
    for column in columns:
        if column in META_COLUMNS:
            labels[column] = message(f"exports.columns.{column}", lang)
            measure[column] = "scale" if column == "collected_at" else "nominal"
            continue
        item, version = allowed[column].item, owner[column]
        labels[column] = _variable_label(version, item, column, lang)[:MAX_LABEL]
        measure[column] = MEASURE[item.type]
        value_labels = _value_labels(version, item, lang)
        if value_labels:
            values[column] = value_labels
        codes = version.missing_codes(item) if item.type is not ItemType.multiple_choice else []
        if codes:
            missing[column] = _missing_declaration(version, item, codes)
    return {
        "column_labels": labels,
        "variable_value_labels": values,
        "missing_ranges": missing,
        "variable_measure": measure,
        "variable_format": sav_formats(allowed, columns),
    }


def _variable_label(instrument: Instrument, item: Item, column: str, lang: str) -> str:
    """The question (and option) of a column; a repeated item's headed by its repetition ("Uw vraag over: ...")."""
    repetition = instrument.repetition_of(item.id)
    text = f"{repetition[0].section.title[lang]}: {item.text[lang]}" if repetition else item.text[lang]
    if item.type is ItemType.multiple_choice:
        code = next(code for code, option in instrument.option_columns(item).items() if option == column)
        return f"{text}: {instrument.response_scale_of(item).labels(lang)[code]}"
    return text


def _value_labels(instrument: Instrument, item: Item, lang: str) -> dict[int, str]:
    scale = instrument.response_scale_of(item)
    if item.type is ItemType.multiple_choice:
        return {0: message("exports.not_chosen", lang), 1: message("exports.chosen", lang)}
    if item.type is ItemType.score:
        codes = instrument.valid_codes(item)
        anchors = {codes[0]: item.anchors.get("min"), codes[-1]: item.anchors.get("max")} if item.anchors else {}
        labelled = {code: text[lang] for code, text in anchors.items() if text is not None}
        return labelled | ({c.code: c.label[lang] for c in scale.missing} if scale else {})
    return scale.labels(lang) if scale else {}


def _missing_declaration(instrument: Instrument, item: Item, codes: list[int]) -> list:
    if len(codes) <= MAX_DISCRETE_MISSING:
        return list(codes)
    low, high = min(codes), max(codes)
    inside = [c for c in instrument.valid_codes(item) if low <= c <= high]
    if inside:
        raise ExchangeError(
            f"item {item.id!r}: SPSS takes at most {MAX_DISCRETE_MISSING} discrete missing codes or "
            f"one range; the missing codes {codes} span the valid codes {inside}"
        )
    return [{"lo": low, "hi": high}]


def write_sav(
    frame: pd.DataFrame, instrument: Instrument, path: str | Path, lang: str = "nl", older: Sequence[Instrument] = ()
) -> list[Path]:
    """Write responses (the wide DataFrame of the store) to an owner-only SPSS .sav file with labels.

    Formats and string widths come from the instrument, never from the data, so
    every export of an instrument declares the same variables and two of them
    (per occasion or cohort) append with ``ADD FILES``.

    Parameters
    ----------
    frame : DataFrame
        From :meth:`kantelmeter.Store.responses`.
    instrument : Instrument
    path : path
    lang : {'nl', 'en'}
        The language of the labels.
    older : sequence of Instrument
        Older versions whose columns the frame also holds.

    Returns
    -------
    list of Path
    """
    path = private_path(path)
    data = for_sav(frame, column_domains(instrument, older))
    meta = spss_metadata(instrument, list(data.columns), lang, older)
    # The analysts' notes (reverse scoring, comparisons) become the file's notes (DISPLAY DOCUMENTS),
    # whose lines SPSS holds at 80 characters each.
    notes = [
        line
        for item in instrument.items
        if item.note
        for line in textwrap.wrap(f"{item.id}: {item.note[lang]}", SPSS_NOTE_WIDTH, subsequent_indent="  ")
    ]
    pyreadstat.write_sav(
        data,
        str(path),
        row_compress=True,
        note=notes or None,
        file_label=f"{instrument.title[lang]} ({instrument.id} {instrument.version})"[:64],
        **meta,
    )
    return [path]
