"""CEO-comparable indicators: % (fully) agree among valid answers, as the Wmo client-experience survey reports.

Since 2015 every Dutch municipality surveys its Wmo clients each year
(cliëntervaringsonderzoek, CEO) and publishes, per question, the percentage
of clients who agree or fully agree among those who gave a valid answer:
"don't know" and "not applicable" are left out of the denominator (VNG/KING,
*Handreiking cliëntervaringsonderzoek Wmo*, 2015; the published benchmark
'Waar staat je gemeente'). kantelmeter's citizen questionnaire asks the
CEO's three themes (access, quality, effect) in its own words; an instrument
marks them as CEO-comparable by scales with ``role: ceo_theme``, one
scale per theme. :func:`indicators` computes the CEO's figure per item, so a
municipality can set its pilot beside its own CEO results.

For a survey round (:mod:`kantelmeter.survey`) the figures are weighted
when the round has weights (:func:`round_indicators`), and :func:`delivery`
writes the benchmark delivery file: counts per answer category of every
CEO indicator (the theme items and the items marked ``ceo:`` in the
instrument) with the round's population, invitations, responses, modes and
fieldwork period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument
from kantelmeter.messages import message
from kantelmeter.proportions import wilson_interval
from kantelmeter.routing import asked
from kantelmeter.scoring import answers, to_wide

__all__ = ["CEOError", "DELIVERY_COLUMNS", "THEME_ROLE", "delivery", "indicators", "round_indicators", "themes"]

#: Scales marked with this role in the instrument file are CEO themes (``role: ceo_theme``).
THEME_ROLE = "ceo_theme"


class CEOError(KantelmeterError, ValueError):
    """Responses or options the CEO indicators cannot be computed from; the message says what is allowed."""


def themes(instrument: Instrument) -> dict[str, list[str]]:
    """The CEO themes of an instrument: scale id to its item ids, in the instrument's order.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> {theme: len(items) for theme, items in themes(load_instrument("citizen")).items()}
    {'ceo_access': 4, 'ceo_quality': 2, 'ceo_effect': 3}
    """
    found = {scale.id: [entry.item for entry in scale.items] for scale in instrument.scales if scale.role == THEME_ROLE}
    if not found:
        raise CEOError(
            f"instrument {instrument.id!r} has no CEO themes: no scale has 'role: {THEME_ROLE}' "
            "(see questionnaires/citizen.yaml)"
        )
    return found


def indicators(
    instrument: Instrument,
    responses: pd.DataFrame,
    by: str | list[str] | None = "cohort",
    top: int = 2,
    confidence: float = 0.95,
    weights: pd.Series | None = None,
    design=None,
) -> pd.DataFrame:
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
    weights : pandas.Series, optional
        Survey weights by respondent pseudonym (a round's stored weights).
        Then ``pct_agree`` is the weighted share and its interval the logit
        interval of :func:`kantelmeter.survey.estimate` (Taylor-linearised,
        strata and finite-population correction from ``design``; the weights
        are taken as fixed, which is conservative after calibration); ``by``
        may then name one column.
    design : kantelmeter.survey.Sample, optional
        The round's sample, for strata and population sizes.

    Returns
    -------
    pandas.DataFrame
        One row per theme, item (and group): ``theme``, ``item``, the grouping
        columns, ``n_valid``, ``n_agree``, ``pct_agree`` (NaN when nobody
        answered validly), ``ci_low``, ``ci_high`` (percent); with weights also
        ``se`` (percentage points) and ``deff``.

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
        raise CEOError(
            f"grouping column(s) {', '.join(missing_groups)} not in the responses; "
            f"allowed: {', '.join(map(str, wide.columns))}"
        )
    if top < 1:
        raise CEOError(f"top={top!r}; allowed: a whole number >= 1")
    theme_of = {item: theme for theme, items in themes(instrument).items() for item in items}
    present = [item for item in theme_of if item in wide.columns]
    values, _ = answers(instrument, wide, present)
    rows = []
    for j, item in enumerate(present):
        codes = sorted(instrument.valid_codes(instrument.item(item)))
        if top >= len(codes):
            raise CEOError(f"item {item!r}: top={top} of {len(codes)} codes; allowed: fewer than the codes")
        frame = wide[groups].copy()
        frame["valid"] = ~np.isnan(values[:, j])
        frame["agree"] = np.isin(values[:, j], codes[-top:])
        counts = (
            frame.groupby(groups, observed=True, sort=False)[["valid", "agree"]].sum()
            if groups
            else frame[["valid", "agree"]].sum().to_frame().T
        )
        counts = counts.reset_index(drop=not groups)
        counts.insert(0, "item", item)
        counts.insert(0, "theme", theme_of[item])
        rows.append(counts)
    table = pd.concat(rows, ignore_index=True).rename(columns={"valid": "n_valid", "agree": "n_agree"})
    table[["n_valid", "n_agree"]] = table[["n_valid", "n_agree"]].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["pct_agree"] = 100 * table["n_agree"] / table["n_valid"].where(table["n_valid"] > 0)
    if weights is not None:
        return _weighted(table, wide, values, present, instrument, top, groups, weights, design, confidence)
    low, high = wilson_interval(table["n_agree"], table["n_valid"], confidence)
    table["ci_low"], table["ci_high"] = 100 * low, 100 * high
    return table


def _weighted(
    table: pd.DataFrame,
    wide: pd.DataFrame,
    values: np.ndarray,
    present: list[str],
    instrument: Instrument,
    top: int,
    groups: list[str],
    weights: pd.Series,
    design,
    confidence: float,
) -> pd.DataFrame:
    """Replace the unweighted shares and intervals by design-based ones."""
    from kantelmeter.survey import estimate

    if len(groups) > 1:
        raise CEOError(f"weighted CEO indicators take one grouping column; given {', '.join(groups)}")
    data = pd.DataFrame({"pseudonym": wide["respondent"].to_numpy()})
    data["weight"] = data["pseudonym"].map(weights).to_numpy(dtype=float)
    if data["weight"].isna().any():
        raise CEOError(
            f"{int(data['weight'].isna().sum())} response(s) have no weight; allowed: only the "
            "respondents the round's weights were made for"
        )
    for j, item in enumerate(present):
        codes = sorted(instrument.valid_codes(instrument.item(item)))
        data[item] = np.where(np.isnan(values[:, j]), np.nan, np.isin(values[:, j], codes[-top:]).astype(float))
    by = groups[0] if groups else None
    if by:
        data[by] = wide[by].to_numpy()
    present = [item for item in present if data[item].notna().any()]
    rows = estimate(data, "weight", design, present, kind="proportion", by=by, confidence=confidence)
    rows = rows.rename(columns={"outcome": "item", "group": by} if by else {"outcome": "item"})
    keys = ["item"] + ([by] if by else [])
    merged = table.drop(columns=["pct_agree"]).merge(
        rows.drop(columns=["n"] + ([] if by else ["group"])), on=keys, how="left"
    )
    for column in ("estimate", "se", "ci_low", "ci_high"):
        merged[column] = 100 * merged[column]
    return merged.rename(columns={"estimate": "pct_agree"})[list(table.columns) + ["ci_low", "ci_high", "se", "deff"]]


def round_indicators(store, round: str, top: int = 2, confidence: float = 0.95) -> pd.DataFrame:
    """The CEO indicators of a stored survey round, weighted when the round has weights.

    The rows are :func:`indicators` over the round's complete responses of
    sampled clients, with a column ``weighted`` (True when the round's stored
    weights were used, from ``kantelmeter weights``).
    """
    from kantelmeter.survey import Sample

    info = store.round_info(round)
    instrument = store.instrument(info["instrument"])
    sample = Sample.from_store(store, round)
    responses = store.responses(instrument, occasion=info["occasion"])
    responses = responses[responses["respondent"].isin(sample.units["pseudonym"])]
    stored = store.round_weights(round)
    if stored.empty:
        table = indicators(instrument, responses, by=None, top=top, confidence=confidence)
    else:
        weights = stored.set_index("pseudonym")["weight"]
        responses = responses[responses["respondent"].isin(weights.index)]
        table = indicators(
            instrument, responses, by=None, top=top, confidence=confidence, weights=weights, design=sample
        )
    return table.assign(weighted=not stored.empty)


#: The delivery file's labels of an item routed past (not a missing answer) and of one shown but left empty.
#: The categories of an item without an answer: passed by the routing, or shown and left empty.
_NO_ANSWER = ("not_asked", "no_answer")

#: The columns of the benchmark delivery file (see README, "The CEO delivery file").
DELIVERY_COLUMNS = [
    "round",
    "indicator",
    "item",
    "theme",
    "code",
    "label",
    "count",
    "population",
    "sampled",
    "invited",
    "responses",
    "mode_web",
    "mode_paper",
    "mode_interview",
    "fieldwork_start",
    "fieldwork_end",
]


def delivery(store, round: str, lang: str = "nl") -> pd.DataFrame:
    """The benchmark delivery file of a survey round: per CEO indicator, the count per answer category.

    Indicators are the items of the CEO themes (indicator = item id) and the
    items marked ``ceo:`` in the instrument. Categories are the valid codes,
    the missing codes ("weet niet", "n.v.t."), ``not_asked`` (the routing
    passed the item by, :func:`kantelmeter.routing.asked`: not a missing
    answer) and ``no_answer`` (shown but left empty); a multiple-choice item
    counts each option ticked. Every row repeats the round's figures: the population (clients in
    the frame), the number sampled, invited (sent a letter), complete
    responses, complete responses per mode (web, paper, interview) and the
    fieldwork period (dates of the first and last complete response).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DELIVERY_COLUMNS`.
    """
    from kantelmeter.survey.response import MODES

    info = store.round_info(round)
    instrument = store.instrument(info["instrument"])
    outcomes = store.round_outcomes(round)
    responses = store.responses(instrument, occasion=info["occasion"])
    responses = responses[responses["respondent"].isin(outcomes["pseudonym"])]
    complete = outcomes[outcomes["status"] == "complete"]
    modes = complete["source"].map(MODES).value_counts()
    collected = responses["collected_at"].dropna()
    figures = {
        "round": round,
        "population": len(store.round_frame(round)),
        "sampled": len(outcomes),
        "invited": int((outcomes["letters"] > 0).sum()),
        "responses": len(complete),
        **{f"mode_{mode}": int(modes.get(mode, 0)) for mode in dict.fromkeys(MODES.values())},
        "fieldwork_start": collected.min().date().isoformat() if len(collected) else None,
        "fieldwork_end": collected.max().date().isoformat() if len(collected) else None,
    }
    theme_of = {item: theme for theme, items in themes(instrument).items() for item in items}
    chosen = [item for item in instrument.items if item.id in theme_of or item.ceo]
    shown = asked(instrument, responses)
    rows = []
    for item in chosen:
        scale = instrument.response_scale_of(item)
        labels = {
            **(scale.labels(lang) if scale else {}),
            **{code: message(f"report.{code}", lang) for code in _NO_ANSWER},
        }
        common = {"indicator": item.ceo or item.id, "item": item.id, "theme": theme_of.get(item.id)}
        if item.type.value == "multiple_choice":
            counts = {
                code: int((responses.get(column, pd.Series(dtype=float)) == 1).sum())
                for code, column in instrument.option_columns(item).items()
            }
            answered = responses[[c for c in instrument.columns_of(item) if c in responses]].notna().any(axis=1)
        else:
            column = responses.get(item.id, pd.Series(np.nan, index=responses.index))
            counts = {code: int((column == code).sum()) for code in labels if code not in _NO_ANSWER}
            answered = column.notna()
        counts["not_asked"] = int((~shown[item.id] & ~answered).sum())
        counts["no_answer"] = int((shown[item.id] & ~answered).sum())
        rows += [{**common, "code": code, "label": labels[code], "count": count} for code, count in counts.items()]
    return pd.DataFrame([{**figures, **row} for row in rows], columns=DELIVERY_COLUMNS)
