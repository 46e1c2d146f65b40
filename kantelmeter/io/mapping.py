"""How the columns of a response file become instrument columns.

Every reader hands its raw table through here: a mapping file renames the
columns of a file whose headers are not item ids, and :func:`odk_columns`
undoes the naming of ODK and KoboToolbox exports (group prefixes such as
``access/knew_where_to_go`` or ``access-knew_where_to_go``, split
multiple-choice columns ``interventions/3``, and their metadata columns).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import yaml

from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument
from kantelmeter.io.xlsform import field_paths

__all__ = ["ODK_METADATA", "apply_mapping", "odk_columns", "read_mapping"]

# Columns that ODK Central and KoboToolbox add to every export; they describe the submission, not an answer.
ODK_METADATA = {
    "start",
    "today",
    "deviceid",
    "username",
    "instanceID",
    "instanceName",
    "KEY",
    "SubmissionDate",
    "SubmitterID",
    "SubmitterName",
    "AttachmentsPresent",
    "AttachmentsExpected",
    "Status",
    "ReviewState",
    "DeviceID",
    "Edits",
    "FormVersion",
    "uuid",
    "version",
}
# Columns that tell when an answer was given, best first; the first present becomes collected_at.
ODK_TIMES = ("end", "_submission_time", "SubmissionDate")


def read_mapping(path: str | Path) -> dict[str, str]:
    """Read a mapping from file columns to instrument columns.

    A CSV file with the columns ``source`` and ``target``, or a YAML mapping
    ``source: target``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mapping.csv"
    >>> _ = path.write_text("source,target\\nVraag 1,soc1\\nKlantnummer,respondent\\n")
    >>> read_mapping(path)
    {'Vraag 1': 'soc1', 'Klantnummer': 'respondent'}
    """
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ExchangeError(f"{path}: a YAML mapping file holds 'file column: instrument column' pairs")
        return {str(k): v for k, v in data.items()}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"source", "target"} <= set(reader.fieldnames):
            raise ExchangeError(
                f"{path}: a CSV mapping file needs the columns 'source' and 'target'; found {reader.fieldnames}"
            )
        mapping = {}
        for line, row in enumerate(reader, start=2):
            if row["source"] in mapping:
                raise ExchangeError(f"{path} row {line}: source column {row['source']!r} is mapped twice")
            mapping[row["source"]] = row["target"]
    return mapping


def apply_mapping(frame: pd.DataFrame, mapping: dict[str, str], source: str = "<data>") -> pd.DataFrame:
    """Rename file columns to instrument columns; a mapped column the file lacks is an error."""
    missing = [column for column in mapping if column not in frame.columns]
    if missing:
        raise ExchangeError(
            f"{source}: the mapping names columns the file does not have: {missing}; "
            f"file columns: {list(frame.columns)}"
        )
    targets = pd.Series(list(mapping.values()))
    if targets.duplicated().any():
        raise ExchangeError(
            f"{source}: the mapping maps several columns to {sorted(set(targets[targets.duplicated()]))}"
        )
    return frame.rename(columns=mapping)


def odk_columns(frame: pd.DataFrame, instrument: Instrument, occasion: str | None = None) -> pd.DataFrame:
    """Rename the columns of an ODK or KoboToolbox CSV export to instrument columns.

    A column whose group path is a field of the instrument's XLSForm (see
    :func:`kantelmeter.io.xlsform.field_paths`; ``/`` separates groups in
    KoboToolbox, ``-`` in ODK Central, item ids contain neither) becomes that
    field's column, a split multiple-choice column ``group/item/3`` becomes
    ``item_3``, notes and the submission metadata are dropped
    and the end time (or submission time) becomes ``collected_at``. With an
    ``occasion``, the fields its form carries from an earlier occasion
    (``problems_raised_carried/problems_raised``) are found too.
    Everything else keeps its name, so the validation reports it.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> raw = pd.DataFrame(columns=["start", "end", "respondent", "soc/soc1", "meta/instanceID", "_uuid"])
    >>> list(odk_columns(raw, load_instrument("soc13")).columns)
    ['collected_at', 'respondent', 'soc1']
    """
    # exact paths first: an item may be named like its group or like metadata
    paths = field_paths(instrument) | (field_paths(instrument, occasion) if occasion else {})
    for path, target in list(paths.items()):  # KoboToolbox can also export without group names
        if path[1] not in ODK_METADATA and path[1] not in ODK_TIMES:
            paths.setdefault(path[1:], target)
    renamed: dict[str, str] = {}
    time = next((column for column in ODK_TIMES if column in frame.columns), None)
    keep = []
    for column in frame.columns:
        parts = tuple(re.split(r"[/-]", str(column)))
        if parts in paths:
            if paths[parts] is None:  # a note: no answer
                continue
            renamed[column] = paths[parts]
        elif column == time:
            renamed[column] = "collected_at"
        elif (
            column in ODK_TIMES
            or column.startswith("_")
            or parts[0] in ("meta", "formhub")
            or parts[-1] in ODK_METADATA
        ):
            continue
        else:
            renamed[column] = parts[-1]
        keep.append(column)
    return frame[keep].rename(columns=renamed)
