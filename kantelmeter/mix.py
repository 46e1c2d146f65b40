"""The study's "mix": how the result per problem relates to urgency, SOC and immaterial support.

The source study found that a problem is solved when three conditions meet:
the citizen suffers from it (urgency, *lijdensdruk*), has the capacities to
act (a sense of coherence, SOC, at intake) and gets immaterial support
(advice, conversations, someone thinking along) rather than only provisions.
:func:`problem_table` joins what the citizen questionnaire holds per problem
(urgency at intake, the result and the interventions at follow-up, see
:func:`kantelmeter.repeats.repeated`) to the SOC score at intake;
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

from kantelmeter.instruments import Instrument
from kantelmeter.repeats import repeated

__all__ = ["MixError", "PREDICTORS", "SOLVED", "estimate_mix", "problem_table"]

#: The result codes (``problem_result``) that count as solved: fully or partly.
SOLVED = (1, 2)

#: The conditions of the mix, as columns of :func:`problem_table`.
PREDICTORS = ("urgency", "soc", "immaterial")


class MixError(ValueError):
    """A per-problem table the mix cannot be estimated from."""


def problem_table(
    citizen: Instrument, intake: pd.DataFrame, follow_up: pd.DataFrame, soc: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per problem raised: urgency at intake, result and support at follow-up, SOC at intake.

    Parameters
    ----------
    citizen : Instrument
        The citizen questionnaire (version 2.0 or later: with repeated sections).
    intake, follow_up : DataFrame
        Its wide responses at each occasion.
    soc : DataFrame, optional
        Columns ``respondent`` and ``soc_total``, the SOC-13 score at intake
        (:func:`kantelmeter.scoring.score`); becomes ``soc``, in tens of points.

    Returns
    -------
    DataFrame
        ``respondent``, ``repetition``, ``element``, ``element_label``,
        ``urgency`` (1-4), ``result`` (the code), ``solved`` (1 for fully or
        partly solved, 0 otherwise, NaN without a result), ``material`` and
        ``immaterial`` (1 when an intervention of that kind was ticked, 0 when
        interventions were answered without one) and ``soc``. Problems without
        a follow-up are kept, with blank results.
    """
    before = repeated(citizen, intake.assign(occasion="intake"))[
        ["respondent", "repetition", "element", "element_label", "urgency"]
    ]
    after = repeated(citizen, follow_up.assign(occasion="follow_up"))
    scale = citizen.response_scale_of("interventions")
    kinds = {
        kind: [f"interventions_{c.code}" for c in scale.codes if c.support == kind]
        for kind in ("material", "immaterial")
    }
    options = [f"interventions_{code}" for code in scale.valid_codes]
    answered = after[options].notna().any(axis=1)
    support = {kind: after[columns].eq(1).any(axis=1).astype(float).where(answered) for kind, columns in kinds.items()}
    after = after[["respondent", "repetition"]].assign(result=after["problem_result"], **support)
    table = before.merge(after, on=["respondent", "repetition"], how="left")
    table.insert(
        table.columns.get_loc("result") + 1,
        "solved",
        table["result"].isin(SOLVED).astype(float).where(table["result"].notna()),
    )
    if soc is not None:
        table = table.merge(
            soc[["respondent", "soc_total"]].rename(columns={"soc_total": "soc"}), on="respondent", how="left"
        ).assign(soc=lambda t: t["soc"] / 10)
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
