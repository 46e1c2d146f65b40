"""CEO-comparable indicators: % (fully) agree among valid answers, as the Wmo client-experience survey reports.

Since 2015 every Dutch municipality surveys its Wmo clients each year
(cliëntervaringsonderzoek, CEO) and publishes, per question, the percentage
of clients who agree or fully agree among those who gave a valid answer:
"don't know" and "not applicable" are left out of the denominator (VNG/KING,
*Handreiking cliëntervaringsonderzoek Wmo*, 2015; the published benchmark
'Waar staat je gemeente'). kantelmeter's citizen questionnaire asks the
CEO's three themes (access, quality, effect) in its own words; an instrument
marks them as CEO-comparable by scales whose id starts with ``ceo_``, one
scale per theme. :func:`indicators` computes the CEO's figure per item, so a
municipality can set its pilot beside its own CEO results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kantelmeter.instruments import Instrument
from kantelmeter.proportions import wilson_interval
from kantelmeter.scoring import answers, to_wide

__all__ = ["THEME_PREFIX", "indicators", "themes"]

#: Scales whose id starts with this prefix are CEO themes (instrument convention).
THEME_PREFIX = "ceo_"


def themes(instrument: Instrument) -> dict[str, list[str]]:
    """The CEO themes of an instrument: scale id to its item ids, in the instrument's order.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> {theme: len(items) for theme, items in themes(load_instrument("citizen")).items()}
    {'ceo_access': 4, 'ceo_quality': 2, 'ceo_effect': 3}
    """
    found = {scale.id: [entry.item for entry in scale.items]
             for scale in instrument.scales if scale.id.startswith(THEME_PREFIX)}
    if not found:
        raise ValueError(f"instrument {instrument.id!r} has no CEO themes: no scale id starts with "
                         f"{THEME_PREFIX!r} (see questionnaires/citizen.yaml)")
    return found


def indicators(instrument: Instrument, responses: pd.DataFrame, by: str | list[str] | None = "cohort",
               top: int = 2, confidence: float = 0.95) -> pd.DataFrame:
    """Per CEO item (and group): the share who (fully) agree among the valid answers.

    Method: the CEO's indicator (VNG/KING 2015): the numerator counts answers
    in the ``top`` highest codes of the item's response scale (agree, fully
    agree on a five-point scale), the denominator every valid answer; missing
    codes (don't know, not applicable) and blanks count in neither. Keys are
    not applied: every CEO statement is worded so that agreeing is positive.
    The interval is the Wilson score interval
    (:func:`kantelmeter.proportions.wilson_interval`).

    Parameters
    ----------
    instrument : Instrument
        An instrument with CEO themes (:func:`themes`).
    responses : pandas.DataFrame
        Wide responses; the rows to count (select the occasion beforehand).
    by : str, list of str or None, default "cohort"
        Grouping columns.
    top : int, default 2
        How many of the highest codes count as agreeing.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per theme, item (and group): ``theme``, ``item``, the grouping
        columns, ``n_valid``, ``n_agree``, ``pct_agree`` (NaN when nobody
        answered validly), ``ci_low``, ``ci_high`` (percent).

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> frame = pd.DataFrame({"respondent": list("abcde"), "cohort": ["pilot"] * 5,
    ...                       "ceo_access_quick": [5, 4, 2, 8, 9]})
    >>> row = indicators(citizen, frame).query("item == 'ceo_access_quick'").iloc[0]
    >>> int(row.n_valid), int(row.n_agree), round(float(row.pct_agree), 1)
    (3, 2, 66.7)
    """
    groups = [by] if isinstance(by, str) else list(by or [])
    wide = to_wide(responses)
    missing_groups = [column for column in groups if column not in wide.columns]
    if missing_groups:
        raise ValueError(f"grouping column(s) {', '.join(missing_groups)} not in the responses; "
                         f"allowed: {', '.join(map(str, wide.columns))}")
    if top < 1:
        raise ValueError(f"top={top!r}; allowed: a whole number >= 1")
    theme_of = {item: theme for theme, items in themes(instrument).items() for item in items}
    present = [item for item in theme_of if item in wide.columns]
    values, _ = answers(instrument, wide, present)
    rows = []
    for j, item in enumerate(present):
        codes = sorted(instrument.valid_codes(instrument.item(item)))
        if top >= len(codes):
            raise ValueError(f"item {item!r}: top={top} of {len(codes)} codes; allowed: fewer than the codes")
        frame = wide[groups].copy()
        frame["valid"] = ~np.isnan(values[:, j])
        frame["agree"] = np.isin(values[:, j], codes[-top:])
        counts = (frame.groupby(groups, observed=True, sort=False)[["valid", "agree"]].sum() if groups
                  else frame[["valid", "agree"]].sum().to_frame().T)
        counts = counts.reset_index(drop=not groups)
        counts.insert(0, "item", item)
        counts.insert(0, "theme", theme_of[item])
        rows.append(counts)
    table = pd.concat(rows, ignore_index=True).rename(columns={"valid": "n_valid", "agree": "n_agree"})
    table[["n_valid", "n_agree"]] = table[["n_valid", "n_agree"]].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["pct_agree"] = 100 * table["n_agree"] / table["n_valid"].where(table["n_valid"] > 0)
    low, high = wilson_interval(table["n_agree"], table["n_valid"], confidence)
    table["ci_low"], table["ci_high"] = 100 * low, 100 * high
    return table
