"""Which questions a stored response was asked: the show-if routing replayed on its answers.

An empty cell means one of two things: the respondent skipped a question
they were shown, or the routing never showed it (no contact with the
municipality, so no question about that contact). Only the first is a
missing answer. :func:`asked` tells them apart for a table of wide
responses, by evaluating each item's show-if condition
(:class:`kantelmeter.conditions.Condition`) on the answers to the earlier
items, in item order, as the web form does (an item behind a question that
was itself not asked is not asked either).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kantelmeter.instruments import Instrument, ItemType

__all__ = ["asked"]


def asked(instrument: Instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """Per response and item: True when the routing showed the item, False when it routed past it.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide responses (:meth:`kantelmeter.store.Store.responses`); a column
        the table lacks counts as unanswered.

    Returns
    -------
    pandas.DataFrame of bool
        Same index as ``responses``, one column per item id of the instrument.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> wide = pd.DataFrame({"support_contact": [1, 2, None], "ceo_access_quick": [4, None, None]})
    >>> asked(citizen, wide)[["support_contact", "ceo_access_quick", "client_support_used"]]
       support_contact  ceo_access_quick  client_support_used
    0             True              True                False
    1             True             False                False
    2             True             False                False
    """
    shown = pd.DataFrame(True, index=responses.index, columns=[item.id for item in instrument.items])
    values: dict[str, list] = {}

    def value_of(item_id: str) -> list:
        # what a condition reads: None when unanswered or not asked; a multiple-choice item is its set of codes
        if item_id not in values:
            item = instrument.item(item_id)
            if item.type is ItemType.multiple_choice:
                columns = [c for c in instrument.columns_of(item) if c in responses]
                codes = [int(c.rsplit("_", 1)[1]) for c in columns]
                ticked = responses[columns].to_numpy(dtype=float) if columns else np.full((len(responses), 0), np.nan)
                found = [
                    None if np.isnan(row).all() else {code for code, on in zip(codes, row) if on == 1} for row in ticked
                ]
            else:
                column = responses[item_id] if item_id in responses else pd.Series(None, index=responses.index)
                found = [None if pd.isna(v) else v for v in column.to_numpy(dtype=object)]
            values[item_id] = [v if on else None for v, on in zip(found, shown[item_id].to_numpy())]
        return values[item_id]

    for item in instrument.items:
        condition = instrument.condition(item)
        if condition is None:
            continue
        names = sorted(condition.items)
        rows = list(zip(*(value_of(name) for name in names)))
        verdicts: dict[tuple, bool] = {}
        mask = []
        for row in rows:
            key = tuple(frozenset(v) if isinstance(v, set) else v for v in row)
            if key not in verdicts:
                verdicts[key] = condition.evaluate(dict(zip(names, row)))
            mask.append(verdicts[key])
        shown[item.id] = np.asarray(mask, dtype=bool) if rows else np.zeros(len(responses), bool)
    return shown
