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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument, ItemType
from kantelmeter.io.mapping import apply_mapping, odk_columns, read_mapping
from kantelmeter.io.odk_repeats import join_repeats
from kantelmeter.io.spss import read_sav, read_sav_chunks, write_sav
from kantelmeter.io.tabular import (
    CHUNK_ROWS,
    read_csv,
    read_csv_chunks,
    read_xlsx,
    without_blank_rows_at_end,
    write_csv,
    write_xlsx,
)
from kantelmeter.io.validation import PROBLEM_COLUMNS, ImportRejected, ValidationReport, validate_responses
from kantelmeter.privacy import mask_bsns_in_columns
from kantelmeter.store import ANY_OCCASION, Store

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
    encoding: str | None = None
    masked_bsns: int = 0

    def __str__(self) -> str:
        read_as = (
            ""
            if self.encoding in (None, "utf-8", "utf-8-sig")
            else f" (read as {self.encoding}: the file is not UTF-8)"
        )
        if self.already_imported:
            return f"{self.report.source}: imported before; nothing added{read_as}"
        masked = f"; {self.masked_bsns} BSN(s) in open answers masked, not stored" if self.masked_bsns else ""
        return f"{self.report.source}: {self.added} responses added{masked}{read_as}"


def file_hash(path: str | Path) -> str:
    """The SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_responses(
    store: Store,
    instrument: Instrument,
    occasion: str | None,
    path: str | Path,
    *,
    respondent: str = "respondent",
    respondent_kind: str | None = None,
    mapping: str | Path | dict[str, str] | None = None,
    cohort: str | None = None,
    sheet: str | int = 0,
    odk: bool = False,
    repeats: Sequence[str | Path] = (),
    reshape: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    actor: str | None = None,
) -> ImportResult:
    """Import a file of responses for one instrument: all rows or none.

    Parameters
    ----------
    store : Store
    instrument : Instrument
    occasion : str or None
        The occasion of every row; None to take each row's from the file's
        ``occasion`` column (a whole-instrument export with several occasions).
    path : path
        ``.csv`` (comma, semicolon or tab; UTF-8 or Windows-1252), ``.xlsx`` or ``.sav``.
    respondent : str
        The column identifying the respondent, after mapping.
    respondent_kind : {'bsn', 'client_number', 'name'}, optional
        The respondent column holds this identifier; it is validated and
        pseudonymised. Inferred when the column is an identifier item. A value
        that already is a pseudonym (an export read back) is kept.
    mapping : path or dict, optional
        File column to instrument column (see :func:`read_mapping`).
    cohort : str, optional
        The cohort of every row when the file has no ``cohort`` column.
    sheet : str or int
        The Excel sheet.
    odk : bool
        The file is an ODK Central or KoboToolbox CSV export of the form
        made by :func:`kantelmeter.io.xlsform`.
    repeats : sequence of path
        With ``odk``: the export's repeat tables (ODK Central's
        ``<form>-<repeat>.csv``), joined to their responses by
        :func:`kantelmeter.io.odk_repeats.join_repeats`.
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
        raise ExchangeError(f"{path}: cannot import a {suffix or 'extensionless'} file; allowed: {', '.join(READERS)}")
    digest = file_hash(path)
    if store.batch_seen(instrument, occasion or ANY_OCCASION, digest):
        return ImportResult(0, True, ValidationReport(path.name, pd.DataFrame(columns=PROBLEM_COLUMNS)))
    chunks = _read(path, suffix, sheet)
    if repeats:  # a repetition may belong to any row of the file: join them whole
        tables = {Path(p).name: pd.concat(list(_read(Path(p), Path(p).suffix.lower(), 0))) for p in repeats}
        chunks = iter([join_repeats(pd.concat(list(chunks)), tables, instrument, occasion)])
    checked = _CheckedChunks(path.name, FIRST_ROW[suffix], instrument)
    # The key is checked (and recorded on first use) now: the chunks are checked inside the import's write.
    pseudonymise = store.pseudonymiser.pseudonymise
    prepared = (
        _validated(
            store,
            instrument,
            occasion,
            _prepared(frame, instrument, occasion, odk, reshape, mapping, path.name),
            path.name,
            FIRST_ROW[suffix],
            respondent=respondent,
            respondent_kind=respondent_kind,
            pseudonymise=pseudonymise,
            cohort=cohort,
        )
        for frame in checked.encoded(chunks)
    )
    # Each chunk is checked and written before the next is read, in one transaction: a problem in any
    # chunk raises ImportRejected at the end, with every problem of the file, and nothing is kept.
    added = store.add_response_chunks(
        instrument, occasion, checked.stored(prepared), source="import", batch=digest, actor=actor
    )
    report = ValidationReport(path.name, pd.DataFrame(columns=PROBLEM_COLUMNS))
    return ImportResult(
        added, added == 0 and checked.rows > 0, report, encoding=checked.encoding, masked_bsns=checked.masked
    )


def _prepared(
    frame: pd.DataFrame,
    instrument: Instrument,
    occasion: str | None,
    odk: bool,
    reshape: Callable[[pd.DataFrame], pd.DataFrame] | None,
    mapping: str | Path | dict[str, str] | None,
    source: str,
) -> pd.DataFrame:
    """A chunk as read, with the normal columns: ODK names, the reshape, the mapping."""
    if odk:
        frame = odk_columns(frame, instrument, occasion)
    if reshape is not None:
        frame = reshape(frame)
    if mapping is not None:
        frame = apply_mapping(frame, mapping if isinstance(mapping, dict) else read_mapping(mapping), source)
    return frame


class _CheckedChunks:
    """The checked chunks of one file on their way to the store, and what the whole file needs checked.

    A respondent may appear twice in two chunks, which neither chunk can see: the key
    (respondent, occasion) of every row given so far is kept as a 64-bit hash with its row,
    16 bytes a row instead of a Python string and tuple (a collision of two keys in a
    million rows has odds below one in ten million, and would only refuse the import).
    """

    def __init__(self, source: str, first_row: int, instrument: Instrument):
        self.source, self.first_row = source, first_row
        self.text_items = [i.id for i in instrument.items if i.type is ItemType.text and not i.identifier]
        self.reports: list[ValidationReport] = []
        self.keys = np.empty(0, dtype=np.int64)  # sorted
        self.key_rows = np.empty(0, dtype=np.int64)
        self.rows = self.masked = 0
        self.encoding: str | None = None

    def encoded(self, chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """The chunks as read, noting the file's encoding."""
        for frame in chunks:
            self.encoding = frame.attrs.get("encoding", self.encoding)
            yield frame

    def stored(self, reports: Iterator[ValidationReport]) -> Iterator[pd.DataFrame]:
        """The data of each chunk while no chunk had a problem; ImportRejected after the last if any had."""
        for report in reports:
            if report.ok and report.data is not None:
                report = self._unrepeated(report)
            if not report.ok:
                self.reports.append(report)
            elif not self.reports:
                # A respondent may have typed their BSN in an open answer: it is masked, never stored.
                data, masked = mask_bsns_in_columns(report.data, self.text_items)
                self.rows += len(data)
                self.masked += masked
                yield data
        if self.reports:
            raise ImportRejected(_one_report(self.source, self.reports))

    def _unrepeated(self, report: ValidationReport) -> ValidationReport:
        """The report, or one naming the rows whose respondent an earlier row (of any chunk) had at that occasion."""
        data = report.data
        occasions = data["occasion"] if "occasion" in data else pd.Series("", index=data.index)
        keys = pd.util.hash_pandas_object(pd.DataFrame({"r": data["respondent"], "o": occasions}), index=False)
        keys = keys.to_numpy().view(np.int64)
        rows = self.first_row + data.index.to_numpy(dtype=np.int64)
        here = pd.Series(keys).duplicated(keep=False).to_numpy()
        at = np.searchsorted(self.keys, keys).clip(max=max(len(self.keys) - 1, 0))
        before = (self.keys[at] == keys) if len(self.keys) else np.zeros(len(keys), dtype=bool)
        if here.any() or before.any():
            twice = here | before
            found = [
                (int(row), "respondent", respondent, f"respondent appears more than once at occasion {at_!r}")
                for row, respondent, at_ in zip(rows[twice], data["respondent"][twice], occasions[twice])
            ] + [
                (int(row), "respondent", respondent, f"respondent appears more than once at occasion {at_!r}")
                for row, respondent, at_ in zip(
                    self.key_rows[at[before]], data["respondent"][before], occasions[before]
                )
            ]
            return ValidationReport(self.source, pd.DataFrame(found, columns=PROBLEM_COLUMNS))
        order = np.argsort(np.concatenate([self.keys, keys]), kind="stable")
        self.keys = np.concatenate([self.keys, keys])[order]
        self.key_rows = np.concatenate([self.key_rows, rows])[order]
        return report


def _one_report(source: str, reports: list[ValidationReport]) -> ValidationReport:
    """The reports of the chunks (or groups) of one file as one: each column problem once, rows in order."""
    problems = [r.problems for r in reports if not r.ok]
    data = [r.data for r in reports if r.ok and r.data is not None]
    if problems:
        problems = pd.concat(problems, ignore_index=True)
        column_wide = problems["row"].isna()  # a problem with a whole column is reported once, not per group
        problems = pd.concat([problems[column_wide].drop_duplicates(["column", "problem"]), problems[~column_wide]])
        order = problems["row"].map(lambda r: -1 if r is None or pd.isna(r) else r)
        problems = problems.assign(_o=order).sort_values("_o", kind="stable").drop(columns="_o")
        return ValidationReport(source, problems.reset_index(drop=True))
    return ValidationReport(source, pd.DataFrame(columns=PROBLEM_COLUMNS), pd.concat(data) if data else pd.DataFrame())


def _validated(
    store: Store,
    instrument: Instrument,
    occasion: str | None,
    frame: pd.DataFrame,
    source: str,
    first_row: int,
    **options,
) -> ValidationReport:
    """Validate the rows of each occasion and instrument version against that version; one report for all.

    The frame's index numbers its rows in the file from 0 (see :func:`read_csv_chunks`).
    """
    rows = pd.Series(first_row + frame.index.to_numpy(), index=frame.index)
    if occasion is not None or "occasion" not in frame:
        occasions = pd.Series(occasion, index=frame.index, dtype=object)
        if occasion is None:
            problem = pd.DataFrame(
                [
                    (
                        None,
                        "occasion",
                        None,
                        "no occasion given and the file has no occasion "
                        f"column; allowed: one of {', '.join(instrument.occasions)}",
                    )
                ],
                columns=PROBLEM_COLUMNS,
            )
            return ValidationReport(source, problem)
    else:
        occasions = frame["occasion"].astype(object).map(lambda v: str(v).strip() if pd.notna(v) else "")
    versions = (
        frame["version"].astype(object).map(lambda v: "" if pd.isna(v) else _plain_version(v))
        if "version" in frame
        else pd.Series(instrument.version, index=frame.index, dtype=object)
    )
    known = {v.version: v for v in store.versions(instrument.id)} | {instrument.version: instrument}
    other_columns = {column for version in known.values() for column in version.columns}
    reports = []
    for (at, version), group in frame.groupby([occasions, versions.replace("", instrument.version)], sort=False):
        if version not in known:
            problem = pd.DataFrame(
                [
                    (
                        int(rows.at[i]),
                        "version",
                        version,
                        f"not a registered version of {instrument.id!r}; allowed: {', '.join(known)}",
                    )
                    for i in group.index
                ],
                columns=PROBLEM_COLUMNS,
            )
            reports.append(ValidationReport(source, problem))
            continue
        # A column of another version, blank throughout these rows, is the padding of an export of all versions.
        padding = [
            c
            for c in group.columns
            if c in other_columns
            and c not in known[version].columns
            and not without_blank_rows_at_end(group[[c]]).shape[0]
        ]
        report = validate_responses(
            known[version],
            group.drop(columns=["version", *padding], errors="ignore"),
            at,
            source=source,
            row_numbers=rows[group.index].tolist(),
            store=store,
            **options,
        )
        if report.ok:
            report.data = report.data.set_axis(group.index).assign(occasion=at, version=version)
        reports.append(report)
    return _one_report(source, reports)


def _plain_version(value) -> str:
    """A version cell as text: Excel and SPSS read "2" as the number 2.0."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()


def _read(path: Path, suffix: str, sheet: str | int) -> Iterator[pd.DataFrame]:
    """The file's rows, a chunk at a time; the index numbers the rows of the file from 0.

    CSV and SPSS files are read a chunk at a time; an Excel sheet (at most 1,048,576 rows) is read
    whole, then checked and stored a chunk at a time like the others.
    """
    if suffix in (".csv", ".txt"):
        yield from read_csv_chunks(path, CHUNK_ROWS)
    elif suffix == ".sav":
        yield from read_sav_chunks(path, CHUNK_ROWS)
    else:
        frame = read_xlsx(path, sheet).reset_index(drop=True)
        for start in range(0, max(len(frame), 1), CHUNK_ROWS):
            yield frame.iloc[start : start + CHUNK_ROWS]


def export_responses(
    store: Store,
    instrument: Instrument | str,
    path: str | Path,
    occasion: str | None = None,
    cohort: str | None = None,
    lang: str = "nl",
    actor: str | None = None,
) -> list[Path]:
    """Export complete responses to ``.sav``, ``.csv`` (plus codebook) or ``.xlsx``, by extension.

    Identifier answers leave the store as pseudonyms, as they are stored. Every
    registered version of the instrument is exported, with a ``version`` column
    and the columns of every version; the files are readable by their owner only.
    A cohort with no complete responses gives a file with the columns only.

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ExchangeError
        For an ending other than ``.sav``, ``.csv`` or ``.xlsx``, and for a
        cohort no response to the instrument (at the occasion) belongs to:
        most likely a mistyped name, which an empty file would hide.
    """
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ExchangeError(
            f"{path}: cannot export to a {path.suffix or 'extensionless'} file; allowed: {', '.join(WRITERS)}"
        )
    instrument = store.instrument(instrument) if isinstance(instrument, str) else instrument
    if cohort is not None:
        _check_cohort(store, instrument, occasion, cohort)
    frame = store.responses(instrument, occasion=occasion, cohort=cohort)
    older = [v for v in store.versions(instrument.id) if v.version != instrument.version]
    written = writer(frame, instrument, path, lang=lang, older=older)
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
        raise ExchangeError(
            f"cohort {cohort!r}: no response to {instrument.id!r}{at} belongs to it; "
            f"allowed: {', '.join(known) or 'none (no stored response has a cohort)'}"
        )
