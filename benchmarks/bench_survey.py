"""Bias and coverage of the survey round's weighted estimates on a synthetic finite population.

One population of clients (``kantelmeter.survey.register``: 5,000 clients, four districts) with a
known mean 0-10 rating (depending on age) and a known share who agree with a CEO statement
(depending on provision). Each replication draws a stratified sample (by district, 1,200 clients),
lets clients respond with a probability that depends on age and provision (older clients and home
help answer more, transport and guidance less), rakes the design weights to the register's age and
provision margins (``survey.calibrate``) and estimates the mean and the proportion
(``survey.estimate``), weighted and unweighted. Printed per estimator: the bias, its Monte Carlo
standard error, the empirical SE, the mean model SE and the coverage of the 95% interval (Morris,
White & Crowther 2019, *Stat Med* 38: 2074-2102). Also the mean RR1 and R-indicator, and, as a
ratio against the unweighted estimate, the absolute bias of the weighted one.

    python benchmarks/bench_survey.py [replications]      # default 200
"""

import sys
import time

import numpy as np
import pandas as pd

from kantelmeter import survey
from kantelmeter.privacy import Pseudonymiser
from kantelmeter.survey.register import synthetic_register, synthetic_round


def population(seed: int = 2026) -> tuple[survey.Frame, pd.DataFrame]:
    """The frame (keyed by pseudonym) and, per pseudonym, the truth of the synthetic round."""
    import tempfile
    from pathlib import Path

    register = synthetic_register(5000, seed=seed)
    key = Path(tempfile.mkdtemp()) / "bench.key"
    frame = survey.frame(
        register, id="bsn", strata="district", auxiliaries=["age_group", "provision"], pseudonymiser=Pseudonymiser(key)
    )
    truth = synthetic_round(register, seed=seed).assign(pseudonym=frame.units["pseudonym"].to_numpy())
    return frame, truth.set_index("pseudonym")


def replicate(frame: survey.Frame, truth: pd.DataFrame, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    sample = survey.draw(frame, n=1200, allocation="proportional", seed=seed)
    p = truth.loc[sample.units["pseudonym"], "response_probability"].to_numpy()
    answered = rng.random(len(p)) < p
    outcomes = pd.DataFrame(
        {
            "pseudonym": sample.units["pseudonym"],
            "status": np.where(answered, "complete", None),
            "source": np.where(answered, "web", None),
            "disposition": None,
        }
    )
    account = survey.response(sample, outcomes, replicates=0)
    respondents = account.respondents[["pseudonym"]].join(truth[["rating", "agree"]], on="pseudonym")
    weights = survey.calibrate(sample, respondents, method="raking")
    rows = []
    for kind, outcome in (("mean", "rating"), ("proportion", "agree")):
        weighted = survey.estimate(respondents, weights, sample, outcome, kind=kind).iloc[0]
        flat = survey.estimate(respondents.assign(one=1.0), "one", None, outcome, kind=kind).iloc[0]
        for name, row in (("weighted (raked)", weighted), ("unweighted", flat)):
            rows.append(
                {
                    "outcome": outcome,
                    "estimator": name,
                    "estimate": row.estimate,
                    "se": row.se,
                    "ci_low": row.ci_low,
                    "ci_high": row.ci_high,
                }
            )
    rr1 = account.table["rr1"].iloc[-1]
    r = survey.r_indicator(account.units, ["age_group", "provision"], replicates=0).r.iloc[0]
    return [dict(row, rr1=rr1, r_indicator=r, kish_deff=weights.kish_deff) for row in rows]


def summarise(results: pd.DataFrame, truth: dict[str, float]) -> pd.DataFrame:
    rows = []
    for (outcome, estimator), group in results.groupby(["outcome", "estimator"], sort=False):
        true = truth[outcome]
        errors = group["estimate"] - true
        covered = (group["ci_low"] <= true) & (true <= group["ci_high"])
        rows.append(
            {
                "outcome": outcome,
                "estimator": estimator,
                "truth": true,
                "bias": errors.mean(),
                "bias_mcse": errors.std(ddof=1) / np.sqrt(len(group)),
                "empirical_se": group["estimate"].std(ddof=1),
                "model_se": group["se"].mean(),
                "coverage": covered.mean(),
                "coverage_mcse": np.sqrt(covered.mean() * (1 - covered.mean()) / len(group)),
            }
        )
    return pd.DataFrame(rows)


def main(replications: int) -> None:
    frame, truth = population()
    targets = {"rating": truth["rating"].mean(), "agree": truth["agree"].mean()}
    start = time.perf_counter()
    results = pd.DataFrame([row for seed in range(replications) for row in replicate(frame, truth, seed)])
    elapsed = time.perf_counter() - start
    table = summarise(results, targets)
    print(
        f"{replications} replications, population 5,000 clients, stratified sample of 1,200, "
        f"{elapsed / replications:.2f} s per replication"
    )
    print(
        f"mean RR1 {results['rr1'].mean():.3f}, mean R-indicator {results['r_indicator'].mean():.3f}, "
        f"mean Kish deff of the weights {results['kish_deff'].mean():.3f}"
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for outcome in targets:
        part = table[table["outcome"] == outcome].set_index("estimator")
        ratio = abs(part.loc["weighted (raked)", "bias"]) / abs(part.loc["unweighted", "bias"])
        print(f"{outcome}: |bias| weighted / unweighted = {ratio:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
