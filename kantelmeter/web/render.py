"""Instrument items as the templates draw them, and the Jinja environment.

:func:`item_views` turns the items of a page into plain records a template
can loop over without knowing the instrument model: the control to draw, the
options with their codes (missing codes such as "weet niet" apart), the value
to show, the error, and whether show-if hides it. The web pages and the paper
form share these records, so the two channels ask the same questions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

import jinja2

from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.web.forms import FieldError
from kantelmeter.web.i18n import translate
from kantelmeter.web.showif import condition_tree

__all__ = ["ItemView", "Option", "environment", "item_views", "submitted_values"]

_CONTROL = {
    ItemType.single_choice: "choice",
    ItemType.multiple_choice: "checkboxes",
    ItemType.rating: "row",
    ItemType.score: "row",
    ItemType.number: "number",
    ItemType.date: "date",
    ItemType.text: "text",
}


@dataclass(frozen=True)
class Option:
    """One answer option: its code, label and whether it is chosen."""

    code: int
    label: str
    checked: bool = False


@dataclass
class ItemView:
    """What a template needs to draw one item."""

    id: str
    number: int
    control: str
    text: str
    help: str | None
    required: bool
    options: list[Option] = field(default_factory=list)
    missing: list[Option] = field(default_factory=list)
    value: str = ""
    error: str | None = None
    hidden: bool = False
    show_if: str | None = None
    condition: str | None = None
    anchors: tuple[str, str] | None = None
    min: str = ""
    max: str = ""
    identifier: str | None = None
    stored: str | None = None
    whole: bool = False

    @property
    def first_control(self) -> str:
        """The id of the first input, the target of a link in the error summary."""
        return f"{self.id}-0" if self.options or self.missing else self.id

    @property
    def described_by(self) -> str:
        """The ids of what a screen reader reads after the label: help, allowed range, stored value, error."""
        ids = [
            f"{self.id}-help" if self.help else "",
            f"{self.id}-bounds" if self.bounds else "",
            f"{self.id}-stored" if self.stored else "",
            f"{self.id}-error" if self.error else "",
        ]
        return " ".join(i for i in ids if i)

    @property
    def bounds(self) -> bool:
        """Whether a number field states its allowed range."""
        return self.control == "number" and bool(self.min and self.max)


def submitted_values(
    instrument: Instrument, items: Sequence[Item], answers: Mapping[str, object]
) -> dict[str, list[str]]:
    """Stored answers as the strings a form would submit for them.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> submitted_values(soc, soc.items[:2], {"soc1": 4, "soc2": float("nan")})
    {'soc1': ['4'], 'soc2': []}
    """
    values: dict[str, list[str]] = {}
    for item in items:
        if item.type is ItemType.multiple_choice:
            values[item.id] = [
                str(code) for code, column in instrument.option_columns(item).items() if answers.get(column) == 1
            ]
            continue
        value = answers.get(item.id)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            values[item.id] = []
        elif isinstance(value, float) and value.is_integer():
            values[item.id] = [str(int(value))]
        else:
            values[item.id] = [str(value)]
    return values


def item_views(
    instrument: Instrument,
    items: Sequence[Item],
    lang: str,
    values: Mapping[str, Sequence[str]],
    *,
    errors: Mapping[str, FieldError] | None = None,
    visible: Sequence[str] | None = None,
    numbers: Mapping[str, int] | None = None,
) -> list[ItemView]:
    """The items of a page ready for a template.

    Parameters
    ----------
    instrument : Instrument
    items : sequence of Item
    lang : {'nl', 'en'}
    values : mapping of item id to submitted strings
        What to show as answered (see :func:`submitted_values`).
    errors : mapping of item id to FieldError, optional
    visible : sequence of item ids, optional
        The items show-if leaves visible; the others are drawn hidden so the
        page script can reveal them. None draws every item visible.
    numbers : mapping of item id to question number, optional
        Numbers across the whole form (paper); default: count on the page.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> view = item_views(soc, soc.items[:1], "en", {"soc1": ["7"]})[0]
    >>> view.control, [o.code for o in view.options if o.checked], view.options[0].label
    ('row', [7], '1 - one extreme')
    """
    errors = errors or {}
    views = []
    for index, item in enumerate(items, start=1):
        scale = instrument.response_scale_of(item)
        chosen = set(values.get(item.id, []))
        view = ItemView(
            id=item.id,
            number=(numbers or {}).get(item.id, index),
            control=_CONTROL[item.type],
            text=item.text[lang],
            help=item.help[lang] if item.help else None,
            required=item.required,
            hidden=visible is not None and item.id not in visible,
            show_if=condition_tree(instrument.condition(item)) if item.show_if else None,
            condition=item.show_if,
            identifier=item.identifier,
            whole=item.whole,
        )
        if item.type in (ItemType.single_choice, ItemType.multiple_choice, ItemType.rating):
            view.options = [Option(c.code, c.label[lang], str(c.code) in chosen) for c in scale.codes]
        elif item.type is ItemType.score:
            view.options = [Option(code, str(code), str(code) in chosen) for code in instrument.valid_codes(item)]
            if item.anchors:
                view.anchors = (item.anchors["min"][lang], item.anchors["max"][lang])
        if scale and item.type is not ItemType.multiple_choice:
            # a multiple-choice item stores one 0/1 column per valid code: a missing code has no column
            view.missing = [Option(c.code, c.label[lang], str(c.code) in chosen) for c in scale.missing]
        if item.type in (ItemType.number, ItemType.date, ItemType.text):
            view.value = next(iter(values.get(item.id, [])), "")
        view.min = "" if item.min is None else f"{item.min:g}"
        view.max = "" if item.max is None else f"{item.max:g}"
        if item.id in errors:
            error = errors[item.id]
            view.error = translate(error.key, lang, **error.params)
        views.append(view)
    return views


#: Set to 1 while editing the templates: they are then read again when they change.
DEV_VARIABLE = "KANTELMETER_DEV"


@cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the form app and the paper form (HTML autoescaped).

    Templates are compiled once and kept: a request never looks at the
    template files again, unless ``KANTELMETER_DEV=1`` was set when the
    environment was made, for working on the templates.

    Examples
    --------
    >>> environment().auto_reload
    False
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kantelmeter.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=os.environ.get(DEV_VARIABLE) == "1",
    )
    env.globals["t"] = translate
    return env
