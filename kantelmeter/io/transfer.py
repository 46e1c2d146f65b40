"""Importing a response file into the store, and exporting the store to a file.

:func:`import_responses` reads a CSV, Excel, SPSS or ODK/KoboToolbox file,
maps its columns, checks every row (:func:`validate_responses`) and adds the
rows to the store in one transaction: every row or, with a report listing
every problem, none. A file imported before (same SHA-256 for the same
instrument and occasion) is skipped; a respondent who already has a response
at the occasion is reported, so nothing is stored twice.

:func:`export_responses` writes the store's wide responses to SPSS, CSV (with
codebook) or Excel, chosen by the file's extension.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kantelmeter.instruments import Instrument, ItemType
from kantelmeter.io.mapping import apply_mapping, odk_columns, read_mapping
from kantelmeter.io.spss import read_sav, write_sav
from kantelmeter.io.tabular import read_csv, read_xlsx, write_csv, write_xlsx
from kantelmeter.io.validation import PROBLEM_COLUMNS, ImportRejected, ValidationReport, validate_responses
from kantelmeter.privacy import mask_bsns_in_columns
from kantelmeter.store import Store

__all__ = ["ImportResult", "export_responses", "import_responses"]

READERS = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".sav": read_sav}
WRITERS = {".sav": write_sav, ".csv": write_csv, ".xlsx": write_xlsx}
# The number a user sees for the first data row: spreadsheets count the header row, SPSS counts cases.
FIRST_ROW = {".csv": 2, ".txt": 2, ".xlsx": 2, ".sav": 1}


@dataclass(frozen=True)
class ImportResult:
    """The outcome of an import: how many responses were added, the report, and how many BSNs in open answers were masked."""

    added: int
    already_imported: bool
    report: ValidationReport
    masked_bsns: int = 0

    def __str__(self) -> str:
        if self.already_imported:
            return f"{self.report.source}: imported before; nothing added"
        masked = f"; {self.masked_bsns} BSN(s) in open answers masked, not stored" if self.masked_bsns else ""
        return f"{self.report.source}: {self.added} responses added{masked}"


def file_hash(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_responses(store: Store, instrument: Instrument, occasion: str, path: str | Path, *,
                     respondent: str = "respondent", respondent_kind: str | None = None,
                     mapping: str | Path | dict[str, str] | None = None, cohort: str | None = None,
                     sheet: str | int = 0, odk: bool = False,
                     reshape: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                     actor: str | None = None) -> ImportResult:
    """Import a file of responses for one instrument and occasion: all rows or none.

    Parameters
    ----------
    store : Store
    instrument : Instrument
    occasion : str
    path : path
        ``.csv`` (comma, semicolon or tab), ``.xlsx`` or ``.sav``.
    respondent : str
        The column identifying the respondent, after mapping.
    respondent_kind : {'bsn', 'client_number', 'name'}, optional
        The respondent column holds this identifier; it is validated and
        pseudonymised. Inferred when the column is an identifier item.
    mapping : path or dict, optional
        File column to instrument column (see :func:`read_mapping`).
    cohort : str, optional
        The cohort of every row when the file has no ``cohort`` column.
    sheet : str or int
        The Excel sheet.
    odk : bool
        The file is an ODK Central or KoboToolbox CSV export of the form
        made by :func:`kantelmeter.io.xlsform`.
    reshape : callable, optional
        Turns the table as read into one with the normal columns, before
        any mapping: how another tool's export comes in (see
        :func:`kantelmeter.io.redcap_import.import_redcap`).

    Returns
    -------
    ImportResult

    Raises
    ------
    ImportRejected
        With a report of every problem; nothing was imported.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise ValueError(f"{path}: cannot import a {suffix or 'extensionless'} file; allowed: {', '.join(READERS)}")
    digest = file_hash(path)
    if store.batch_seen(instrument, occasion, digest):
        return ImportResult(0, True, ValidationReport(path.name, pd.DataFrame(columns=PROBLEM_COLUMNS)))
    frame = _read(path, suffix, sheet)
    if odk:
        frame = odk_columns(frame, instrument)
    if reshape is not None:
        frame = reshape(frame)
    if mapping is not None:
        frame = apply_mapping(frame, mapping if isinstance(mapping, dict) else read_mapping(mapping), path.name)
    report = validate_responses(instrument, frame, occasion, respondent=respondent, respondent_kind=respondent_kind,
                                pseudonymise=store.pseudonym, cohort=cohort, store=store,
                                first_row=FIRST_ROW[suffix], source=path.name)
    if not report.ok:
        raise ImportRejected(report)
    # A respondent may have typed their BSN in an open answer: it is masked, never stored.
    data, masked = mask_bsns_in_columns(report.data, [i.id for i in instrument.items
                                                      if i.type is ItemType.text and not i.identifier])
    added = store.add_responses(instrument, occasion, data, source="import", batch=digest, actor=actor)
    return ImportResult(added, added == 0 and len(report.data) > 0, report, masked)


def _read(path: Path, suffix: str, sheet: str | int):
    return read_xlsx(path, sheet) if suffix == ".xlsx" else READERS[suffix](path)


def export_responses(store: Store, instrument: Instrument | str, path: str | Path, occasion: str | None = None,
                     cohort: str | None = None, lang: str = "nl", actor: str | None = None) -> list[Path]:
    """Export complete responses to ``.sav``, ``.csv`` (plus codebook) or ``.xlsx``, by extension.

    Identifier answers leave the store as pseudonyms, as they are stored.
    A cohort with no complete responses gives a file with the columns only.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        For an ending other than ``.sav``, ``.csv`` or ``.xlsx``, and for a
        cohort no response to the instrument (at the occasion) belongs to:
        most likely a mistyped name, which an empty file would hide.
    """
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"{path}: cannot export to a {path.suffix or 'extensionless'} file; "
                         f"allowed: {', '.join(WRITERS)}")
    instrument = store.instrument(instrument) if isinstance(instrument, str) else instrument
    if cohort is not None:
        _check_cohort(store, instrument, occasion, cohort)
    frame = store.responses(instrument, occasion=occasion, cohort=cohort)
    written = writer(frame, instrument, path, lang=lang)
    store.log("export", instrument.id, f"{path.suffix.lower()}: {len(frame)} responses", actor=actor)
    return written


def _check_cohort(store: Store, instrument: Instrument, occasion: str | None, cohort: str) -> None:
    """Refuse a cohort that no response (complete or not) to the instrument at the occasion belongs to."""
    counts = store.completion(instrument)
    if occasion is not None:
        counts = counts[counts["occasion"] == occasion]
    known = sorted(counts["cohort"].dropna().unique())
    if cohort not in known:
        at = f" at {occasion!r}" if occasion is not None else ""
        raise ValueError(f"cohort {cohort!r}: no response to {instrument.id!r}{at} belongs to it; "
                         f"allowed: {', '.join(known) or 'none (no stored response has a cohort)'}")
