"""Bias, coverage and cost of the cohort-comparison estimators on synthetic studies with known truth.

The larger version of tests/test_effects_simulation.py: more seeds, more outcomes, the ordinal and
binary estimators, and a scenario without selection. For each scenario, outcome and estimator it
prints the performance measures of Morris, White & Crowther (2019) and, as ratios against the naive
estimator measured in the same run, the absolute bias and the time per fit.

    python benchmarks/bench_effects_simulation.py [seeds]      # default 200
"""

import sys
import time
import warnings

import pandas as pd

from kantelmeter import synth
from kantelmeter.effects import METHODS, EffectsError, OverlapWarning, prepare, recovery

CONTINUOUS = ["naive", "change", "ancova", "mixed", "ipw", "dr"]
SCENARIOS = {"selection (default truth)": {}, "no selection": {"selection": 0.0, "confounding": 0.0}}
# outcome -> (baseline occasion, estimators, which truth: the scored average effect or the latent parameter)
OUTCOMES = {
    "wellbeing": ("intake", CONTINUOUS, "ate"),
    "soc_total": ("intake", CONTINUOUS, "ate"),
    "eigen_inkomen": ("intake", CONTINUOUS, "ate"),
    "eigen_inkomen_improved": (None, ["naive", "risk_difference", "dr"], "ate"),
    "ladder_rung": (None, ["proportional_odds"], "parameter"),
}


def run(seeds: int) -> pd.DataFrame:
    rows = []
    for scenario, truth in SCENARIOS.items():
        for seed in range(seeds):
            study = synth.study(seed=seed, n_regular=200, **truth)
            for outcome, (baseline, methods, target) in OUTCOMES.items():
                cohorts = prepare(study.outcomes, outcome, baseline=baseline, covariates=synth.COVARIATES)
                for method in methods:
                    start = time.perf_counter()
                    try:
                        row = METHODS[method](cohorts, 0.05)
                    except EffectsError:  # refused data sets are counted, not hidden
                        row = {"outcome": outcome, "method": method, "refused": True}
                    rows.append({**row, "seconds": time.perf_counter() - start, "scenario": scenario,
                                 "truth": study.true_effects.loc[outcome, target]})
    return pd.DataFrame(rows)


def _versus_naive(values: pd.Series) -> pd.Series:
    """Each value divided by the naive estimator's value for the same scenario and outcome (blank without one)."""
    naive = values.xs("naive", level="method")
    return values / naive.reindex(values.index.droplevel("method")).to_numpy()


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        results = run(seeds)
    refused = results.get("refused", pd.Series(False, index=results.index)).fillna(False).astype(bool)
    table = recovery(results[~refused], by=["scenario", "outcome", "method"])
    table["refused"] = refused.groupby([results["scenario"], results["outcome"], results["method"]]).sum()
    seconds = results.groupby(["scenario", "outcome", "method"], sort=False)["seconds"].mean()
    table["abs_bias_vs_naive"] = _versus_naive(table["bias"].abs())
    table["se_ratio"] = table["model_se"] / table["empirical_se"]
    table["time_vs_naive"] = _versus_naive(seconds)
    columns = ["n_sim", "refused", "truth", "bias", "bias_mcse", "relative_bias", "coverage", "coverage_mcse", "se_ratio",
               "abs_bias_vs_naive", "time_vs_naive"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"{seeds} synthetic studies per scenario (90 pilot, 200 regular citizens; synthetic data)\n")
        print(table[columns].round(3).to_string())


if __name__ == "__main__":
    main()
