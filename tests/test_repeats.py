"""Repeated sections: the model, its checks, its columns and the long per-problem table."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from kantelmeter import load_instrument
from kantelmeter.answers import domains
from kantelmeter.instruments import InstrumentError, parse_instrument
from kantelmeter.repeats import RepeatError, repeated
from kantelmeter.web import forms

HEAD = """\
id: demo
version: "1"
title: {nl: d, en: d}
description: {nl: d, en: d}
source: {citation: d}
licence: {name: d}
occasions: [intake, follow_up]
response_scales:
  topic:
    codes:
      - {code: 1, label: {nl: huishouden, en: housework}}
      - {code: 2, label: {nl: geld, en: money}}
      - {code: 5, label: {nl: eenzaamheid, en: loneliness}}
  yes_no:
    codes:
      - {code: 1, label: {nl: ja, en: "yes"}}
      - {code: 2, label: {nl: nee, en: "no"}}
sections:
  - id: start
    title: {nl: s, en: s}
    items:
      - {id: topics, type: multiple_choice, response_scale: topic, text: {nl: t, en: t}}
      - {id: age, type: number, text: {nl: a, en: a}}
"""

REPEAT = """\
  - id: per_topic
    title: {nl: p, en: p}
    repeat:
      for_each: topics
      label: {nl: "Uw vraag over: {element}", en: "Your question about: {element}"}
    items:
      - {id: helped, type: single_choice, response_scale: yes_no, text: {nl: h, en: h}}
      - {id: how, type: text, show_if: "helped == 1", text: {nl: w, en: w}}
"""


def demo(extra: str = "", repeat: str = REPEAT) -> str:
    return HEAD + repeat + extra


def problems_of(text: str) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, "demo.yaml")
    return [f"{p.path}: {p.problem}" for p in caught.value.problems]


def test_a_section_repeats_once_per_option_labelled_with_it_and_its_conditions_follow_the_repetition():
    form = parse_instrument(demo())
    assert [s.id for s in form.asked_sections] == ["start", "per_topic__1", "per_topic__2", "per_topic__3"]
    assert form.asked_sections[3].title.nl == "Uw vraag over: eenzaamheid"
    assert form.columns[-6:] == ["helped__1", "how__1", "helped__2", "how__2", "helped__3", "how__3"]
    assert form.item("how__3").show_if == "5 in topics and (helped__3 == 1)"
    # the answer domain of the declared item holds for each repetition's column
    assert domains(form)["helped__2"].codes == (1, 2)
    assert form.codebook("en").set_index("item").loc["helped__3", "repetition"] == "Your question about: loneliness"


def test_the_form_asks_only_the_repetitions_of_the_options_chosen():
    form = parse_instrument(demo())
    answers = {"topics_1": 0, "topics_2": 1, "topics_5": 1}
    shown = [p.id for p in forms.pages(form, "intake") if forms.visible_items(form, p, answers)]
    assert shown == ["start", "per_topic__2", "per_topic__3"]
    # an answer to a repetition whose option is later unticked is cleared
    settled = forms.settle(form, answers | {"helped__2": 1, "how__2": "x", "topics_2": 0})
    assert settled["helped__2"] is None and settled["how__2"] is None


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [
        (
            REPEAT.replace("for_each: topics", "for_each: topic"),
            "sections[1].repeat.for_each: unknown item; a section repeats per option of an earlier multiple-choice item",
        ),
        (
            REPEAT.replace("for_each: topics", "for_each: age"),
            "sections[1].repeat.for_each: 'age' is a number item; allowed: a multiple_choice item",
        ),
        (
            REPEAT.replace("for_each: topics", "for_each: helped"),
            "sections[1].repeat.for_each: 'helped' is in the repeated section 'per_topic'; repeats cannot be nested",
        ),
        (
            REPEAT.replace('"Uw vraag over: {element}"', '"Uw vraag"'),
            "sections[1].repeat.label.nl: the label must hold {element}, which becomes the option's label",
        ),
    ],
)
def test_a_bad_repeat_is_named_with_what_is_allowed(repeat, expected):
    assert expected in problems_of(demo(repeat=repeat))


def test_a_repeat_over_a_later_item_and_references_into_a_repetition_are_refused():
    later = (
        HEAD.replace("      - {id: topics, type: multiple_choice, response_scale: topic, text: {nl: t, en: t}}\n", "")
        + REPEAT
        + "  - id: end\n    title: {nl: e, en: e}\n    items:\n"
        "      - {id: topics, type: multiple_choice, response_scale: topic, text: {nl: t, en: t}}\n"
    )
    assert "sections[1].repeat.for_each: 'topics' is not asked before section 'per_topic'" in problems_of(later)
    after = """\
      - id: end
        title: {nl: e, en: e}
        items:
          - {id: later, type: text, show_if: "helped == 1", text: {nl: l, en: l}}
    scales:
      - {id: s, label: {nl: s, en: s}, items: [helped]}
    """
    found = problems_of(demo(textwrap.dedent(after)))
    assert any(
        "'helped' is asked once per repetition of section 'per_topic'; name one, such as helped__1" in p for p in found
    )
    assert any(p.startswith("scales[0].items[0]") and "helped__1" in p for p in found)
    # naming one repetition is allowed
    parse_instrument(
        demo(
            "  - id: end\n    title: {nl: e, en: e}\n    items:\n"
            '      - {id: later, type: text, show_if: "helped__2 == 1", text: {nl: l, en: l}}\n'
        )
    )


def test_the_long_table_has_one_row_per_chosen_element_and_keeps_the_wide_values():
    form = parse_instrument(demo())
    wide = pd.DataFrame(
        {
            "respondent": ["a", "b", "c"],
            "occasion": "intake",
            "cohort": ["pilot", "regular", "pilot"],
            "topics_1": [1, 0, np.nan],
            "topics_2": [1, 0, np.nan],
            "topics_5": [0, 1, np.nan],
            "helped__1": [1, np.nan, np.nan],
            "how__1": ["zelf", None, None],
            "helped__2": [2, np.nan, 1],
            "helped__3": [np.nan, 1, np.nan],
        }
    )
    long = repeated(form, wide, lang="en")
    assert list(long.columns) == [
        "respondent",
        "occasion",
        "repetition",
        "element",
        "element_label",
        "cohort",
        "helped",
        "how",
    ]
    assert long[["respondent", "element", "helped"]].values.tolist() == [
        ["a", 1, 1],
        ["a", 2, 2],
        ["b", 5, 1],
        ["c", 2, 1],
    ]  # c: no source answer, but an answered repetition
    assert long.loc[0, "how"] == "zelf" and long.loc[2, "element_label"] == "loneliness"


def test_the_citizen_questionnaire_joins_urgency_at_intake_to_the_follow_up_of_the_same_problem():
    citizen = load_instrument("citizen")
    intake = pd.DataFrame(
        {
            "respondent": ["r"],
            "occasion": ["intake"],
            "problems_raised_1": [1],
            "problems_raised_2": [0],
            "problems_raised_3": [1],
            "problems_raised_4": [0],
            "urgency__1": [4.0],
            "urgency__3": [2.0],
        }
    )
    follow_up = pd.DataFrame(
        {
            "respondent": ["r"],
            "occasion": ["follow_up"],
            "problem_result__1": [1.0],
            "problem_result__3": [6.0],
            "interventions__3_3": [1.0],
        }
    )
    both = repeated(citizen, pd.concat([intake, follow_up], ignore_index=True))
    assert both[["occasion", "element", "urgency", "problem_result"]].fillna(-1).values.tolist() == [
        ["follow_up", 1, -1, 1],
        ["follow_up", 3, -1, 6],
        ["intake", 1, 4, -1],
        ["intake", 3, 2, -1],
    ]
    assert "interventions_8" in both.columns and "problem_rung" in both.columns


def test_a_long_table_is_refused_for_an_instrument_without_repeats():
    with pytest.raises(RepeatError, match="instrument 'soc13' has no repeated section"):
        repeated(load_instrument("soc13"), pd.DataFrame({"respondent": ["a"], "occasion": ["intake"]}))
    with pytest.raises(RepeatError, match="repeats no section over 'age'; allowed: problems_raised"):
        repeated(load_instrument("citizen"), pd.DataFrame({"respondent": ["a"], "occasion": ["intake"]}), "age")


def test_the_citizen_questionnaire_follows_up_every_problem_and_restores_the_seed_items():
    citizen = load_instrument("citizen")
    assert citizen.version == "2.0"
    follow_up = next(s for s in citizen.sections if s.id == "problem_follow_up")
    assert follow_up.repeat.for_each == "problems_raised" and follow_up.occasions == ["follow_up"]
    assert {"interventions", "waiting_time", "own_part", "network_involved", "problem_result", "problem_rung"} <= {
        item.id for item in follow_up.items
    }
    kinds = {c.code: c.support for c in citizen.response_scale_of("interventions").codes}
    assert set(kinds.values()) == {"material", "immaterial", None} and kinds[6] is None  # "something else": uncoded
    assert citizen.item("urgency__4").required and citizen.item("first_question_type").response_scale == "problem_type"
    # the seed's items: restored in our words, or the note says why they differ
    assert "spreekruimte" in citizen.item("room_private").note.nl
    assert "1 tot 10" in citizen.item("wellbeing").note.nl and citizen.valid_codes("wellbeing") == list(range(11))
    assert "creativiteit" in citizen.item("prof_creative").note.nl


def test_a_copy_with_other_sections_derives_its_items_again():
    citizen = load_instrument("citizen")
    assert len(citizen.items) > 100
    first = citizen.model_copy(update={"sections": citizen.sections[:1]})
    assert [item.id for item in first.items] == [item.id for item in citizen.sections[0].items]
