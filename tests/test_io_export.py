"""Exports an analyst opens: SPSS with every label, CSV with codebook, Excel."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest

from kantelmeter.io import export_responses


@pytest.fixture
def filled(store, sample_instrument):
    answers = [
        (
            "pilot",
            {
                "got_help": 1,
                "help_kind_1": 1,
                "help_kind_2": 0,
                "help_kind_3": 1,
                "helped_well": 8,
                "wellbeing": 6,
                "visit_date": "2011-05-03",
                "remarks": "vriendelijk",
                "age": 71,
            },
        ),
        ("regular", {"got_help": 2, "wellbeing": 9}),
    ]
    for cohort, values in answers:
        response = store.start_response(store.add_respondent(cohort=cohort), sample_instrument, "intake")
        store.save_answers(response, values, complete=True)
    return store


def test_spss_keeps_variable_labels_value_labels_missing_codes_and_levels(filled, sample_instrument, tmp_path):
    (path,) = export_responses(filled, sample_instrument, tmp_path / "sample.sav", lang="en")
    data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    labels = meta.column_names_to_labels
    assert labels["helped_well"] == "I was helped well." and labels["help_kind_3"] == "Which help?: conversation"
    assert labels["respondent"] == "Respondent (pseudonym)"
    assert meta.variable_value_labels["helped_well"][8] == "don't know"
    assert meta.variable_value_labels["wellbeing"] == {1: "bad", 7: "excellent", 8: "don't know", 9: "not applicable"}
    assert meta.variable_value_labels["help_kind_1"] == {0: "not chosen", 1: "chosen"}
    assert meta.missing_ranges["helped_well"] == [{"lo": 8.0, "hi": 8.0}, {"lo": 9.0, "hi": 9.0}]
    assert meta.variable_measure["helped_well"] == "ordinal" and meta.variable_measure["got_help"] == "nominal"
    assert meta.variable_measure["age"] == "scale"
    # Declared missing: read as missing by default, kept as codes on request.
    assert sorted(data.helped_well.dropna()) == [8.0]
    plain, _ = pyreadstat.read_sav(str(path))
    assert plain.helped_well.isna().all() and sorted(plain.wellbeing.dropna()) == [6.0]
    assert str(data.loc[data.got_help == 1, "visit_date"].iloc[0]) == "2011-05-03"


def test_csv_comes_with_its_codebook_and_xlsx_with_two_sheets(filled, sample_instrument, tmp_path):
    data_file, codebook = export_responses(filled, sample_instrument, tmp_path / "sample.csv")
    back = pd.read_csv(data_file)
    assert list(back.columns) == [
        "respondent",
        "occasion",
        "cohort",
        "collected_at",
        "version",
        *sample_instrument.columns,
    ]
    assert sorted(back.got_help) == [1, 2]
    assert set(pd.read_csv(codebook)["item"]) == {item.id for item in sample_instrument.items}
    (workbook,) = export_responses(filled, sample_instrument, tmp_path / "sample.xlsx", cohort="pilot")
    sheets = pd.read_excel(workbook, sheet_name=None)
    assert set(sheets) == {"responses", "codebook"} and sheets["responses"].helped_well.tolist() == [8]
    assert list(filled.audit_log().action[-2:]) == ["export", "export"]


def test_an_export_is_read_back_by_the_import(filled, sample_instrument, tmp_path, key_file):
    from kantelmeter import Store
    from kantelmeter.io import import_responses

    (path,) = export_responses(filled, sample_instrument, tmp_path / "sample.sav")
    other = Store(f"sqlite:///{tmp_path / 'other.db'}", key_file=key_file)
    assert import_responses(other, sample_instrument, "intake", path).added == 2
    again = other.responses(sample_instrument).set_index("respondent").sort_index()
    original = filled.responses(sample_instrument).set_index("respondent").sort_index()
    pd.testing.assert_frame_equal(
        again[sample_instrument.columns], original[sample_instrument.columns], check_dtype=False
    )
    other.close()


def test_an_unknown_export_format_is_named(filled, sample_instrument, tmp_path):
    with pytest.raises(ValueError, match="allowed: .sav, .csv, .xlsx"):
        export_responses(filled, sample_instrument, tmp_path / "sample.pdf")


def test_an_unknown_cohort_is_refused_with_the_stored_cohorts(filled, sample_instrument, tmp_path):
    with pytest.raises(ValueError, match=r"cohort 'pilto': .*; allowed: pilot, regular$"):
        export_responses(filled, sample_instrument, tmp_path / "typo.csv", cohort="pilto")
    # a cohort exists per occasion: nobody in 'pilot' answered at follow_up yet
    with pytest.raises(ValueError, match=r"'sample' at 'follow_up'.*allowed: none"):
        export_responses(filled, sample_instrument, tmp_path / "later.csv", occasion="follow_up", cohort="pilot")
    assert not (tmp_path / "typo.csv").exists() and not (tmp_path / "later.csv").exists()
