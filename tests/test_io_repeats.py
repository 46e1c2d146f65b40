"""Repeated sections in XLSForm, REDCap, SPSS and CSV: the form's repeat, and a repeat table joined back."""

from __future__ import annotations

import pandas as pd
import pytest
from test_io_exchange import expected, redcap_export, stored, synthetic_answers

from kantelmeter import Store, load_instrument
from kantelmeter.errors import ExchangeError
from kantelmeter.io import redcap_dictionary, write_redcap_dictionary, xlsform
from kantelmeter.io.odk_repeats import RepeatImportError, join_repeats
from kantelmeter.io.redcap import (
    check_redcap_dictionary,
    check_redcap_repeating,
    redcap_events,
    redcap_name,
    redcap_repeating,
)
from kantelmeter.io.redcap_import import import_redcap, join_instances
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


def test_a_redcap_dictionary_puts_a_repeated_section_in_a_repeating_form_headed_by_its_element():
    dd = redcap_dictionary(CITIZEN, occasion="follow_up")
    repeating = redcap_repeating(CITIZEN, "follow_up")
    assert check_redcap_dictionary(dd) == [] and check_redcap_repeating(repeating, dd) == []
    form = dd[dd["Form Name"] == "citizen_problem_follow_up"].set_index("Variable / Field Name")
    declared = next(s for s in CITIZEN.sections if s.id == "problem_follow_up").items
    assert form.index.tolist() == ["problem_follow_up_element", *(redcap_name(item.id) for item in declared)]
    assert form.loc["problem_follow_up_element", "Choices, Calculations, OR Slider Labels"].startswith(
        "1, een praktisch probleem"
    )
    # inside the instance an item refers to its own instance's fields, under their declared names
    assert form.loc["problem_rung", "Branching Logic (Show field only if...)"] == (
        '([problem_result] = "1" or [problem_result] = "2")'
    )
    assert not dd["Variable / Field Name"].str.contains("__").any()
    assert repeating.to_dict("records") == [
        {"form_name": "citizen_problem_follow_up", "custom_form_label": "[problem_follow_up_element]"}
    ]
    assert "problems_raised" in set(dd["Variable / Field Name"])  # the follow-up carries what it repeats over


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"custom_form_label": "[age]"}, "row 2: custom_form_label '[age]' pipes 'age', not a field of form"),
        ({"form_name": "citizen_follow_up"}, "row 2: form_name 'citizen_follow_up' holds the record id"),
        ({"form_name": "elsewhere"}, "row 2: form_name 'elsewhere' is not a form of the dictionary"),
    ],
)
def test_the_repeating_check_finds_each_broken_rule(change, problem):
    dd = redcap_dictionary(CITIZEN, occasion="follow_up")
    bad = redcap_repeating(CITIZEN, "follow_up").assign(**change)
    assert any(found.startswith(problem) for found in check_redcap_repeating(bad, dd))
    events = redcap_events(CITIZEN)
    assert check_redcap_repeating(redcap_repeating(CITIZEN, "follow_up"), dd, events)[0].startswith("columns")
    twice = pd.concat([redcap_repeating(CITIZEN)] * 2)
    assert "form 'citizen_problem_urgency' repeats 2 times in one event" in check_redcap_repeating(
        twice, redcap_dictionary(CITIZEN), events
    )


def test_a_redcap_export_with_repeating_instances_comes_back_as_the_wide_frame(tmp_path):
    written = write_redcap_dictionary(CITIZEN, tmp_path / "citizen.csv", occasion="follow_up")
    dd = pd.read_csv(written[0], dtype=str, keep_default_na=False)
    repeating = pd.read_csv(tmp_path / "citizen_repeating.csv", dtype=str)
    assert check_redcap_repeating(repeating, dd) == []
    people = synthetic_answers(CITIZEN, "follow_up", n=6, seed=5)
    export = redcap_export(CITIZEN, ["follow_up"], {"follow_up": people}, longitudinal=False)
    # REDCap's layout: every column a field, checkbox option or form status of the written dictionary
    fields = set(dd["Variable / Field Name"]) | {f"{f}_{s}" for f in dd["Form Name"] for s in ("complete", "timestamp")}
    keys = {"record_id", "redcap_repeat_instrument", "redcap_repeat_instance"}
    assert {column.partition("___")[0] for column in export.columns} - keys <= fields
    instances = export[export["redcap_repeat_instrument"] != ""]
    assert set(instances["redcap_repeat_instrument"]) == set(repeating["form_name"])
    assert instances.groupby("record_id")["redcap_repeat_instance"].apply(list).map(len).gt(1).any()
    export.to_csv(tmp_path / "export.csv", index=False)
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    assert import_redcap(store, CITIZEN, "follow_up", tmp_path / "export.csv").result.added == len(people)
    answers = stored(store, CITIZEN, "follow_up")
    original = expected(store, CITIZEN, "follow_up", people)
    pd.testing.assert_frame_equal(answers, original, check_dtype=False)
    answered = set(answers.index[answers["problem_result__3"].notna()])
    assert answered and answered <= {p["respondent"] for p in people if 3 in p["answers"]["problems_raised"]}
    store.close()


def _instance(**cells):
    main = {"record_id": "r-1", "redcap_repeat_instrument": "", "redcap_repeat_instance": ""}
    main |= {f"problems_raised___{code}": "1" if code in (1, 3) else "0" for code in (1, 2, 3, 4)}
    instance = {"record_id": "r-1", "redcap_repeat_instrument": "citizen_problem_follow_up"}
    return pd.DataFrame(
        [main, *({**instance, "redcap_repeat_instance": str(n), **c} for n, c in enumerate(cells.values(), 1))]
    )


@pytest.mark.parametrize(
    "instances, problem",
    [
        (
            {"a": {"problem_result": "6"}},
            "export.csv: row 3: an instance without problem_follow_up_element; allowed: 1, 2, 3, 4",
        ),
        (
            {"a": {"problem_follow_up_element": "7"}},
            "row 3: problem_follow_up_element = '7' is no option of problems_raised",
        ),
        (
            {"a": {"problem_follow_up_element": "2"}},
            "row 3: problem_follow_up_element = '2', but record 'r-1' did not choose 2 in problems_raised",
        ),
        (
            {"a": {"problem_follow_up_element": "3"}, "b": {"problem_follow_up_element": "3"}},
            "row 4: a second instance of 'citizen_problem_follow_up' for problem_follow_up_element = 3 "
            "of record 'r-1' (the first is row 3)",
        ),
        (
            {"a": {"redcap_repeat_instrument": "other"}},
            "row 3: redcap_repeat_instrument = 'other' is not a repeating form",
        ),
    ],
)
def test_a_redcap_instance_that_does_not_fit_is_refused_with_row_field_and_value(instances, problem):
    with pytest.raises(ExchangeError) as refused:
        join_instances(_instance(**instances), CITIZEN, "export.csv")
    assert problem in str(refused.value)


def test_instances_join_by_their_element_not_their_instance_number():
    frame = _instance(
        a={"problem_follow_up_element": "3", "problem_result": "6"},
        b={"problem_follow_up_element": "1", "problem_result": "2"},
    )
    main, positions = join_instances(frame, CITIZEN)
    assert positions == [0] and len(main) == 1
    assert main.iloc[0][["problem_result__1", "problem_result__3"]].tolist() == ["2", "6"]


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


def test_a_longitudinal_redcap_project_repeats_each_form_at_the_event_that_asks_it():
    dd = redcap_dictionary(CITIZEN)
    repeating = redcap_repeating(CITIZEN)
    assert check_redcap_dictionary(dd) == [] and check_redcap_repeating(repeating, dd, redcap_events(CITIZEN)) == []
    assert repeating[["event_name", "form_name"]].values.tolist() == [
        ["intake_arm_1", "citizen_problem_urgency"],
        ["follow_up_arm_1", "citizen_problem_follow_up"],
    ]
