"""A questionnaire as pages: what a respondent sees, and how a page becomes answers.

One page is one section of the instrument, holding the items asked at the
occasion. Show-if conditions are evaluated on the server against everything
answered so far (the browser repeats the evaluation only to reveal items while
the respondent types). A hidden item is never asked and never keeps an answer:
:func:`settle` clears it, so a changed answer on an early page also clears the
answers it made irrelevant on later pages.

Answers travel as wide response columns (see
:attr:`kantelmeter.Instrument.columns`): a code, number, ISO date or text per
item, and one 0/1 column per option of a multiple-choice item.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from kantelmeter.answers import TEXT_LIMIT, AnswerError, domains
from kantelmeter.conditions import Condition
from kantelmeter.instruments import Instrument, Item, ItemType, Section

__all__ = [
    "TEXT_LIMIT",
    "FieldError",
    "Page",
    "PageResult",
    "condition_items",
    "incomplete",
    "item_values",
    "next_page",
    "pages",
    "previous_page",
    "read_page",
    "resume_page",
    "settle",
    "visible_items",
]


@dataclass(frozen=True)
class Page:
    """One section as asked at one occasion; ``number`` counts from 1."""

    number: int
    section: Section
    items: tuple[Item, ...]

    @property
    def id(self) -> str:
        return self.section.id


@dataclass(frozen=True)
class FieldError:
    """Why an answer was refused: a message key (``web.<key>`` in :mod:`kantelmeter.messages`) and its values."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass
class PageResult:
    """A submitted page read against the instrument.

    ``answers`` holds the response columns of every item on the page (None for
    an unanswered or hidden item); ``errors`` maps item ids to the problem
    with their answer; ``shown`` lists the items visible after reading.
    """

    answers: dict[str, object]
    errors: dict[str, FieldError]
    shown: list[str]


def pages(instrument: Instrument, occasion: str) -> list[Page]:
    """The pages of an instrument at an occasion: its sections with items asked then.

    A repeated section gives one page per option of its source; a page whose
    option the respondent did not choose has no visible item and is passed by.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> [(p.number, p.id, len(p.items)) for p in pages(load_instrument("participation_wheel"), "follow_up")][:2]
    [(1, 'maatschappelijke_bijdragen', 2), (2, 'opdoen_vaardigheden', 2)]
    """
    asked = {item.id for item in instrument.items_at(occasion)}
    sections = [(s, tuple(i for i in s.items if i.id in asked)) for s in instrument.asked_sections]
    return [
        Page(number, section, items)
        for number, (section, items) in enumerate(((s, i) for s, i in sections if i), start=1)
    ]


def item_values(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, object]:
    """Wide response columns to the per-item values show-if conditions read.

    A multiple-choice item becomes the set of its chosen codes (None when none
    of its columns is answered); every other item keeps its column's value.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> item_values(soc, {"soc1": 3})["soc1"], item_values(soc, {})["soc2"]
    (3, None)
    """
    return {item.id: _value_of(instrument, item, answers) for item in instrument.items}


def _value_of(instrument: Instrument, item: Item, answers: Mapping[str, object]) -> object:
    if item.type is ItemType.multiple_choice:
        columns = {code: answers.get(column) for code, column in instrument.option_columns(item).items()}
        answered = [code for code, value in columns.items() if not _blank(value)]
        return {code for code in answered if columns[code] == 1} if answered else None
    value = answers.get(item.id)
    return None if _blank(value) else value


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@cache
def _condition(source: str) -> Condition:
    # Parsed once per distinct condition: every page view evaluates all of them.
    return Condition(source)


def _visible(item: Item, values: Mapping[str, object]) -> bool:
    return item.show_if is None or _condition(item.show_if).evaluate(values)


def condition_items(item: Item) -> frozenset[str]:
    """The ids of the items an item's show-if condition refers to (empty without one)."""
    return _condition(item.show_if).items if item.show_if else frozenset()


def visible_items(instrument: Instrument, page: Page, answers: Mapping[str, object]) -> list[Item]:
    """The items of a page that a respondent with these answers is asked."""
    values = item_values(instrument, settle(instrument, answers))
    return [item for item in page.items if _visible(item, values)]


def settle(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers with every hidden item cleared (its columns set to None).

    Conditions refer only to earlier items, so one pass in item order settles
    chains: clearing an item may hide a later one, which is cleared in turn.

    Examples
    --------
    >>> from kantelmeter import Instrument
    >>> from kantelmeter.instruments import parse_instrument
    >>> form = parse_instrument('''
    ... id: demo
    ... version: "1"
    ... title: {nl: d, en: d}
    ... description: {nl: d, en: d}
    ... source: {citation: d}
    ... licence: {name: d}
    ... occasions: [intake]
    ... sections:
    ...   - id: s
    ...     title: {nl: s, en: s}
    ...     items:
    ...       - {id: a, type: number, text: {nl: a, en: a}}
    ...       - {id: b, type: number, show_if: "a > 1", text: {nl: b, en: b}}
    ...       - {id: c, type: number, show_if: "b > 1", text: {nl: c, en: c}}
    ... ''')
    >>> settle(form, {"a": 1, "b": 5, "c": 5})
    {'a': 1, 'b': None, 'c': None}
    """
    settled = dict(answers)
    values = item_values(instrument, settled)
    for item in instrument.items:
        if not _visible(item, values):
            for column in instrument.columns_of(item):
                if column in settled:
                    settled[column] = None
            values[item.id] = None
    return settled


def read_page(
    instrument: Instrument,
    page: Page,
    form: Mapping[str, Sequence[str]],
    answers: Mapping[str, object],
    *,
    check_required: bool = True,
) -> PageResult:
    """Read a submitted page: parse, check and route every item on it.

    Parameters
    ----------
    instrument : Instrument
    page : Page
    form : mapping of str to list of str
        The submitted fields; a field may repeat (checkboxes).
    answers : mapping
        What is stored so far (wide columns), for conditions on earlier items.
    check_required : bool
        False when the respondent goes back a page: a required item may then
        stay open, but a malformed answer is still refused.

    Returns
    -------
    PageResult

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> soc = load_instrument("soc13")
    >>> page = pages(soc, "intake")[0]
    >>> result = read_page(soc, page, {"soc1": ["4"], "soc2": ["12"]}, {})
    >>> result.answers["soc1"], result.errors["soc2"].key
    (4, 'invalid_choice')
    """
    values = item_values(instrument, answers)
    result = PageResult(answers={}, errors={}, shown=[])
    for item in page.items:
        columns: dict[str, object] = dict.fromkeys(instrument.columns_of(item))
        if _visible(item, values):
            result.shown.append(item.id)
            raw = [v.strip() for v in form.get(item.id, []) if v.strip()]
            if item.identifier and not raw and values[item.id] is not None:
                continue  # stored as a pseudonym and never shown again: an empty field keeps it
            try:
                columns = _parse(instrument, item, raw)
            except _Refused as refused:
                result.errors[item.id] = refused.error
            else:
                if check_required and item.required and all(v is None for v in columns.values()):
                    result.errors[item.id] = FieldError("required")
        result.answers.update(columns)
        values[item.id] = _value_of(instrument, item, columns)
    return result


class _Refused(ValueError):
    def __init__(self, key: str, **params: object):
        super().__init__(key)
        self.error = FieldError(key, params)


def _parse(instrument: Instrument, item: Item, raw: list[str]) -> dict[str, object]:
    """The response columns of one item from its submitted strings, read by the item's answer domain."""
    if item.type is ItemType.multiple_choice:
        columns = instrument.columns_of(item)
        # a box's value is its code: it names its option column
        option = {str(code): column for code, column in instrument.option_columns(item).items()}
        if not set(raw) <= set(option):
            raise _Refused("invalid_choice")
        chosen = {option[value] for value in raw}
        return {column: (int(column in chosen) if chosen else None) for column in columns}
    if len(raw) > 1:
        raise _Refused("one_answer")
    domain = domains(instrument)[item.id]
    try:
        value = domain.parse(raw[0] if raw else None)
    except AnswerError as refused:
        raise _Refused(refused.key, **refused.params) from None
    # Whole numbers stay int, as the browser sent them: the page shows them back and conditions compare them.
    return {item.id: int(value) if isinstance(value, float) and value.is_integer() else value}


def _next_visible(instrument: Instrument, candidates: Sequence[Page], answers: Mapping[str, object]) -> Page | None:
    return next((page for page in candidates if visible_items(instrument, page, answers)), None)


def next_page(
    instrument: Instrument, all_pages: Sequence[Page], page: Page, answers: Mapping[str, object]
) -> Page | None:
    """The next page with a visible item, or None after the last one."""
    return _next_visible(instrument, all_pages[page.number :], answers)


def previous_page(
    instrument: Instrument, all_pages: Sequence[Page], page: Page, answers: Mapping[str, object]
) -> Page | None:
    """The previous page with a visible item, or None before the first one."""
    return _next_visible(instrument, list(reversed(all_pages[: page.number - 1])), answers)


def incomplete(instrument: Instrument, all_pages: Sequence[Page], answers: Mapping[str, object]) -> Page | None:
    """The first page with a visible required item still unanswered, if any."""
    values = item_values(instrument, settle(instrument, answers))
    for page in all_pages:
        for item in visible_items(instrument, page, answers):
            if item.required and values[item.id] is None:
                return page
    return None


def resume_page(instrument: Instrument, all_pages: Sequence[Page], answers: Mapping[str, object]) -> Page:
    """Where a returning respondent carries on.

    That is the first page with an open required item, or else the page after
    the last one holding any answer (the last page once everything is answered).
    """
    values = item_values(instrument, settle(instrument, answers))
    answered = [page for page in all_pages if any(values[item.id] is not None for item in page.items)]
    after_last = (
        (next_page(instrument, all_pages, answered[-1], answers) or answered[-1])
        if answered
        else _next_visible(instrument, all_pages, answers)
    )
    first_open = incomplete(instrument, all_pages, answers)
    candidates = [page for page in (first_open, after_last) if page is not None]
    return min(candidates, key=lambda page: page.number) if candidates else all_pages[-1]
