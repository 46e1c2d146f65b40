"""Repeated sections in XLSForm, REDCap, SPSS and CSV: the form's repeat, and a repeat table joined back."""

from __future__ import annotations

import pandas as pd
import pytest

from kantelmeter import load_instrument
from kantelmeter.io import redcap_dictionary, xlsform
from kantelmeter.io.odk_repeats import RepeatImportError, join_repeats
from kantelmeter.io.redcap import check_redcap_dictionary
from kantelmeter.io.spss import spss_metadata

CITIZEN = load_instrument("citizen")


def test_the_xlsform_repeats_the_section_as_often_as_problems_were_raised_and_records_which():
    survey = xlsform(CITIZEN, "follow_up")["survey"].set_index("name")
    assert survey.loc["problem_follow_up", "type"].tolist() == ["begin_repeat", "end_repeat"]
    assert survey.loc["problem_follow_up", "repeat_count"].iloc[0] == "count-selected(${problems_raised})"
    assert survey.loc["problem_follow_up_element", "calculation"] == "selected-at(${problems_raised}, position(..) - 1)"
    assert (
        survey.loc["problem_follow_up_label", "label::Nederlands (nl)"]
        == "Uw vraag over: ${problem_follow_up_element_label}"
    )
    # inside the repeat an item is named as declared and its condition refers to its own repetition
    assert survey.loc["problem_rung", "relevant"] == "(${problem_result} = 1 or ${problem_result} = 2)"
    # the follow-up carries the intake's answer it repeats over
    assert survey.loc["problems_raised", "type"] == "select_multiple problem_type_options"


def test_a_redcap_dictionary_holds_one_field_per_repetition_and_the_answer_it_repeats_over():
    dd = redcap_dictionary(CITIZEN, occasion="follow_up").set_index("Variable / Field Name")
    assert check_redcap_dictionary(dd.reset_index()) == []
    assert dd.loc["problem_result__3", "Branching Logic (Show field only if...)"] == '[problems_raised(3)] = "1"'
    assert (
        dd.loc["interventions__1", "Section Header"]
        == "Uw vraag over: een praktisch probleem, bijvoorbeeld met vervoer, het huishouden of de woning"
    )
    assert "problems_raised" in dd.index


def test_a_repeat_table_that_does_not_fit_is_refused_with_the_table_row_and_value():
    main = pd.DataFrame({"KEY": ["uuid:a"], "respondent": ["a"]})
    element = "problem_follow_up-problem_follow_up_element"
    with pytest.raises(RepeatImportError, match=r"t.csv: row 2: PARENT_KEY 'uuid:b' is not a KEY of the main table"):
        join_repeats(main, {"t.csv": pd.DataFrame({element: [1], "PARENT_KEY": ["uuid:b"]})}, CITIZEN, "follow_up")
    with pytest.raises(
        RepeatImportError,
        match=r"row 2: problem_follow_up-problem_follow_up_element = 7; "
        r"allowed: 1, 2, 3, 4",
    ):
        join_repeats(main, {"t.csv": pd.DataFrame({element: [7], "PARENT_KEY": ["uuid:a"]})}, CITIZEN, "follow_up")
    with pytest.raises(RepeatImportError, match="row 3: a second row for option 2 of 'uuid:a'"):
        join_repeats(
            main, {"t.csv": pd.DataFrame({element: [2, 2], "PARENT_KEY": ["uuid:a"] * 2})}, CITIZEN, "follow_up"
        )
    with pytest.raises(RepeatImportError, match="none of its columns is a field of a repeat"):
        join_repeats(main, {"t.csv": pd.DataFrame({"x": [2], "PARENT_KEY": ["uuid:a"]})}, CITIZEN, "follow_up")


def test_spss_labels_each_repetition_column_with_its_element():
    meta = spss_metadata(CITIZEN, ["problem_result__2", "interventions__4_7", "age"], "en")
    labels = [meta["column_labels"][column] for column in ("problem_result__2", "interventions__4_7", "age")]
    assert labels[0] == (
        "Your question about: a problem with an organisation, for example the housing association "
        "or the tax office: Where does this problem stand now?"
    )
    assert labels[1].startswith("Your question about: a problem with other people: What kind of help")
    assert labels[1].endswith(": home help, transport, an aid or a change to my home")
    assert labels[2] == "How old are you?"
    assert meta["variable_value_labels"]["problem_result__2"][6] == "not solved"


def test_a_longitudinal_redcap_project_refers_to_the_problems_raised_at_the_intake_event():
    dd = redcap_dictionary(CITIZEN)
    assert check_redcap_dictionary(dd) == []
    logic = dd.set_index("Variable / Field Name")["Branching Logic (Show field only if...)"]
    assert logic["problem_result__2"] == '[intake_arm_1][problems_raised(2)] = "1"'
    assert logic["urgency__2"] == '[problems_raised(2)] = "1"'  # asked in the same event
