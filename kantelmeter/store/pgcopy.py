"""A DataFrame as PostgreSQL binary COPY data, made a column at a time with numpy.

Binary COPY spares both sides the text of every value: the client no longer formats 4 million
answers as text and joins them row by row, and the server no longer parses them back into
floats, integers and timestamps (a third of its COPY time for a wide answer table). The
format (PostgreSQL manual, *COPY*, "Binary Format") is a signature, then per row a 16-bit
count of fields and per field a 32-bit length (-1 for NULL) followed by that many bytes, all
in network byte order, then a 16-bit -1.

Each column becomes one field of a numpy record per row: its length and its value at the
widest width the column needs. The bytes a row does not use (the value of a NULL, the
unused tail of a short text) are cut out with one mask over the block, so no Python code
runs per row, and text is encoded once per distinct value (answers repeat a few codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import DateTime, Float, Integer, String, Table

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
"""The file header: the signature, 32 bits of flags and a 32-bit header extension length, all zero."""
TRAILER = b"\xff\xff"

COPY_BYTES = 4_000_000
"""Bytes of records per block: a block and its mask take about twice this in memory."""

EPOCH = np.datetime64("2000-01-01", "us")
"""PostgreSQL's binary timestamps count microseconds from here."""

VALUE_TYPES = {Integer: ">i4", Float: ">f8", DateTime: ">i8"}
"""The record field of each fixed-width column type; String and Text take a byte string as wide as their longest."""


def column_kinds(table: Table, columns: Sequence[str]) -> list[type]:
    """The type class (Integer, Float, DateTime or String) of each of these columns of a table.

    >>> from kantelmeter.store.schema import respondents
    >>> [kind.__name__ for kind in column_kinds(respondents, ["pseudonym", "id", "created_at"])]
    ['String', 'Integer', 'DateTime']
    """
    kinds = []
    for name in columns:
        found = [kind for kind in (*VALUE_TYPES, String) if isinstance(table.c[name].type, kind)]
        if not found:
            raise TypeError(f"column {table.name}.{name} of type {table.c[name].type} has no binary COPY form")
        kinds.append(found[0])
    return kinds


def copy_data(frames: Iterable[pd.DataFrame], kinds: Sequence[type]) -> Iterator[bytes]:
    r"""The rows of some frames as one binary COPY, signature and trailer included; a blank (NaN, None, NaT) is NULL.

    Parameters
    ----------
    frames : iterable of DataFrame
        Blocks of the rows, each encoded when it is reached, their columns in the order of the
        COPY's column list.
    kinds : sequence of type
        Of each column, from :func:`column_kinds`. An Integer column is sent as ``integer``
        (32 bits), a Float as ``double precision``, a DateTime (naive, or its wall-clock time
        when it has a zone, as the text form was read) as ``timestamp``, a String as text.

    Yields
    ------
    bytes
        The signature, pieces of at most about COPY_BYTES, the trailer.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": [1, 2], "a": [4.0, None], "t": ["é", None]})
    >>> b"".join(copy_data([frame], [Integer, Float, String]))[len(SIGNATURE) :].hex(" ", 2)
    '0003 0000 0004 0000 0001 0000 0008 4010 0000 0000 0000 0000 0002 c3a9 0003 0000 0004 0000 0002 ffff ffff ffff ffff ffff'
    """
    yield SIGNATURE
    for frame in frames:
        yield from _encoded(frame, kinds)
    yield TRAILER


def _encoded(frame: pd.DataFrame, kinds: Sequence[type]) -> Iterator[bytes]:
    """The rows of one frame as binary COPY tuples, in pieces of at most about COPY_BYTES."""
    fields = [_field(frame[name], kind) for name, kind in zip(frame.columns, kinds)]
    layout = np.dtype(
        [("count", ">i2")]
        + [item for j, (_, value, _) in enumerate(fields) for item in ((f"n{j}", ">i4"), (f"v{j}", value.dtype))]
    )
    starts = np.array([layout.fields[f"v{j}"][1] for j in range(len(fields))], dtype=np.int64)
    widths = np.array([value.dtype.itemsize for _, value, _ in fields], dtype=np.int64)
    rows = max(1, COPY_BYTES // layout.itemsize)
    for first in range(0, len(frame), rows):
        piece = slice(first, first + rows)
        records = np.empty(len(frame.index[piece]), dtype=layout)
        records["count"] = len(fields)
        for j, (lengths, values, codes) in enumerate(fields):
            records[f"n{j}"] = lengths[piece]
            records[f"v{j}"] = values[piece] if codes is None else values[codes[piece]]
        yield _packed(records, np.stack([lengths[piece] for lengths, _, _ in fields], axis=1), starts, widths)


def _field(column: pd.Series, kind: type) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A column's lengths (-1 for NULL), and its values as big-endian numbers, or its distinct texts and their codes.

    The texts are padded to the longest, so they stay per distinct value until a piece of rows needs them.
    """
    if kind is String:
        codes, distinct = pd.factorize(column)  # a blank gets code -1: the NULL appended last
        encoded = [str(value).encode() for value in distinct.tolist()]
        width = max(map(len, encoded), default=0)  # at least one byte: numpy has no empty byte strings
        texts = np.array([*encoded, b""], dtype=f"S{max(width, 1)}")
        return np.array([*map(len, encoded), -1], dtype=np.int32)[codes], texts, codes
    if kind is DateTime:
        times = pd.to_datetime(column)
        if isinstance(times.dtype, pd.DatetimeTZDtype):
            times = times.dt.tz_localize(None)
        stamps = times.to_numpy(dtype="datetime64[us]")
        blank = np.isnat(stamps)
        values = (stamps - EPOCH).astype(np.int64)
    else:
        numbers = column.to_numpy(dtype="float64", na_value=np.nan)
        blank = np.isnan(numbers)
        values = np.where(blank, 0, numbers)
        if kind is Integer and len(values) and np.abs(values).max() >= 2**31:
            raise OverflowError(f"column {column.name!r}: a value does not fit a 32-bit integer")
    value = np.dtype(VALUE_TYPES[kind])
    return np.where(blank, -1, value.itemsize).astype(np.int32), values.astype(value), None


def _packed(records: np.ndarray, lengths: np.ndarray, starts: np.ndarray, widths: np.ndarray) -> bytes:
    """The records' bytes without the value bytes each field does not use (all of a NULL's)."""
    raw = records.view(np.uint8)
    unused = widths - np.maximum(lengths, 0)  # per row and column
    row, column = np.nonzero(unused)
    if not len(row):
        return raw.tobytes()
    counts = unused[row, column]
    first = row * records.dtype.itemsize + starts[column] + widths[column] - counts
    # The positions of all unused bytes: each run's first position, then consecutive ones.
    offsets = np.repeat(first - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
    keep = np.ones(len(raw), dtype=bool)
    keep[offsets] = False
    return raw[keep].tobytes()
