"""Responses as CSV and Excel: reading raw cells, writing data with a codebook.

Readers keep every cell as it was written (text from CSV, Excel's own
objects), so that :func:`kantelmeter.io.validate_responses` sees exactly
what the user typed and can report it. Writers take the wide DataFrame of
:meth:`kantelmeter.Store.responses` and put the instrument's codebook beside
it, so that a file opened years later still explains its codes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kantelmeter.instruments import Instrument

__all__ = ["read_csv", "read_xlsx", "write_csv", "write_xlsx"]


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file of responses as text cells.

    The delimiter (comma, semicolon as Dutch Excel writes it, or tab) is
    taken from the header line; an empty cell is an empty string.
    """
    path = Path(path)
    with path.open(encoding="utf-8-sig") as handle:
        header = handle.readline()
    delimiter = max([",", ";", "\t"], key=header.count)
    return pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def read_xlsx(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """Read one sheet of an Excel workbook of responses, cells as Excel holds them."""
    return pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl")


def _for_file(frame: pd.DataFrame) -> pd.DataFrame:
    """Times in UTC without zone information: Excel and CSV readers cannot keep a zone."""
    frame = frame.copy()
    if "collected_at" in frame and isinstance(frame["collected_at"].dtype, pd.DatetimeTZDtype):
        frame["collected_at"] = frame["collected_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def write_csv(frame: pd.DataFrame, instrument: Instrument, path: str | Path, lang: str = "nl") -> list[Path]:
    """Write responses to CSV and the codebook to ``<name>_codebook.csv`` beside it.

    Returns
    -------
    list of Path
        The data file and the codebook.
    """
    path = Path(path)
    codebook = path.with_name(f"{path.stem}_codebook.csv")
    _for_file(frame).to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    instrument.codebook(lang).to_csv(codebook, index=False)
    return [path, codebook]


def write_xlsx(frame: pd.DataFrame, instrument: Instrument, path: str | Path, lang: str = "nl") -> list[Path]:
    """Write responses to an Excel workbook with the sheets ``responses`` and ``codebook``."""
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        _for_file(frame).to_excel(writer, sheet_name="responses", index=False)
        instrument.codebook(lang).to_excel(writer, sheet_name="codebook", index=False)
    return [path]
