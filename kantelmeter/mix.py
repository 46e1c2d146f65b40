"""The study's "mix": how the result per problem relates to urgency, SOC and immaterial support.

The source study found that a problem is solved when three conditions meet:
the citizen suffers from it (urgency, *lijdensdruk*), has the capacities to
act (a sense of coherence, SOC, at intake) and gets immaterial support
(advice, conversations, someone thinking along) rather than only provisions.
:func:`problem_table` joins what the citizen questionnaire holds per problem
(urgency at intake, the result and the interventions at follow-up, see
:func:`kantelmeter.repeats.repeated`) to the SOC score at intake;
it finds them by what the questionnaire declares, never by id: the items with
``role: urgency`` and ``role: result``, the result codes with ``meaning:
solved``, and the repeated multiple-choice item whose options carry
``support:``.
:func:`estimate_mix` fits a logistic model of "solved" on those conditions
with standard errors clustered by respondent, since the problems of one
citizen are not independent.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument, Item, ItemType
from kantelmeter.repeats import repeated

__all__ = ["MixError", "PREDICTORS", "estimate_mix", "problem_table", "solved_codes", "support_item"]

#: The conditions of the mix, as columns of :func:`problem_table`.
PREDICTORS = ("urgency", "soc", "immaterial")


class MixError(KantelmeterError, ValueError):
    """A per-problem table the mix cannot be estimated from, or a questionnaire without what the mix reads."""


def solved_codes(citizen: Instrument) -> list[int]:
    """The codes of the result item (``role: result``) that count as solved: those with ``meaning: solved``.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> solved_codes(load_instrument("citizen"))
    [1, 2]
    """
    scale = citizen.response_scale_of(citizen.item_with_role("result"))
    codes = [c.code for c in (scale.codes if scale else []) if c.meaning == "solved"]
    if not codes:
        raise MixError(f"instrument {citizen.id!r}: no code of the result item has meaning: solved")
    return codes


def support_item(citizen: Instrument) -> Item:
    """The repeated multiple-choice item whose options are marked ``support: material | immaterial``.

    Examples
    --------
    >>> from kantelmeter.instruments import load_instrument
    >>> support_item(load_instrument("citizen")).response_scale
    'intervention'
    """
    found = [
        item
        for section in citizen.sections
        if section.repeat
        for item in section.items
        if item.type is ItemType.multiple_choice
        and any(c.support for c in getattr(citizen.response_scale_of(item), "codes", []))
    ]
    if len(found) != 1:
        raise MixError(
            f"instrument {citizen.id!r} has {len(found)} repeated multiple-choice items with support: options "
            f"({', '.join(item.id for item in found) or 'none'}); allowed: exactly one"
        )
    return found[0]


def problem_table(
    citizen: Instrument, intake: pd.DataFrame, follow_up: pd.DataFrame, soc: pd.Series | None = None
) -> pd.DataFrame:
    """One row per problem raised: urgency at intake, result and support at follow-up, SOC at intake.

    Parameters
    ----------
    citizen : Instrument
        The citizen questionnaire (version 2.0 or later: with repeated sections).
    intake, follow_up : DataFrame
        Its wide responses at each occasion.
    soc : Series, optional
        The SOC-13 total score at intake indexed by respondent (a column of
        :func:`kantelmeter.scoring.score`); becomes ``soc``, in tens of points.

    Returns
    -------
    DataFrame
        ``respondent``, ``repetition``, ``element``, ``element_label``,
        ``urgency`` (1-4), ``result`` (the code), ``solved`` (1 for a code
        with ``meaning: solved``, 0 otherwise, NaN without a result), ``material`` and
        ``immaterial`` (1 when an intervention of that kind was ticked, 0 when
        interventions were answered without one) and ``soc``. Problems without
        a follow-up are kept, with blank results.
    """
    urgency, result, interventions = (
        citizen.item_with_role("urgency"),
        citizen.item_with_role("result"),
        support_item(citizen),
    )
    first, *_, last = citizen.occasions
    before = repeated(citizen, intake.assign(occasion=first))[
        ["respondent", "repetition", "element", "element_label", urgency.id]
    ].rename(columns={urgency.id: "urgency"})
    after = repeated(citizen, follow_up.assign(occasion=last))
    codes = getattr(citizen.response_scale_of(interventions), "codes", [])
    kinds = {
        kind: [f"{interventions.id}_{c.code}" for c in codes if c.support == kind]
        for kind in ("material", "immaterial")
    }
    answered = after[citizen.columns_of(interventions)].notna().any(axis=1)
    support = {kind: after[columns].eq(1).any(axis=1).astype(float).where(answered) for kind, columns in kinds.items()}
    after = after[["respondent", "repetition"]].assign(result=after[result.id], **support)
    table = before.merge(after, on=["respondent", "repetition"], how="left")
    table.insert(
        table.columns.get_loc("result") + 1,
        "solved",
        table["result"].isin(solved_codes(citizen)).astype(float).where(table["result"].notna()),
    )
    if soc is not None:
        table["soc"] = table["respondent"].map(soc) / 10
    return table


def estimate_mix(
    table: pd.DataFrame, predictors: Sequence[str] = PREDICTORS, outcome: str = "solved", confidence: float = 0.95
) -> pd.DataFrame:
    """A logistic model of a problem's result on the conditions, with respondent-clustered standard errors.

    Parameters
    ----------
    table : DataFrame
        As :func:`problem_table` returns it (rows with a blank outcome or
        predictor are left out).
    predictors : sequence of str
    outcome : str
        A 0/1 column.
    confidence : float

    Returns
    -------
    DataFrame
        Indexed by term (``const`` and the predictors): ``estimate`` (log
        odds ratio), ``se`` (cluster-robust, by respondent), ``ci_low``,
        ``ci_high``, ``odds_ratio``, ``p``; ``attrs`` hold ``n_problems`` and
        ``n_respondents``.

    Raises
    ------
    MixError
        For a missing column, a non-0/1 outcome, or too few respondents
        (fewer than 20: cluster-robust errors need many clusters).

    Examples
    --------
    >>> from kantelmeter.synth_problems import synthetic_problems
    >>> fit = estimate_mix(synthetic_problems(n=600, seed=1).table)
    >>> list(fit.index), fit.attrs["n_respondents"]
    (['const', 'urgency', 'soc', 'immaterial'], 600)
    """
    missing = [c for c in ["respondent", outcome, *predictors] if c not in table.columns]
    if missing:
        raise MixError(
            f"the problem table has no column(s) {', '.join(missing)}; "
            f"columns present: {', '.join(map(str, table.columns))}"
        )
    data = table.dropna(subset=[outcome, *predictors])
    if not data[outcome].isin((0, 1)).all():
        raise MixError(f"outcome {outcome!r} holds {sorted(set(data[outcome]) - {0, 1})}; allowed: 0 and 1")
    respondents = data["respondent"].nunique()
    if respondents < 20:
        raise MixError(
            f"{respondents} respondents with a complete problem row; cluster-robust standard errors need at least 20"
        )
    exog = sm.add_constant(data[list(predictors)].astype(float), has_constant="add")
    groups = pd.factorize(data["respondent"])[0]
    fit = sm.Logit(data[outcome].astype(float), exog).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    z = stats.norm.ppf(0.5 + confidence / 2)
    result = pd.DataFrame({"estimate": fit.params, "se": fit.bse})
    result["ci_low"], result["ci_high"] = result["estimate"] - z * result["se"], result["estimate"] + z * result["se"]
    result["odds_ratio"], result["p"] = np.exp(result["estimate"]), fit.pvalues
    result.index.name = "term"
    result.attrs.update(n_problems=len(data), n_respondents=respondents)
    return result
