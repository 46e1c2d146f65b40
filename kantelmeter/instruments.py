"""The instrument model: a questionnaire as data.

An instrument is a YAML file (see ``questionnaires/``) that declares its items,
response scales, scales and licence. :func:`load_instrument` reads one,
checks it completely and returns an :class:`Instrument`; every problem in the
file is reported at once, each with the file, line, field path, offending
value and what is allowed (in the spirit of pandera's lazy validation).

Instruments whose wording is licensed (SOC, UWES) ship their structure with
placeholder text; :func:`load_instrument` takes an ``overlay`` file that
supplies the licensed wording by item id.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from kantelmeter.conditions import Condition, ConditionError
from kantelmeter.contract import IdentifierKind
from kantelmeter.errors import KantelmeterError, NotFoundError
from kantelmeter.languages import LANGUAGES

if TYPE_CHECKING:  # pandas is imported by the two methods that return a table, so start-up stays quick
    import pandas as pd

__all__ = [
    "Instrument",
    "InstrumentError",
    "InstrumentProblem",
    "OccasionError",
    "Item",
    "ItemType",
    "Repeat",
    "Repetition",
    "ResponseScale",
    "Scale",
    "list_instruments",
    "load_instrument",
]


class InstrumentProblem(BaseModel):
    """One problem found in an instrument or overlay file."""

    model_config = ConfigDict(frozen=True)

    file: str
    line: int | None
    path: str
    value: Any = None
    problem: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        value = "" if self.value is None else f" (value {self.value!r})"
        return f"{where}: {self.path or '<top>'}{value}: {self.problem}"


class OccasionError(NotFoundError, ValueError):
    """An occasion the instrument is not asked at: a failed look-up and a value not allowed, as callers had it."""


class InstrumentError(KantelmeterError, ValueError):
    """An instrument file with one or more problems; all of them are listed.

    Attributes
    ----------
    problems : list of InstrumentProblem
    """

    def __init__(self, problems: list[InstrumentProblem]):
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun}:\n" + "\n".join(f"  {p}" for p in problems))

    def table(self) -> pd.DataFrame:
        """The problems as a DataFrame with columns file, line, path, value, problem."""
        import pandas as pd

        return pd.DataFrame([p.model_dump() for p in self.problems])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A text in Dutch and English."""

    nl: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __getitem__(self, lang: str) -> str:
        if lang not in LANGUAGES:
            raise NotFoundError(f"language {lang!r}; allowed: {', '.join(LANGUAGES)}")
        return getattr(self, lang)


class Code(_Model):
    """One answer option: its stored code, its label and, where an analysis reads it, what it means.

    ``meaning`` names the option in an analysis's own terms, so that the analysis reads the meaning
    from the instrument file and never a code (the wheel's attribution: ``yes``, ``partly``, ``no``).
    ``support`` marks an option naming help as ``material`` (a provision,
    money, something arranged) or ``immaterial`` (advice, conversations,
    support), the distinction of the source study's section 7.2.
    """

    code: int
    label: Text
    meaning: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    support: Literal["material", "immaterial"] | None = None


class ResponseScale(_Model):
    """Ordered answer codes, and missing codes kept apart from them.

    Missing codes ("weet niet", "niet van toepassing") are stored as given so
    nothing is lost, and treated as missing by scoring.
    """

    codes: list[Code] = Field(min_length=1)
    missing: list[Code] = []

    @property
    def valid_codes(self) -> list[int]:
        return [c.code for c in self.codes]

    @property
    def missing_codes(self) -> list[int]:
        return [c.code for c in self.missing]

    def labels(self, lang: str = "nl", include_missing: bool = True) -> dict[int, str]:
        """Code to label, in the given language."""
        options = self.codes + (self.missing if include_missing else [])
        return {c.code: c.label[lang] for c in options}


class ItemType(StrEnum):
    """The kinds of question an instrument may ask."""

    single_choice = "single_choice"
    multiple_choice = "multiple_choice"
    rating = "rating"
    score = "score"
    number = "number"
    date = "date"
    text = "text"


CODED_TYPES = {ItemType.single_choice, ItemType.multiple_choice, ItemType.rating}
SCORABLE_TYPES = {ItemType.single_choice, ItemType.rating, ItemType.score}


class Item(_Model):
    """One question.

    ``score`` is an integer rating between ``min`` and ``max`` (0-10 unless
    stated) whose end points may carry anchor labels; it may reference a
    response scale for its missing codes. ``identifier`` marks items that hold a
    BSN, a name, a client number, a case number or a staff member's code:
    those are pseudonymised at entry.
    ``whole`` marks a number item whose answers are whole numbers (age,
    household size), so other tools can type it as an integer. ``ceo``
    names the indicator of the Wmo client-experience survey an item matches
    (beyond the theme scales, ``role: ceo_theme``), for the benchmark delivery file.
    ``role`` names what an analysis reads the item as, so it never names the
    item: ``urgency`` (how much trouble a problem gives, at intake) and
    ``result`` (where a problem stands at follow-up) for the mix
    (:mod:`kantelmeter.mix`).

    ``help`` is for respondents: it is shown under the question on the web and
    on paper. ``note`` is for analysts (how an item is scored, what it compares
    with): it goes to the codebook, SPSS, XLSForm and REDCap, never to a form.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)
    type: ItemType
    text: Text
    help: Text | None = None
    note: Text | None = None
    response_scale: str | None = None
    required: bool = False
    show_if: str | None = None
    identifier: IdentifierKind | None = None
    min: float | None = None
    max: float | None = None
    whole: bool = False
    anchors: dict[Literal["min", "max"], Text] | None = None
    occasions: list[str] | None = None
    ceo: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    role: Literal["urgency", "result"] | None = None


def _scale_item(value: Any) -> Any:
    """Accept the psych-style shorthand ``"-soc1"`` for ``{item: soc1, key: -1}``."""
    if isinstance(value, str):
        return {"item": value.lstrip("+-"), "key": -1 if value.startswith("-") else 1}
    return value


class ScaleItem(_Model):
    item: str
    key: Literal[1, -1]


class Scale(_Model):
    """A scale: keyed items combined by sum or mean.

    ``min_answered`` is the fewest valid answers a score needs; between it and
    the full count the score is prorated (the mean of the answered items, times
    the item count for a sum). ``range`` may state the theoretical range, which
    is then checked against the one implied by the items' codes.
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text
    description: Text | None = None
    items: list[Annotated[ScaleItem, BeforeValidator(_scale_item)]] = Field(min_length=1)
    method: Literal["sum", "mean"] = "mean"
    min_answered: int | None = None
    range: tuple[float, float] | None = None
    role: Literal["ceo_theme"] | None = None
    """What an analysis uses the scale for: ``ceo_theme``, a theme of the CEO indicators (kantelmeter.ceo)."""

    @property
    def keys(self) -> dict[str, int]:
        """Item id to key (+1 or -1)."""
        return {s.item: s.key for s in self.items}

    @property
    def required_answers(self) -> int:
        return self.min_answered if self.min_answered is not None else len(self.items)


class Repeat(_Model):
    """How a section repeats: once per option of an earlier multiple-choice item.

    ``for_each`` names that item; it may be asked at another occasion (the
    follow-up repeats per problem the respondent raised at intake). ``label``
    titles each repetition and holds ``{element}``, which becomes the option's
    label, as in "Uw vraag over: {element}".
    """

    for_each: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: Text


class Section(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    intro: Text | None = None
    note: Text | None = None
    occasions: list[str] | None = None
    repeat: Repeat | None = None
    items: list[Item] = Field(min_length=1)


REPETITION = "__"
"""What joins an item id and its repetition number in a column name: ``interventions__2``."""


@dataclass(frozen=True)
class Repetition:
    """One repetition of a repeated section: the ``number``-th option of its source item.

    ``section`` is the section as asked that time (id ``<section>__<number>``,
    titled with the element), ``template`` the section as declared, ``code``
    and ``element`` the source option's code and label, and ``items`` maps
    each declared item id to its id in this repetition.
    """

    template: Section
    number: int
    code: int
    element: Text
    section: Section
    items: dict[str, str]


class Source(_Model):
    citation: str
    url: str | None = None
    note: Text | None = None


class Licence(_Model):
    name: str
    text_restricted: bool = False
    note: Text | None = None


class Instrument(_Model):
    """A validated questionnaire.

    Load one with :func:`load_instrument`. The wide response columns
    (:attr:`columns`) follow the tidy contract: one column per item, and one
    0/1 column ``<item>_<code>`` per option of a multiple-choice item.

    Examples
    --------
    >>> soc = load_instrument("soc13")
    >>> soc.id, len(soc.items), [s.id for s in soc.scales]
    ('soc13', 13, ['comprehensibility', 'manageability', 'meaningfulness', 'soc_total'])
    >>> soc.scale("soc_total").range
    (13.0, 91.0)
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: str
    title: Text
    description: Text
    source: Source
    licence: Licence
    occasions: list[str] = Field(min_length=1)
    response_scales: dict[str, ResponseScale] = {}
    sections: list[Section] = Field(min_length=1)
    scales: list[Scale] = []

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Instrument:
        """A copy; what is derived from the sections (items, repetitions) is derived again from the copy's."""
        copy = super().model_copy(update=update, deep=deep)
        for derived in _DERIVED:
            copy.__dict__.pop(derived, None)
        return copy

    @cached_property
    def definition(self) -> str:
        """The instrument as JSON, as the store records it; made once, as an instrument does not change."""
        return self.model_dump_json()

    @cached_property
    def asked_sections(self) -> list[Section]:
        """The sections as respondents get them: each repeated section once per option of its source.

        Examples
        --------
        >>> citizen = load_instrument("citizen")
        >>> [s.id for s in citizen.asked_sections if s.id.startswith("problem_follow_up")][:2]
        ['problem_follow_up__1', 'problem_follow_up__2']
        >>> citizen.asked_sections[-1].id == citizen.sections[-1].id
        True
        """
        repeated = {r.template.id: [] for r in self.repetitions}
        for repetition in self.repetitions:
            repeated[repetition.template.id].append(repetition.section)
        return [asked for section in self.sections for asked in repeated.get(section.id, [section])]

    @cached_property
    def repetitions(self) -> list[Repetition]:
        """Every repetition of every repeated section, in form order.

        Repetition ``k`` of a section is asked when the respondent chose the
        ``k``-th option of the source item; its items are ``<item>__k``, their
        conditions renamed to the same repetition and joined with "the option
        was chosen".

        Examples
        --------
        >>> r = load_instrument("citizen").repetitions[1]
        >>> r.number, r.code, r.items["urgency"], r.section.items[0].show_if
        (2, 2, 'urgency__2', '2 in problems_raised')
        >>> r.section.title.en
        'How much trouble you had with: a problem with an organisation, for example the housing association or the tax office'

        """
        found = []
        declared = {item.id: item for section in self.sections for item in section.items}
        for section in self.sections:
            source = declared.get(section.repeat.for_each) if section.repeat else None
            if (
                source is None
                or source.type is not ItemType.multiple_choice
                or source.response_scale not in self.response_scales
            ):
                continue  # asked as declared; validation names the problem
            scale = self.response_scales[source.response_scale]
            for number, option in enumerate(scale.codes, start=1):
                names = {item.id: f"{item.id}{REPETITION}{number}" for item in section.items}
                chosen = f"{option.code} in {section.repeat.for_each}"
                items = [
                    item.model_copy(
                        update={
                            "id": names[item.id],
                            "show_if": chosen
                            if item.show_if is None
                            else f"{chosen} and ({Condition(item.show_if).renamed(names).source})",
                        }
                    )
                    for item in section.items
                ]
                title = Text(
                    **{lang: section.repeat.label[lang].replace("{element}", option.label[lang]) for lang in LANGUAGES}
                )
                found.append(
                    Repetition(
                        section,
                        number,
                        option.code,
                        option.label,
                        section.model_copy(
                            update={
                                "id": f"{section.id}{REPETITION}{number}",
                                "title": title,
                                "repeat": None,
                                "items": items,
                            }
                        ),
                        names,
                    )
                )
        return found

    def repetition_of(self, item_id: str) -> tuple[Repetition, str] | None:
        """The repetition an item id belongs to and the declared item's id, or None for an item asked once.

        Examples
        --------
        >>> repetition, declared = load_instrument("citizen").repetition_of("problem_result__3")
        >>> declared, repetition.number, repetition.element.en
        ('problem_result', 3, 'a personal problem, for example loneliness, worries or health')
        >>> load_instrument("citizen").repetition_of("age") is None
        True
        """
        return self._repeated_ids.get(item_id)

    @cached_property
    def _repeated_ids(self) -> dict[str, tuple[Repetition, str]]:
        return {asked: (r, declared) for r in self.repetitions for declared, asked in r.items.items()}

    @cached_property
    def items(self) -> list[Item]:
        """Every item as asked, in order: a repeated section's items once per repetition (``<item>__k``)."""
        return [item for section in self.asked_sections for item in section.items]

    @cached_property
    def _item_index(self) -> dict[str, Item]:
        declared = {item.id: item for section in self.sections for item in section.items}
        return declared | {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        """The item with this id: an asked item, or a repeated section's item as declared."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise NotFoundError(f"instrument {self.id!r} has no item {item_id!r}") from None

    def item_with_role(self, role: str) -> Item:
        """The item (as declared) whose ``role:`` is ``role``; an error names the instrument and the role.

        Examples
        --------
        >>> load_instrument("citizen").item_with_role("urgency").response_scale
        'urgency'
        """
        found = [item for section in self.sections for item in section.items if item.role == role]
        if len(found) != 1:
            raise NotFoundError(
                f"instrument {self.id!r} has {len(found)} items with role {role!r} "
                f"({', '.join(item.id for item in found) or 'none'}); allowed: exactly one"
            )
        return found[0]

    def scale(self, scale_id: str) -> Scale:
        """The scale with this id."""
        for scale in self.scales:
            if scale.id == scale_id:
                return scale
        known = ", ".join(s.id for s in self.scales) or "none"
        raise NotFoundError(f"instrument {self.id!r} has no scale {scale_id!r}; scales: {known}")

    def response_scale_of(self, item: Item | str) -> ResponseScale | None:
        """The response scale an item answers on (None for open items)."""
        item = self.item(item) if isinstance(item, str) else item
        return self.response_scales[item.response_scale] if item.response_scale else None

    def valid_codes(self, item: Item | str) -> list[int] | None:
        """The valid (non-missing) codes of a coded or score item, else None."""
        item = self.item(item) if isinstance(item, str) else item
        if item.type is ItemType.score:
            return list(
                range(int(item.min if item.min is not None else 0), int(item.max if item.max is not None else 10) + 1)
            )
        scale = self.response_scale_of(item)
        return scale.valid_codes if scale and item.type in CODED_TYPES else None

    def missing_codes(self, item: Item | str) -> list[int]:
        """The codes that mean 'no valid answer' for an item."""
        scale = self.response_scale_of(item)
        return scale.missing_codes if scale else []

    def check_occasion(self, occasion: str) -> str:
        """``occasion``, when the instrument is asked at it; the one check every module makes of an occasion.

        Raises
        ------
        OccasionError
            For another occasion, naming the instrument's occasions.

        Examples
        --------
        >>> load_instrument("soc13").check_occasion("week_9")
        Traceback (most recent call last):
        ...
        kantelmeter.instruments.OccasionError: occasion 'week_9' is not one of soc13's occasions; allowed: intake, follow_up
        """
        if occasion not in self.occasions:
            raise OccasionError(
                f"occasion {occasion!r} is not one of {self.id}'s occasions; allowed: {', '.join(self.occasions)}"
            )
        return occasion

    def items_at(self, occasion: str) -> list[Item]:
        """The items asked at an occasion."""
        self.check_occasion(occasion)
        return [
            item
            for section in self.asked_sections
            for item in section.items
            if occasion in (item.occasions or section.occasions or self.occasions)
        ]

    def carried(self, occasion: str) -> list[Item]:
        """The items an occasion's repeated sections repeat over but that occasion does not ask.

        The follow-up asks about every problem raised at intake: its response
        carries the intake's answer to that item (copied, never asked again), so
        the form knows which repetitions to ask.

        Examples
        --------
        >>> citizen = load_instrument("citizen")
        >>> [item.id for item in citizen.carried("follow_up")], citizen.carried("intake")
        (['problems_raised'], [])
        """
        asked = {item.id for item in self.items_at(occasion)}
        sources = dict.fromkeys(
            r.template.repeat.for_each for r in self.repetitions if any(item in asked for item in r.items.values())
        )
        return [self.item(source) for source in sources if source not in asked]

    def question_numbers(self, occasion: str) -> dict[str, int]:
        """Item id to the question number a respondent sees at an occasion (1, 2, ... through the form).

        Examples
        --------
        >>> numbers = load_instrument("citizen").question_numbers("follow_up")
        >>> numbers["wellbeing"], "household" in numbers
        (1, False)
        """
        return {item.id: number for number, item in enumerate(self.items_at(occasion), start=1)}

    def question_label(self, item: Item | str) -> str:
        """The question number of an item at every occasion that asks it, as a codebook shows it.

        One number when the item has the same number wherever it is asked, else
        the number per occasion.

        Examples
        --------
        >>> citizen = load_instrument("citizen")
        >>> citizen.question_label("household"), citizen.question_label("wellbeing")
        ('1', 'intake 25 · follow_up 1')
        """
        item_id = item if isinstance(item, str) else item.id
        numbers = {occasion: self.question_numbers(occasion).get(item_id) for occasion in self.occasions}
        asked = {occasion: number for occasion, number in numbers.items() if number is not None}
        if len(set(asked.values())) == 1:
            return str(next(iter(asked.values())))
        return " · ".join(f"{occasion} {number}" for occasion, number in asked.items())

    def columns_of(self, item: Item) -> list[str]:
        """The wide response columns that hold an item's answer."""
        if item.type is ItemType.multiple_choice:
            return list(self.option_columns(item).values())
        return [item.id]

    def option_columns(self, item: Item) -> dict[int, str]:
        """Code to wide column of each option of a multiple-choice item: ``<item>_<code>``, 1 when ticked.

        Examples
        --------
        >>> citizen = load_instrument("citizen")
        >>> item = next(item for item in citizen.items if item.type is ItemType.multiple_choice)
        >>> code, column = next(iter(citizen.option_columns(item).items()))
        >>> column == f"{item.id}_{code}"
        True
        """
        return {code: f"{item.id}_{code}" for code in self.response_scales[item.response_scale].valid_codes}

    @property
    def columns(self) -> list[str]:
        """Every wide response column, in item order."""
        return [column for item in self.items for column in self.columns_of(item)]

    @property
    def identifiers(self) -> list[Item]:
        """Items that carry personal identifiers (BSN, name, client number)."""
        return [item for item in self.items if item.identifier]

    def condition(self, item: Item | str) -> Condition | None:
        """The parsed show-if condition of an item, if it has one."""
        item = self.item(item) if isinstance(item, str) else item
        return Condition(item.show_if) if item.show_if else None

    def codebook(self, lang: str = "nl") -> pd.DataFrame:
        """One row per item: its question number, text, type, codes, missing codes, scales and keys.

        ``question`` is the number a respondent sees (on the web and on paper;
        see :meth:`question_label`), ``item`` the variable name in the data.
        ``help`` is what respondents read under the question, ``note`` what
        analysts need to know (reverse scoring, comparisons), which no form shows.

        Parameters
        ----------
        lang : {'nl', 'en'}

        Examples
        --------
        >>> cb = load_instrument("soc13").codebook("en")
        >>> cb.set_index("item").loc["soc1", "scales"]
        'meaningfulness (-), soc_total (-)'
        >>> len(cb), bool(cb["required"].any())
        (13, False)
        """
        in_scales: dict[str, list[str]] = {}
        for scale in self.scales:
            for member in scale.items:
                in_scales.setdefault(member.item, []).append(f"{scale.id} ({'+' if member.key > 0 else '-'})")
        import pandas as pd

        rows = []
        for section in self.asked_sections:
            for item in section.items:
                answer_scale = self.response_scale_of(item)
                codes = self.valid_codes(item)
                labels = (
                    answer_scale.labels(lang, include_missing=False)
                    if answer_scale and item.type in CODED_TYPES
                    else {}
                )
                rows.append(
                    {
                        "question": self.question_label(item),
                        "section": section.id,
                        "item": item.id,
                        "text": item.text[lang],
                        "help": item.help[lang] if item.help else "",
                        "note": item.note[lang] if item.note else "",
                        "type": item.type.value,
                        "codes": "; ".join(f"{c}={labels[c]}" if c in labels else str(c) for c in codes)
                        if codes
                        else _bounds(item),
                        "missing": "; ".join(f"{c.code}={c.label[lang]}" for c in answer_scale.missing)
                        if answer_scale
                        else "",
                        "required": item.required,
                        "show_if": item.show_if or "",
                        "identifier": item.identifier or "",
                        "occasions": ", ".join(item.occasions or section.occasions or self.occasions),
                        "scales": ", ".join(in_scales.get(item.id, [])),
                        "repetition": section.title[lang] if self.repetition_of(item.id) else "",
                    }
                )
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        head = (
            f"<h4>{html.escape(self.title.nl)} / {html.escape(self.title.en)} "
            f"<small>({html.escape(self.id)} {html.escape(self.version)})</small></h4>"
            f"<p>{html.escape(self.description.nl)}</p>"
        )
        return head + self.codebook("nl").to_html(index=False, escape=True)


# The cached properties of an Instrument, all derived from its sections.
_DERIVED = ("asked_sections", "repetitions", "_repeated_ids", "items", "_item_index", "definition")


def _bounds(item: Item) -> str:
    if item.min is None and item.max is None:
        return ""
    low = "" if item.min is None else f"{item.min:g}"
    high = "" if item.max is None else f"{item.max:g}"
    return f"{low}..{high}"


# --- loading -----------------------------------------------------------------


def _shipped() -> dict[str, Any]:
    folder = resources.files("kantelmeter.questionnaires")
    return {entry.name.removesuffix(".yaml"): entry for entry in folder.iterdir() if entry.name.endswith(".yaml")}


def list_instruments() -> list[str]:
    """The ids of the instruments shipped with kantelmeter.

    Examples
    --------
    >>> "soc13" in list_instruments()
    True
    """
    return sorted(_shipped())


def load_instrument(source: str | Path, overlay: str | Path | None = None) -> Instrument:
    """Load and validate an instrument.

    Parameters
    ----------
    source : str or path
        A shipped instrument id (see :func:`list_instruments`) or the path of
        a YAML file.
    overlay : str or path, optional
        A YAML file with licensed item wording, merged by item id (see
        ``questionnaires/README.md``).

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        Listing every problem found, each with file, line, field and value.

    Examples
    --------
    >>> load_instrument("soc13").licence.text_restricted
    True
    """
    shipped = _shipped()
    if isinstance(source, str) and source in shipped:
        name, text = f"questionnaires/{source}.yaml", shipped[source].read_text(encoding="utf-8")
    else:
        path = Path(source)
        if not path.is_file():
            known = ", ".join(sorted(shipped))
            raise FileNotFoundError(f"{source!r} is neither a shipped instrument ({known}) nor a file")
        name, text = str(path), path.read_text(encoding="utf-8")
    instrument = parse_instrument(text, name)
    return apply_overlay(instrument, overlay) if overlay is not None else instrument


def parse_instrument(text: str, name: str = "<string>") -> Instrument:
    """Validate the YAML text of an instrument; see :func:`load_instrument`."""
    data, lines, problems = _read_yaml(text, name)
    if data is None:
        raise InstrumentError(problems)
    if not isinstance(data, dict):
        raise InstrumentError(
            [
                InstrumentProblem(
                    file=name,
                    line=1,
                    path="",
                    value=type(data).__name__,
                    problem="an instrument file must be a mapping of fields",
                )
            ]
        )
    try:
        instrument = Instrument.model_validate(data)
    except ValidationError as exc:
        problems += [_from_pydantic(error, name, lines) for error in exc.errors()]
        raise InstrumentError(problems) from None
    problems += [
        InstrumentProblem(file=name, line=_line_of(path, lines), path=_dotted(path), value=value, problem=problem)
        for path, value, problem in _semantic_problems(instrument)
    ]
    if problems:
        raise InstrumentError(problems)
    return instrument


def apply_overlay(instrument: Instrument, overlay: str | Path) -> Instrument:
    """Merge licensed item wording from an overlay file into an instrument.

    The overlay names the instrument it is for and gives, per item id, a
    ``text`` (and optionally ``help``) in Dutch and English. Ids the instrument
    does not have are an error, so a typo never silently leaves a placeholder.
    """
    name = str(overlay)
    data, lines, problems = _read_yaml(Path(overlay).read_text(encoding="utf-8"), name)
    if data is None:
        raise InstrumentError(problems)
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise InstrumentError(
            [
                InstrumentProblem(
                    file=name,
                    line=1,
                    path="items",
                    value=None,
                    problem="an overlay needs 'instrument' and an 'items' mapping",
                )
            ]
        )
    if data.get("instrument") != instrument.id:
        problems.append(
            InstrumentProblem(
                file=name,
                line=_line_of(("instrument",), lines),
                path="instrument",
                value=data.get("instrument"),
                problem=f"overlay is for another instrument; expected {instrument.id!r}",
            )
        )
    known = {item.id for item in instrument.items}
    for item_id, fields in data["items"].items():
        if item_id not in known:
            problems.append(
                InstrumentProblem(
                    file=name,
                    line=_line_of(("items", item_id), lines),
                    path=f"items.{item_id}",
                    value=item_id,
                    problem=f"unknown item id; {instrument.id} has {', '.join(sorted(known))}",
                )
            )
        elif not isinstance(fields, dict) or not set(fields) <= {"text", "help"}:
            problems.append(
                InstrumentProblem(
                    file=name,
                    line=_line_of(("items", item_id), lines),
                    path=f"items.{item_id}",
                    value=fields,
                    problem="an overlay entry may set only 'text' and 'help'",
                )
            )
    if problems:
        raise InstrumentError(problems)
    merged = instrument.model_dump(mode="json", exclude_unset=False)
    for section in merged["sections"]:
        for item in section["items"]:
            item.update(data["items"].get(item["id"], {}))
    try:
        return Instrument.model_validate(merged)
    except ValidationError as exc:
        raise InstrumentError([_from_pydantic(error, name, lines) for error in exc.errors()]) from None


# --- YAML with line numbers --------------------------------------------------


def _read_yaml(text: str, name: str) -> tuple[Any, dict[tuple, int], list[InstrumentProblem]]:
    """Parse YAML, recording the line of every node and flagging duplicate keys."""
    loader = _Loader(text)
    try:
        # one parse: the node tree gives the lines, and the same tree is turned into data
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return (
            None,
            {},
            [
                InstrumentProblem(
                    file=name,
                    line=mark.line + 1 if mark else None,
                    path="",
                    value=None,
                    problem=f"not valid YAML: {getattr(exc, 'problem', exc)}",
                )
            ],
        )
    finally:
        loader.dispose()
    if root is None:
        return (
            None,
            {},
            [
                InstrumentProblem(
                    file=name, line=None, path="", value=None, problem="the file is empty; allowed: a mapping of fields"
                )
            ],
        )
    lines: dict[tuple, int] = {}
    problems: list[InstrumentProblem] = []
    for path, node in _walk(root, ()):
        # A field's line is the line of its key (set while visiting its parent), not
        # the line where a block value starts, which is the next one.
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, _ in node.value:
                lines.setdefault(path + (key.value,), key.start_mark.line + 1)
            counts = Counter(key.value for key, _ in node.value)
            problems += [
                InstrumentProblem(
                    file=name,
                    line=key.start_mark.line + 1,
                    path=_dotted(path + (key.value,)),
                    value=key.value,
                    problem="key appears more than once in this mapping",
                )
                for key, _ in node.value
                if counts[key.value] > 1
            ]
    return data, lines, problems


# libyaml's parser is about ten times faster than the pure-Python one; PyYAML may be built without it
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _walk(node: yaml.Node | None, path: tuple) -> Iterator[tuple[tuple, yaml.Node]]:
    if node is None:
        return
    yield path, node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(value, path + (key.value,))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            yield from _walk(value, path + (index,))


def _line_of(path: Iterable, lines: dict[tuple, int]) -> int | None:
    path = tuple(path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def _dotted(path: Iterable) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _from_pydantic(error: dict, name: str, lines: dict[tuple, int]) -> InstrumentProblem:
    # Pydantic adds the tag of a validator or union branch to the location; drop what is not a field.
    path = tuple(
        part for part in error["loc"] if isinstance(part, int) or not part.startswith(("function-", "literal["))
    )
    value = error.get("input")
    if isinstance(value, (dict, list)):
        value = None
    return InstrumentProblem(
        file=name, line=_line_of(path, lines), path=_dotted(path), value=value, problem=_allowed(error)
    )


def _allowed(error: dict) -> str:
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "enum":
        return f"not allowed; allowed: {', '.join(t.value for t in ItemType)}"
    return error["msg"]


# --- cross-field checks ------------------------------------------------------


def _semantic_problems(instrument: Instrument) -> Iterator[tuple[tuple, Any, str]]:
    """Checks that span fields: references, ordering, codes, scale rules."""
    for name, scale in instrument.response_scales.items():
        codes = Counter(c.code for c in scale.codes + scale.missing)
        for kind, options in (("codes", scale.codes), ("missing", scale.missing)):
            for index, option in enumerate(options):
                if codes[option.code] > 1:
                    yield (
                        ("response_scales", name, kind, index, "code"),
                        option.code,
                        "code is used more than once in this response scale (a missing code may not equal a valid code)",
                    )

    seen: dict[str, tuple] = {}
    columns: Counter = Counter(instrument.columns)
    for s, section in enumerate(instrument.sections):
        for i, item in enumerate(section.items):
            here = ("sections", s, "items", i)
            if item.id in seen:
                yield here + ("id",), item.id, "item id is used more than once"
            yield from _item_problems(instrument, item, here, seen)
            for column in instrument.columns_of(item):
                if item.type is ItemType.multiple_choice and columns[column] > 1:
                    yield here + ("id",), column, "an option column of this item collides with another item id"
            seen[item.id] = here
        for repetition in (r for r in instrument.repetitions if r.template.id == section.id):
            seen.update(dict.fromkeys(repetition.items.values(), ("sections", s)))
        for o, occasion in enumerate(section.occasions or []):
            if occasion not in instrument.occasions:
                yield (
                    ("sections", s, "occasions", o),
                    occasion,
                    f"unknown occasion; allowed: {', '.join(instrument.occasions)}",
                )

    yield from _repeat_problems(instrument, columns)
    repeated = {item.id for section in instrument.sections if section.repeat for item in section.items}
    scale_ids = Counter(scale.id for scale in instrument.scales)
    for c, summed in enumerate(instrument.scales):
        yield from _scale_problems(instrument, summed, ("scales", c), seen, scale_ids)
        for m, member in enumerate(summed.items):
            if member.item in repeated:
                yield (
                    ("scales", c, "items", m),
                    member.item,
                    f"an item of a repeated section is asked once per repetition; name one, "
                    f"such as {member.item}{REPETITION}1",
                )


def _repeat_problems(instrument: Instrument, columns: Counter) -> Iterator[tuple[tuple, Any, str]]:
    """A repeated section's source must be an earlier multiple-choice item asked once, and its label name the element."""
    where = {item.id: (s, section) for s, section in enumerate(instrument.sections) for item in section.items}
    repeated = {}
    for s, section in enumerate(instrument.sections):
        if section.repeat is None:
            continue
        here, source = ("sections", s, "repeat"), section.repeat.for_each
        repeated.update(dict.fromkeys((item.id for item in section.items), section.id))
        if source not in where:
            yield (
                here + ("for_each",),
                source,
                "unknown item; a section repeats per option of an earlier multiple-choice item",
            )
        elif where[source][1].repeat is not None:
            yield (
                here + ("for_each",),
                source,
                f"{source!r} is in the repeated section {where[source][1].id!r}; repeats cannot be nested",
            )
        elif where[source][0] >= s:
            yield here + ("for_each",), source, f"{source!r} is not asked before section {section.id!r}"
        elif instrument.item(source).type is not ItemType.multiple_choice:
            yield (
                here + ("for_each",),
                source,
                f"{source!r} is a {instrument.item(source).type.value} item; allowed: a multiple_choice item",
            )
        for lang in LANGUAGES:
            if "{element}" not in section.repeat.label[lang]:
                yield (
                    here + ("label", lang),
                    section.repeat.label[lang],
                    "the label must hold {element}, which becomes the option's label",
                )
    for repetition in instrument.repetitions:
        for item in repetition.section.items:
            for column in instrument.columns_of(item):
                if columns[column] > 1:
                    s = [section.id for section in instrument.sections].index(repetition.template.id)
                    yield (
                        ("sections", s, "id"),
                        column,
                        "a column of this repeated section collides with another column",
                    )
    for s, section in enumerate(instrument.sections):
        for i, item in enumerate(section.items):
            refs = sorted(
                ref
                for ref in (Condition(item.show_if).items if item.show_if and _parses(item.show_if) else ())
                if repeated.get(ref, section.id) != section.id
            )
            for ref in refs:
                yield (
                    ("sections", s, "items", i, "show_if"),
                    item.show_if,
                    f"{ref!r} is asked once per repetition of section {repeated[ref]!r}; name one, "
                    f"such as {ref}{REPETITION}1",
                )


def _parses(source: str) -> bool:
    try:
        Condition(source)
    except ConditionError:
        return False
    return True


def _item_problems(instrument: Instrument, item: Item, here: tuple, earlier: dict) -> Iterator[tuple[tuple, Any, str]]:
    scales = instrument.response_scales
    if item.type in CODED_TYPES and item.response_scale is None:
        yield here + ("response_scale",), None, f"a {item.type.value} item needs a response_scale"
    if item.response_scale is not None and item.response_scale not in scales:
        yield (
            here + ("response_scale",),
            item.response_scale,
            f"unknown response scale; defined: {', '.join(scales) or 'none'}",
        )
    if item.type not in CODED_TYPES | {ItemType.score} and item.response_scale is not None:
        yield here + ("response_scale",), item.response_scale, f"a {item.type.value} item takes no response_scale"
    if item.type is ItemType.score and (item.min is None) != (item.max is None):
        yield here + ("min",), item.min, "a score item gives both min and max, or neither (0-10)"
    if item.min is not None and item.max is not None and item.min >= item.max:
        yield here + ("max",), item.max, f"max must be greater than min ({item.min:g})"
    if item.type is ItemType.score and item.response_scale in scales and scales[item.response_scale].codes:
        overlap = set(scales[item.response_scale].missing_codes) & set(instrument.valid_codes(item))
        if overlap:
            yield (
                here + ("response_scale",),
                sorted(overlap),
                "missing codes of this response scale fall inside the score's range",
            )
    if item.whole and item.type is not ItemType.number:
        yield here + ("whole",), item.whole, "only a number item can be marked whole"
    if item.identifier and item.type is not ItemType.text:
        yield here + ("identifier",), item.identifier, "an identifier item must be of type text"
    for o, occasion in enumerate(item.occasions or []):
        if occasion not in instrument.occasions:
            yield (here + ("occasions", o), occasion, f"unknown occasion; allowed: {', '.join(instrument.occasions)}")
    if item.show_if is not None:
        try:
            condition = Condition(item.show_if)
        except ConditionError as exc:
            yield here + ("show_if",), item.show_if, str(exc)
            return
        for ref in sorted(condition.items):
            if ref == item.id:
                yield here + ("show_if",), item.show_if, f"the condition refers to the item itself ({ref})"
            elif ref not in earlier:
                later = any(other.id == ref for other in instrument.items)
                yield (
                    here + ("show_if",),
                    item.show_if,
                    f"{ref!r} is {'a later item' if later else 'not an item'}; a condition may refer only to earlier items",
                )


def _scale_problems(
    instrument: Instrument, scale: Scale, here: tuple, items: dict, scale_ids: Counter
) -> Iterator[tuple[tuple, Any, str]]:
    if scale_ids[scale.id] > 1:
        yield here + ("id",), scale.id, "scale id is used more than once"
    members = Counter(member.item for member in scale.items)
    usable = True
    for m, member in enumerate(scale.items):
        if member.item not in items:
            usable = False
            yield here + ("items", m), member.item, "unknown item"
            continue
        item = instrument.item(member.item)
        if item.type not in SCORABLE_TYPES:
            usable = False
            yield (
                here + ("items", m),
                member.item,
                f"a {item.type.value} item cannot be scored; allowed types: rating, score, single_choice",
            )
        elif instrument.valid_codes(item) is None:
            usable = False
        if members[member.item] > 1:
            yield here + ("items", m), member.item, "item appears more than once in this scale"
    if scale.min_answered is not None and not 1 <= scale.min_answered <= len(scale.items):
        yield (
            here + ("min_answered",),
            scale.min_answered,
            f"must be between 1 and the number of items ({len(scale.items)})",
        )
    if usable and scale.range is not None:
        expected = theoretical_range(instrument, scale)
        if tuple(scale.range) != expected:
            yield here + ("range",), list(scale.range), f"the items' codes give the range {list(expected)}"


def theoretical_range(instrument: Instrument, scale: Scale) -> tuple[float, float]:
    """The lowest and highest score a scale can take, from its items' codes.

    Examples
    --------
    >>> soc = load_instrument("soc13")
    >>> theoretical_range(soc, soc.scale("meaningfulness"))
    (4.0, 28.0)
    """
    lows, highs = zip(
        *((min(codes), max(codes)) for codes in (instrument.valid_codes(member.item) for member in scale.items))
    )
    if scale.method == "sum":
        return float(sum(lows)), float(sum(highs))
    return float(sum(lows) / len(lows)), float(sum(highs) / len(highs))
