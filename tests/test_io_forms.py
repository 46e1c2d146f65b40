"""Collection forms for other tools: XLSForm (ODK, KoboToolbox) with a round trip, and REDCap."""

from __future__ import annotations

import pandas as pd
import pytest
from pyxform.xls2xform import xls2xform_convert

from kantelmeter import list_instruments, load_instrument
from kantelmeter.io import ImportRejected, import_responses, redcap_dictionary, write_xlsform, xlsform
from kantelmeter.io.redcap import REDCAP_COLUMNS, write_redcap_dictionary


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_pyxform_converts_the_xlsform_of_every_shipped_instrument(instrument_id, tmp_path):
    path, = write_xlsform(load_instrument(instrument_id), tmp_path / f"{instrument_id}.xlsx")
    warnings = xls2xform_convert(path, tmp_path / f"{instrument_id}.xml", validate=False)
    assert warnings == []
    assert (tmp_path / f"{instrument_id}.xml").read_text().count("<bind ") > 3


def test_the_xlsform_carries_types_conditions_and_languages(sample_instrument):
    sheets = xlsform(sample_instrument)
    survey = sheets["survey"].set_index("name")
    assert survey.loc["help_kind", "type"] == "select_multiple help_kinds_options"
    assert survey.loc["helped_well", "relevant"] == "${got_help} = 1"
    assert survey.loc["wellbeing", "constraint"] == "(. >= 1 and . <= 7) or . = 8 or . = 9"
    assert survey.loc["age", "constraint"] == ". >= 18 and . <= 110"
    assert survey.loc["got_help", "required"] == "yes"
    assert survey.loc["got_help", "label::English (en)"] == "Did you get help?"
    choices = sheets["choices"]
    assert choices[choices.list_name == "agree5"].name.tolist() == ["1", "2", "3", "4", "5", "8", "9"]
    assert choices[choices.list_name == "help_kinds_options"].name.tolist() == ["1", "2", "3"]
    assert sheets["settings"].iloc[0].to_dict() == {"form_title": "Proefvragenlijst", "form_id": "sample",
                                                    "version": "1.0", "default_language": "Nederlands (nl)"}
    follow_up = xlsform(sample_instrument, "follow_up")["survey"]
    assert "visit_date" not in set(follow_up.name) and "got_help" in set(follow_up.name)


ODK_EXPORT = pd.DataFrame({
    "start": ["2011-05-03T10:00:00.000+02:00", "2011-05-04T09:00:00.000+02:00"],
    "end": ["2011-05-03T10:12:00.000+02:00", "2011-05-04T09:05:00.000+02:00"],
    "respondent": ["r-1", "r-2"],
    "person/bsn": ["", ""], "person/full_name": ["", ""],
    "person/age": ["67", "45"], "person/visit_date": ["2011-05-03", ""],
    "help/got_help": ["1", "2"], "help/help_kind": ["1 3", ""], "help/helped_well": ["5", ""],
    "help/wellbeing": ["6", "9"], "help/remarks": ["goed geholpen", ""],
    "meta/instanceID": ["uuid:1", "uuid:2"], "_id": [1, 2], "_uuid": ["a", "b"],
    "_submission_time": ["2011-05-03T08:13:00", "2011-05-04T07:06:00"], "__version__": ["v1", "v1"],
})


def test_an_odk_export_of_the_form_comes_back_in(store, sample_instrument, tmp_path):
    path = tmp_path / "kobo.csv"
    ODK_EXPORT.to_csv(path, index=False)
    assert import_responses(store, sample_instrument, "intake", path, odk=True, cohort="pilot").added == 2
    wide = store.responses(sample_instrument).set_index("respondent")
    assert wide.loc["r-1", ["help_kind_1", "help_kind_2", "help_kind_3", "helped_well", "age"]].tolist() == \
        [1.0, 0.0, 1.0, 5.0, 67.0]
    assert wide.loc["r-2", ["got_help", "wellbeing"]].tolist() == [2.0, 9.0]
    assert pd.isna(wide.loc["r-2", "help_kind_1"])
    assert wide.loc["r-1", "collected_at"] == pd.Timestamp("2011-05-03T08:12:00", tz="UTC")


def test_odk_central_names_and_split_choices_are_understood(store, sample_instrument, tmp_path):
    central = ODK_EXPORT.drop(columns=["help/help_kind", "_id", "_uuid", "_submission_time", "__version__"])
    central = central.rename(columns=lambda c: c.replace("/", "-")).assign(**{
        "help-help_kind-1": ["1", ""], "help-help_kind-2": ["0", ""], "help-help_kind-3": ["1", ""],
        "KEY": ["uuid:1", "uuid:2"], "SubmissionDate": ["2011-05-03", "2011-05-04"]})
    path = tmp_path / "central.csv"
    central.to_csv(path, index=False)
    import_responses(store, sample_instrument, "intake", path, odk=True)
    assert store.responses(sample_instrument).help_kind_3.tolist()[0] == 1.0


def test_an_odk_export_with_a_foreign_column_is_rejected_whole(store, sample_instrument, tmp_path):
    path = tmp_path / "kobo.csv"
    ODK_EXPORT.assign(**{"help/mood": ["1", "2"]}).to_csv(path, index=False)
    with pytest.raises(ImportRejected, match="column mood: not a column"):
        import_responses(store, sample_instrument, "intake", path, odk=True)
    assert store.completion().empty


def test_the_redcap_dictionary_has_the_standard_columns_branching_and_identifiers(sample_instrument, tmp_path):
    path, = write_redcap_dictionary(sample_instrument, tmp_path / "sample_dd.csv", lang="en")
    dd = pd.read_csv(path, keep_default_na=False).set_index("Variable / Field Name")
    assert list(pd.read_csv(path, nrows=0).columns) == REDCAP_COLUMNS and len(REDCAP_COLUMNS) == 18
    assert dd.index[0] == "record_id" and set(dd["Form Name"]) == {"sample"}
    assert dd.loc["bsn", "Identifier?"] == dd.loc["full_name", "Identifier?"] == "y"
    assert dd.loc["age", "Identifier?"] == ""
    assert dd.loc["helped_well", "Branching Logic (Show field only if...)"] == \
        sample_instrument.condition("helped_well").to_redcap()
    assert dd.loc["helped_well", "Branching Logic (Show field only if...)"].startswith("[got_help] =")
    assert dd.loc["help_kind", "Field Type"] == "checkbox"
    assert dd.loc["help_kind", "Choices, Calculations, OR Slider Labels"] == \
        "1, information | 2, practical help | 3, conversation"
    assert dd.loc["got_help", "Required Field?"] == "y" and dd.loc["got_help", "Section Header"] == "The help"
    assert (dd.loc["age", "Text Validation Type OR Show Slider Number"], dd.loc["age", "Text Validation Min"],
            dd.loc["age", "Text Validation Max"]) == ("number", "18", "110")
    assert dd.loc["visit_date", "Text Validation Type OR Show Slider Number"] == "date_ymd"


def test_redcap_branching_on_a_multiple_choice_option():
    citizen = load_instrument("citizen")
    dd = redcap_dictionary(citizen).set_index("Variable / Field Name")
    conditional = [item for item in citizen.items if item.show_if and " in " in item.show_if
                   and any(citizen.item(ref).type == "multiple_choice" for ref in citizen.condition(item).items)]
    assert conditional
    item = conditional[0]
    assert dd.loc[item.id, "Branching Logic (Show field only if...)"] == citizen.condition(item).to_redcap()
    assert dd.loc[item.id, "Branching Logic (Show field only if...)"].endswith(')] = "1"')
