"""Any instrument as a REDCap project: data dictionary, events and missing-data codes.

REDCap builds a project from a data dictionary: a CSV file with one row per
field and eighteen fixed columns (REDCap Data Dictionary, "Help & FAQ ->
Data Dictionary"). :func:`redcap_dictionary` writes one: coded items become
``radio`` fields, multiple-choice items ``checkbox`` fields, score and whole
number items ``integer``-validated text fields (the score's end labels in the
field note), other numbers ``number``, dates ``date_ymd``, show-if conditions
branching logic (by :meth:`kantelmeter.Condition.to_redcap`), and identifier
items are flagged in the ``Identifier?`` column, so REDCap removes them from
de-identified exports. The first field is the record id REDCap requires.

Occasions. REDCap asks every required field of a form before it accepts a
survey, so a form holds only the items of one occasion:

- ``occasion="intake"``: one form ``<instrument>_intake`` with that
  occasion's items, for a classic (one-occasion) project;
- no occasion: a longitudinal project, one event per occasion
  (:func:`redcap_events`), one form per set of occasions an item is asked at
  (``citizen`` for items of every occasion, ``citizen_intake``,
  ``citizen_follow_up``) and the designation of forms to events
  (:func:`redcap_designations`).

Repeated sections. A section asked once per chosen option of an earlier
multiple-choice item (:class:`kantelmeter.instruments.Repeat`) is a REDCap
repeating instrument: its own form ``<instrument>_<section>``, headed by a
radio field ``<section>_element`` (which option this instance is about),
with the declared items under their own names, not one field per
repetition. :func:`redcap_repeating` gives the "Repeating instruments and
events" setting that makes the form repeat, labelled by its element
(``[problem_follow_up_element]``); :func:`kantelmeter.io.redcap_import`
turns each instance back into the wide ``<item>__k`` columns.

Missing codes ("weet niet", "niet van toepassing") are not answer choices
but REDCap missing-data codes, a project setting (Project Setup ->
Additional customizations -> Missing Data Codes) given by
:func:`missing_data_codes`; a field that has none is marked ``@NOMISSING``.

Field names. REDCap takes names of lower-case letters, digits and
underscores starting with a letter; longer names break survey exports and
some statistics packages, so kantelmeter keeps them at most
:data:`FIELD_NAME_LIMIT` (26) characters by :func:`redcap_name`: an item id
that is longer keeps its first 21 characters and gets ``_`` and the first
four hexadecimal digits of the SHA-1 of the whole id. The name depends on the
id only, so it is the same in every dictionary and every import; the
dictionary's ``Field Annotation`` and :func:`redcap_fields` record it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument, Item, ItemType, Section
from kantelmeter.io.anchors import score_legend
from kantelmeter.messages import message

__all__ = [
    "FIELD_NAME_LIMIT",
    "REDCAP_COLUMNS",
    "check_redcap_dictionary",
    "missing_data_codes",
    "redcap_designations",
    "redcap_dictionary",
    "redcap_events",
    "redcap_fields",
    "redcap_form_names",
    "redcap_name",
    "redcap_repeating",
    "check_redcap_repeating",
    "element_field",
    "repeating_form",
    "unique_event_name",
    "write_redcap_dictionary",
]

REDCAP_COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
RECORD_ID = "record_id"
FIELD_NAME_LIMIT = 26
# REDCap's own event-name part of a unique event name is at most 18 characters, then "_arm_<n>".
EVENT_NAME_LIMIT = 18


def redcap_name(item_id: str) -> str:
    """The REDCap field name of an item: the id itself, or a shortening of at most 26 characters.

    Examples
    --------
    >>> redcap_name("wellbeing")
    'wellbeing'
    >>> name = redcap_name("maatschappelijke_bijdragen_attribution")
    >>> name, len(name)
    ('maatschappelijke_bijd_0a6c', 26)
    """
    if len(item_id) <= FIELD_NAME_LIMIT:
        return item_id
    digest = hashlib.sha1(item_id.encode("utf-8")).hexdigest()[:4]
    return f"{item_id[: FIELD_NAME_LIMIT - 5].rstrip('_')}_{digest}"


def unique_event_name(occasion: str, arm: int = 1) -> str:
    """The unique event name REDCap gives the event named after an occasion.

    REDCap lower-cases the event name, turns other characters into ``_``,
    keeps the first 18 characters and adds the arm.

    Examples
    --------
    >>> unique_event_name("follow_up")
    'follow_up_arm_1'
    """
    name = re.sub(r"[^a-z0-9_]", "_", occasion.lower())[:EVENT_NAME_LIMIT]
    return f"{name}_arm_{arm}"


def _occasions_of(instrument: Instrument) -> dict[str, tuple[str, ...]]:
    """Item id to the occasions it is asked at, in the instrument's order; a repeated item under its declared id."""
    asked = {occasion: {item.id for item in instrument.items_at(occasion)} for occasion in instrument.occasions}
    found = {item.id: tuple(o for o in instrument.occasions if item.id in asked[o]) for item in instrument.items}
    for repetition in instrument.repetitions:
        for declared, asked_id in repetition.items.items():
            found[declared] = found.pop(asked_id)
    return found


def repeating_form(instrument: Instrument, section: Section) -> str:
    """The REDCap form of a repeated section: ``<instrument>_<section>``.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> repeating_form(citizen, citizen.repetitions[-1].template)
    'citizen_problem_follow_up'
    """
    return f"{instrument.id}_{section.id}"


def element_field(section: Section) -> str:
    """The field of a repeating form that says which option of its source an instance is about.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> element_field(load_instrument("citizen").repetitions[-1].template)
    'problem_follow_up_element'
    """
    return redcap_name(f"{section.id}_element")


def _repeated_sections(instrument: Instrument) -> dict[str, Section]:
    """Declared id of every repeated section to the section as declared."""
    return {r.template.id: r.template for r in instrument.repetitions}


def redcap_form_names(instrument: Instrument, occasion: str | None = None) -> dict[str, str]:
    """Item id to the REDCap form (instrument) that holds it.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> forms = redcap_form_names(load_instrument("citizen"))
    >>> sorted(set(forms.values()))
    ['citizen', 'citizen_follow_up', 'citizen_intake', 'citizen_problem_follow_up', 'citizen_problem_urgency']
    >>> forms["urgency"], "urgency__1" in forms
    ('citizen_problem_urgency', False)
    >>> sorted(set(redcap_form_names(load_instrument("citizen"), "intake").values()))
    ['citizen_intake', 'citizen_problem_urgency']
    """
    if occasion is not None:  # with what the occasion carries from an earlier one (the problems raised)
        asked = [item.id for item in instrument.carried(occasion) + instrument.items_at(occasion)]
        form_of = dict.fromkeys(asked, f"{instrument.id}_{occasion}")
    else:
        every = tuple(instrument.occasions)
        form_of = {
            item_id: instrument.id if asked == every else "_".join((instrument.id, *asked))
            for item_id, asked in _occasions_of(instrument).items()
            if asked
        }
    forms = {}
    for item in instrument.items:  # a repeated item once, under its declared id, in its section's repeating form
        found = instrument.repetition_of(item.id)
        if found is None and item.id in form_of:
            forms[item.id] = form_of[item.id]
        elif found is not None and (occasion is None or item.id in form_of):
            forms.setdefault(found[1], repeating_form(instrument, found[0].template))
    return forms


def missing_data_codes(instrument: Instrument, lang: str = "nl") -> str:
    """The project's Missing Data Codes setting: ``"8, weet niet | 9, niet van toepassing"``.

    A REDCap project has one list of missing-data codes. Where response
    scales give one code different meanings (9 is "niet van toepassing" on
    one scale and "zeg ik liever niet" on another), the code keeps every
    meaning, joined by " / ": the value stored is the code, which each
    item's own scale labels on import.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> missing_data_codes(load_instrument("professional"), "en")
    '9, not applicable'
    """
    labels: dict[int, list[str]] = {}
    for scale in instrument.response_scales.values():
        for code in scale.missing:
            meanings = labels.setdefault(code.code, [])
            if code.label[lang] not in meanings:
                meanings.append(code.label[lang])
    return " | ".join(f"{code}, {' / '.join(meanings)}" for code, meanings in sorted(labels.items()))


def _field(instrument: Instrument, item: Item, lang: str) -> dict[str, str]:
    scale = instrument.response_scale_of(item)
    if item.type in (ItemType.single_choice, ItemType.rating, ItemType.multiple_choice):
        return {
            "Field Type": "checkbox" if item.type is ItemType.multiple_choice else "radio",
            "Choices, Calculations, OR Slider Labels": " | ".join(f"{o.code}, {o.label[lang]}" for o in scale.codes),
        }
    if item.type is ItemType.score:
        codes = instrument.valid_codes(item)
        return {
            "Field Type": "text",
            "Text Validation Type OR Show Slider Number": "integer",
            "Text Validation Min": str(codes[0]),
            "Text Validation Max": str(codes[-1]),
            "Field Note": score_legend(instrument, item, lang, missing=False),
        }
    if item.type is ItemType.number:
        return {
            "Field Type": "text",
            "Text Validation Type OR Show Slider Number": "integer" if item.whole else "number",
            "Text Validation Min": "" if item.min is None else f"{item.min:g}",
            "Text Validation Max": "" if item.max is None else f"{item.max:g}",
        }
    if item.type is ItemType.date:
        return {"Field Type": "text", "Text Validation Type OR Show Slider Number": "date_ymd"}
    return {"Field Type": "notes" if item.identifier is None else "text"}


def _branching(instrument: Instrument, item: Item) -> str:
    """The item's show-if condition as branching logic, with items referred to by their REDCap names.

    A repeated item keeps its declared condition: in a repeating form it
    refers to the fields of the same instance.
    """
    condition = instrument.condition(item)
    if condition is None:
        return ""
    return re.sub(r"\[([a-z][a-z0-9_]*)", lambda m: "[" + redcap_name(m.group(1)), condition.to_redcap())


def _annotation(instrument: Instrument, item: Item, lang: str) -> str:
    """Action tags, the kantelmeter item id of a shortened name, and the analysts' note (never shown in a survey)."""
    tags = [] if instrument.missing_codes(item) else ["@NOMISSING"]
    if redcap_name(item.id) != item.id:
        tags.append(f"kantelmeter item: {item.id}")
    if item.note:
        tags.append(item.note[lang])
    return " ".join(tags)


def redcap_dictionary(instrument: Instrument, lang: str = "nl", occasion: str | None = None) -> pd.DataFrame:
    """The REDCap data dictionary of an instrument, with the 18 standard columns.

    Parameters
    ----------
    instrument : Instrument
    lang : {'nl', 'en'}
    occasion : str, optional
        One form with this occasion's items only; without it, one form per
        set of occasions, for a longitudinal project (see the module notes).

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> dd = redcap_dictionary(load_instrument("soc13"), "en")
    >>> dd.shape[1], dd.iloc[0, 0], dd.iloc[1]["Field Type"], dd.iloc[1]["Form Name"]
    (18, 'record_id', 'radio', 'soc13')
    >>> redcap_dictionary(load_instrument("citizen"), occasion="follow_up")["Form Name"].unique().tolist()
    ['citizen_follow_up', 'citizen_problem_follow_up']
    """
    forms = redcap_form_names(instrument, occasion)
    sections = [*_carrying(instrument, occasion), *instrument.sections]
    rows = []
    # REDCap wants a form's fields together, forms in first-use order
    for form in dict.fromkeys(forms[item.id] for section in sections for item in section.items if item.id in forms):
        placed: set[str] = set()  # a carried item heads the form, not again in its own section
        for section in sections:
            items = [item for item in section.items if forms.get(item.id) == form and item.id not in placed]
            placed.update(item.id for item in items)
            if items and section.repeat is not None:
                rows.append(_element_row(instrument, section, form, lang))
            for position, item in enumerate(items):
                rows.append(
                    {
                        "Variable / Field Name": redcap_name(item.id),
                        "Form Name": form,
                        "Section Header": section.title[lang] if position == 0 and not section.repeat else "",
                        "Field Label": item.text[lang],
                        "Field Note": item.help[lang] if item.help else "",
                        **_field(instrument, item, lang),
                        "Identifier?": "y" if item.identifier else "",
                        "Branching Logic (Show field only if...)": _branching(instrument, item),
                        "Required Field?": "y" if item.required else "",
                        "Field Annotation": _annotation(instrument, item, lang),
                    }
                )
    first_form = rows[0]["Form Name"]
    record = {
        "Variable / Field Name": RECORD_ID,
        "Form Name": first_form,
        "Field Type": "text",
        "Field Label": message("exports.respondent_code", lang),
        "Field Annotation": "@NOMISSING",
    }
    dd = pd.DataFrame([record, *rows], columns=REDCAP_COLUMNS).astype(object).fillna("")
    names = dd["Variable / Field Name"]
    if names.duplicated().any():
        raise ExchangeError(
            f"{instrument.id}: REDCap field names {sorted(set(names[names.duplicated()]))} "
            "are given twice; rename one of the items"
        )
    return dd


def _element_row(instrument: Instrument, section: Section, form: str, lang: str) -> dict[str, str]:
    """The radio field heading a repeating form: which option of the source item this instance is about."""
    assert section.repeat is not None
    source = instrument.item(section.repeat.for_each)
    return {
        "Variable / Field Name": element_field(section),
        "Form Name": form,
        "Section Header": section.title[lang],
        "Field Label": message("exports.repeat_element", lang),
        "Field Note": source.text[lang],
        **_field(instrument, source.model_copy(update={"type": ItemType.single_choice}), lang),
        "Required Field?": "y",
        "Field Annotation": f"@NOMISSING kantelmeter repeat: {section.id} for_each {source.id}",
    }


def _carrying(instrument: Instrument, occasion: str | None) -> list:
    """The sections of the items an occasion carries, holding only those items, to head its form."""
    carried = {item.id for item in instrument.carried(occasion)} if occasion else set()
    return [
        section.model_copy(update={"items": [i for i in section.items if i.id in carried]})
        for section in instrument.sections
        if any(i.id in carried for i in section.items)
    ]


def redcap_fields(instrument: Instrument, occasion: str | None = None) -> pd.DataFrame:
    """The codebook of the REDCap project: item, REDCap field name, form and the occasions it is asked at.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> fields = redcap_fields(load_instrument("participation_wheel")).set_index("item")
    >>> fields.loc["zelfstandig_functioneren_level", "redcap_field"]
    'zelfstandig_functione_f684'
    """
    forms = redcap_form_names(instrument, occasion)
    occasions = _occasions_of(instrument)
    return pd.DataFrame(
        [
            {
                "item": item_id,
                "redcap_field": redcap_name(item_id),
                "form": form,
                "occasions": ", ".join(occasions[item_id]),
            }
            for item_id, form in forms.items()
        ]
    )


def redcap_events(instrument: Instrument) -> pd.DataFrame:
    """The events of the longitudinal project, one per occasion, as REDCap's event import takes them."""
    return pd.DataFrame(
        {
            "event_name": instrument.occasions,
            "arm_num": 1,
            "unique_event_name": [unique_event_name(o) for o in instrument.occasions],
        }
    )


def redcap_designations(instrument: Instrument) -> pd.DataFrame:
    """Which form is asked at which event, as REDCap's instrument-event mapping import takes it.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> redcap_designations(load_instrument("citizen")).values.tolist()[:2]
    [[1, 'intake_arm_1', 'citizen_intake'], [1, 'intake_arm_1', 'citizen_problem_urgency']]
    """
    forms = redcap_form_names(instrument)
    occasions = _occasions_of(instrument)
    rows = [
        (1, unique_event_name(occasion), form)
        for occasion in instrument.occasions
        for form in dict.fromkeys(forms.values())
        if any(occasion in occasions[item_id] for item_id, f in forms.items() if f == form)
    ]
    return pd.DataFrame(rows, columns=["arm_num", "unique_event_name", "form"])


def redcap_repeating(instrument: Instrument, occasion: str | None = None) -> pd.DataFrame:
    """The "Repeating instruments and events" setting: which forms repeat, labelled by their element.

    The layout of REDCap's import of that setting (Project Setup -> Enable
    repeating instruments and events -> upload, or the API's
    ``importRepeatingFormsEvents``): ``form_name,custom_form_label`` for a
    classic project (``occasion`` given), with ``event_name`` in front for a
    longitudinal one. The label pipes the element field, so each instance is
    listed by the option it is about.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> redcap_repeating(load_instrument("citizen"), "follow_up").values.tolist()
    [['citizen_problem_follow_up', '[problem_follow_up_element]']]
    >>> redcap_repeating(load_instrument("citizen")).values.tolist()[0]
    ['intake_arm_1', 'citizen_problem_urgency', '[problem_urgency_element]']
    """
    repeating = {
        repeating_form(instrument, s): f"[{element_field(s)}]" for s in _repeated_sections(instrument).values()
    }
    if occasion is not None:
        forms = set(redcap_form_names(instrument, occasion).values())
        rows = [(form, label) for form, label in repeating.items() if form in forms]
        return pd.DataFrame(rows, columns=REPEATING_COLUMNS[1:])
    rows = [
        (event, form, repeating[form])
        for _, event, form in redcap_designations(instrument).itertuples(index=False)
        if form in repeating
    ]
    return pd.DataFrame(rows, columns=REPEATING_COLUMNS)


REPEATING_COLUMNS = ["event_name", "form_name", "custom_form_label"]


def check_redcap_repeating(repeating: pd.DataFrame, dd: pd.DataFrame, events: pd.DataFrame | None = None) -> list[str]:
    """Every way a repeating-instruments setting does not fit its dictionary (and events); empty when it fits.

    Checked: the columns of REDCap's layout (``event_name`` exactly when
    ``events`` are given); each form a form of the dictionary, other than the
    first (which holds the record id), repeating once per event; each event
    one of ``events``; a custom label that pipes only fields of its own form.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> dd = redcap_dictionary(citizen, occasion="follow_up")
    >>> check_redcap_repeating(redcap_repeating(citizen, "follow_up"), dd)
    []
    >>> bad = pd.DataFrame({"form_name": ["citizen_problem_follow_up"], "custom_form_label": ["[age]"]})
    >>> check_redcap_repeating(bad, dd)
    ["row 2: custom_form_label '[age]' pipes 'age', not a field of form 'citizen_problem_follow_up'"]
    """
    wanted = REPEATING_COLUMNS if events is not None else REPEATING_COLUMNS[1:]
    if list(repeating.columns) != wanted:
        return [f"columns {list(repeating.columns)}; REDCap wants exactly {wanted}"]
    fields = dd.groupby("Form Name", sort=False)["Variable / Field Name"].agg(set).to_dict()
    first = dd["Form Name"].iloc[0] if len(dd) else None
    known = set() if events is None else set(events["unique_event_name"])
    problems: list[str] = []
    for row, setting in enumerate(repeating.to_dict("records"), start=2):
        form, label = setting["form_name"], setting["custom_form_label"]
        if form not in fields:
            problems.append(
                f"row {row}: form_name {form!r} is not a form of the dictionary; allowed: {', '.join(fields)}"
            )
            continue
        if form == first:
            problems.append(f"row {row}: form_name {form!r} holds the record id and cannot repeat")
        if events is not None and setting["event_name"] not in known:
            problems.append(f"row {row}: event_name {setting['event_name']!r}; allowed: {', '.join(sorted(known))}")
        for piped in re.findall(r"\[([^\]]*)\]", label):
            if piped not in fields[form]:
                problems.append(f"row {row}: custom_form_label {label!r} pipes {piped!r}, not a field of form {form!r}")
    keys = [tuple(r) for r in repeating[wanted[:-1]].itertuples(index=False)]
    problems += [f"form {key[-1]!r} repeats {n} times in one event" for key, n in Counter(keys).items() if n > 1]
    return problems


# What REDCap's data dictionary upload accepts (REDCap "Data Dictionary" help and the
# field validation list of a standard installation).
FIELD_TYPES = {
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "file",
    "slider",
    "descriptive",
    "sql",
}
VALIDATION_TYPES = {
    "date_ymd",
    "date_mdy",
    "date_dmy",
    "datetime_ymd",
    "datetime_mdy",
    "datetime_dmy",
    "datetime_seconds_ymd",
    "datetime_seconds_mdy",
    "datetime_seconds_dmy",
    "email",
    "integer",
    "number",
    "phone",
    "time",
    "zipcode",
    "alpha_only",
    "number_1dp",
    "number_2dp",
}
RESERVED_NAMES = {
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
    "event_id",
    "arm",
}
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CHOICE = re.compile(r"\s*(-?[0-9A-Za-z_]+)\s*,\s*(\S.*?)\s*")
# One token of branching logic: a field or checkbox option (of another event: [intake_arm_1][field]), a quoted value, a number, an operator, and/or, brackets.
_LOGIC_TOKEN = re.compile(
    r"\s*(?:(?:\[[a-z][a-z0-9_]*_arm_[0-9]+\])?\[([a-z][a-z0-9_]*)(?:\(([0-9A-Za-z_]+)\))?\]|\"[^\"]*\"|'[^']*'|-?\d+(?:\.\d+)?"
    r"|<>|<=|>=|=|<|>|\band\b|\bor\b|\(|\))"
)


def check_redcap_dictionary(dd: pd.DataFrame) -> list[str]:
    """Every way a data dictionary breaks REDCap's documented rules; empty when it is fine.

    Checked: the 18 columns in order; the record id first; field names of
    lower-case letters, digits and underscores starting with a letter, at
    most 26 characters, unique, not reserved and not ``<form>_complete``; form
    names of the same pattern, each form's fields together; known field and
    validation types, validation only on text fields, numeric bounds within
    each other; choices ``code, label | code, label`` with unique codes on
    radio, dropdown and checkbox fields and on no others; ``y`` or blank in
    the identifier and required columns; branching logic made of field
    references to fields of the dictionary (``[field]``, a checkbox option
    ``[field(code)]`` that exists), quoted values, numbers, comparison
    operators, ``and``/``or`` and balanced brackets.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> check_redcap_dictionary(redcap_dictionary(load_instrument("soc13")))
    []
    >>> bad = redcap_dictionary(load_instrument("soc13")).replace({"soc1": "Soc 1"})
    >>> check_redcap_dictionary(bad)[0]
    "row 3: field name 'Soc 1' must be lower-case letters, digits and _ starting with a letter"
    """
    problems: list[str] = []
    if list(dd.columns) != REDCAP_COLUMNS:
        return [f"columns {list(dd.columns)}; REDCap wants exactly {REDCAP_COLUMNS}"]
    names = dd["Variable / Field Name"].tolist()
    forms = dd["Form Name"].tolist()
    if not names or names[0] != RECORD_ID:
        problems.append(f"the first field must be the record id {RECORD_ID!r}")
    choices_of: dict[str, set[str]] = {}
    for row, field in enumerate(dd.to_dict("records"), start=2):
        name, form, kind = field["Variable / Field Name"], field["Form Name"], field["Field Type"]
        if not _NAME.fullmatch(name):
            problems.append(
                f"row {row}: field name {name!r} must be lower-case letters, digits and _ starting with a letter"
            )
        if len(name) > FIELD_NAME_LIMIT:
            problems.append(f"row {row}: field name {name!r} has {len(name)} characters; at most {FIELD_NAME_LIMIT}")
        if name in RESERVED_NAMES or name.endswith("_complete") and name[: -len("_complete")] in forms:
            problems.append(f"row {row}: field name {name!r} is reserved by REDCap")
        if not _NAME.fullmatch(form):
            problems.append(f"row {row}: form name {form!r} must be lower-case letters, digits and _")
        if kind not in FIELD_TYPES:
            problems.append(f"row {row}: field type {kind!r}; allowed: {', '.join(sorted(FIELD_TYPES))}")
        problems += _check_validation(row, field)
        problems += _check_choices(row, field, choices_of)
        for column in ("Identifier?", "Required Field?"):
            if field[column] not in ("", "y"):
                problems.append(f"row {row}: {column} is {field[column]!r}; allowed: y or blank")
    for form, count in Counter(forms).items():
        first = forms.index(form)
        if forms[first : first + count] != [form] * count:
            problems.append(f"the fields of form {form!r} are not together")
    for name, count in Counter(names).items():
        if count > 1:
            problems.append(f"field name {name!r} appears {count} times")
    for row, field in enumerate(dd.to_dict("records"), start=2):
        problems += _check_logic(row, field["Branching Logic (Show field only if...)"], set(names), choices_of)
    return problems


def _check_validation(row: int, field: dict) -> list[str]:
    kind, validation = field["Field Type"], field["Text Validation Type OR Show Slider Number"]
    low, high = field["Text Validation Min"], field["Text Validation Max"]
    if not validation:
        return [f"row {row}: bounds without a validation type"] if (low or high) and kind == "text" else []
    if kind != "text":
        return [f"row {row}: validation {validation!r} on a {kind} field; only text fields are validated"]
    if validation not in VALIDATION_TYPES:
        return [f"row {row}: validation type {validation!r}; allowed: {', '.join(sorted(VALIDATION_TYPES))}"]
    if validation in ("integer", "number") and (low or high):
        try:
            bounds = [float(b) for b in (low, high) if b]
        except ValueError:
            return [f"row {row}: bounds {low!r}..{high!r} of a {validation} field are not numbers"]
        if validation == "integer" and any(not b.is_integer() for b in bounds):
            return [f"row {row}: bounds {low!r}..{high!r} of an integer field are not whole numbers"]
        if low and high and float(low) > float(high):
            return [f"row {row}: minimum {low} above maximum {high}"]
    return []


def _check_choices(row: int, field: dict, choices_of: dict[str, set[str]]) -> list[str]:
    kind, text = field["Field Type"], field["Choices, Calculations, OR Slider Labels"]
    if kind not in ("radio", "dropdown", "checkbox"):
        return [f"row {row}: choices on a {kind} field"] if text and kind not in ("calc", "slider", "sql") else []
    options = [_CHOICE.fullmatch(part) for part in text.split("|")]
    if not text or not all(options):
        return [f"row {row}: choices {text!r}; REDCap wants 'code, label | code, label'"]
    codes = [option.group(1) for option in options]
    choices_of[field["Variable / Field Name"]] = set(codes)
    duplicated = sorted(code for code, n in Counter(codes).items() if n > 1)
    return [f"row {row}: choice codes {duplicated} appear twice"] if duplicated else []


def _check_logic(row: int, logic: str, names: set[str], choices_of: dict[str, set[str]]) -> list[str]:
    """Branching logic read by the grammar ``expr := term (and|or term)*; term := ( expr ) | operand op operand``."""
    if not logic.strip():
        return []
    tokens, problems, position = [], [], 0
    while position < len(logic.rstrip()):
        token = _LOGIC_TOKEN.match(logic, position)
        if token is None:
            return [f"row {row}: branching logic {logic!r} cannot be read at {logic[position:]!r}"]
        field, code = token.group(1), token.group(2)
        if field is not None and field not in names:
            problems.append(f"row {row}: branching logic refers to {field!r}, not a field of the dictionary")
        elif code is not None and code not in choices_of.get(field, set()):
            problems.append(f"row {row}: branching logic refers to option {code!r} of {field!r}, not a checkbox code")
        text = token.group().strip()
        tokens.append(text if text in ("(", ")", "and", "or") or text in _COMPARISONS else "operand")
        position = token.end()
    if tokens.count("(") != tokens.count(")"):
        return problems + [f"row {row}: unbalanced brackets in branching logic {logic!r}"]
    end = _expression(tokens, 0)
    if end != len(tokens):
        problems.append(
            f"row {row}: branching logic {logic!r} cannot be read: expected field, operator, value, joined by and/or"
        )
    return problems


_COMPARISONS = {"=", "<>", "<", ">", "<=", ">="}


def _expression(tokens: list[str], at: int) -> int:
    """Where an expression starting at ``at`` ends (``-1`` when none does)."""
    at = _term(tokens, at)
    while at != -1 and at < len(tokens) and tokens[at] in ("and", "or"):
        at = _term(tokens, at + 1)
    return at


def _term(tokens: list[str], at: int) -> int:
    if at < len(tokens) and tokens[at] == "(":
        at = _expression(tokens, at + 1)
        return at + 1 if at != -1 and at < len(tokens) and tokens[at] == ")" else -1
    if (
        tokens[at : at + 3][:1] == ["operand"]
        and len(tokens) >= at + 3
        and tokens[at + 1] in _COMPARISONS
        and tokens[at + 2] == "operand"
    ):
        return at + 3
    return -1


def write_redcap_dictionary(
    instrument: Instrument, path: str | Path, lang: str = "nl", occasion: str | None = None
) -> list[Path]:
    """Write the REDCap data dictionary of an instrument as CSV, with its codebook and events.

    Beside ``<name>.csv`` come ``<name>_fields.csv`` (:func:`redcap_fields`),
    ``<name>_repeating.csv`` when the project has repeated sections
    (:func:`redcap_repeating`) and, for a longitudinal project (no
    ``occasion``), ``<name>_events.csv`` and ``<name>_designations.csv``.

    Raises
    ------
    ExchangeError
        When ``path`` does not end in ``.csv``, the only format REDCap's data
        dictionary upload takes.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ExchangeError(f"{path}: a REDCap data dictionary is a CSV file; allowed ending: .csv")
    beside = {"fields": redcap_fields(instrument, occasion)}
    if occasion is None:
        beside |= {"events": redcap_events(instrument), "designations": redcap_designations(instrument)}
    repeating = redcap_repeating(instrument, occasion)
    if not repeating.empty:
        beside["repeating"] = repeating
    redcap_dictionary(instrument, lang, occasion).to_csv(path, index=False)
    written = [path]
    for suffix, table in beside.items():
        written.append(path.with_name(f"{path.stem}_{suffix}.csv"))
        table.to_csv(written[-1], index=False)
    return written
