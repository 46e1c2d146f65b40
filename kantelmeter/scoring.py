"""Scale scores from coded answers: keys, reverse coding, missing codes, prorating.

:func:`score` turns the wide responses of the tidy contract (one row per
response, one column per item) into one row per response with a column per
scale of the instrument. Everything is read from the instrument: which items
a scale takes, their keys, the valid codes and the missing codes of every
item, sum or mean, and how many answers a score needs.

The work is one pass over the answers, a block of rows at a time small
enough to stay in the processor's cache: each block is checked against the
items' codes and all scales of the block are computed together, as one
product of the answers with a key matrix (+1/-1/0 per item and scale),
into a preallocated result. With ``errors="raise"`` a value that is not a
code raises a :class:`ScoringError`; with ``errors="coerce"`` it counts as
unanswered and :func:`problems` lists it, as pandas and pandera do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from kantelmeter.answers import Domain, domains
from kantelmeter.contract import TIDY_COLUMNS
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, Scale

__all__ = ["ID_COLUMNS", "ScoringError", "answers", "problems", "score", "to_wide"]

#: The identifying columns of the tidy contract, kept in front of every result.
ID_COLUMNS = TIDY_COLUMNS

#: Columns of a long response table (one row per answer).
LONG_COLUMNS = ("respondent", "occasion", "item", "value")

PROBLEM_COLUMNS = ["row", "respondent", "occasion", "item", "value", "allowed", "problem"]

# Answers per block of rows in the single pass: the block and its temporaries
# (a few hundred kilobytes) stay in the core's cache from check to score.
_BLOCK_CELLS = 1 << 15

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
        raise ScoringError(
            rows.reindex(columns=["row", "respondent", "occasion", "item", "value"]).assign(
                allowed="one value per respondent, occasion and item", problem="the item is answered more than once"
            )
        )
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


def answers(
    instrument: Instrument, responses: pd.DataFrame, items: Sequence[str], errors: Literal["raise", "coerce"] = "raise"
) -> tuple[np.ndarray, pd.DataFrame]:
    """The valid answers to some items as a float matrix, with the problems found.

    Missing codes (such as "weet niet") and blanks become NaN. A value that is
    neither a valid code nor a missing code of its item is a problem: with
    ``errors="raise"`` a :class:`ScoringError` lists all of them; with
    ``errors="coerce"`` it becomes NaN and is listed in the returned table.
    An item without a column in ``responses`` is a problem of every row.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide responses (see :func:`to_wide`).
    items : sequence of str
        Item ids; each must have valid codes (rating, single choice, score).
    errors : {"raise", "coerce"}

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
    check = _AnswerPass(instrument, responses, items, errors)
    values = check.lookup(np.nan)
    # Filled and later read item by item: column-major keeps each item contiguous.
    found = np.empty((len(responses), len(items)), order="F")
    for rows, index in check.blocks():
        found[rows] = np.take(values, index, mode="clip")
    return found, check.finish()


class _AnswerPass:
    """One pass over the answers to some items, a block of rows at a time, with the problems found.

    Each item column is read as numbers once (any column that is not numbers
    yet, such as text from a CSV or Excel objects, is parsed by its answer
    domain first). Each block of rows is turned into positions in one table
    of every item's codes: a whole number within the codes' range points at
    its own entry, anything else at the item's "no answer" entry. Consumers
    look values up by position (:meth:`lookup`), so the answer matrix is
    never built in full. A value that is neither a valid nor a missing code
    of its item is recorded as a problem and pointed at "no answer". The
    blocks are small enough to stay in the processor's cache and reuse the
    same buffers, so each answer is read from memory once.
    """

    def __init__(
        self, instrument: Instrument, responses: pd.DataFrame, items: Sequence[str], errors: Literal["raise", "coerce"]
    ):
        if errors not in ("raise", "coerce"):
            raise ValueError(f"errors={errors!r}; allowed: 'raise', 'coerce'")
        self.responses, self.items, self.errors = responses, list(items), errors
        known = domains(instrument)
        self.domains = [_code_domain(instrument, known, item_id) for item_id in self.items]
        self.found: list[pd.DataFrame | None] = [None] * len(self.items)  # problems per item, before the pass
        self.sources = [
            self._numbers(j, item_id, domain) for j, (item_id, domain) in enumerate(zip(self.items, self.domains))
        ]
        # Item j's entries: j * width + value - low for value in low..high; j * width is "no answer"
        # (blanks, refused values and anything outside low..high are clipped onto it or its twin at the end).
        every = [code for domain in self.domains for code in domain.codes + domain.missing] or [0]
        self.low, self.high = min(every) - 1, max(every) + 1
        width = self.high - self.low + 1
        self.offsets = np.arange(len(self.items), dtype=np.intp) * width - self.low
        self.size = width * len(self.items)
        self.valid_at = np.concatenate(
            [j * width - self.low + np.asarray(domain.codes, dtype=np.intp) for j, domain in enumerate(self.domains)]
            or [np.empty(0, np.intp)]
        )
        self.valid_code = np.concatenate(
            [np.asarray(domain.codes, dtype=float) for domain in self.domains] or [np.empty(0)]
        )
        self.known = np.full(self.size, np.nan)  # the value each valid or missing code stands for
        self.known[self.valid_at] = self.valid_code
        for j, domain in enumerate(self.domains):
            self.known[j * width - self.low + np.asarray(domain.missing, dtype=np.intp)] = domain.missing
        self.refused: list[tuple[np.ndarray, np.ndarray]] = []  # (row positions, item positions) per block

    def lookup(self, otherwise: float, valid: float | None = None) -> np.ndarray:
        """A table by position: each valid code's value (or ``valid``), ``otherwise`` elsewhere."""
        table = np.full(self.size, otherwise)
        table[self.valid_at] = self.valid_code if valid is None else valid
        return table

    def _numbers(self, j: int, item_id: str, domain: Domain) -> np.ndarray | None:
        """The column of an item as numbers (a view when it already is one); None when there is no column."""
        allowed = f"{domain.allowed}, or blank"
        if item_id not in self.responses.columns:
            self.found[j] = pd.DataFrame(
                [
                    {
                        "row": pd.NA,
                        "respondent": pd.NA,
                        "occasion": pd.NA,
                        "item": item_id,
                        "value": pd.NA,
                        "allowed": allowed,
                        "problem": "the responses have no column for this item",
                    }
                ]
            )
            return None
        raw = self.responses[item_id]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            if isinstance(raw.dtype, np.dtype):
                return raw.to_numpy()
            return raw.to_numpy(dtype="float64", na_value=np.nan)
        parsed = domain.parse_column(raw)
        refused = parsed.refused.to_numpy()
        if refused.any():
            positions = np.flatnonzero(refused)
            self.found[j] = _problem_rows(
                self.responses, item_id, positions, parsed.problems.to_numpy()[positions], allowed
            )
        return parsed.values.to_numpy()

    def blocks(self) -> Iterator[tuple[slice, np.ndarray]]:
        """(rows, positions in the code table) per block; the array is reused, so use it before the next block."""
        n, k = len(self.responses), len(self.items)
        size = max(1, _BLOCK_CELLS // max(k, 1))
        for start in range(0, n, size):
            m = min(size, n - start)
            if start == 0 or m < size:
                # column-major, as in the frame: each item's part of a block is contiguous
                block, known = np.empty((m, k), order="F"), np.empty((m, k), order="F")
                index = np.empty((m, k), dtype=np.intp, order="F")
            for j, source in enumerate(self.sources):
                block[:, j] = np.nan if source is None else source[start : start + m]
            with np.errstate(invalid="ignore"):  # a blank has no whole number: it lands on "no answer"
                np.copyto(index, block, casting="unsafe")
            np.clip(index, self.low, self.high, out=index)
            index += self.offsets
            # a value is known when its entry stands for exactly that value (3.5 lands on 3, and is not)
            np.take(self.known, index.T, out=known.T, mode="clip")  # (the transposes are contiguous)
            unknown = m * k - np.count_nonzero(known == block) - np.count_nonzero(np.isnan(block))
            if unknown:
                refused = (known != block) & ~np.isnan(block)
                rows, columns = np.nonzero(refused)
                self.refused.append((rows + start, columns))
                index[refused] = (self.offsets + self.low)[columns]
            yield slice(start, start + m), index

    def finish(self) -> pd.DataFrame:
        """The problems, item by item in row order; raises :class:`ScoringError` when raising and any."""
        if self.refused:
            rows = np.concatenate([rows for rows, _ in self.refused])
            columns = np.concatenate([columns for _, columns in self.refused])
            order = np.argsort(columns, kind="stable")
            rows, columns = rows[order], columns[order]
            for j in np.unique(columns):
                positions = rows[columns == j]
                self.found[j] = self._refusals(j, positions)
        problems = [table for table in self.found if table is not None]
        table = (
            pd.concat(problems, ignore_index=True)
            if problems
            else pd.DataFrame({column: pd.Series(dtype=object) for column in PROBLEM_COLUMNS})
        )
        if self.errors == "raise" and len(table):
            raise ScoringError(table)
        return table

    def _refusals(self, j: int, positions: np.ndarray) -> pd.DataFrame:
        """Problem rows for the refused numbers of item j, each explained by the item's answer domain."""
        domain, values = self.domains[j], self.sources[j][positions]
        reasons = {value: domain.refusal(value).problem for value in np.unique(values)}
        return _problem_rows(
            self.responses,
            self.items[j],
            positions,
            np.array([reasons[value] for value in values], dtype=object),
            f"{domain.allowed}, or blank",
        )


def _code_domain(instrument: Instrument, known: dict[str, Domain], item_id: str) -> Domain:
    domain = known.get(item_id)
    if domain is None or domain.kind != "code":
        raise ScoringError(
            pd.DataFrame(
                [
                    {
                        "row": pd.NA,
                        "respondent": pd.NA,
                        "occasion": pd.NA,
                        "item": item_id,
                        "value": pd.NA,
                        "allowed": "items with answer codes",
                        "problem": f"a {instrument.item(item_id).type.value} item has no codes to score",
                    }
                ]
            )
        )
    return domain


def _problem_rows(
    responses: pd.DataFrame, item_id: str, positions: np.ndarray, problems: np.ndarray, allowed: str
) -> pd.DataFrame:
    rows = responses.iloc[positions]
    identity = {
        key: (rows[key].to_numpy() if key in rows.columns else np.full(len(rows), pd.NA))
        for key in ("respondent", "occasion")
    }
    return pd.DataFrame(
        {
            "row": rows.index.to_numpy(),
            **identity,
            "item": item_id,
            "value": rows[item_id].to_numpy(dtype=object),
            "allowed": allowed,
            "problem": problems,
        }
    )


def score(
    instrument: Instrument,
    responses: pd.DataFrame,
    errors: Literal["raise", "coerce"] = "raise",
    scales: Iterable[str] | None = None,
) -> pd.DataFrame:
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
        ``value``. Other columns (latent values, covariates) are ignored;
        :func:`problems` lists them, as an import would refuse them.
    errors : {"raise", "coerce"}
        ``"raise"``: a value that is not a code of its item raises a
        :class:`ScoringError` whose ``problems`` table lists every such value
        (respondent, item, value, allowed codes). ``"coerce"``: such values
        count as unanswered; :func:`problems` lists them.
    scales : iterable of str, optional
        Scale ids to compute; all of the instrument's scales by default.

    Returns
    -------
    pandas.DataFrame
        The identifying columns present in ``responses`` (respondent,
        occasion, cohort, collected_at), then one float column per scale;
        same index as wide ``responses``.

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

    An answer 8 is no code: raising names it, coercing leaves it unanswered.

    >>> frame.loc[0, "soc3"] = 8
    >>> score(soc, frame)
    Traceback (most recent call last):
    ...
    kantelmeter.scoring.ScoringError: 1 problem in the responses:
      row 0 (respondent p1, occasion intake): item soc3 = 8: not a code of this item; allowed: 1..7, or blank
    >>> score(soc, frame, errors="coerce")["soc_total"].tolist()
    [65.0, 58.5]
    """
    wide = to_wide(responses)
    chosen = _scales(instrument, scales)
    items = _items(chosen)
    check = _AnswerPass(instrument, wide, items, errors)
    combined = _combine(instrument, check, items, chosen)
    check.finish()
    result = wide.loc[:, [column for column in ID_COLUMNS if column in wide.columns]]
    for scale, column in zip(chosen, combined.T):
        result[scale.id] = column
    return result


def problems(
    instrument: Instrument,
    responses: pd.DataFrame,
    scales: Iterable[str] | None = None,
    items: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Every problem :func:`score` would raise, and every column an import would refuse.

    Parameters
    ----------
    instrument : Instrument
    responses : pandas.DataFrame
        Wide or long responses, as for :func:`score`.
    scales : iterable of str, optional
        Check the items of these scales (all of the instrument's by default).
    items : iterable of str, optional
        Check these items instead (items outside any scale, such as the
        wheel's attributions).

    Returns
    -------
    pandas.DataFrame
        One row per problem, as in :attr:`ScoringError.problems`: first the
        columns that are neither identifying nor the instrument's (their name
        in ``item``), then the values that are not a code of their item and
        the item columns the responses lack. Empty when all is well.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> soc = load_instrument("soc13")
    >>> frame = pd.DataFrame({"respondent": ["p1", "p2"], "mood": 3,
    ...                       **{f"soc{i}": [7, 8 if i == 3 else 7] for i in range(1, 14)}})
    >>> problems(soc, frame)[["respondent", "item", "value", "problem"]]
      respondent  item value                          problem
    0       <NA>  mood  <NA>  not a column of instrument 'soc13'
    1         p2  soc3     8          not a code of this item
    """
    wide = to_wide(responses)
    checked = _items(_scales(instrument, scales)) if items is None else list(items)
    _, found = answers(instrument, wide, checked, errors="coerce")
    unknown = _unknown_columns(instrument, wide)
    return pd.concat([unknown, found], ignore_index=True) if len(unknown) else found


def _scales(instrument: Instrument, scales: Iterable[str] | None) -> list[Scale]:
    return list(instrument.scales) if scales is None else [instrument.scale(scale_id) for scale_id in scales]


def _items(scales: list[Scale]) -> list[str]:
    return list(dict.fromkeys(member.item for scale in scales for member in scale.items))


def _unknown_columns(instrument: Instrument, wide: pd.DataFrame) -> pd.DataFrame:
    """A problem row for every column that is neither identifying nor a column (or item) of the instrument."""
    known = {*ID_COLUMNS, *instrument.columns, *(item.id for item in instrument.items)}
    unknown = [column for column in wide.columns if column not in known]
    shown = ", ".join(instrument.columns[:8]) + (", ..." if len(instrument.columns) > 8 else "")
    allowed = f"the columns of {instrument.id} ({shown}) and {', '.join(ID_COLUMNS)}"
    return pd.DataFrame(
        {
            "row": pd.NA,
            "respondent": pd.NA,
            "occasion": pd.NA,
            "item": unknown,
            "value": pd.NA,
            "allowed": allowed,
            "problem": f"not a column of instrument {instrument.id!r}",
        },
        columns=PROBLEM_COLUMNS,
        dtype=object,
    )


def _combine(instrument: Instrument, check: _AnswerPass, items: list[str], scales: list[Scale]) -> np.ndarray:
    """Scale scores (n x scales), combined block by block as the answers are checked."""
    position = {item_id: j for j, item_id in enumerate(items)}
    k, n_scales = len(items), len(scales)
    # One product per block gives every scale's keyed sum and its number of answers:
    # [answers, answered] @ [[keys, 0], [offsets of reversed items, members]]
    weights = np.zeros((2 * k, 2 * n_scales))
    for s, scale in enumerate(scales):
        for member in scale.items:
            j = position[member.item]
            weights[j, s] = member.key  # +x for key +1, -x for key -1 ...
            weights[k + j, n_scales + s] = 1.0
            if member.key < 0:  # ... plus min + max for each answered reversed item
                codes = instrument.valid_codes(member.item)
                weights[k + j, s] = min(codes) + max(codes)
    n_items = weights[k:, n_scales:].sum(axis=0)
    required = np.array([scale.required_answers for scale in scales])
    # a mean is the score itself; a sum is that mean times the number of items (prorating)
    multiplier = np.where([scale.method == "sum" for scale in scales], n_items, 1.0)
    code, answered = check.lookup(0.0), check.lookup(0.0, valid=1.0)
    out = np.empty((len(check.responses), n_scales), order="F")
    # These products are skinny (rows x ~13 items x a few scales): one BLAS thread does them
    # fastest, and several threads on a busy machine are up to fifty times slower.
    work = np.empty((2 * k, 0))
    with threadpool_limits(limits=1, user_api="blas"):
        for rows, index in check.blocks():
            m = len(index)
            if m != work.shape[1]:
                work = np.empty((2 * k, m))  # [answers; answered], one row per item
            np.take(code, index.T, out=work[:k], mode="clip")
            np.take(answered, index.T, out=work[k:], mode="clip")
            totals = weights.T @ work  # (2 x scales) x rows
            keyed, count = totals[:n_scales].T, totals[n_scales:].T
            # multiply before dividing: a complete sum (count == items) then stays an exact integer
            target = out[rows]
            target.fill(np.nan)
            np.divide(keyed * multiplier, count, out=target, where=count >= required)
    return out
