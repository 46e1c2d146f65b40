"""Any instrument as an XLSForm, for collection with ODK or KoboToolbox.

:func:`xlsform` turns an instrument into the three sheets of an XLSForm
(``survey``, ``choices``, ``settings``; https://xlsform.org): sections become
groups, coded items ``select_one``, multiple-choice items
``select_multiple``, score and number items ``integer``/``decimal`` with a
constraint, show-if conditions ``relevant`` expressions (by
:meth:`kantelmeter.Condition.to_xlsform`), labels and hints in Dutch and
English. The form asks first for the respondent's code (a pseudonym, for
example from an invitation) and records its end time.

The responses exported from ODK Central or KoboToolbox come back in with
:func:`kantelmeter.io.import_responses` (``odk=True``): group prefixes,
space-separated multiple-choice codes and metadata columns are handled by
:func:`kantelmeter.io.mapping.odk_columns`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kantelmeter.instruments import Instrument, Item, ItemType

__all__ = ["LANGUAGE_NAMES", "write_xlsform", "xlsform"]

# XLSForm names a language "Name (code)"; the code is the IETF tag ODK shows to users.
LANGUAGE_NAMES = {"nl": "Nederlands (nl)", "en": "English (en)"}
RESPONDENT_LABEL = {"nl": "Respondentcode", "en": "Respondent code"}
RANGE_MESSAGE = {"nl": "Antwoord buiten het toegestane bereik", "en": "Answer outside the allowed range"}


def _texts(field: str, text) -> dict[str, str]:
    return {} if text is None else {f"{field}::{name}": text[lang] for lang, name in LANGUAGE_NAMES.items()}


def _type(instrument: Instrument, item: Item) -> str:
    if item.type is ItemType.multiple_choice:
        return f"select_multiple {item.response_scale}_options"
    if item.type in (ItemType.single_choice, ItemType.rating):
        return f"select_one {item.response_scale}"
    return {ItemType.score: "integer", ItemType.number: "decimal", ItemType.date: "date",
            ItemType.text: "text"}[item.type]


def _constraint(instrument: Instrument, item: Item) -> str:
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
              {"type": "text", "name": "respondent", "required": "yes", **_texts("label", RESPONDENT_LABEL)}]
    lists: dict[str, list] = {}  # choice list name -> options, in the order first used
    for section in instrument.sections:
        items = [item for item in section.items if item.id in wanted]
        if not items:
            continue
        survey.append({"type": "begin_group", "name": section.id, **_texts("label", section.title)})
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
                # hint is shown to respondents; the note sits in a column of its own that no form shows
                **_texts("hint", item.help), **_texts("note", item.note), "required": "yes" if item.required else "",
                "relevant": condition.to_xlsform() if condition else "", "constraint": constraint,
                **(_texts("constraint_message", RANGE_MESSAGE) if constraint else {}),
            })
        survey.append({"type": "end_group", "name": section.id})
    choices = [{"list_name": name, "name": str(option.code), **_texts("label", option.label)}
               for name, options in lists.items() for option in options]
    settings = [{"form_title": instrument.title["nl"], "form_id": instrument.id + (f"_{occasion}" if occasion else ""),
                 "version": instrument.version, "default_language": LANGUAGE_NAMES["nl"]}]
    return {"survey": pd.DataFrame(survey).fillna(""), "choices": pd.DataFrame(choices),
            "settings": pd.DataFrame(settings)}


def write_xlsform(instrument: Instrument, path: str | Path, occasion: str | None = None) -> list[Path]:
    """Write the XLSForm of an instrument to an .xlsx workbook; see :func:`xlsform`.

    Raises
    ------
    ValueError
        When ``path`` does not end in ``.xlsx``: the file is an Excel
        workbook, and a workbook named ``form.csv`` misleads both people and
        the tools it is uploaded to.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: an XLSForm is an Excel workbook; allowed ending: .xlsx")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, sheet in xlsform(instrument, occasion).items():
            sheet.to_excel(writer, sheet_name=name, index=False)
    return [path]
