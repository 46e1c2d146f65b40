"""The frame around the questionnaire's pages: welcome, welcome back, review and closing.

A respondent who opens an invitation link first meets a welcome page (whose
form it is, what it is for, how long it takes, what happens to the answers).
One who returns is told where they were ("you were at part 4 of 7"). After
the last page comes a review of every answer, each with a link to change it,
and only the review's button completes (and locks) the response. This module
holds what those pages show; :mod:`kantelmeter.web.app` routes to them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.web import forms
from kantelmeter.web.i18n import translate

__all__ = ["Position", "ReviewPart", "ReviewRow", "answer_text", "position", "review"]

REVIEW = "review"
"""The query value (``?page=review``) and form field value of the review page."""


@dataclass(frozen=True)
class ReviewRow:
    """One question on the review page: its number, wording and the answer in words (None: not answered)."""

    number: int
    question: str
    answer: str | None


@dataclass(frozen=True)
class ReviewPart:
    """The answered questions of one page, and the page to open to change them."""

    number: int
    title: str
    page: str
    rows: tuple[ReviewRow, ...]


@dataclass(frozen=True)
class Position:
    """Where a returning respondent is: the page to open, its part number and the number of parts."""

    page: forms.Page
    number: int
    total: int
    done: bool


def answer_text(instrument: Instrument, item: Item, answers: Mapping[str, object], lang: str) -> str | None:
    """An answer as the respondent would say it: the option's label, the number, the date, the text.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> answer_text(citizen, citizen.item("knew_wmo"), {"knew_wmo": 1}, "nl")
    'ja'
    >>> answer_text(citizen, citizen.item("activities_now"), {"activities_now_1": 1, "activities_now_2": 1,
    ...                                                    "activities_now_3": 0, "activities_now_4": 0}, "en")
    'helping neighbours or acquaintances; volunteering'
    >>> answer_text(citizen, citizen.item("wellbeing"), {"wellbeing": 10}, "en"), answer_text(citizen, citizen.item("age"), {}, "nl")
    ('10 (excellent)', None)
    """
    value = forms.item_values(instrument, answers)[item.id]
    if value is None:
        return None
    scale = instrument.response_scale_of(item)
    labels = scale.labels(lang) if scale else {}
    if item.type is ItemType.multiple_choice:
        return "; ".join(labels[code] for code in scale.valid_codes if code in value) or translate("none_ticked", lang)
    if item.type is ItemType.score:
        code = int(value)
        if code in labels:
            return labels[code]
        ends = {
            int(item.min if item.min is not None else 0): "min",
            int(item.max if item.max is not None else 10): "max",
        }
        anchor = item.anchors.get(ends[code]) if item.anchors and code in ends else None
        return f"{code} ({anchor[lang]})" if anchor else str(code)
    if item.type in (ItemType.single_choice, ItemType.rating):
        return labels.get(int(value), str(value))
    if item.type is ItemType.date:
        return dt.date.fromisoformat(str(value)[:10]).strftime("%d-%m-%Y")
    if item.identifier:
        return translate("identifier_stored", lang, pseudonym=str(value))
    if item.type is ItemType.number:
        return f"{value:g}".replace(".", ",") if lang == "nl" else f"{value:g}"
    return str(value)


def review(instrument: Instrument, occasion: str, answers: Mapping[str, object], lang: str) -> list[ReviewPart]:
    """Every question the respondent was asked, page by page, with the answer given.

    Questions hidden by an answer are left out: the respondent never saw them.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> parts = review(soc, "intake", {"soc1": 7}, "en")
    >>> parts[0].rows[0].number, parts[0].rows[0].answer, parts[0].rows[1].answer
    (1, '7 - the other extreme', None)
    """
    numbers = instrument.question_numbers(occasion)
    settled = forms.settle(instrument, answers)
    parts = []
    for page in forms.pages(instrument, occasion):
        rows = tuple(
            ReviewRow(numbers[item.id], item.text[lang], answer_text(instrument, item, settled, lang))
            for item in forms.visible_items(instrument, page, settled)
        )
        if rows:
            parts.append(ReviewPart(page.number, page.section.title[lang], page.id, rows))
    return parts


def position(instrument: Instrument, all_pages: Sequence[forms.Page], answers: Mapping[str, object]) -> Position:
    """Where a returning respondent carries on, counted in parts as the page header counts them.

    ``done`` is True when every page has been answered and only the review is left.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> where = position(soc, forms.pages(soc, "intake"), {})
    >>> where.number, where.total, where.done
    (1, 1, False)
    """
    page = forms.resume_page(instrument, all_pages, answers)
    values = forms.item_values(instrument, forms.settle(instrument, answers))
    last_answered = any(values[item.id] is not None for item in page.items)
    done = (
        forms.incomplete(instrument, all_pages, answers) is None
        and last_answered
        and forms.next_page(instrument, all_pages, page, answers) is None
    )
    return Position(page, [p.number for p in all_pages].index(page.number) + 1, len(all_pages), done)
