"""Answers a later occasion carries from an earlier one, so its repeated sections know what to repeat.

The citizen follow-up asks about every problem raised at intake: its pages
repeat per option ticked in ``problems_raised``, an intake item (see
:meth:`kantelmeter.Instrument.carried`). :func:`carried_answers` reads that
answer from the respondent's completed response at the earlier occasion; the
form app stores it with the first saved page, so the follow-up response holds
what its routing depended on.
"""

from __future__ import annotations

from kantelmeter.answers import is_blank
from kantelmeter.instruments import Instrument
from kantelmeter.store import Store

__all__ = ["carried_answers"]


def carried_answers(store: Store, instrument: Instrument, occasion: str, respondent: str) -> dict[str, object]:
    """The columns of the items an occasion carries, from the respondent's latest earlier complete response.

    Returns an empty mapping when the occasion carries nothing or the
    respondent has no complete response at an earlier occasion asking it.
    """
    found: dict[str, object] = {}
    earlier = instrument.occasions[: instrument.occasions.index(occasion)]
    for item in instrument.carried(occasion):
        columns = instrument.columns_of(item)
        for source in reversed([o for o in earlier if item in instrument.items_at(o)]):
            frame = store.responses(instrument, occasion=source)
            rows = frame.loc[frame["respondent"] == respondent, columns]
            if len(rows):
                found.update({column: None if is_blank(value) else value for column, value in rows.iloc[-1].items()})
                break
    return found
