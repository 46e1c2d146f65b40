"""Every shipped instrument to ODK, KoboToolbox and REDCap and back, per occasion, with nothing lost.

For each instrument and occasion the test makes the form (XLSForm, REDCap data
dictionary), writes synthetic answers as the tool's own data export would hold
them (group paths, packed or split choices, metadata; REDCap field names,
events, checkbox columns, form status) and imports the export: the store must
then hold exactly the synthetic answers. The round trips use an SQLite store:
the store's backends are compared in test_store.py, the formats here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import SAMPLE_YAML

from kantelmeter import list_instruments, load_instrument
from kantelmeter.instruments import ItemType, parse_instrument
from kantelmeter.io import import_responses
from kantelmeter.io.mapping import odk_columns
from kantelmeter.io.redcap import (
    element_field,
    redcap_form_names,
    redcap_name,
    redcap_repeating,
    repeating_form,
    unique_event_name,
)
from kantelmeter.io.redcap_import import import_redcap
from kantelmeter.io.xlsform import field_paths, repeat_paths
from kantelmeter.store import Store

CASES = [
    (instrument_id, occasion)
    for instrument_id in list_instruments()
    for occasion in load_instrument(instrument_id).occasions
]
START = dt.datetime(2011, 5, 3, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def _bsn(rng: np.random.Generator) -> str:
    """A random number that passes the eleven-test."""
    while True:
        digits = rng.integers(0, 10, 9)
        if digits.any() and (digits[:8] @ np.arange(9, 1, -1) - digits[8]) % 11 == 0:
            return "".join(map(str, digits))


def _answer(instrument, item, rng):
    """One synthetic answer as the tool shows it: a code, a set of codes, a number, a date or text."""
    if item.type is ItemType.multiple_choice:
        codes = instrument.valid_codes(item)
        return set(rng.choice(codes, size=rng.integers(1, len(codes) + 1), replace=False).tolist())
    if item.type in (ItemType.single_choice, ItemType.rating, ItemType.score):
        return int(rng.choice(instrument.valid_codes(item) + instrument.missing_codes(item)))
    if item.type is ItemType.number:
        low, high = item.min if item.min is not None else 0, item.max if item.max is not None else 100
        return int(rng.integers(low, high + 1)) if item.whole else round(float(rng.uniform(low, high)), 1)
    if item.type is ItemType.date:
        return (dt.date(2011, 1, 1) + dt.timedelta(days=int(rng.integers(0, 700)))).isoformat()
    return {"bsn": _bsn(rng), "name": "Jan de Vries", "client_number": f"K{rng.integers(1000, 9999)}"}.get(
        item.identifier, f"antwoord {rng.integers(1000)}, met komma"
    )


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'kantelmeter.db'}", key_file=tmp_path / "pseudonym.key")
    yield store
    store.close()


def synthetic_answers(instrument, occasion, n=4, seed=1) -> list[dict]:
    """Answers of n respondents: every item asked, blank where its show-if fails or (sometimes) when optional."""
    rng = np.random.default_rng(seed)
    people = []
    for person in range(n):
        answers = {}
        for item in asked_at(instrument, occasion):
            condition = instrument.condition(item)
            if condition is not None and not condition.evaluate(answers):
                continue
            if item.required or rng.random() > 0.15:
                answers[item.id] = _answer(instrument, item, rng)
        people.append(
            {"respondent": f"r-{person + 1}", "end": START + dt.timedelta(days=person, minutes=12), "answers": answers}
        )
    return people


def asked_at(instrument, occasion):
    """The items of an occasion, after those it carries from an earlier one (the follow-up's problems raised)."""
    return instrument.carried(occasion) + instrument.items_at(occasion)


def stored(store, instrument, occasion) -> pd.DataFrame:
    """The store's answers as comparable values: floats, ISO dates, text or None."""
    wide = store.responses(instrument, occasion=occasion).set_index("respondent").sort_index()
    result = pd.DataFrame(index=wide.index)
    for item in asked_at(instrument, occasion):
        for column in instrument.columns_of(item):
            values = wide[column]
            if item.type is ItemType.date:
                values = pd.to_datetime(values).dt.strftime("%Y-%m-%d")
            result[column] = values.astype(object).where(values.notna(), None)
    return result


def expected(store, instrument, occasion, people) -> pd.DataFrame:
    rows = {}
    for person in people:
        row, answers = {}, person["answers"]
        for item in asked_at(instrument, occasion):
            value = answers.get(item.id)
            if item.type is ItemType.multiple_choice:
                for column, code in zip(instrument.columns_of(item), instrument.valid_codes(item)):
                    row[column] = None if value is None else float(code in value)
            elif item.identifier and value is not None:
                row[item.id] = store.pseudonym(item.identifier, value)
            elif item.type in (ItemType.date, ItemType.text):
                row[item.id] = value
            else:
                row[item.id] = None if value is None else float(value)
        rows[person["respondent"]] = row
    frame = pd.DataFrame.from_dict(rows, orient="index").astype(object)
    frame.index.name = "respondent"
    return frame.where(frame.notna(), None)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, set):
        return " ".join(str(code) for code in sorted(value))
    return str(value)


def odk_export(instrument, occasion, people, central: bool) -> pd.DataFrame:
    """An export as KoboToolbox ("/" paths, packed choices) or ODK Central ("-" paths, split choices) writes it."""
    separator = "-" if central else "/"
    rows = []
    for person in people:
        row = {
            "start": person["end"].isoformat(),
            "end": person["end"].isoformat(),
            "today": "2011-05-03",
            "respondent": person["respondent"],
        }
        for path, column in field_paths(instrument, occasion).items():
            name = separator.join(path[:2])
            if column is None:  # a note: exported empty
                row[name] = ""
                continue
            item = instrument.item(path[1])
            value = person["answers"].get(item.id)
            if len(path) == 3:  # the 0/1 column of one option, in Central's split export
                if central:
                    row[f"{name}/{path[2]}"] = "" if value is None else str(int(int(path[2]) in value))
            elif not (central and item.type is ItemType.multiple_choice):
                row[name] = _cell(value)
        row |= (
            {
                "meta-instanceID": f"uuid:{person['respondent']}",
                "KEY": f"uuid:{person['respondent']}",
                "SubmissionDate": "2011-06-01T00:00:00.000Z",
                "SubmitterID": "5",
                "ReviewState": "",
            }
            if central
            else {
                "meta/instanceID": f"uuid:{person['respondent']}",
                "_id": 1,
                "_uuid": "u",
                "_submission_time": "2011-06-01T00:00:00",
                "__version__": "v1",
                "_index": 1,
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def odk_repeat_tables(instrument, occasion, people, central: bool) -> dict[str, pd.DataFrame]:
    """The repeat tables of the same export: one row per repetition, linked to its response."""
    separator = "-" if central else "/"
    tables = {}
    for repeat, paths in repeat_paths(instrument, occasion).items():
        rows = []
        for index, person in enumerate(people, start=1):
            for repetition in (r for r in instrument.repetitions if r.template.id == repeat):
                source = person["answers"].get(repetition.template.repeat.for_each) or set()
                if repetition.code not in source:
                    continue
                row = {separator.join((repeat, f"{repeat}_element")): repetition.code}
                for path, column in paths.items():
                    if column is None or len(path) == 3:
                        continue
                    row[separator.join(path)] = _cell(person["answers"].get(repetition.items[path[1]]))
                rows.append(
                    row
                    | (
                        {
                            "PARENT_KEY": f"uuid:{person['respondent']}",
                            "KEY": f"uuid:{person['respondent']}/{repeat}[{len(rows) + 1}]",
                        }
                        if central
                        else {"_parent_index": index, "_index": len(rows) + 1}
                    )
                )
        tables[repeat] = pd.DataFrame(rows)
    return tables


@pytest.mark.parametrize("central", [False, True], ids=["kobo", "central"])
@pytest.mark.parametrize("instrument_id, occasion", CASES)
def test_an_odk_or_kobo_export_comes_back_identical(instrument_id, occasion, central, sqlite_store, tmp_path):
    store = sqlite_store
    instrument = load_instrument(instrument_id)
    people = synthetic_answers(instrument, occasion)
    path = tmp_path / "export.csv"
    main = odk_export(instrument, occasion, people, central)
    if not central:
        main["_index"] = range(1, len(main) + 1)
    main.to_csv(path, index=False)
    repeats = []
    for repeat, table in odk_repeat_tables(instrument, occasion, people, central).items():
        repeats.append(tmp_path / f"export-{repeat}.csv")
        table.to_csv(repeats[-1], index=False)
    # the citizen questionnaire repeats per problem at both occasions; the others repeat nothing
    assert len(repeats) == (instrument_id == "citizen")
    assert import_responses(store, instrument, occasion, path, odk=True, repeats=repeats).added == len(people)
    pd.testing.assert_frame_equal(
        stored(store, instrument, occasion), expected(store, instrument, occasion, people), check_dtype=False
    )
    times = store.responses(instrument, occasion=occasion).set_index("respondent").collected_at.sort_index()
    assert times.tolist() == [pd.Timestamp(p["end"]).tz_convert("UTC") for p in people]


def test_items_named_like_their_group_or_like_metadata_are_found():
    odd = parse_instrument(
        SAMPLE_YAML.replace("- id: person", "- id: meta")
        .replace("- id: help\n", "- id: start\n")
        .replace("id: remarks", "id: end")
        .replace("id: got_help", "id: start")
        .replace("got_help ==", "start =="),
        "odd.yaml",
    )
    raw = pd.DataFrame(
        {
            "respondent": ["r-1"],
            "meta/age": ["40"],
            "start/start": ["1"],
            "start/end": ["prima"],
            "start/help_kind/2": ["1"],
            "start": ["2011-05-03T10:00:00"],
            "end": ["2011-05-03T10:05:00"],
        }
    )
    assert odk_columns(raw, odd).to_dict("records") == [
        {
            "respondent": "r-1",
            "age": "40",
            "start": "1",
            "end": "prima",
            "help_kind_2": "1",
            "collected_at": "2011-05-03T10:05:00",
        }
    ]
    professional = load_instrument("professional")
    raw = pd.DataFrame({"respondent": ["r-1"], "motives/motives": ["1 3"], "motives-motives/2": ["0"]})
    assert list(odk_columns(raw, professional).columns) == ["respondent", "motives", "motives_2"]


def _redcap_fields(instrument, item, value, name=None) -> dict[str, str]:
    """An answer as REDCap exports it: its field, or a 0/1 column per checkbox option (0 for every unticked box)."""
    name = redcap_name(name or item.id)
    if item.type is ItemType.multiple_choice:
        return {f"{name}___{code}": "1" if value and code in value else "0" for code in instrument.valid_codes(item)}
    return {name: _cell(value)}


def redcap_export(instrument, occasions, people_by_occasion, longitudinal: bool) -> pd.DataFrame:
    """A REDCap "CSV (raw data)" export: record id, event, fields by REDCap name, checkboxes, form status.

    A repeated section is a repeating instrument: after the record's main row, one row per instance,
    with ``redcap_repeat_instrument``, ``redcap_repeat_instance`` (in order of entry, here the last
    element first, so only the element field tells the repetition) and the fields under their declared names.
    """
    rows = []
    for occasion in occasions:
        forms = redcap_form_names(instrument, None if longitudinal else occasion)
        repeating = set(redcap_repeating(instrument, None if longitudinal else occasion).form_name)
        for person in people_by_occasion[occasion]:
            key = {"record_id": person["respondent"]}
            if longitudinal:
                key["redcap_event_name"] = unique_event_name(occasion)
            if instrument.repetitions:
                key |= {"redcap_repeat_instrument": "", "redcap_repeat_instance": ""}
            row = dict(key)
            for form in dict.fromkeys(forms.values()):
                row[f"{form}_timestamp"] = person["end"].strftime("%Y-%m-%d %H:%M:%S")
            for item in instrument.items:
                value = person["answers"].get(item.id)
                if instrument.repetition_of(item.id) is None and item.id in forms:
                    fields = _redcap_fields(instrument, item, value)
                    asked = item.type is ItemType.multiple_choice or item in instrument.items_at(occasion)
                    row |= fields if asked else dict.fromkeys(fields, "")
            for form in dict.fromkeys(forms.values()):
                if form not in repeating:
                    row[f"{form}_complete"] = "2"
            rows.append(row)
            instances: dict[str, int] = {}
            for repetition in reversed(instrument.repetitions):
                form = repeating_form(instrument, repetition.template)
                chosen = person["answers"].get(repetition.template.repeat.for_each) or set()
                if form not in repeating or repetition.code not in chosen:
                    continue
                if not any(
                    instrument.item(asked) in instrument.items_at(occasion) for asked in repetition.items.values()
                ):
                    continue
                instances[form] = instances.get(form, 0) + 1
                instance = key | {"redcap_repeat_instrument": form, "redcap_repeat_instance": str(instances[form])}
                instance[element_field(repetition.template)] = str(repetition.code)
                for declared, asked in repetition.items.items():
                    instance |= _redcap_fields(
                        instrument, instrument.item(asked), person["answers"].get(asked), declared
                    )
                rows.append(instance | {f"{form}_complete": "2"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("longitudinal", [False, True], ids=["per-occasion", "events"])
@pytest.mark.parametrize("instrument_id", list_instruments())
def test_a_redcap_export_comes_back_identical(instrument_id, longitudinal, sqlite_store, tmp_path):
    store = sqlite_store
    instrument = load_instrument(instrument_id)
    people = {
        occasion: synthetic_answers(instrument, occasion, seed=i) for i, occasion in enumerate(instrument.occasions)
    }
    occasions = instrument.occasions
    if longitudinal:
        path = tmp_path / "export.csv"
        redcap_export(instrument, occasions, people, longitudinal=True).to_csv(path, index=False)
        paths = {occasion: path for occasion in occasions}
    else:
        paths = {occasion: tmp_path / f"export_{occasion}.csv" for occasion in occasions}
        for occasion in occasions:
            redcap_export(instrument, [occasion], people, longitudinal=False).to_csv(paths[occasion], index=False)
    for occasion in occasions:
        outcome = import_redcap(store, instrument, occasion, paths[occasion])
        assert outcome.result.added == len(people[occasion])
        assert sum(outcome.other_events.values()) == (
            sum(map(len, people.values())) - len(people[occasion]) if longitudinal else 0
        )
        pd.testing.assert_frame_equal(
            stored(store, instrument, occasion),
            expected(store, instrument, occasion, people[occasion]),
            check_dtype=False,
        )
