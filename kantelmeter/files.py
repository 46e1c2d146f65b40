"""Files that hold answers or tokens are created readable by their owner only (mode 0600).

The database and its write-ahead log, exports, invitation links and problem lists
all carry answers or secrets, so they must not be world-readable as the default
``umask`` 022 would make them. Writers open their target through
:func:`private_file`; libraries that insist on a path (pyreadstat, openpyxl, SQLite)
are handed a path that :func:`private_path` has already created owner-only, and
they keep its mode when they write to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

__all__ = ["PRIVATE_MODE", "private_file", "private_path"]

PRIVATE_MODE = 0o600


def private_path(path: str | os.PathLike) -> Path:
    """Create ``path`` (or tighten an existing file) with mode 0600 and return it.

    An existing file keeps its content; a new one is empty.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = private_path(pathlib.Path(tempfile.mkdtemp()) / "export.csv")
    >>> oct(path.stat().st_mode & 0o777)
    '0o600'
    """
    path = Path(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE)
    try:
        os.fchmod(descriptor, PRIVATE_MODE)
    finally:
        os.close(descriptor)
    return path


def private_file(path: str | os.PathLike, mode: str = "w", **options) -> IO:
    """Open ``path`` for writing, emptied, with mode 0600 (like :func:`open`, which would give 0644).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "links.csv"
    >>> with private_file(path, newline="") as handle:
    ...     _ = handle.write("token\\n")
    >>> oct(path.stat().st_mode & 0o777), path.read_text()
    ('0o600', 'token\\n')
    """
    private_path(path)
    return open(path, mode, **options)  # noqa: SIM115 - returned to the caller, who closes it
