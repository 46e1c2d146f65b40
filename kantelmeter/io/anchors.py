"""How a score item's scale is spelled out where a tool shows only a number box.

The web form draws a score item as a row of numbered buttons with its end
labels (1 = dienstverlener ... 7 = hulpverlener). XLSForm and REDCap show a
plain integer field, so the end labels and the missing codes travel as a
legend in the hint or field note instead.
"""

from __future__ import annotations

from kantelmeter.instruments import Instrument, Item

__all__ = ["score_legend"]


def score_legend(instrument: Instrument, item: Item, lang: str, missing: bool = True) -> str:
    """The end labels of a score item and, optionally, its missing codes, as one line.

    Parameters
    ----------
    instrument : Instrument
    item : Item
        A score item.
    lang : {'nl', 'en'}
    missing : bool
        Also list the missing codes ("8 = weet niet").

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> professional = load_instrument("professional")
    >>> score_legend(professional, professional.item("role_service_vs_helper"), "nl")
    '1 = dienstverlener ... 7 = hulpverlener'
    """
    codes = instrument.valid_codes(item)
    anchors = item.anchors or {}
    ends = [
        f"{codes[0]} = {anchors['min'][lang]}" if "min" in anchors else "",
        f"{codes[-1]} = {anchors['max'][lang]}" if "max" in anchors else "",
    ]
    legend = " ... ".join(end for end in ends if end)
    scale = instrument.response_scale_of(item)
    codes_missing = [f"{c.code} = {c.label[lang]}" for c in scale.missing] if scale and missing else []
    return "; ".join(part for part in [legend, *codes_missing] if part)
