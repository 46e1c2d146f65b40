"""Collection forms for other tools: XLSForm (ODK, KoboToolbox) with a round trip, and REDCap."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from pyxform.xls2xform import xls2xform_convert

from kantelmeter import list_instruments, load_instrument
from kantelmeter.cli import main
from kantelmeter.io import ImportRejected, import_responses, redcap_dictionary, write_xlsform, xlsform
from kantelmeter.io.redcap import (
    FIELD_NAME_LIMIT,
    REDCAP_COLUMNS,
    check_redcap_dictionary,
    check_redcap_repeating,
    element_field,
    missing_data_codes,
    redcap_designations,
    redcap_events,
    redcap_fields,
    redcap_name,
    redcap_repeating,
    write_redcap_dictionary,
)
from kantelmeter.io.xlsform import bsn_constraint
from kantelmeter.privacy import BSNError, validate_bsn

CASES = [
    (instrument_id, occasion)
    for instrument_id in list_instruments()
    for occasion in load_instrument(instrument_id).occasions
]


@pytest.mark.parametrize("instrument_id, occasion", CASES)
def test_pyxform_converts_the_xlsform_of_every_instrument_and_occasion(instrument_id, occasion, tmp_path):
    (path,) = write_xlsform(load_instrument(instrument_id), tmp_path / f"{instrument_id}.xlsx", occasion)
    warnings = xls2xform_convert(path, tmp_path / f"{instrument_id}.xml", validate=False)
    assert warnings == []
    assert (tmp_path / f"{instrument_id}.xml").read_text().count("<bind ") > 3


@pytest.fixture
def java():
    """Java for ODK Validate, which pyxform ships as a jar; under CI a missing Java fails the test."""
    if shutil.which("java") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Java is required under CI for ODK Validate (Debian: default-jre-headless)")
        pytest.skip("no Java for ODK Validate")


@pytest.mark.parametrize("instrument_id", list_instruments())
def test_odk_validate_accepts_the_xlsform_of_every_instrument(instrument_id, java, tmp_path):
    (path,) = write_xlsform(load_instrument(instrument_id), tmp_path / f"{instrument_id}.xlsx")
    # validate=True runs ODK Validate (JavaRosa, the engine of ODK Collect); a refusal raises ODKValidateError
    assert xls2xform_convert(path, tmp_path / f"{instrument_id}.xml", validate=True) == []


def test_score_items_carry_their_end_labels_and_missing_codes_as_hints():
    survey = xlsform(load_instrument("professional"))["survey"].set_index("name")
    assert survey.loc["role_service_vs_helper", "hint::Nederlands (nl)"].endswith(
        "1 = dienstverlener ... 7 = hulpverlener"
    )
    assert survey.loc["role_service_vs_helper", "hint::English (en)"].endswith("1 = service provider ... 7 = helper")
    citizen = load_instrument("citizen")
    scores = [item for item in citizen.items if item.type == "score" and item.anchors]
    survey = xlsform(citizen)["survey"].set_index("name")
    assert scores and all(
        "0 = heel slecht ... 10 = uitstekend" in survey.loc[item.id, "hint::Nederlands (nl)"] for item in scores
    )
    assert all(survey.loc[item.id, "hint::Nederlands (nl)"].startswith(item.help.nl) for item in scores if item.help)
    hint = survey.loc[scores[0].id, "hint::Nederlands (nl)"]
    assert ("8 = weet niet" in hint) == (8 in citizen.missing_codes(scores[0]))


def test_section_intros_are_notes_and_whole_numbers_integers():
    citizen = load_instrument("citizen")
    survey = xlsform(citizen)["survey"]
    notes = survey[(survey.type == "note") & ~survey.name.isin([f"{r.template.id}_label" for r in citizen.repetitions])]
    with_intro = [section for section in citizen.sections if section.intro]
    assert notes.name.tolist() == [f"{section.id}_intro" for section in with_intro]
    assert notes["label::Nederlands (nl)"].tolist() == [section.intro.nl for section in with_intro]
    by_name = survey.set_index("name")
    assert by_name.loc[["age", "household_size"], "type"].tolist() == ["integer", "integer"]
    assert by_name.loc["work_hours", "type"] == "decimal"


def _xpath_as_python(expression: str):
    """The constraint, which uses only regex(), substr(), number(), mod, =, != and and, as a Python function."""
    python = re.sub(r"regex\(\., '([^']*)'\)", r"(re.search(r'\1', v) is not None)", expression)
    python = re.sub(r"number\(substr\(\., (\d), (\d)\)\)", r"int(v[\1:\2])", python)
    python = python.replace(". != ", "v != ").replace(" mod ", " % ").replace(" = 0", " == 0")
    return lambda v: eval(python, {"re": re, "v": v})  # our own expression, to check its arithmetic


def test_the_bsn_constraint_is_the_eleven_test():
    accepts = _xpath_as_python(bsn_constraint())
    rng = np.random.default_rng(3)
    numbers = ["111222333", "123456782", "000000000", "12345678", "1112223334", "11122233a", "111 222 333"] + [
        f"{n:09d}" for n in rng.integers(0, 10**9, 3000)
    ]
    for number in numbers:
        try:
            valid = len(number) == 9 and validate_bsn(number) == number
        except BSNError:
            valid = False
        assert accepts(number) == valid, number
    assert sum(map(accepts, numbers)) > 200  # about one in eleven passes
    survey = xlsform(load_instrument("intake_record"))["survey"].set_index("name")
    assert survey.loc["bsn", "constraint"] == bsn_constraint()
    assert "burgerservicenummer" in survey.loc["bsn", "constraint_message::Nederlands (nl)"]


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
    assert sheets["settings"].iloc[0].to_dict() == {
        "form_title": "Proefvragenlijst",
        "form_id": "sample",
        "version": "1.0",
        "default_language": "Nederlands (nl)",
    }
    follow_up = xlsform(sample_instrument, "follow_up")["survey"]
    assert "visit_date" not in set(follow_up.name) and "got_help" in set(follow_up.name)


ODK_EXPORT = pd.DataFrame(
    {
        "start": ["2011-05-03T10:00:00.000+02:00", "2011-05-04T09:00:00.000+02:00"],
        "end": ["2011-05-03T10:12:00.000+02:00", "2011-05-04T09:05:00.000+02:00"],
        "respondent": ["r-1", "r-2"],
        "person/bsn": ["", ""],
        "person/full_name": ["", ""],
        "person/age": ["67", "45"],
        "person/visit_date": ["2011-05-03", ""],
        "help/got_help": ["1", "2"],
        "help/help_kind": ["1 3", ""],
        "help/helped_well": ["5", ""],
        "help/wellbeing": ["6", "9"],
        "help/remarks": ["goed geholpen", ""],
        "meta/instanceID": ["uuid:1", "uuid:2"],
        "_id": [1, 2],
        "_uuid": ["a", "b"],
        "_submission_time": ["2011-05-03T08:13:00", "2011-05-04T07:06:00"],
        "__version__": ["v1", "v1"],
    }
)


def test_an_odk_export_of_the_form_comes_back_in(store, sample_instrument, tmp_path):
    path = tmp_path / "kobo.csv"
    ODK_EXPORT.to_csv(path, index=False)
    assert import_responses(store, sample_instrument, "intake", path, odk=True, cohort="pilot").added == 2
    wide = store.responses(sample_instrument).set_index("respondent")
    assert wide.loc["r-1", ["help_kind_1", "help_kind_2", "help_kind_3", "helped_well", "age"]].tolist() == [
        1.0,
        0.0,
        1.0,
        5.0,
        67.0,
    ]
    assert wide.loc["r-2", ["got_help", "wellbeing"]].tolist() == [2.0, 9.0]
    assert pd.isna(wide.loc["r-2", "help_kind_1"])
    assert wide.loc["r-1", "collected_at"] == pd.Timestamp("2011-05-03T08:12:00", tz="UTC")


def test_odk_central_names_and_split_choices_are_understood(store, sample_instrument, tmp_path):
    central = ODK_EXPORT.drop(columns=["help/help_kind", "_id", "_uuid", "_submission_time", "__version__"])
    central = central.rename(columns=lambda c: c.replace("/", "-")).assign(
        **{
            "help-help_kind-1": ["1", ""],
            "help-help_kind-2": ["0", ""],
            "help-help_kind-3": ["1", ""],
            "KEY": ["uuid:1", "uuid:2"],
            "SubmissionDate": ["2011-05-03", "2011-05-04"],
        }
    )
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
    path, *beside = write_redcap_dictionary(sample_instrument, tmp_path / "sample_dd.csv", lang="en")
    dd = pd.read_csv(path, keep_default_na=False).set_index("Variable / Field Name")
    assert list(pd.read_csv(path, nrows=0).columns) == REDCAP_COLUMNS and len(REDCAP_COLUMNS) == 18
    assert dd.index[0] == "record_id" and set(dd["Form Name"]) == {"sample", "sample_intake"}
    assert [p.name for p in beside] == ["sample_dd_fields.csv", "sample_dd_events.csv", "sample_dd_designations.csv"]
    assert dd.loc["bsn", "Identifier?"] == dd.loc["full_name", "Identifier?"] == "y"
    assert dd.loc["age", "Identifier?"] == ""
    assert (
        dd.loc["helped_well", "Branching Logic (Show field only if...)"]
        == sample_instrument.condition("helped_well").to_redcap()
    )
    assert dd.loc["helped_well", "Branching Logic (Show field only if...)"].startswith("[got_help] =")
    assert dd.loc["help_kind", "Field Type"] == "checkbox"
    assert (
        dd.loc["help_kind", "Choices, Calculations, OR Slider Labels"]
        == "1, information | 2, practical help | 3, conversation"
    )
    assert dd.loc["got_help", "Required Field?"] == "y" and dd.loc["got_help", "Section Header"] == "The help"
    assert (
        dd.loc["age", "Text Validation Type OR Show Slider Number"],
        dd.loc["age", "Text Validation Min"],
        dd.loc["age", "Text Validation Max"],
    ) == ("number", "18", "110")
    assert dd.loc["visit_date", "Text Validation Type OR Show Slider Number"] == "date_ymd"
    # missing codes are the project's missing-data codes, not answer choices
    assert dd.loc["helped_well", "Choices, Calculations, OR Slider Labels"].endswith("5, strongly agree")
    assert missing_data_codes(sample_instrument, "en") == "8, don't know | 9, not applicable"
    assert (
        dd.loc["wellbeing", "Text Validation Max"] == "7"
        and dd.loc["wellbeing", "Field Note"] == "1 = bad ... 7 = excellent"
    )
    assert dd.loc["got_help", "Field Annotation"] == "@NOMISSING" and dd.loc["helped_well", "Field Annotation"] == ""


@pytest.mark.parametrize("instrument_id, occasion", CASES + [(i, None) for i in list_instruments()])
def test_every_redcap_dictionary_keeps_redcaps_rules(instrument_id, occasion):
    instrument = load_instrument(instrument_id)
    dd = redcap_dictionary(instrument, occasion=occasion)
    assert check_redcap_dictionary(dd) == []
    assert dd["Variable / Field Name"].str.len().max() <= FIELD_NAME_LIMIT
    repeating = redcap_repeating(instrument, occasion)
    assert check_redcap_repeating(repeating, dd, None if occasion else redcap_events(instrument)) == []
    elements = {element_field(r.template) for r in instrument.repetitions}
    if occasion is not None:  # one form of this occasion's items, and its repeating forms: a survey can be submitted
        assert set(dd["Form Name"]) == {f"{instrument_id}_{occasion}", *repeating.form_name}
        asked = instrument.carried(occasion) + instrument.items_at(occasion)
        declared = {found[1] if (found := instrument.repetition_of(item.id)) else item.id for item in asked}
        assert set(dd["Variable / Field Name"][1:]) - elements == {redcap_name(item_id) for item_id in declared}
    else:  # each item's form is designated to exactly the events of the occasions it is asked at
        designated = redcap_designations(instrument).groupby("form").unique_event_name.apply(set)
        fields = redcap_fields(instrument)
        for item in instrument.items:
            found = instrument.repetition_of(item.id)
            form = fields.set_index("item").loc[found[1] if found else item.id, "form"]
            assert designated[form] == {f"{o}_arm_1" for o in instrument.occasions if item in instrument.items_at(o)}


def test_long_item_ids_get_short_stable_unique_recorded_redcap_names():
    wheel = load_instrument("participation_wheel")
    long = [item.id for item in wheel.items if len(item.id) > FIELD_NAME_LIMIT]
    assert len(long) == 8
    names = [redcap_name(item_id) for item_id in long]
    assert all(len(name) <= FIELD_NAME_LIMIT for name in names) and len(set(names)) == len(names)
    assert names == [redcap_name(item_id) for item_id in long]
    assert (
        redcap_name("maatschappelijk_deelnemen_attribution")
        == "maatschappelijk_deeln_"
        + __import__("hashlib").sha1(b"maatschappelijk_deelnemen_attribution").hexdigest()[:4]
    )
    dd = redcap_dictionary(wheel).set_index("Variable / Field Name")
    assert all(f"kantelmeter item: {item_id}" in dd.loc[name, "Field Annotation"] for item_id, name in zip(long, names))
    fields = redcap_fields(wheel).set_index("item")
    assert fields.loc[long, "redcap_field"].tolist() == names


BREAKAGES = {
    "a name with a capital": ({"Variable / Field Name": "Soc1"}, "must be lower-case letters"),
    "a name of 27 characters": ({"Variable / Field Name": "a" * 27}, "has 27 characters; at most 26"),
    "a reserved name": ({"Variable / Field Name": "redcap_event_name"}, "is reserved by REDCap"),
    "an unknown field type": ({"Field Type": "likert"}, "field type 'likert'"),
    "choices without codes": (
        {"Choices, Calculations, OR Slider Labels": "helemaal oneens | oneens"},
        "REDCap wants 'code, label | code, label'",
    ),
    "a code twice": ({"Choices, Calculations, OR Slider Labels": "1, ja | 1, nee"}, "choice codes ['1'] appear twice"),
    "an unknown validation": (
        {
            "Field Type": "text",
            "Choices, Calculations, OR Slider Labels": "",
            "Text Validation Type OR Show Slider Number": "whole",
        },
        "validation type 'whole'",
    ),
    "a required flag of 'yes'": ({"Required Field?": "yes"}, "allowed: y or blank"),
    "logic on an unknown field": ({"Branching Logic (Show field only if...)": '[soc99] = "1"'}, "not a field"),
    "logic with a Python operator": ({"Branching Logic (Show field only if...)": '[soc2] == "1"'}, "cannot be read"),
    "unbalanced logic": ({"Branching Logic (Show field only if...)": '([soc2] = "1"'}, "unbalanced brackets"),
}


@pytest.mark.parametrize("change, problem", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_the_redcap_check_finds_each_broken_rule(change, problem):
    dd = redcap_dictionary(load_instrument("soc13"))
    for column, value in change.items():
        dd.loc[3, column] = value
    found = check_redcap_dictionary(dd)
    assert any(problem in line for line in found), found
    assert check_redcap_dictionary(redcap_dictionary(load_instrument("soc13"))) == []


def test_the_redcap_command_writes_one_form_per_occasion_and_the_import_reads_an_export(tmp_path):
    out = tmp_path / "citizen.csv"
    done = CliRunner().invoke(main, ["redcap", "citizen", "--occasion", "follow_up", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert f"Missing Data Codes to: {missing_data_codes(load_instrument('citizen'))}" in done.output
    assert "8, weet niet | 9, niet van toepassing / zeg ik liever niet" in done.output  # one code, both meanings
    assert set(pd.read_csv(out)["Form Name"]) == {"citizen_follow_up", "citizen_problem_follow_up"}
    repeating = pd.read_csv(tmp_path / "citizen_repeating.csv")
    assert repeating.to_dict("records") == [
        {"form_name": "citizen_problem_follow_up", "custom_form_label": "[problem_follow_up_element]"}
    ]
    export = tmp_path / "export.csv"
    pd.DataFrame(
        {
            "record_id": ["r-1", "r-2", "r-1"],
            "redcap_event_name": ["intake_arm_1", "intake_arm_1", "follow_up_arm_1"],
            "soc1": ["3", "12", "4"],
            "soc13_complete": ["2", "2", "2"],
        }
    ).to_csv(export, index=False)
    db = ["--db", f"sqlite:///{tmp_path / 'k.db'}", "--key-file", str(tmp_path / "k.key")]
    refused = CliRunner().invoke(
        main, ["import", str(export), "--instrument", "soc13", "--occasion", "intake", "--redcap", *db]
    )
    assert refused.exit_code == 1 and "row 3, column soc1 (value '12'): not a code" in refused.output
    done = CliRunner().invoke(
        main, ["import", str(export), "--instrument", "soc13", "--occasion", "follow_up", "--redcap", *db]
    )
    assert done.exit_code == 0, done.output
    assert "1 responses added" in done.output and "2 of intake_arm_1" in done.output


def test_redcap_branching_on_a_multiple_choice_option():
    citizen = load_instrument("citizen")
    dd = redcap_dictionary(citizen).set_index("Variable / Field Name")
    conditional = [
        item
        for item in citizen.items
        if item.show_if
        and " in " in item.show_if
        and any(citizen.item(ref).type == "multiple_choice" for ref in citizen.condition(item).items)
    ]
    assert conditional
    item = conditional[0]
    assert dd.loc[item.id, "Branching Logic (Show field only if...)"] == citizen.condition(item).to_redcap()
    assert dd.loc[item.id, "Branching Logic (Show field only if...)"].endswith(')] = "1"')
