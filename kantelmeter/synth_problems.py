"""Synthetic citizens with several problems each, drawn from a known "mix". Not real data.

:func:`synthetic_problems` draws citizens who raise one to four problems at
intake (the options of the item the urgency section repeats over), each with an
urgency, a SOC-13 score at intake (``data/synthetic/problems.yaml``), and at follow-up per problem the
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

from kantelmeter.instruments import load_instrument, theoretical_range
from kantelmeter.mix import problem_table, solved_codes, support_item
from kantelmeter.synth import truth_file

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
    """The citizen questionnaire's wide responses at intake and follow-up, SOC scores by respondent, and the truth."""

    truth: MixTruth
    intake: pd.DataFrame
    follow_up: pd.DataFrame
    soc: pd.Series

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
    urgency_item, result_item, support = (
        citizen.item_with_role("urgency"),
        citizen.item_with_role("result"),
        support_item(citizen),
    )
    source = next(s.repeat.for_each for s in citizen.sections if s.repeat and urgency_item in s.items)
    problems = citizen.valid_codes(source) or []
    urgencies = citizen.valid_codes(urgency_item) or []
    solved_ = solved_codes(citizen)
    unsolved = [c for c in citizen.valid_codes(result_item) or [] if c not in solved_]
    interventions = getattr(citizen.response_scale_of(support), "codes", [])
    immaterial = [c.code for c in interventions if c.support == "immaterial"]
    material = [c.code for c in interventions if c.support == "material"]
    respondents = [f"synth-{i + 1:04d}" for i in range(n)]
    drawn = truth_file("problems.yaml")["soc"]
    soc_instrument = load_instrument(drawn["instrument"])
    low, high = theoretical_range(soc_instrument, soc_instrument.scale(drawn["scale"]))
    soc_scores = np.clip(rng.normal(drawn["mean"], drawn["sd"], n).round(), low, high)
    intake, follow_up = [], []
    for person, soc in zip(respondents, soc_scores):
        raised = set(rng.choice(problems, size=1 + rng.binomial(len(problems) - 1, 0.4), replace=False).tolist())
        row_in = {"respondent": person, **{f"{source}_{code}": float(code in raised) for code in problems}}
        row_out = {"respondent": person}
        for number, code in enumerate(problems, start=1):
            if code not in raised:
                continue
            urgency = int(urgencies[rng.integers(len(urgencies))])
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
            row_in[f"{urgency_item.id}__{number}"] = float(urgency)
            result = rng.choice(solved_) if solved else unsolved[rng.integers(len(unsolved))]
            row_out[f"{result_item.id}__{number}"] = float(result)
            row_out |= {f"{support.id}__{number}_{c.code}": float(c.code in ticked) for c in interventions}
        intake.append(row_in)
        follow_up.append(row_out)
    return ProblemStudy(
        truth,
        pd.DataFrame(intake),
        pd.DataFrame(follow_up),
        pd.Series(soc_scores, index=pd.Index(respondents, name="respondent"), name=drawn["scale"]),
    )
