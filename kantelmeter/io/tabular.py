"""Responses as CSV and Excel: reading raw cells, writing data with a codebook.

Readers keep every cell as it was written (text from CSV, Excel's own
objects), so that :func:`kantelmeter.io.validate_responses` sees exactly
what the user typed and can report it. Writers take the wide DataFrame of
:meth:`kantelmeter.Store.responses` and put the instrument's codebook beside
it, so that a file opened years later still explains its codes.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from kantelmeter.errors import ExchangeError
from kantelmeter.files import private_file, private_path
from kantelmeter.instruments import Instrument
from kantelmeter.io.cells import column_domains, for_csv, for_excel, unquoted

__all__ = [
    "CHUNK_ROWS",
    "ENCODINGS",
    "detect_encoding",
    "read_csv",
    "read_csv_chunks",
    "read_xlsx",
    "without_blank_rows_at_end",
    "write_csv",
    "write_xlsx",
]


CHUNK_ROWS = 25_000
"""Rows of a CSV file read and checked at a time: a million-row file never sits in memory as text."""

ENCODINGS = ("utf-8", "cp1252")
"""What a CSV file may be written in: UTF-8 (with or without byte-order mark), else Windows-1252 (Dutch Excel)."""


def detect_encoding(path: str | Path) -> str:
    """``"utf-8-sig"`` or ``"utf-8"`` when the file decodes as UTF-8, else ``"cp1252"``.

    Raises
    ------
    ExchangeError
        For a file that is neither, naming it and what is allowed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "excel.csv"
    >>> _ = path.write_bytes("respondent;remarks\\nr1;café\\n".encode("cp1252"))
    >>> detect_encoding(path)
    'cp1252'
    """
    path = Path(path)
    for encoding in ENCODINGS:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        with path.open("rb") as handle:
            bom = handle.read(3) == codecs.BOM_UTF8
        return "utf-8-sig" if encoding == "utf-8" and bom else encoding
    raise ExchangeError(
        f"{path.name}: the file is neither UTF-8 nor Windows-1252 text; allowed: a CSV saved as "
        "'CSV UTF-8' or 'CSV (puntkomma-gescheiden)' from Excel"
    )


def without_blank_rows_at_end(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without the entirely empty rows that end it (Excel saves them as ``;;;;``).

    Examples
    --------
    >>> without_blank_rows_at_end(pd.DataFrame({"a": ["1", "", " "], "b": ["", "", None]})).shape
    (1, 2)
    """
    # Rows are looked at from the end, a doubling stretch at a time: most files end on a filled
    # row, and checking every cell of a large file cost as much as reading it.
    end, stretch = len(frame), 1
    while end > 0:
        start = max(0, end - stretch)
        filled = np.flatnonzero(_filled_rows(frame.iloc[start:end]))
        if len(filled):
            return frame.iloc[: start + filled[-1] + 1]
        end, stretch = start, 2 * stretch
    return frame.iloc[:0]


def _filled_rows(frame: pd.DataFrame) -> np.ndarray:
    """Which rows of the frame hold something in any cell: not blank, not only spaces."""
    cells = frame.to_numpy(dtype=object)
    return (pd.notna(cells) & (np.char.strip(cells.astype(str)) != "")).any(axis=1)


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file of responses as text cells.

    The encoding is detected (:func:`detect_encoding`) and kept in
    ``frame.attrs["encoding"]``; the delimiter (comma, semicolon as Dutch Excel
    writes it, or tab) is taken from the header line; an empty cell is an empty
    string; empty rows at the end are dropped; the apostrophe an export put
    before a formula-like text is removed.
    """
    chunks = list(read_csv_chunks(path, rows=None))
    frame = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    frame.attrs["encoding"] = chunks[0].attrs["encoding"]
    return frame


def read_csv_chunks(path: str | Path, rows: int | None = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Read a CSV file as :func:`read_csv` does, ``rows`` rows at a time (all at once for None).

    The index numbers the data rows of the whole file from 0, so a problem in any
    chunk names its row in the file. At least one (possibly empty) frame is given.
    """
    path = Path(path)
    encoding = detect_encoding(path)
    with path.open(encoding=encoding) as handle:
        header = handle.readline()
    delimiter = max([",", ";", "\t"], key=header.count)
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, encoding=encoding)
    reader = pd.read_csv(path, chunksize=rows, **options) if rows else [pd.read_csv(path, **options)]
    pending = None  # blank rows at the end of a chunk: dropped only if nothing follows them
    given = False
    for chunk in reader:
        if pending is not None and len(pending):
            chunk = pd.concat([pending, chunk])
        kept = without_blank_rows_at_end(chunk)
        pending = chunk.iloc[len(kept) :]
        if len(kept) or not given:
            kept = kept.assign(**{column: unquoted(kept[column]) for column in kept.columns})
            kept.attrs["encoding"] = encoding
            given = True
            yield kept


def read_xlsx(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """Read one sheet of an Excel workbook of responses, cells as Excel holds them; empty rows at the end are dropped."""
    return without_blank_rows_at_end(pd.read_excel(path, sheet_name=sheet, dtype=object, engine="openpyxl"))


def _codebook(instrument: Instrument, older: Sequence[Instrument], lang: str) -> pd.DataFrame:
    """The codebook of this version, with the items only older versions have after it."""
    books = [instrument.codebook(lang).assign(version=instrument.version)]
    seen = set(books[0]["item"])
    for version in reversed(older):
        book = version.codebook(lang)
        book = book[~book["item"].isin(seen)]
        seen |= set(book["item"])
        books.append(book.assign(version=version.version))
    return pd.concat(books, ignore_index=True)


def write_csv(
    frame: pd.DataFrame, instrument: Instrument, path: str | Path, lang: str = "nl", older: Sequence[Instrument] = ()
) -> list[Path]:
    """Write responses to CSV and the codebook to ``<name>_codebook.csv`` beside it, both owner-only.

    Codes are whole numbers, ``collected_at`` is local time with its offset, and a
    text that a spreadsheet would run as a formula is written behind an apostrophe
    (see :mod:`kantelmeter.io.cells`). ``older`` are older versions of the
    instrument whose columns the frame also holds.

    Returns
    -------
    list of Path
        The data file and the codebook.
    """
    path = Path(path)
    codebook = path.with_name(f"{path.stem}_codebook.csv")
    with private_file(path, newline="", encoding="utf-8") as handle:
        for_csv(frame, column_domains(instrument, older)).to_csv(handle, index=False)
    with private_file(codebook, newline="", encoding="utf-8") as handle:
        for_csv(_codebook(instrument, older, lang), {}).to_csv(handle, index=False)
    return [path, codebook]


def write_xlsx(
    frame: pd.DataFrame, instrument: Instrument, path: str | Path, lang: str = "nl", older: Sequence[Instrument] = ()
) -> list[Path]:
    """Write responses to an owner-only Excel workbook with the sheets ``responses`` and ``codebook``.

    Every text is a string cell, never a formula; dates are dates without a time part.
    """
    path = Path(private_path(path))
    workbook = Workbook(write_only=True)
    for title, table in (
        ("responses", for_excel(frame, column_domains(instrument, older))),
        ("codebook", _codebook(instrument, older, lang)),
    ):
        sheet = workbook.create_sheet(title)
        sheet.append(list(table.columns))
        for row in table.itertuples(index=False):
            sheet.append([_cell(sheet, value) for value in row])
    workbook.save(path)
    return [path]


def _cell(sheet, value):
    """One Excel cell: blanks empty, dates with a date format, text always as text (never a formula)."""
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    cell = WriteOnlyCell(sheet, value=value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make a text beginning with "=" a formula
    elif isinstance(value, date) and not isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
    return cell
