"""Any instrument as a REDCap data dictionary.

REDCap builds a project from a data dictionary: a CSV file with one row per
field and eighteen fixed columns (REDCap Data Dictionary, "Help & FAQ ->
Data Dictionary"). :func:`redcap_dictionary` writes one: coded items become
``radio`` fields (missing codes included), multiple-choice items
``checkbox`` fields, score and number items validated ``text`` fields with
their bounds, show-if conditions branching logic (by
:meth:`kantelmeter.Condition.to_redcap`), and identifier items are flagged
in the ``Identifier?`` column, so REDCap removes them from de-identified
exports. The first field is the record id REDCap requires.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kantelmeter.instruments import Instrument, Item, ItemType

__all__ = ["REDCAP_COLUMNS", "redcap_dictionary", "write_redcap_dictionary"]

REDCAP_COLUMNS = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
RECORD_LABEL = {"nl": "Respondentcode", "en": "Respondent code"}


def _field(instrument: Instrument, item: Item, lang: str) -> dict[str, str]:
    scale = instrument.response_scale_of(item)
    if item.type in (ItemType.single_choice, ItemType.rating, ItemType.multiple_choice):
        options = scale.codes if item.type is ItemType.multiple_choice else scale.codes + scale.missing
        return {"Field Type": "checkbox" if item.type is ItemType.multiple_choice else "radio",
                "Choices, Calculations, OR Slider Labels": " | ".join(f"{o.code}, {o.label[lang]}" for o in options)}
    if item.type is ItemType.score:
        codes = instrument.valid_codes(item)
        anchors = "; ".join(f"{codes[0 if end == 'min' else -1]} = {text[lang]}"
                            for end, text in (item.anchors or {}).items())
        missing = "; ".join(f"{c.code} = {c.label[lang]}" for c in scale.missing) if scale else ""
        return {"Field Type": "text", "Text Validation Type OR Show Slider Number": "integer",
                "Text Validation Min": str(codes[0]), "Text Validation Max": str(max(codes + instrument.missing_codes(item))),
                "Field Note": "; ".join(part for part in (anchors, missing) if part)}
    if item.type is ItemType.number:
        return {"Field Type": "text", "Text Validation Type OR Show Slider Number": "number",
                "Text Validation Min": "" if item.min is None else f"{item.min:g}",
                "Text Validation Max": "" if item.max is None else f"{item.max:g}"}
    if item.type is ItemType.date:
        return {"Field Type": "text", "Text Validation Type OR Show Slider Number": "date_ymd"}
    return {"Field Type": "notes" if item.identifier is None else "text"}


def redcap_dictionary(instrument: Instrument, lang: str = "nl") -> pd.DataFrame:
    """The REDCap data dictionary of an instrument, with the 18 standard columns.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> dd = redcap_dictionary(load_instrument("soc13"), "en")
    >>> dd.shape[1], dd.iloc[0, 0], dd.iloc[1]["Field Type"]
    (18, 'record_id', 'radio')
    """
    rows = [{"Variable / Field Name": "record_id", "Field Type": "text", "Field Label": RECORD_LABEL[lang]}]
    for section in instrument.sections:
        for position, item in enumerate(section.items):
            condition = instrument.condition(item)
            rows.append({
                "Variable / Field Name": item.id, "Section Header": section.title[lang] if position == 0 else "",
                "Field Label": item.text[lang], "Field Note": item.help[lang] if item.help else "",
                **_field(instrument, item, lang),
                "Identifier?": "y" if item.identifier else "",
                "Branching Logic (Show field only if...)": condition.to_redcap() if condition else "",
                "Required Field?": "y" if item.required else "",
                # Field Note shows under the question in a REDCap survey; the annotation is for analysts only.
                "Field Annotation": item.note[lang] if item.note else "",
            })
    return pd.DataFrame(rows, columns=REDCAP_COLUMNS).astype(object).fillna("").assign(**{"Form Name": instrument.id})


def write_redcap_dictionary(instrument: Instrument, path: str | Path, lang: str = "nl") -> list[Path]:
    """Write the REDCap data dictionary of an instrument as CSV; see :func:`redcap_dictionary`.

    Raises
    ------
    ValueError
        When ``path`` does not end in ``.csv``, the only format REDCap's data
        dictionary upload takes.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: a REDCap data dictionary is a CSV file; allowed ending: .csv")
    redcap_dictionary(instrument, lang).to_csv(path, index=False)
    return [path]
