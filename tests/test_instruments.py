"""Validation of instrument and overlay files: every problem is found and located.

Each malformed file is a small edit of one valid instrument; each test checks
that the problem names the file, the line of the offending field and its path.
"""

from pathlib import Path

import pytest
import yaml

from kantelmeter import instruments
from kantelmeter.instruments import InstrumentError, load_instrument, parse_instrument

VALID = """\
id: demo
version: "1.0"
title: {nl: Demo, en: Demo}
description: {nl: Een test, en: A test}
source: {citation: "test"}
licence: {name: "test"}
occasions: [intake, follow_up]
response_scales:
  agree:
    codes:
      - {code: 1, label: {nl: oneens, en: disagree}}
      - {code: 2, label: {nl: neutraal, en: neutral}}
      - {code: 3, label: {nl: eens, en: agree}}
    missing:
      - {code: 9, label: {nl: weet niet, en: don't know}}
sections:
  - id: main
    title: {nl: Hoofd, en: Main}
    items:
      - id: contact
        type: single_choice
        response_scale: agree
        text: {nl: Contact gehad, en: Had contact}
      - id: helpful
        type: rating
        response_scale: agree
        show_if: "contact == 3"
        text: {nl: Nuttig, en: Helpful}
      - id: friendly
        type: rating
        response_scale: agree
        text:
          nl: Vriendelijk?
          en: Friendly?
scales:
  - id: satisfaction
    label: {nl: Tevredenheid, en: Satisfaction}
    items: [helpful, -friendly]
    method: mean
    min_answered: 1
    range: [1, 3]
"""
NAME = "demo.yaml"


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def problems_of(text: str) -> list:
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, NAME)
    return caught.value.problems


def edit(old: str, new: str) -> str:
    assert VALID.count(old) == 1, old
    return VALID.replace(old, new)


def test_the_template_is_valid():
    instrument = parse_instrument(VALID, NAME)
    assert [item.id for item in instrument.items] == ["contact", "helpful", "friendly"]
    assert instrument.scale("satisfaction").keys == {"helpful": 1, "friendly": -1}


# (case, old text, new text, needle on the reported line, field path, words in the message)
MALFORMED = [
    (
        "duplicate item id",
        "      - id: friendly",
        "      - id: helpful",
        ("- id: helpful", 2),
        "sections[0].items[2].id",
        "more than once",
    ),
    (
        "unknown response scale",
        "        response_scale: agree\n        text: {nl: Contact gehad",
        "        response_scale: agree5\n        text: {nl: Contact gehad",
        ("response_scale: agree5", 1),
        "sections[0].items[0].response_scale",
        "unknown response scale",
    ),
    (
        "unknown scale item",
        "items: [helpful, -friendly]",
        "items: [helpful, -kind]",
        ("items: [helpful, -kind]", 1),
        "scales[0].items[1]",
        "unknown item",
    ),
    (
        "key not +1/-1",
        "items: [helpful, -friendly]",
        "items: [helpful, {item: friendly, key: 2}]",
        ("{item: friendly, key: 2}", 1),
        "scales[0].items[1].key",
        "1 or -1",
    ),
    (
        "show-if on a later item",
        'show_if: "contact == 3"',
        'show_if: "friendly == 3"',
        ('show_if: "friendly == 3"', 1),
        "sections[0].items[1].show_if",
        "a later item",
    ),
    (
        "show-if on an unknown item",
        'show_if: "contact == 3"',
        'show_if: "contacts == 3"',
        ('show_if: "contacts == 3"', 1),
        "sections[0].items[1].show_if",
        "not an item",
    ),
    (
        "show-if with a function call",
        'show_if: "contact == 3"',
        'show_if: "len(contact) == 3"',
        ('show_if: "len(contact) == 3"', 1),
        "sections[0].items[1].show_if",
        "not allowed",
    ),
    (
        "min_answered above the item count",
        "min_answered: 1",
        "min_answered: 3",
        ("min_answered: 3", 1),
        "scales[0].min_answered",
        "between 1 and the number of items (2)",
    ),
    (
        "missing Dutch text",
        "          nl: Vriendelijk?\n",
        "",
        ("text:", 3),
        "sections[0].items[2].text.nl",
        "required field is missing",
    ),
    (
        "missing code equals a valid code",
        "{code: 9, label: {nl: weet niet",
        "{code: 3, label: {nl: weet niet",
        ("{code: 3, label: {nl: weet niet", 1),
        "response_scales.agree.missing[0].code",
        "missing code may not equal",
    ),
    (
        "duplicate YAML key",
        "        type: rating\n        response_scale: agree\n        text:\n",
        "        type: rating\n        type: rating\n        response_scale: agree\n        text:\n",
        ("type: rating", 3),
        "sections[0].items[2].type",
        "more than once in this mapping",
    ),
    (
        "unknown field",
        "    method: mean",
        "    method: mean\n    weight: 2",
        ("weight: 2", 1),
        "scales[0].weight",
        "unknown field",
    ),
    ("wrong declared range", "range: [1, 3]", "range: [1, 5]", ("range: [1, 5]", 1), "scales[0].range", "[1.0, 3.0]"),
    (
        "unknown item type",
        "type: single_choice",
        "type: dropdown",
        ("type: dropdown", 1),
        "sections[0].items[0].type",
        "single_choice, multiple_choice",
    ),
    (
        "unknown occasion",
        "    title: {nl: Hoofd, en: Main}",
        "    title: {nl: Hoofd, en: Main}\n    occasions: [wave_1]",
        ("occasions: [wave_1]", 1),
        "sections[0].occasions[0]",
        "allowed: intake, follow_up",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "needle", "path", "words"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_a_malformed_file_names_file_line_and_field(old, new, needle, path, words):
    text = edit(old, new)
    problems = problems_of(text)
    located = [p for p in problems if p.path == path]
    assert located, f"no problem at {path}; got {[str(p) for p in problems]}"
    assert all(p.file == NAME and words in p.problem for p in located)
    assert line_of(text, *needle) in [p.line for p in located]


def test_bad_yaml_syntax_gives_the_line():
    text = edit("    items: [helpful, -friendly]", "    items: [helpful, -friendly")
    [problem] = problems_of(text)
    assert problem.file == NAME
    assert "not valid YAML" in problem.problem
    # The parser notices the unclosed bracket at the next key, one line on.
    assert problem.line == line_of(text, "method: mean")


def test_an_empty_file_is_named_as_such():
    [problem] = problems_of("# nothing but a comment\n")
    assert problem.file == NAME and "empty" in problem.problem


@pytest.mark.parametrize("loader", ["SafeLoader", "CSafeLoader"])
def test_both_yaml_parsers_locate_problems_alike(monkeypatch, loader):
    # libyaml's parser is used when PyYAML has it; the pure-Python one otherwise, with the same lines
    if not hasattr(yaml, loader):
        pytest.fail(f"PyYAML lacks {loader}")
    reference = load_instrument("citizen")
    monkeypatch.setattr(instruments, "_Loader", getattr(yaml, loader))
    assert load_instrument("citizen") == reference
    text = edit(
        "        type: rating\n        response_scale: agree\n        text:\n",
        "        type: rating\n        type: rating\n        response_scale: agree\n        text:\n",
    )
    located = [p for p in problems_of(text) if "more than once" in p.problem]
    assert [(p.path, p.line) for p in located] == [
        ("sections[0].items[2].type", line_of(text, "type: rating", n)) for n in (2, 3)
    ]


def test_several_problems_are_listed_at_once():
    text = edit("min_answered: 1", "min_answered: 5").replace("range: [1, 3]", "range: [0, 3]")
    text = text.replace('show_if: "contact == 3"', 'show_if: "nothing == 3"')
    text = text.replace("{code: 9, label: {nl: weet niet", "{code: 1, label: {nl: weet niet")
    with pytest.raises(InstrumentError) as caught:
        parse_instrument(text, NAME)
    paths = {p.path for p in caught.value.problems}
    assert {
        "response_scales.agree.missing[0].code",
        "sections[0].items[1].show_if",
        "scales[0].min_answered",
        "scales[0].range",
    } <= paths
    table = caught.value.table()
    assert list(table.columns) == ["file", "line", "path", "value", "problem"]
    assert len(table) == len(caught.value.problems) >= 4
    assert f"{len(caught.value.problems)} problems" in str(caught.value)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_overlay_replaces_placeholder_wording(tmp_path):
    overlay = write(
        tmp_path,
        "my_soc13.yaml",
        """\
instrument: soc13
items:
  soc1:
    text: {nl: "Eigen tekst een", en: "Own text one"}
  soc7:
    text:
      nl: Eigen tekst zeven
      en: Own text seven
""",
    )
    shipped = load_instrument("soc13")
    licensed = load_instrument("soc13", overlay=overlay)
    assert licensed.item("soc1").text.en == "Own text one"
    assert licensed.item("soc7").text.nl == "Eigen tekst zeven"
    assert licensed.item("soc2").text == shipped.item("soc2").text
    # The wording changes, the structure and key do not.
    assert [s.model_dump() for s in licensed.scales] == [s.model_dump() for s in shipped.scales]


def test_overlay_with_an_unknown_id_is_located(tmp_path):
    text = """\
instrument: soc13
items:
  soc1:
    text: {nl: a, en: b}
  soc14:
    text:
      nl: c
      en: d
"""
    overlay = write(tmp_path, "typo.yaml", text)
    with pytest.raises(InstrumentError) as caught:
        load_instrument("soc13", overlay=overlay)
    [problem] = caught.value.problems
    assert problem.file == str(overlay)
    assert problem.line == line_of(text, "soc14:")
    assert problem.path == "items.soc14"
    assert "unknown item id" in problem.problem


def test_overlay_for_another_instrument_and_other_fields_are_refused(tmp_path):
    text = """\
instrument: soc29
items:
  soc1:
    response_scale: other
"""
    overlay = write(tmp_path, "wrong.yaml", text)
    with pytest.raises(InstrumentError) as caught:
        load_instrument("soc13", overlay=overlay)
    by_path = {p.path: p for p in caught.value.problems}
    assert by_path["instrument"].line == 1
    assert "expected 'soc13'" in by_path["instrument"].problem
    assert by_path["items.soc1"].line == line_of(text, "soc1:")
    assert "only 'text' and 'help'" in by_path["items.soc1"].problem


def test_overlay_without_dutch_text_is_refused(tmp_path):
    overlay = write(tmp_path, "half.yaml", "instrument: soc13\nitems:\n  soc1:\n    text: {en: only English}\n")
    with pytest.raises(InstrumentError) as caught:
        load_instrument("soc13", overlay=overlay)
    assert any(p.path.endswith("text.nl") and p.problem == "required field is missing" for p in caught.value.problems)
