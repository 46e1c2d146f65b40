"""Importing CSV, Excel and SPSS files into the store: all rows or none, never twice."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from kantelmeter.io import ImportRejected, import_responses

ROWS = pd.DataFrame(
    {
        "respondent": ["r1", "r2", "r3"],
        "cohort": ["pilot", "pilot", "regular"],
        "got_help": [1, 2, 1],
        "helped_well": [4, None, 8],
        "help_kind_1": [1, None, 0],
        "help_kind_2": [0, None, 1],
        "wellbeing": [6, 3, None],
        "remarks": ["prima", None, "met dank"],
    }
)


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        pyreadstat.write_sav(frame.assign(remarks=frame.remarks.fillna("")), str(path))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_a_clean_file_is_imported_completely(store, sample_instrument, tmp_path, suffix):
    result = import_responses(store, sample_instrument, "intake", _write(ROWS, tmp_path / f"may{suffix}"))
    assert result.added == 3 and not result.already_imported
    wide = store.responses(sample_instrument).set_index("respondent")
    assert wide.loc["r3", ["cohort", "got_help", "helped_well", "help_kind_2", "remarks"]].tolist() == [
        "regular",
        1.0,
        8.0,
        1.0,
        "met dank",
    ]
    assert pd.isna(wide.loc["r2", "helped_well"]) and pd.isna(wide.loc["r2", "remarks"])


def test_importing_the_same_file_twice_adds_nothing(store, sample_instrument, tmp_path):
    path = _write(ROWS, tmp_path / "may.csv")
    assert import_responses(store, sample_instrument, "intake", path).added == 3
    again = import_responses(store, sample_instrument, "intake", path)
    assert again.already_imported and again.added == 0
    assert len(store.responses(sample_instrument)) == 3
    # The same rows in another file are caught by respondent and occasion.
    with pytest.raises(ImportRejected) as rejected:
        import_responses(store, sample_instrument, "intake", _write(ROWS.iloc[:2], tmp_path / "copy.csv"))
    assert rejected.value.report.problems.problem.str.contains("already has a response").sum() == 2
    assert len(store.responses(sample_instrument)) == 3


def test_one_bad_row_rejects_the_whole_file(store, sample_instrument, tmp_path):
    bad = ROWS.astype(object).copy()
    bad.loc[2, "got_help"] = 5
    with pytest.raises(ImportRejected) as rejected:
        import_responses(store, sample_instrument, "intake", _write(bad, tmp_path / "may.csv"))
    assert rejected.value.report.problems[["row", "column"]].values.tolist() == [[4, "got_help"]]
    assert "row 4, column got_help (value '5')" in str(rejected.value)
    assert store.responses(sample_instrument).empty and store.completion().empty


def test_a_mapping_file_and_a_bsn_column_for_the_respondent(store, sample_instrument, tmp_path):
    dutch = pd.DataFrame({"BSN": ["111222333", "123456782"], "Hulp gekregen": ["2", "2"]})
    path = tmp_path / "juni.csv"
    dutch.to_csv(path, index=False, sep=";")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("BSN: respondent\nHulp gekregen: got_help\n")
    result = import_responses(
        store, sample_instrument, "intake", path, mapping=mapping, respondent_kind="bsn", cohort="pilot"
    )
    assert result.added == 2
    assert sorted(store.responses(sample_instrument).respondent) == sorted(
        [store.pseudonym("bsn", "111222333"), store.pseudonym("bsn", "123456782")]
    )


def test_an_identifier_item_can_be_the_respondent_column(store, sample_instrument, tmp_path):
    path = tmp_path / "intake.csv"
    pd.DataFrame({"bsn": ["111222333"], "full_name": ["Els Vos"], "got_help": ["2"]}).to_csv(path, index=False)
    import_responses(store, sample_instrument, "intake", path, respondent="bsn")
    row = store.responses(sample_instrument).iloc[0]
    assert row.respondent == row.bsn == store.pseudonym("bsn", "111222333")
    assert row.full_name == store.pseudonym("name", "els vos")


def test_unreadable_inputs_are_named(store, sample_instrument, tmp_path):
    with pytest.raises(ValueError, match="cannot import a .json file"):
        import_responses(store, sample_instrument, "intake", tmp_path / "may.json")
    path = _write(ROWS, tmp_path / "may.csv")
    with pytest.raises(ValueError, match="does not have: \\['Vraag 9'\\]"):
        import_responses(store, sample_instrument, "intake", path, mapping={"Vraag 9": "got_help"})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_a_file_read_in_chunks_is_stored_whole_or_not_at_all(store, sample_instrument, tmp_path, monkeypatch, suffix):
    monkeypatch.setattr("kantelmeter.io.transfer.CHUNK_ROWS", 2)  # three chunks of the seven rows
    rows = pd.concat([ROWS, ROWS.assign(respondent=["r4", "r5", "r6"]), ROWS.iloc[:1].assign(respondent="r7")])
    bad = rows.reset_index(drop=True).astype(object)
    bad.loc[6, "got_help"] = 5  # in the last chunk, after two chunks were written
    with pytest.raises(ImportRejected) as rejected:
        import_responses(store, sample_instrument, "intake", _write(bad, tmp_path / f"bad{suffix}"))
    first = 1 if suffix == ".sav" else 2  # a spreadsheet counts its header row, SPSS counts cases
    assert rejected.value.report.problems[["row", "column"]].values.tolist() == [[first + 6, "got_help"]]
    assert store.responses(sample_instrument).empty and store.completion().empty
    result = import_responses(store, sample_instrument, "intake", _write(rows, tmp_path / f"good{suffix}"))
    assert result.added == 7 and sorted(store.responses(sample_instrument).respondent) == [f"r{n}" for n in range(1, 8)]


def test_a_respondent_twice_in_two_chunks_is_reported_with_both_rows(store, sample_instrument, tmp_path, monkeypatch):
    monkeypatch.setattr("kantelmeter.io.transfer.CHUNK_ROWS", 2)
    twice = pd.concat([ROWS, ROWS.iloc[:1]])  # r1 in rows 2 and 5, the first and the second chunk
    with pytest.raises(ImportRejected) as rejected:
        import_responses(store, sample_instrument, "intake", _write(twice, tmp_path / "twice.csv"))
    problems = rejected.value.report.problems
    assert problems[["row", "column", "value"]].values.tolist() == [[2, "respondent", "r1"], [5, "respondent", "r1"]]
    assert problems.problem.str.contains("more than once at occasion 'intake'").all()
    assert store.responses(sample_instrument).empty
