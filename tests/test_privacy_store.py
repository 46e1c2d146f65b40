"""No BSN or name reaches the database, its write-ahead log, the audit log or an export.

The test data enter through every door (bulk import, web-style saves,
add_respondent); afterwards the raw bytes of every file on disk are searched.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest
from answer_data import valid_bsns
from sqlalchemy import inspect, text

from kantelmeter import BSNError, Store
from kantelmeter.io import export_responses, import_responses, write_redcap_dictionary, write_xlsform

BSNS = valid_bsns(4)
NAMES = ["Wilhelmina Zonneveld", "Gerrit-Jan Oosterbroek", "Fatima el Idrissi", "Sjoerd Hoekstra"]


def _secrets() -> list[bytes]:
    variants = []
    for value in BSNS + NAMES + [name.casefold() for name in NAMES]:
        variants += [value.encode("utf-8"), value.encode("utf-16-le")]
    return variants


def _leaks(blob: bytes) -> list[bytes]:
    return [secret for secret in _secrets() if secret in blob]


def _file_bytes(path: Path) -> bytes:
    if zipfile.is_zipfile(path):  # xlsx: search the XML inside the archive
        with zipfile.ZipFile(path) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return path.read_bytes()


def _fill(store: Store, instrument, tmp_path: Path) -> list[Path]:
    source = tmp_path / "incoming"
    source.mkdir()
    path = source / "intake.csv"
    pd.DataFrame(
        {
            "bsn": BSNS[:2],
            "full_name": NAMES[:2],
            "got_help": ["1", "2"],
            "helped_well": ["4", ""],
            "remarks": ["prettig gesprek", ""],
        }
    ).to_csv(path, index=False)
    import_responses(store, instrument, "intake", path, respondent="bsn", cohort="pilot")
    person = store.add_respondent(cohort="regular", identifiers={"bsn": BSNS[2], "name": NAMES[2]})
    response = store.start_response(person, instrument, "intake")
    store.save_answers(response, {"bsn": BSNS[2], "full_name": NAMES[2], "got_help": 2}, complete=True)
    other = store.start_response(store.add_respondent(identifiers={"name": NAMES[3]}), instrument, "intake")
    store.save_answers(other, {"full_name": NAMES[3], "got_help": 2, "bsn": BSNS[3]})
    with pytest.raises(BSNError) as refused:
        store.save_answers(other, {"bsn": BSNS[3][:-1] + str((int(BSNS[3][-1]) + 1) % 10)})
    assert not _leaks(str(refused.value).encode())
    exports = tmp_path / "exports"
    exports.mkdir()
    written = []
    for suffix in (".sav", ".csv", ".xlsx"):
        written += export_responses(store, instrument, exports / f"sample{suffix}")
    written += write_xlsform(instrument, exports / "form.xlsx") + write_redcap_dictionary(
        instrument, exports / "dd.csv"
    )
    return written


def test_no_identifier_reaches_sqlite_files_or_exports(tmp_path, key_file, sample_instrument):
    database = tmp_path / "kantelmeter.db"
    store = Store(f"sqlite:///{database}", key_file=key_file)
    written = _fill(store, sample_instrument, tmp_path)
    wide = store.responses(sample_instrument, include_partial=True)
    assert len(wide) == 4 and wide.bsn.notna().sum() == 4  # the identifiers were stored, as pseudonyms
    assert set(wide.bsn) == {store.pseudonym("bsn", b) for b in BSNS}
    on_disk = [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]
    assert on_disk[1].exists()  # the write-ahead log is searched too, not only the main file
    for path in on_disk + written:
        assert _leaks(_file_bytes(path)) == [], path.name
    assert _leaks(store.audit_log().to_csv().encode()) == []
    store.close()


def test_no_identifier_reaches_any_table(store, sample_instrument, tmp_path):
    written = _fill(store, sample_instrument, tmp_path)
    with store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            assert _leaks(repr(rows).encode()) == [], table
    for path in written:
        assert _leaks(_file_bytes(path)) == [], path.name


def test_an_erased_respondent_leaves_no_bytes_in_the_sqlite_files(tmp_path, key_file, sample_instrument):
    database = tmp_path / "kantelmeter.db"
    store = Store(f"sqlite:///{database}", key_file=key_file)
    person = store.add_respondent(identifiers={"bsn": BSNS[0]})
    store.save_answers(
        store.start_response(person, sample_instrument, "intake"),
        {"remarks": "een heel herkenbaar verhaal", "got_help": 2},
        complete=True,
    )
    keep = store.add_respondent()
    store.save_answers(store.start_response(keep, sample_instrument, "intake"), {"got_help": 1}, complete=True)
    store.erase(person)
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("kantelmeter.db*"))
    assert person.encode() not in blob and b"herkenbaar" not in blob
    assert keep.encode() in blob  # the search does find what is still there
    store.close()


def test_the_key_file_is_private_and_outside_the_database(tmp_path, key_file):
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=key_file)
    store.add_respondent(identifiers={"bsn": BSNS[0]})
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_bytes() not in (tmp_path / "k.db").read_bytes()
    # The same key gives the same pseudonym in another store; another key does not.
    assert Store(f"sqlite:///{tmp_path / 'j.db'}", key_file=key_file).pseudonym("bsn", BSNS[0]) == store.pseudonym(
        "bsn", BSNS[0]
    )
    assert Store(f"sqlite:///{tmp_path / 'i.db'}", key_file=tmp_path / "other.key").pseudonym(
        "bsn", BSNS[0]
    ) != store.pseudonym("bsn", BSNS[0])
