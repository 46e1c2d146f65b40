"""Synthetic citizens with several problems each, drawn from a known "mix". Not real data.

:func:`synthetic_problems` draws citizens who raise one to four problems at
intake (the citizen questionnaire's ``problems_raised``), each with an
urgency, a SOC-13 score at intake, and at follow-up per problem the
interventions (immaterial support more likely for urgent problems) and the
result, solved with the probability of a logistic model whose coefficients
are :class:`MixTruth`. The answers come as the questionnaire's wide
responses, so :func:`kantelmeter.mix.problem_table` and
:func:`kantelmeter.mix.estimate_mix` can be checked against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kantelmeter.instruments import load_instrument
from kantelmeter.mix import SOLVED, problem_table

__all__ = ["MixTruth", "ProblemStudy", "synthetic_problems"]


@dataclass(frozen=True)
class MixTruth:
    """The log odds of a problem being solved: ``const + urgency*u + soc*(SOC/10) + immaterial*i``."""

    const: float = -3.0
    urgency: float = 0.4
    soc: float = 0.3
    immaterial: float = 0.7

    def coefficients(self) -> pd.Series:
        """The coefficients by term, as :func:`kantelmeter.mix.estimate_mix` names them."""
        return pd.Series(
            {"const": self.const, "urgency": self.urgency, "soc": self.soc, "immaterial": self.immaterial}, name="truth"
        )


@dataclass
class ProblemStudy:
    """The citizen questionnaire's wide responses at intake and follow-up, SOC scores, and the truth."""

    truth: MixTruth
    intake: pd.DataFrame
    follow_up: pd.DataFrame
    soc: pd.DataFrame

    @property
    def table(self) -> pd.DataFrame:
        """The per-problem table of these responses (:func:`kantelmeter.mix.problem_table`)."""
        return problem_table(load_instrument("citizen"), self.intake, self.follow_up, self.soc)


def synthetic_problems(n: int = 400, truth: MixTruth | None = None, seed: int = 0) -> ProblemStudy:
    """Draw ``n`` synthetic citizens, their problems and the results (see the module notes).

    Examples
    --------
    >>> study = synthetic_problems(n=50, seed=3)
    >>> len(study.intake), bool(study.intake["respondent"].str.startswith("synth-").all())
    (50, True)
    >>> bool(study.table["solved"].isin([0, 1]).all())
    True
    """
    truth = truth or MixTruth()
    rng = np.random.default_rng(seed)
    citizen = load_instrument("citizen")
    problems = citizen.response_scale_of("problems_raised").valid_codes
    interventions = citizen.response_scale_of("interventions").codes
    immaterial = [c.code for c in interventions if c.support == "immaterial"]
    material = [c.code for c in interventions if c.support == "material"]
    respondents = [f"synth-{i + 1:04d}" for i in range(n)]
    soc_total = np.clip(rng.normal(60, 12, n).round(), 13, 91)
    intake, follow_up = [], []
    for person, soc in zip(respondents, soc_total):
        raised = set(rng.choice(problems, size=1 + rng.binomial(len(problems) - 1, 0.4), replace=False).tolist())
        row_in = {"respondent": person, **{f"problems_raised_{code}": float(code in raised) for code in problems}}
        row_out = {"respondent": person}
        for number, code in enumerate(problems, start=1):
            if code not in raised:
                continue
            urgency = int(rng.integers(1, 5))
            supported = rng.random() < 0.2 + 0.12 * (urgency - 1)  # urgent problems get immaterial support more
            ticked = (
                set(rng.choice(immaterial, size=int(rng.integers(1, 3)), replace=False).tolist())
                if supported
                else set()
            )
            if not ticked or rng.random() < 0.4:
                ticked.add(int(rng.choice(material)))
            linear = truth.const + truth.urgency * urgency + truth.soc * soc / 10 + truth.immaterial * supported
            solved = rng.random() < 1 / (1 + np.exp(-linear))
            row_in[f"urgency__{number}"] = float(urgency)
            row_out[f"problem_result__{number}"] = float(rng.choice(SOLVED) if solved else rng.integers(3, 7))
            row_out |= {f"interventions__{number}_{c.code}": float(c.code in ticked) for c in interventions}
        intake.append(row_in)
        follow_up.append(row_out)
    return ProblemStudy(
        truth,
        pd.DataFrame(intake),
        pd.DataFrame(follow_up),
        pd.DataFrame({"respondent": respondents, "soc_total": soc_total}),
    )
