"""Repeated sections as a long table: one row per respondent, occasion and problem.

A repeated section (see :class:`kantelmeter.instruments.Repeat`) is stored
wide, one column per repetition (``interventions__1`` ... ``interventions__4``)
beside the rest of a response. :func:`repeated` turns those columns into the
long per-problem table analyses need: one row per element the respondent
chose, with the declared item ids as columns. The wide per-response frame
stays what scoring and every exchange format read.
"""

from __future__ import annotations

import pandas as pd

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, Repetition

__all__ = ["RepeatError", "repeated"]

#: The columns that identify a row of the long table, in front of the items.
KEY_COLUMNS = ["respondent", "occasion", "repetition", "element", "element_label"]


class RepeatError(KantelmeterError, ValueError):
    """A request for repeated answers the instrument cannot give."""


def repeated(instrument: Instrument, frame: pd.DataFrame, source: str | None = None, lang: str = "nl") -> pd.DataFrame:
    """The answers of repeated sections as one row per respondent, occasion and element.

    Parameters
    ----------
    instrument : Instrument
    frame : DataFrame
        Wide responses (the tidy contract, as :meth:`kantelmeter.store.Store.responses` returns them).
    source : str, optional
        The item the sections repeat over; needed only when the instrument
        repeats sections over more than one item.
    lang : {'nl', 'en'}
        The language of ``element_label``.

    Returns
    -------
    DataFrame
        Columns ``respondent``, ``occasion``, ``repetition`` (1, 2, ...: the
        position of the element among the source's options), ``element`` (its
        code), ``element_label``, further identifying columns of ``frame``
        (``cohort``), then every item of the repeated sections under its
        declared id (a multiple-choice item as ``<item>_<code>`` columns). A
        row is kept when the respondent chose the element, or, where the row
        does not hold the source's answer, when any of its columns is answered.

    Raises
    ------
    RepeatError
        When the instrument has no repeated section over ``source``, or
        ``source`` is needed and not given.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> wide = pd.DataFrame({"respondent": ["r1"], "occasion": ["follow_up"],
    ...                      "problems_raised_1": [1], "problems_raised_2": [0], "problems_raised_3": [1],
    ...                      "problems_raised_4": [0], "problem_result__1": [1.0], "problem_result__3": [6.0]})
    >>> long = repeated(citizen, wide, lang="en")
    >>> long[["respondent", "repetition", "element", "problem_result"]].to_dict("list")
    {'respondent': ['r1', 'r1'], 'repetition': [1, 3], 'element': [1, 3], 'problem_result': [1.0, 6.0]}
    """
    repetitions = _over(instrument, source)
    ids = [column for column in ("respondent", "occasion", "cohort") if column in frame.columns]
    declared = list(dict.fromkeys(item for r in repetitions for item in r.items))
    items = [column for item_id in declared for column in instrument.columns_of(instrument.item(item_id))]
    parts = []
    for number in dict.fromkeys(r.number for r in repetitions):
        names = {}  # the asked columns of this repetition, in every section over the source, to declared columns
        for repetition in (r for r in repetitions if r.number == number):
            for item_id, asked in repetition.items.items():
                names.update(
                    zip(instrument.columns_of(instrument.item(asked)), instrument.columns_of(instrument.item(item_id)))
                )
        first = next(r for r in repetitions if r.number == number)
        present = [column for column in names if column in frame.columns]
        chosen = frame.get(f"{first.template.repeat.for_each}_{first.code}")
        answered = frame[present].notna().any(axis=1)
        keep = answered if chosen is None else chosen.eq(1) | (chosen.isna() & answered)
        parts.append(
            frame.loc[keep, ids + present]
            .rename(columns=names)
            .assign(repetition=number, element=first.code, element_label=first.element[lang])
        )
    long = pd.concat(parts, ignore_index=True).reindex(columns=list(dict.fromkeys(KEY_COLUMNS + ids + items)))
    return long.sort_values(["respondent", "occasion", "repetition"], kind="stable").reset_index(drop=True)


def _over(instrument: Instrument, source: str | None) -> list[Repetition]:
    """The repetitions over one source item, the instrument's only one when none is named."""
    sources = list(dict.fromkeys(r.template.repeat.for_each for r in instrument.repetitions))
    if not sources:
        raise RepeatError(f"instrument {instrument.id!r} has no repeated section")
    if source is None and len(sources) > 1:
        raise RepeatError(
            f"instrument {instrument.id!r} repeats sections over {', '.join(sources)}; name one as source"
        )
    source = source or sources[0]
    if source not in sources:
        raise RepeatError(
            f"instrument {instrument.id!r} repeats no section over {source!r}; allowed: {', '.join(sources)}"
        )
    return [r for r in instrument.repetitions if r.template.repeat.for_each == source]
