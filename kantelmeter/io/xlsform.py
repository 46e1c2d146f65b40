"""Any instrument as an XLSForm, for collection with ODK or KoboToolbox.

:func:`xlsform` turns an instrument into the three sheets of an XLSForm
(``survey``, ``choices``, ``settings``; https://xlsform.org): sections become
groups whose intro is a ``note``, coded items ``select_one``, multiple-choice
items ``select_multiple``, score items ``integer`` with their end labels and
missing codes in the hint (``1 = dienstverlener ... 7 = hulpverlener``),
number items ``integer`` (when marked ``whole``) or ``decimal`` with a
constraint, BSN items text with the eleven-test as constraint, show-if
conditions ``relevant`` expressions (by
:meth:`kantelmeter.Condition.to_xlsform`), labels and hints in Dutch and
English. The form asks first for the respondent's code (a pseudonym, for
example from an invitation) and records its end time.

The responses exported from ODK Central or KoboToolbox come back in with
:func:`kantelmeter.io.import_responses` (``odk=True``): group prefixes,
space-separated multiple-choice codes and metadata columns are handled by
:func:`kantelmeter.io.mapping.odk_columns`, which reads the path of every
field from :func:`field_paths`, so an item named like its section
(``motives/motives``) or like a metadata column is still found.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kantelmeter.conditions import Condition
from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.io.anchors import score_legend
from kantelmeter.messages import translations

__all__ = ["LANGUAGE_NAMES", "bsn_constraint", "field_paths", "repeat_paths", "write_xlsform", "xlsform"]

# XLSForm names a language "Name (code)"; the code is the IETF tag ODK shows to users.
LANGUAGE_NAMES = translations("exports.language_name")
ELEMENT = "_element"
"""Ends the name of the calculated field in a repeat that holds the code of the option it repeats for."""


def _texts(field: str, text) -> dict[str, str]:
    return {} if text is None else {f"{field}::{name}": text[lang] for lang, name in LANGUAGE_NAMES.items()}


def _hint(instrument: Instrument, item: Item) -> dict[str, str]:
    """The item's help, and for a score item the legend of its end labels and missing codes."""
    hints = {lang: [item.help[lang]] if item.help else [] for lang in LANGUAGE_NAMES}
    if item.type is ItemType.score:
        for lang in LANGUAGE_NAMES:
            hints[lang].append(score_legend(instrument, item, lang))
    return {f"hint::{name}": " ".join(hints[lang]) for lang, name in LANGUAGE_NAMES.items() if any(hints[lang])}


def _type(instrument: Instrument, item: Item) -> str:
    if item.type is ItemType.multiple_choice:
        return f"select_multiple {item.response_scale}_options"
    if item.type in (ItemType.single_choice, ItemType.rating):
        return f"select_one {item.response_scale}"
    if item.type is ItemType.number:
        return "integer" if item.whole else "decimal"
    return {ItemType.score: "integer", ItemType.date: "date", ItemType.text: "text"}[item.type]


def bsn_constraint() -> str:
    """The eleven-test (elfproef) of a BSN as an XLSForm constraint on a text field.

    Nine digits d1..d9, not all zero, with 9*d1 + 8*d2 + ... + 2*d8 - d9
    divisible by 11: the rule :func:`kantelmeter.privacy.validate_bsn`
    applies. ODK's ``substr(s, start, end)`` counts from 0 and excludes
    ``end``.

    Examples
    --------
    >>> bsn_constraint()[:54]
    "regex(., '^[0-9]{9}$') and . != '000000000' and (9 * n"
    """
    terms = [f"{weight} * number(substr(., {i}, {i + 1}))" for i, weight in enumerate(range(9, 1, -1))]
    return (
        f"regex(., '^[0-9]{{9}}$') and . != '000000000' and ({' + '.join(terms)} - number(substr(., 8, 9))) mod 11 = 0"
    )


def _constraint(instrument: Instrument, item: Item) -> str:
    if item.identifier == "bsn":
        return bsn_constraint()
    if item.type is ItemType.score:
        codes = instrument.valid_codes(item)
        bounds = f"(. >= {codes[0]} and . <= {codes[-1]})"
        missing = instrument.missing_codes(item)
        return " or ".join([bounds] + [f". = {code}" for code in missing])
    if item.type is ItemType.number and (item.min is not None or item.max is not None):
        parts = ([f". >= {item.min:g}"] if item.min is not None else []) + (
            [f". <= {item.max:g}"] if item.max is not None else []
        )
        return " and ".join(parts)
    return ""


def xlsform(instrument: Instrument, occasion: str | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of an XLSForm for an instrument.

    Parameters
    ----------
    instrument : Instrument
    occasion : str, optional
        Only the items asked at this occasion (every item when not given).

    Returns
    -------
    dict of DataFrame
        ``survey``, ``choices`` and ``settings``.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> sheets = xlsform(load_instrument("soc13"))
    >>> sheets["survey"][["type", "name"]].head(4).values.tolist()
    [['start', 'start'], ['end', 'end'], ['text', 'respondent'], ['begin_group', 'soc']]
    >>> sheets["survey"].loc[4, "type"]
    'select_one seven_point'
    """
    asked = instrument.items_at(occasion) if occasion else instrument.items
    wanted = {item.id for item in asked}
    survey = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {
            "type": "text",
            "name": "respondent",
            "required": "yes",
            **_texts("label", translations("exports.respondent_code")),
        },
    ]
    lists: dict[str, list] = {}  # choice list name -> options, in the order first used
    for item in instrument.carried(occasion) if occasion else []:
        # asked at another occasion and carried into this one: the form asks it again to know what to repeat
        survey += [
            {"type": "begin_group", "name": f"{item.id}_carried", **_texts("label", item.text)},
            _field(instrument, item, lists, item.show_if),
            {"type": "end_group", "name": f"{item.id}_carried"},
        ]
    repeated = {declared: asked_id for r in instrument.repetitions for declared, asked_id in r.items.items()}
    for section in instrument.sections:
        if section.repeat is not None:
            items = [
                item
                for item in section.items
                if any(r.items[item.id] in wanted for r in instrument.repetitions if r.template is section)
            ]
        else:
            items = [item for item in section.items if item.id in wanted and item.id not in repeated]
        if not items:
            continue
        survey += _opening(section)
        for item in items:
            survey.append(_field(instrument, item, lists, item.show_if))
        survey.append({"type": "end_repeat" if section.repeat else "end_group", "name": section.id})
    choices = [
        {"list_name": name, "name": str(option.code), **_texts("label", option.label)}
        for name, options in lists.items()
        for option in options
    ]
    settings = [
        {
            "form_title": instrument.title["nl"],
            "form_id": instrument.id + (f"_{occasion}" if occasion else ""),
            "version": instrument.version,
            "default_language": LANGUAGE_NAMES["nl"],
        }
    ]
    return {
        "survey": pd.DataFrame(survey).fillna(""),
        "choices": pd.DataFrame(choices),
        "settings": pd.DataFrame(settings),
    }


def _field(instrument: Instrument, item: Item, lists: dict[str, list], show_if: str | None) -> dict[str, str]:
    """The survey row of one item, adding its choice list to ``lists``."""
    scale = instrument.response_scale_of(item)
    if item.type is ItemType.multiple_choice:
        # A select_multiple list holds the valid options only: each becomes a 0/1 column.
        lists[f"{item.response_scale}_options"] = scale.codes
    elif item.type in (ItemType.single_choice, ItemType.rating):
        lists[item.response_scale] = scale.codes + scale.missing
    constraint = _constraint(instrument, item)
    return {
        "type": _type(instrument, item),
        "name": item.id,
        **_texts("label", item.text),
        # the hint is shown to respondents; the note sits in a column of its own that no form shows
        **_hint(instrument, item),
        **_texts("note", item.note),
        "required": "yes" if item.required else "",
        "relevant": Condition(show_if).to_xlsform() if show_if else "",
        "constraint": constraint,
        **(
            _texts(
                "constraint_message",
                translations("exports.bsn_invalid" if item.identifier == "bsn" else "exports.out_of_range"),
            )
            if constraint
            else {}
        ),
    }


def _opening(section) -> list[dict[str, str]]:
    """A section's begin row and intro note; a repeated one as a repeat, once per option its source has chosen.

    In a repeat, ``<section>_element`` holds the code of the option the
    repetition is about (what the import reads to name its columns ``__k``)
    and a note shows the repetition's label with that option's label.
    """
    intro = [{"type": "note", "name": _intro_name(section), **_texts("label", section.intro)}] if section.intro else []
    if section.repeat is None:
        return [{"type": "begin_group", "name": section.id, **_texts("label", section.title)}, *intro]
    source, element = section.repeat.for_each, f"{section.id}{ELEMENT}"
    label = {
        f"label::{name}": section.repeat.label[lang].replace("{element}", f"${{{element}_label}}")
        for lang, name in LANGUAGE_NAMES.items()
    }
    return [
        {
            "type": "begin_repeat",
            "name": section.id,
            **_texts("label", section.title),
            "repeat_count": f"count-selected(${{{source}}})",
        },
        {"type": "calculate", "name": element, "calculation": f"selected-at(${{{source}}}, position(..) - 1)"},
        {
            "type": "calculate",
            "name": f"{element}_label",
            "calculation": f"jr:choice-name(${{{element}}}, '${{{source}}}')",
        },
        {"type": "note", "name": f"{section.id}_label", **label},
        *intro,
    ]


def _intro_name(section) -> str:
    """The name of a section's intro note: ``<section>_intro``, lengthened while an item has that name."""
    name, taken = f"{section.id}_intro", {item.id for item in section.items}
    while name in taken:
        name += "_note"
    return name


def field_paths(instrument: Instrument, occasion: str | None = None) -> dict[tuple[str, ...], str | None]:
    """Where each field of the XLSForm sits: its group path, and the response column it fills.

    ODK Central and KoboToolbox name an exported column by the path of its
    field (``background/age``; ``motives/motives`` for an item named like
    its section). A ``select_multiple`` field also has one path per option
    (``motives/motives/2``), for exports with split choices. Notes hold no
    answer: their column is None.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> paths = field_paths(load_instrument("professional"))
    >>> paths[("motives", "motives")], paths[("motives", "motives", "2")], paths[("motives", "motives_intro")]
    ('motives', 'motives_2', None)
    """
    return {path: column for repeat, path, column in _fields(instrument, occasion) if repeat is None}


def repeat_paths(instrument: Instrument, occasion: str | None = None) -> dict[str, dict[tuple[str, ...], str | None]]:
    """The fields of each repeat of the XLSForm: repeat name to field path to the declared item's column.

    ODK Central and KoboToolbox export a repeat's answers to a table of its
    own, one row per repetition, named like :func:`field_paths` names the main
    table's columns. The repetition's option code is in
    ``<repeat>_element`` (its column here is None, as for notes).

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> paths = repeat_paths(load_instrument("citizen"), "follow_up")["problem_follow_up"]
    >>> paths[("problem_follow_up", "own_part")], paths[("problem_follow_up", "interventions", "7")]
    ('own_part', 'interventions_7')
    """
    found: dict[str, dict[tuple[str, ...], str | None]] = {}
    for repeat, path, column in _fields(instrument, occasion):
        if repeat is not None:
            found.setdefault(repeat, {})[path] = column
    return found


def _fields(instrument: Instrument, occasion: str | None) -> list[tuple[str | None, tuple[str, ...], str | None]]:
    """Every field of the XLSForm: the repeat it is in (None outside one), its path and its column."""
    survey = xlsform(instrument, occasion)["survey"]
    fields: list[tuple[str | None, tuple[str, ...], str | None]] = []
    groups: list[str] = []
    repeats: list[str] = []
    for kind, name in survey[["type", "name"]].itertuples(index=False):
        if kind in ("begin_group", "begin_repeat"):
            groups.append(name)
            repeats += [name] if kind == "begin_repeat" else []
        elif kind in ("end_group", "end_repeat"):
            groups.pop()
            repeats = repeats[:-1] if kind == "end_repeat" else repeats
        elif groups:
            repeat = repeats[-1] if repeats else None
            path = (*groups, name)
            fields.append((repeat, path, None if kind in ("note", "calculate") else name))
            if kind.startswith("select_multiple"):
                item = instrument.item(name)
                fields += [
                    (repeat, (*path, str(code)), column)
                    for column, code in zip(instrument.columns_of(item), instrument.valid_codes(item))
                ]
    return fields


def write_xlsform(instrument: Instrument, path: str | Path, occasion: str | None = None) -> list[Path]:
    """Write the XLSForm of an instrument to an .xlsx workbook; see :func:`xlsform`.

    Raises
    ------
    ExchangeError
        When ``path`` does not end in ``.xlsx``: the file is an Excel
        workbook, and a workbook named ``form.csv`` misleads both people and
        the tools it is uploaded to.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ExchangeError(f"{path}: an XLSForm is an Excel workbook; allowed ending: .xlsx")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, sheet in xlsform(instrument, occasion).items():
            sheet.to_excel(writer, sheet_name=name, index=False)
    return [path]
