"""Scale scores from coded answers: keys, reverse coding, missing codes, prorating.

:func:`score` turns the wide responses of the tidy contract (one row per
response, one column per item) into one row per response with a column per
scale of the instrument. Everything is read from the instrument: which items
a scale takes, their keys, the valid codes and the missing codes of every
item, sum or mean, and how many answers a score needs.

The work is done on one float matrix of the answers: every item column is
checked against its codes once, and all scales are then computed together as
matrix products of the answers with a key matrix (+1/-1/0 per item and scale),
in blocks of rows so that memory stays close to the size of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from kantelmeter.answers import domains
from kantelmeter.contract import TIDY_COLUMNS
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, Scale

__all__ = ["ID_COLUMNS", "ScoringError", "answers", "score", "to_wide"]

#: The identifying columns of the tidy contract, kept in front of every result.
ID_COLUMNS = TIDY_COLUMNS

#: Columns of a long response table (one row per answer).
LONG_COLUMNS = ("respondent", "occasion", "item", "value")

PROBLEM_COLUMNS = ["row", "respondent", "occasion", "item", "value", "allowed", "problem"]

# Rows per block when combining answers into scales: large enough for BLAS to
# be efficient, small enough that the temporaries stay a few megabytes.
_BLOCK_ROWS = 1 << 16

# How many problems an error message lists before pointing to the table.
_SHOWN_PROBLEMS = 20


class ScoringError(KantelmeterError, ValueError):
    """Answers that cannot be scored; every problem is listed in :attr:`problems`.

    Attributes
    ----------
    problems : pandas.DataFrame
        One row per problem: ``row`` (the index label in the responses),
        ``respondent``, ``occasion``, ``item``, ``value``, ``allowed`` (the
        valid and missing codes) and ``problem``.
    """

    def __init__(self, problems: pd.DataFrame):
        self.problems = problems
        lines = [_describe(row) for row in problems.head(_SHOWN_PROBLEMS).itertuples(index=False)]
        more = len(problems) - len(lines)
        if more:
            lines.append(f"... and {more} more (see the .problems table)")
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{len(problems)} {noun} in the responses:\n" + "\n".join(f"  {line}" for line in lines))


def _describe(problem) -> str:
    who = f"respondent {problem.respondent}" if pd.notna(problem.respondent) else "every row"
    if pd.notna(problem.occasion):
        who += f", occasion {problem.occasion}"
    where = f"row {problem.row} ({who})" if pd.notna(problem.row) else who
    # a missing column has no value to quote
    value = f" = {problem.value!r}" if pd.notna(problem.value) else ""
    return f"{where}: item {problem.item}{value}: {problem.problem}; allowed: {problem.allowed}"


def to_wide(responses: pd.DataFrame) -> pd.DataFrame:
    """Wide responses from a long table with columns respondent, occasion, item, value.

    Further identifying columns (``cohort``, ``collected_at``) are kept when
    present. Wide input is returned unchanged.

    Raises
    ------
    ScoringError
        When an item is answered twice for the same respondent and occasion;
        ``problems`` lists those rows.

    Examples
    --------
    >>> long = pd.DataFrame({"respondent": ["r1", "r1", "r2"], "occasion": "intake",
    ...                      "item": ["soc1", "soc2", "soc1"], "value": [3, 5, 7]})
    >>> to_wide(long)
      respondent occasion  soc1  soc2
    0         r1   intake   3.0   5.0
    1         r2   intake   7.0   NaN
    """
    if not set(LONG_COLUMNS) <= set(responses.columns):
        return responses
    keys = [column for column in ID_COLUMNS if column in responses.columns]
    twice = responses.duplicated(keys + ["item"], keep=False)
    if twice.any():
        rows = responses.loc[twice].reset_index(names="row")
        raise ScoringError(rows.reindex(columns=["row", "respondent", "occasion", "item", "value"]).assign(
            allowed="one value per respondent, occasion and item", problem="the item is answered more than once"))
    values = responses["value"]
    if _numeric_like(values):
        values = pd.to_numeric(values, errors="coerce")
    wide = responses.assign(value=values).pivot(index=keys, columns="item", values="value")
    wide.columns.name = None
    return wide.reset_index()


def _numeric_like(column: pd.Series) -> bool:
    """True when every non-blank value reads as a number (so a pivot keeps a float column)."""
    converted = pd.to_numeric(column, errors="coerce")
    return bool((converted.notna() | column.isna()).all())


def answers(instrument: Instrument, responses: pd.DataFrame, items: Sequence[str],
            errors: Literal["raise", "report"] = "raise") -> tuple[np.ndarray, pd.DataFrame]:
    """The valid answers to some items as a float matrix, with the problems found.

    Missing codes (such as "weet niet") and blanks become NaN. A value that is
    neither a valid code nor a missing code of its item is a problem: with
    ``errors="raise"`` a :class:`ScoringError` lists all of them; with
    ``errors="report"`` it becomes NaN and is listed in the returned table.
    An item without a column in ``responses`` is a problem of every row.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide responses (see :func:`to_wide`).
    items : sequence of str
        Item ids; each must have valid codes (rating, single choice, score).
    errors : {"raise", "report"}

    Returns
    -------
    values : numpy.ndarray of shape (len(responses), len(items))
    problems : pandas.DataFrame
        Columns as in :attr:`ScoringError.problems`; empty when all is well.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> wheel = load_instrument("participation_wheel")
    >>> frame = pd.DataFrame({"respondent": ["a", "b"], "eigen_inkomen_level": [4, 9]})
    >>> values, problems = answers(wheel, frame, ["eigen_inkomen_level"])
    >>> values.ravel().tolist(), len(problems)
    ([4.0, nan], 0)
    """
    if errors not in ("raise", "report"):
        raise ValueError(f"errors={errors!r}; allowed: 'raise', 'report'")
    # Filled and later read item by item: column-major keeps each item contiguous.
    values = np.full((len(responses), len(items)), np.nan, order="F")
    problems: list[pd.DataFrame] = []
    allowed_values = domains(instrument)
    for j, item_id in enumerate(items):
        item = instrument.item(item_id)
        domain = allowed_values.get(item_id)
        if domain is None or domain.kind != "code":
            raise ScoringError(pd.DataFrame([{"row": pd.NA, "respondent": pd.NA, "occasion": pd.NA, "item": item_id,
                                              "value": pd.NA, "allowed": "items with answer codes",
                                              "problem": f"a {item.type.value} item has no codes to score"}]))
        allowed = f"{domain.allowed}, or blank"
        if item_id not in responses.columns:
            problems.append(pd.DataFrame([{"row": pd.NA, "respondent": pd.NA, "occasion": pd.NA, "item": item_id,
                                           "value": pd.NA, "allowed": allowed,
                                           "problem": "the responses have no column for this item"}]))
            continue
        parsed = domain.parse_column(responses[item_id])
        column = parsed.values.to_numpy()
        # Missing codes ("weet niet") are kept in the data and count as unanswered here.
        values[:, j] = np.where(np.isin(column, domain.codes), column, np.nan)
        refused = parsed.refused.to_numpy()
        if refused.any():
            problems.append(_problem_rows(responses, item_id, refused, parsed.problems.to_numpy(), allowed))
    table = (pd.concat(problems, ignore_index=True) if problems
             else pd.DataFrame({column: pd.Series(dtype=object) for column in PROBLEM_COLUMNS}))
    if errors == "raise" and len(table):
        raise ScoringError(table)
    return values, table


def _problem_rows(responses: pd.DataFrame, item_id: str, refused: np.ndarray, problems: np.ndarray,
                  allowed: str) -> pd.DataFrame:
    positions = np.flatnonzero(refused)
    rows = responses.iloc[positions]
    identity = {key: (rows[key].to_numpy() if key in rows.columns else np.full(len(rows), pd.NA))
                for key in ("respondent", "occasion")}
    return pd.DataFrame({"row": rows.index.to_numpy(), **identity, "item": item_id,
                         "value": rows[item_id].to_numpy(dtype=object), "allowed": allowed,
                         "problem": problems[positions]})


def score(instrument: Instrument, responses: pd.DataFrame, errors: Literal["raise", "report"] = "raise",
          scales: Iterable[str] | None = None) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Score every scale of an instrument for every response.

    Method: each item's missing codes and blanks count as unanswered; an item
    with key -1 is reversed as ``x -> min + max - x`` using that item's own
    lowest and highest valid code; a scale is the mean of its answered keyed
    items, or for ``method: sum`` that mean times the number of items. With
    every item answered this is the plain sum; with fewer it is the prorated
    (person-mean imputed) sum, the usual rule for summated rating scales
    (Schafer & Graham 2002, *Psychol Methods* 7:147-177, on person-mean
    imputation). Fewer answers than the scale's ``min_answered`` (default:
    all items) give a missing score.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide responses (tidy contract: ``respondent``, ``occasion``,
        ``cohort``, ``collected_at``, then one column per item), or long
        responses with columns ``respondent``, ``occasion``, ``item``,
        ``value``.
    errors : {"raise", "report"}
        ``"raise"``: a value that is not a code of its item raises a
        :class:`ScoringError` listing every such value (respondent, item,
        value, allowed codes). ``"report"``: such values count as unanswered
        and the problems are returned with the scores; so is every column
        that is neither an identifying column nor a column of the instrument
        (its name in ``item``), as an import would refuse it. With
        ``"raise"`` such columns are ignored: programs pass frames that carry
        other data (latent values, covariates) beside the answers.
    scales : iterable of str, optional
        Scale ids to compute; all of the instrument's scales by default.

    Returns
    -------
    scores : pandas.DataFrame
        The identifying columns present in ``responses`` (respondent,
        occasion, cohort, collected_at), then one float column per scale;
        same index as wide ``responses``.
    problems : pandas.DataFrame
        Only with ``errors="report"``: one row per problem, as in
        :attr:`ScoringError.problems`.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> soc = load_instrument("soc13")
    >>> answers_ = {f"soc{i}": [7, 7] for i in range(1, 14)}
    >>> answers_["soc5"] = [7, None]          # one answer left out in the second row
    >>> frame = pd.DataFrame({"respondent": ["p1", "p2"], "occasion": "intake", **answers_})
    >>> score(soc, frame)[["respondent", "manageability", "soc_total"]]
      respondent  manageability  soc_total
    0         p1           16.0       61.0
    1         p2           12.0       58.5

    The reversed items (1, 2, 3, 7, 10) score 1 when answered 7. In the second
    row manageability is the mean of 1, 1 and 7 times four items, and the total
    is the mean of twelve answers (54 / 12) times thirteen.

    >>> frame.loc[0, "soc3"] = 8
    >>> frame["mood"] = 3
    >>> scores, problems = score(soc, frame, errors="report")
    >>> problems[["respondent", "item", "value", "problem"]]
      respondent  item value                          problem
    0       <NA>  mood  <NA>  not a column of instrument 'soc13'
    1         p1  soc3     8          not a code of this item
    """
    wide = to_wide(responses)
    chosen = list(instrument.scales) if scales is None else [instrument.scale(scale_id) for scale_id in scales]
    items = list(dict.fromkeys(member.item for scale in chosen for member in scale.items))
    values, problems = answers(instrument, wide, items, errors)
    if errors == "report":
        unknown = _unknown_columns(instrument, wide)
        problems = pd.concat([unknown, problems], ignore_index=True) if len(unknown) else problems
    result = wide.loc[:, [column for column in ID_COLUMNS if column in wide.columns]]
    for scale, column in zip(chosen, _combine(instrument, values, items, chosen).T):
        result[scale.id] = column
    return (result, problems) if errors == "report" else result


def _unknown_columns(instrument: Instrument, wide: pd.DataFrame) -> pd.DataFrame:
    """A problem row for every column that is neither identifying nor a column (or item) of the instrument."""
    known = {*ID_COLUMNS, *instrument.columns, *(item.id for item in instrument.items)}
    unknown = [column for column in wide.columns if column not in known]
    shown = ", ".join(instrument.columns[:8]) + (", ..." if len(instrument.columns) > 8 else "")
    allowed = f"the columns of {instrument.id} ({shown}) and {', '.join(ID_COLUMNS)}"
    return pd.DataFrame({"row": pd.NA, "respondent": pd.NA, "occasion": pd.NA, "item": unknown, "value": pd.NA,
                         "allowed": allowed, "problem": f"not a column of instrument {instrument.id!r}"},
                        columns=PROBLEM_COLUMNS, dtype=object)


def _combine(instrument: Instrument, values: np.ndarray, items: list[str], scales: list[Scale]) -> np.ndarray:
    """Scale scores (n x scales) from the clean answer matrix (n x items)."""
    position = {item_id: j for j, item_id in enumerate(items)}
    keys = np.zeros((len(items), len(scales)))          # +1 / -1 / 0 per item and scale
    offsets = np.zeros((len(items), len(scales)))       # min + max of a reversed item
    for s, scale in enumerate(scales):
        for member in scale.items:
            keys[position[member.item], s] = member.key
            if member.key < 0:
                codes = instrument.valid_codes(member.item)
                offsets[position[member.item], s] = min(codes) + max(codes)
    members = np.abs(keys)
    counting = np.hstack([offsets, members])            # one product gives the offsets and the counts
    n_items = members.sum(axis=0)
    required = np.array([scale.required_answers for scale in scales])
    # a mean is the score itself; a sum is that mean times the number of items (prorating)
    multiplier = np.where([scale.method == "sum" for scale in scales], n_items, 1.0)
    out = np.empty((len(values), len(scales)))
    # These products are skinny (rows x ~13 items x a few scales): one BLAS thread does them
    # fastest, and several threads on a busy machine are up to fifty times slower.
    with threadpool_limits(limits=1, user_api="blas"):
        _combine_blocks(values, keys, counting, multiplier, required, out)
    return out


def _combine_blocks(values: np.ndarray, keys: np.ndarray, counting: np.ndarray, multiplier: np.ndarray,
                    required: np.ndarray, out: np.ndarray) -> None:
    n_scales = keys.shape[1]
    for start in range(0, len(values), _BLOCK_ROWS):
        block = values[start:start + _BLOCK_ROWS]
        answered = ~np.isnan(block)
        weights = answered.astype(float) @ counting
        # sum of keyed answers: +x for key +1, (min + max - x) for key -1
        keyed = np.where(answered, block, 0.0) @ keys + weights[:, :n_scales]
        count = weights[:, n_scales:]
        # multiply before dividing: a complete sum (count == items) then stays an exact integer
        out[start:start + _BLOCK_ROWS] = np.divide(keyed * multiplier, count, out=np.full_like(keyed, np.nan),
                                                   where=count >= required)
