"""The participation-wheel model: levels per domain, change, attribution, cohort shares.

The participation wheel (Scholte 2010, Movisie) has six domains and no
published numeric scoring. kantelmeter's own convention, declared in the
instrument ``participation_wheel``: one section per domain whose id is the
domain id, holding an item ``<domain>_level`` (a rated level, the same codes
in every domain) and, at follow-up, an item ``<domain>_attribution`` (is the
change due to the support: 1 yes, 2 partly, 3 no). The domains are read from
the instrument, never listed here.

Everything is built on one *change table*: one row per respondent and domain
with ``level_before``, ``level_after``, ``difference``, ``change``
(decrease / no_change / increase) and ``attribution`` (yes / partly / no).
:func:`changes` makes it from questionnaire data, :func:`thesis_changes`
from the source study's coded interviews, and :func:`summarise`,
:func:`per_respondent` and :func:`profile` read only that table, so both
sources go through the same summary code.
"""

from __future__ import annotations

from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd

from kantelmeter import scoring
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, load_instrument
from kantelmeter.proportions import wilson_interval
from kantelmeter.scoring import answers, to_wide

__all__ = [
    "WheelError",
    "ATTRIBUTIONS",
    "CHANGES",
    "changes",
    "coded_changes",
    "domains",
    "per_respondent",
    "problems",
    "profile",
    "summarise",
    "thesis_changes",
]

#: Direction of change per domain, from worse to better.
CHANGES = ("decrease", "no_change", "increase")

#: What an answer to a ``<domain>_attribution`` item can mean; the instrument file marks each code with its
#: ``meaning`` (questionnaires/participation_wheel.yaml).
ATTRIBUTIONS = ("yes", "partly", "no")

# The source study's coding of attribution (data/thesis/README.md) in the questionnaire's terms.
_THESIS_ATTRIBUTION = {"pilot": "yes", "partly_pilot": "partly", "not_pilot": "no", "not_applicable": None}

_TABLE_COLUMNS = ["domain", "level_before", "level_after", "difference", "change", "attribution"]


class WheelError(KantelmeterError, ValueError):
    """Responses or a coded table that the wheel cannot summarise; the message names the row, column or value."""


def domains(instrument: Instrument) -> list[str]:
    """The domain ids of a wheel instrument, in the instrument's order.

    A domain is a section whose id ``d`` has an item ``d_level``.

    Examples
    --------
    >>> domains(load_instrument("participation_wheel"))  # doctest: +NORMALIZE_WHITESPACE
    ['maatschappelijke_bijdragen', 'opdoen_vaardigheden', 'eigen_inkomen',
     'zelfstandig_functioneren', 'sociale_contacten', 'maatschappelijk_deelnemen']
    """
    found = [
        section.id for section in instrument.sections if any(item.id == f"{section.id}_level" for item in section.items)
    ]
    if not found:
        raise WheelError(
            f"instrument {instrument.id!r} has no wheel domains: no section <id> holds an item "
            "<id>_level (see questionnaires/participation_wheel.yaml)"
        )
    return found


def changes(
    instrument: Instrument,
    responses: pd.DataFrame,
    before: str = "intake",
    after: str = "follow_up",
    min_difference: float = 1,
    errors: Literal["raise", "coerce"] = "raise",
) -> pd.DataFrame:
    """The change table: per respondent and domain, the levels at two occasions and the change.

    Method: ``difference = level_after - level_before``; a difference of at
    least ``min_difference`` is an increase, of at most ``-min_difference`` a
    decrease, anything between is no change. A missing level (blank or a
    missing code such as 9 "cannot be judged") or a respondent seen at one
    occasion only gives a missing change. ``attribution`` is the answer to
    ``<domain>_attribution`` at the ``after`` occasion. This is kantelmeter's
    own convention; the wheel has no published scoring (Scholte 2010).

    Parameters
    ----------
    instrument : Instrument
        A wheel instrument (see :func:`domains`).
    responses : pandas.DataFrame
        Wide (or long) responses with ``respondent`` and ``occasion``; a
        ``cohort`` column is carried along.
    before, after : str
        The two occasions compared.
    min_difference : float
        The smallest level difference that counts as a change (default 1).
    errors : {"raise", "coerce"}
        As in :func:`kantelmeter.scoring.score`: ``"raise"`` raises a
        :class:`~kantelmeter.scoring.ScoringError` listing every level and
        attribution that is not a code; with ``"coerce"`` they count as
        missing, and :func:`problems` lists them.

    Returns
    -------
    pandas.DataFrame
        ``respondent``, ``cohort`` (when given), ``domain`` (categorical in
        the instrument's order), ``level_before``, ``level_after``,
        ``difference``, ``change`` (categorical, :data:`CHANGES`),
        ``attribution`` (categorical yes / partly / no).

    Examples
    --------
    >>> wheel = load_instrument("participation_wheel")
    >>> frame = pd.DataFrame({"respondent": ["a", "a"], "occasion": ["intake", "follow_up"],
    ...                       "sociale_contacten_level": [2, 4], "eigen_inkomen_level": [3, 9],
    ...                       "sociale_contacten_attribution": [None, 2]})
    >>> table = changes(wheel, frame)
    >>> table.loc[table["domain"].isin(["sociale_contacten", "eigen_inkomen"]),
    ...           ["domain", "level_before", "level_after", "change", "attribution"]]
                  domain  level_before  level_after    change attribution
    2      eigen_inkomen           3.0          NaN       NaN         NaN
    4  sociale_contacten           2.0          4.0  increase      partly
    """
    if min_difference <= 0:
        raise WheelError(f"min_difference={min_difference!r}; allowed: a positive number")
    for occasion in (before, after):
        instrument.check_occasion(occasion)
    wide = to_wide(responses)
    for column in ("respondent", "occasion"):
        if column not in wide.columns:
            raise WheelError(f"the responses have no {column!r} column; the wheel compares respondents over occasions")
    names = domains(instrument)
    # one check of both items of every domain, so that raising lists all their problems at once
    both = _domain_matrix(instrument, wide, _domain_items(names), errors)
    levels, attribution = both[:, : len(names)], both[:, len(names) :]

    # Align the two occasions by respondent with positions, not a join: one row per respondent
    # (in order of first appearance), -1 where a respondent has no response at that occasion.
    codes, respondents = pd.factorize(wide["respondent"])
    rows_at = {}
    occasions = wide["occasion"].to_numpy()  # numpy compares these 4x faster than a pandas string column
    for occasion in (before, after):
        rows = np.flatnonzero(occasions == occasion)
        counts = np.bincount(codes[rows], minlength=len(respondents))
        if (counts > 1).any():
            raise WheelError(
                f"respondent {respondents[np.argmax(counts)]!r} has more than one response at "
                f"occasion {occasion!r}; allowed: one per respondent and occasion"
            )
        rows_at[occasion] = np.full(len(respondents), -1)
        rows_at[occasion][codes[rows]] = rows
    seen = (rows_at[before] >= 0) | (rows_at[after] >= 0)
    first, second = rows_at[before][seen], rows_at[after][seen]
    identity = pd.DataFrame({"respondent": respondents[seen]})
    if "cohort" in wide.columns:
        identity["cohort"] = wide["cohort"].to_numpy()[np.where(second >= 0, second, first)]
    level_before, level_after, attributed = (
        _take(matrix, positions) for matrix, positions in ((levels, first), (levels, second), (attribution, second))
    )
    difference = level_after - level_before
    # build the categoricals from their codes: matching millions of strings is the slow part
    direction = np.select(
        [np.isnan(difference), difference >= min_difference, difference <= -min_difference],
        [-1, CHANGES.index("increase"), CHANGES.index("decrease")],
        CHANGES.index("no_change"),
    )
    # position in ATTRIBUTIONS; -1 for a blank (or a code without a meaning)
    meaning = _attribution_meanings(instrument, names)
    attribution_code = np.where(np.isnan(attributed), -1, pd.Series(attributed).map(meaning).fillna(-1)).astype(int)
    # by position: repeating the index labels would look every one of them up again
    long = identity.take(np.repeat(np.arange(len(identity)), len(names)))
    return _change_table(
        long,
        pd.Categorical.from_codes(np.tile(np.arange(len(names)), len(identity)), names),
        level_before,
        level_after,
        pd.Categorical.from_codes(direction, list(CHANGES)),
        pd.Categorical.from_codes(attribution_code, list(ATTRIBUTIONS)),
        names,
    )


def _attribution_meanings(instrument: Instrument, names: list[str]) -> dict[float, int]:
    """Code to position in :data:`ATTRIBUTIONS`, from the ``meaning`` of the attribution items' codes."""
    asked = {f"{name}_attribution" for name in names}
    meaning = {
        float(code.code): ATTRIBUTIONS.index(code.meaning)
        for item in instrument.items
        if item.id in asked
        for code in instrument.response_scale_of(item).codes
        if code.meaning in ATTRIBUTIONS
    }
    if not meaning:
        raise WheelError(
            f"instrument {instrument.id!r}: no code of the attribution items has a meaning; allowed: "
            f"{', '.join(ATTRIBUTIONS)} (see questionnaires/participation_wheel.yaml)"
        )
    return meaning


def problems(instrument: Instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """Every level and attribution :func:`changes` would refuse, and every column an import would refuse.

    Returns
    -------
    pandas.DataFrame
        One row per problem, as in :func:`kantelmeter.scoring.problems`.
        A domain item the responses lack is no problem here: its levels are
        missing.

    Examples
    --------
    >>> wheel = load_instrument("participation_wheel")
    >>> frame = pd.DataFrame({"respondent": ["a", "a"], "occasion": ["intake", "follow_up"],
    ...                       "sociale_contacten_level": [2, 4], "sociale_contacten_attribution": [None, 7]})
    >>> problems(wheel, frame)[["respondent", "item", "value", "problem"]]
      respondent                           item value                  problem
    0          a  sociale_contacten_attribution   7.0  not a code of this item
    """
    wide = to_wide(responses)
    items = [item for item in _domain_items(domains(instrument)) if item in wide.columns]
    return scoring.problems(instrument, wide, items=items)


def _domain_items(names: list[str]) -> list[str]:
    """The level items of the domains, then their attribution items."""
    return [f"{name}_level" for name in names] + [f"{name}_attribution" for name in names]


def _domain_matrix(instrument: Instrument, wide: pd.DataFrame, items: list[str], errors) -> np.ndarray:
    """Clean codes (responses x items); a domain item the responses lack is all missing."""
    present = [j for j, item in enumerate(items) if item in wide.columns]
    found, _ = answers(instrument, wide, [items[j] for j in present], errors)
    if len(present) == len(items):  # the usual case: no second matrix to fill
        return found
    matrix = np.full((len(wide), len(items)), np.nan)
    matrix[:, present] = found
    return matrix


def _take(matrix: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Rows of a (responses x domains) matrix at positions (-1: none), flattened respondent by respondent."""
    taken = matrix[np.maximum(positions, 0)]
    taken[positions < 0] = np.nan
    return taken.ravel()


def _change_table(
    identity: pd.DataFrame, domain, level_before, level_after, change, attribution, names: list[str]
) -> pd.DataFrame:
    """Assemble the change table in its one shape, whatever the source (array-likes of equal length)."""
    table = identity.reset_index(drop=True).assign(
        domain=pd.Categorical(domain, categories=names),
        level_before=np.asarray(level_before, dtype=float),
        level_after=np.asarray(level_after, dtype=float),
        change=pd.Categorical(change, categories=list(CHANGES)),
        attribution=pd.Categorical(attribution, categories=list(ATTRIBUTIONS)),
    )
    table.insert(table.columns.get_loc("change"), "difference", table["level_after"] - table["level_before"])
    table.columns.name = None
    return table


def thesis_changes(coded: pd.DataFrame | None = None, instrument: Instrument | None = None) -> pd.DataFrame:
    """The change table of the source study's fifteen interviewed citizens.

    The study (Van der Zwaan 2014, section 7.4) states per person and domain
    whether participation increased, and whether the pilot caused it, but
    gives no levels; ``data/thesis/participation_changes.csv`` codes those
    statements. Here every respondent gets a row for every domain of the
    wheel instrument: the stated change where the study discusses the domain,
    missing where it does not; levels are missing throughout. Attribution
    pilot / partly_pilot / not_pilot becomes yes / partly / no.

    Each person counts once. The Westerfield couple are two respondents, so
    the study's "skills: 3 (one person and a couple)" is three rows with an
    increase in ``opdoen_vaardigheden`` (Specht and both Westerfields).

    Parameters
    ----------
    coded : pandas.DataFrame, optional
        The coded statements (columns respondent, domain, change,
        attribution); the shipped file by default.
    instrument : Instrument, optional
        The wheel instrument giving the domains; ``participation_wheel`` by default.

    Returns
    -------
    pandas.DataFrame
        A change table, as :func:`changes` returns.

    Examples
    --------
    >>> table = thesis_changes()
    >>> table["respondent"].nunique(), len(table)
    (15, 90)
    """
    if coded is None:
        with resources.files("kantelmeter.data").joinpath("thesis/participation_changes.csv").open("rb") as handle:
            coded = pd.read_csv(handle)
    return coded_changes(coded, instrument)


def coded_changes(coded: pd.DataFrame, instrument: Instrument | None = None, respondents=None) -> pd.DataFrame:
    """The change table from coded statements (interviews coded on the wheel).

    One statement per respondent and domain (columns respondent, domain,
    change, attribution) becomes the change table that :func:`changes`
    makes from questionnaire data; a domain without a statement is missing
    and levels are missing throughout. Attribution pilot / partly_pilot /
    not_pilot becomes yes / partly / no; not_applicable or a blank is missing.
    :func:`thesis_changes` and :func:`kantelmeter.coding.wheel_changes` both
    go through here.

    Parameters
    ----------
    coded : pandas.DataFrame
    instrument : Instrument, optional
        The wheel instrument giving the domains; ``participation_wheel`` by default.
    respondents : sequence, optional
        Every respondent to include, also those without a statement; by
        default those in ``coded``.

    Examples
    --------
    >>> coded = pd.DataFrame({"respondent": ["r1"], "domain": ["eigen_inkomen"], "change": ["increase"],
    ...                       "attribution": [None]})
    >>> table = coded_changes(coded, respondents=["r1", "r2"])
    >>> len(table), int(table["change"].notna().sum()), table["attribution"].isna().all()
    (12, 1, np.True_)
    """
    instrument = instrument or load_instrument("participation_wheel")
    names = domains(instrument)
    _check_values(coded, "domain", names)
    _check_values(coded, "change", CHANGES)
    _check_values(coded, "attribution", _THESIS_ATTRIBUTION, blank_allowed=True)
    twice = coded.duplicated(["respondent", "domain"])
    if twice.any():
        row = coded[twice].iloc[0]
        raise WheelError(
            f"row {coded.index[twice][0] + 2}: respondent {row['respondent']!r} has domain "
            f"{row['domain']!r} twice; allowed: one statement per respondent and domain"
        )
    people = coded["respondent"].drop_duplicates() if respondents is None else pd.unique(pd.Series(respondents))
    grid = pd.MultiIndex.from_product([people, names], names=["respondent", "domain"])
    stated = coded.set_index(["respondent", "domain"]).reindex(grid).reset_index()
    nothing = np.full(len(stated), np.nan)
    return _change_table(
        stated[["respondent"]],
        stated["domain"],
        nothing,
        nothing,
        stated["change"],
        stated["attribution"].map(_THESIS_ATTRIBUTION),
        names,
    )


def _check_values(coded: pd.DataFrame, column: str, allowed, blank_allowed: bool = False) -> None:
    if column not in coded.columns:
        raise WheelError(f"the coded thesis table has no {column!r} column")
    wrong = ~coded[column].isin(list(allowed))
    if blank_allowed:
        wrong &= coded[column].notna()
    if wrong.any():
        # +2: a header line, and files count rows from 1
        raise WheelError(
            f"row {coded.index[wrong][0] + 2}, column {column!r}: value {coded[column][wrong].iloc[0]!r}; "
            f"allowed: {', '.join(allowed)}"
        )


def summarise(change_table: pd.DataFrame, by: str | list[str] | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Per domain (and group): how many improved, with the share and its Wilson interval.

    Method: the share improved is the number of respondents with an
    increase divided by the number whose change in that domain is known
    (``n_assessed``); its interval is the Wilson score interval (Wilson 1927;
    Newcombe 1998), see :func:`kantelmeter.proportions.wilson_interval`.
    Every domain of the table appears, with zeros where nobody was assessed.
    The attribution counts are among the respondents who improved.

    Parameters
    ----------
    change_table : pandas.DataFrame
        From :func:`changes` or :func:`thesis_changes`.
    by : str or list of str, optional
        Grouping columns, e.g. ``"cohort"``.
    confidence : float

    Returns
    -------
    pandas.DataFrame
        One row per group and domain: ``n_assessed``, ``n_increase``,
        ``n_no_change``, ``n_decrease``, ``share_improved``, ``ci_low``,
        ``ci_high``, ``improved_yes``, ``improved_partly``, ``improved_no``
        (attribution of the improvements).

    Examples
    --------
    The source study's own tallies (section 7.4.2):

    >>> summary = summarise(thesis_changes())
    >>> summary.set_index("domain")["n_increase"].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'maatschappelijke_bijdragen': 2, 'opdoen_vaardigheden': 3, 'eigen_inkomen': 2,
     'zelfstandig_functioneren': 4, 'sociale_contacten': 3, 'maatschappelijk_deelnemen': 0}
    """
    groups = [by] if isinstance(by, str) else list(by or [])
    change = change_table["change"]
    increase = change == "increase"
    flags = pd.DataFrame(
        {
            "n_assessed": change.notna(),
            "n_increase": increase,
            "n_no_change": change == "no_change",
            "n_decrease": change == "decrease",
            **{f"improved_{label}": increase & (change_table["attribution"] == label) for label in ATTRIBUTIONS},
        }
    )
    keys = [change_table[column] for column in groups] + [change_table["domain"]]
    counts = flags.groupby(keys, observed=False).sum().astype(int).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counts["n_increase"] / counts["n_assessed"].where(counts["n_assessed"] > 0)
    low, high = wilson_interval(counts["n_increase"], counts["n_assessed"], confidence)
    counts.insert(counts.columns.get_loc("n_decrease") + 1, "share_improved", share)
    counts.insert(counts.columns.get_loc("share_improved") + 1, "ci_low", low)
    counts.insert(counts.columns.get_loc("ci_low") + 1, "ci_high", high)
    return counts


def per_respondent(change_table: pd.DataFrame) -> pd.DataFrame:
    """Per respondent: how many domains were assessed, improved and declined.

    Examples
    --------
    >>> counts = per_respondent(thesis_changes()).set_index("respondent")
    >>> counts.loc["Specht (mevrouw)"].tolist()
    [2, 2, 0]
    """
    keys = [column for column in ("respondent", "cohort") if column in change_table.columns]
    change = change_table["change"]
    flags = pd.DataFrame(
        {
            "domains_assessed": change.notna(),
            "domains_improved": change == "increase",
            "domains_declined": change == "decrease",
        }
    )
    return flags.groupby([change_table[key] for key in keys], sort=False).sum().astype(int).reset_index()


def profile(change_table: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Mean level per domain before and after: the spokes of a radar plot.

    Returns
    -------
    pandas.DataFrame
        One row per group and domain (instrument order): ``n_before``,
        ``mean_before``, ``n_after``, ``mean_after``.

    Examples
    --------
    >>> wheel = load_instrument("participation_wheel")
    >>> frame = pd.DataFrame({"respondent": ["a", "a", "b", "b"],
    ...                       "occasion": ["intake", "follow_up"] * 2,
    ...                       "eigen_inkomen_level": [2, 3, 4, 4]})
    >>> profile(changes(wheel, frame)).set_index("domain").loc["eigen_inkomen"].tolist()
    [2.0, 3.0, 2.0, 3.5]
    """
    groups = [by] if isinstance(by, str) else list(by or [])
    keys = [change_table[column] for column in groups] + [change_table["domain"]]
    grouped = change_table.groupby(keys, observed=False)
    return pd.DataFrame(
        {
            "n_before": grouped["level_before"].count(),
            "mean_before": grouped["level_before"].mean(),
            "n_after": grouped["level_after"].count(),
            "mean_after": grouped["level_after"].mean(),
        }
    ).reset_index()
