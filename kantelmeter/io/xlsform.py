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

from kantelmeter.errors import ExchangeError
from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.io.anchors import score_legend
from kantelmeter.messages import translations

__all__ = ["LANGUAGE_NAMES", "bsn_constraint", "field_paths", "write_xlsform", "xlsform"]

# XLSForm names a language "Name (code)"; the code is the IETF tag ODK shows to users.
LANGUAGE_NAMES = translations("exports.language_name")


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
    return (f"regex(., '^[0-9]{{9}}$') and . != '000000000' and "
            f"({' + '.join(terms)} - number(substr(., 8, 9))) mod 11 = 0")


def _constraint(instrument: Instrument, item: Item) -> str:
    if item.identifier == "bsn":
        return bsn_constraint()
    if item.type is ItemType.score:
        codes = instrument.valid_codes(item)
        bounds = f"(. >= {codes[0]} and . <= {codes[-1]})"
        missing = instrument.missing_codes(item)
        return " or ".join([bounds] + [f". = {code}" for code in missing])
    if item.type is ItemType.number and (item.min is not None or item.max is not None):
        parts = ([f". >= {item.min:g}"] if item.min is not None else []) + \
                ([f". <= {item.max:g}"] if item.max is not None else [])
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
    wanted = {item.id for item in (instrument.items_at(occasion) if occasion else instrument.items)}
    survey = [{"type": "start", "name": "start"}, {"type": "end", "name": "end"},
              {"type": "text", "name": "respondent", "required": "yes", **_texts("label", translations("exports.respondent_code"))}]
    lists: dict[str, list] = {}  # choice list name -> options, in the order first used
    for section in instrument.sections:
        items = [item for item in section.items if item.id in wanted]
        if not items:
            continue
        survey.append({"type": "begin_group", "name": section.id, **_texts("label", section.title)})
        if section.intro is not None:
            survey.append({"type": "note", "name": _intro_name(section), **_texts("label", section.intro)})
        for item in items:
            scale = instrument.response_scale_of(item)
            if item.type is ItemType.multiple_choice:
                # A select_multiple list holds the valid options only: each becomes a 0/1 column.
                lists[f"{item.response_scale}_options"] = scale.codes
            elif item.type in (ItemType.single_choice, ItemType.rating):
                lists[item.response_scale] = scale.codes + scale.missing
            condition = instrument.condition(item)
            constraint = _constraint(instrument, item)
            survey.append({
                "type": _type(instrument, item), "name": item.id, **_texts("label", item.text),
                # the hint is shown to respondents; the note sits in a column of its own that no form shows
                **_hint(instrument, item), **_texts("note", item.note), "required": "yes" if item.required else "",
                "relevant": condition.to_xlsform() if condition else "", "constraint": constraint,
                **(_texts("constraint_message",
                          translations("exports.bsn_invalid" if item.identifier == "bsn" else "exports.out_of_range"))
                   if constraint else {}),
            })
        survey.append({"type": "end_group", "name": section.id})
    choices = [{"list_name": name, "name": str(option.code), **_texts("label", option.label)}
               for name, options in lists.items() for option in options]
    settings = [{"form_title": instrument.title["nl"], "form_id": instrument.id + (f"_{occasion}" if occasion else ""),
                 "version": instrument.version, "default_language": LANGUAGE_NAMES["nl"]}]
    return {"survey": pd.DataFrame(survey).fillna(""), "choices": pd.DataFrame(choices),
            "settings": pd.DataFrame(settings)}


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
    survey = xlsform(instrument, occasion)["survey"]
    paths: dict[tuple[str, ...], str | None] = {}
    groups: list[str] = []
    for kind, name in survey[["type", "name"]].itertuples(index=False):
        if kind == "begin_group":
            groups.append(name)
        elif kind == "end_group":
            groups.pop()
        elif groups:
            path = (*groups, name)
            paths[path] = None if kind == "note" else name
            if kind.startswith("select_multiple"):
                item = instrument.item(name)
                for column, code in zip(instrument.columns_of(item), instrument.valid_codes(item)):
                    paths[(*path, str(code))] = column
    return paths


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
