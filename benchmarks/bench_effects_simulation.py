"""Bias, RMSE and 95% coverage of the cohort-comparison estimators against the ATT and the ATE.

Two parts, both on synthetic data with a known truth:

1. Designs with an exact truth (:func:`kantelmeter.synth.effect_study`): heterogeneous effects (the
   pilot's complex cases gain more, so ATT > ATE), selection on the intake value of the outcome, loss
   before follow-up missing at random given cohort, intake value and complexity, and all three at once;
   at pilot size (90 pilot + 300 regular citizens) and at n = 5,000 (1,000 + 4,000). Per design, size
   and estimator it prints bias (also in SD of the outcome), RMSE and coverage against both the ATT and
   the ATE, with the Monte Carlo standard errors of Morris, White & Crowther (2019). The headline (``dr``,
   ATT, response weights) must show |bias| < 0.05 SD and coverage 0.93-0.97 of the ATT.
2. The whole path through instruments and scoring (:func:`kantelmeter.synth.study`): the larger version
   of tests/test_effects_simulation.py, with the ordinal and binary estimators, as ratios against the
   naive estimator measured in the same run (absolute bias and time per fit).

    python benchmarks/bench_effects_simulation.py [seeds] [seeds at n = 5,000] [study seeds]
    # defaults 200, 200, 50 (0 leaves a part out); the studies of part 1 run in a pool of two processes
"""

import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

from kantelmeter import synth
from kantelmeter.effects import METHODS, EffectsError, OverlapWarning, prepare, recovery

# --- part 1: designs with an exact truth ---------------------------------------------------------------

LOSS = {"attrition": 0.5, "dropout_pilot": 0.22, "dropout_regular": 0.15}
DESIGNS = {
    "heterogeneous effects": {"heterogeneity": 0.35},
    "selection on intake": {"selection_on_intake": 0.6},
    "MAR attrition": {"heterogeneity": 0.35, **LOSS},
    "all three": {"heterogeneity": 0.35, "selection_on_intake": 0.6, **LOSS},
}
SIZES = {"90 + 300": (90, 300), "1,000 + 4,000": (1000, 4000)}
# label -> (method, options); the first dr row is the headline
ESTIMATORS = {
    "dr ATT (headline)": ("dr", {}),
    "dr ATT, complete cases": ("dr", {"attrition": "complete"}),
    "dr ATE": ("dr", {"estimand": "ate"}),
    "ipw ATT": ("ipw", {}),
    "ipw ATE": ("ipw", {"estimand": "ate"}),
    "ipw ATE, truncated 1/99% (old default)": ("ipw", {"estimand": "ate", "truncate": (0.01, 0.99)}),
    "ancova (conditional)": ("ancova", {}),
    "naive": ("naive", {}),
}


def _one_study(size: str, name: str, seed: int) -> list[dict]:
    """Every estimator on one study: the study is drawn and prepared once for all of them."""
    warnings.simplefilter("ignore", OverlapWarning)
    n_pilot, n_regular = SIZES[size]
    study = synth.effect_study(seed=seed, n_pilot=n_pilot, n_regular=n_regular, **DESIGNS[name])
    cohorts = prepare(study.outcomes, "wellbeing", covariates=study.covariates)
    rows = []
    for label, (method, options) in ESTIMATORS.items():
        try:
            row = METHODS[method](cohorts, confidence=0.95, **options)
        except EffectsError:  # a study refused (no overlap) is counted, not hidden
            row = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
        rows.append(
            {
                "size": size,
                "design": name,
                "estimator": label,
                "estimate": row["estimate"],
                "se": row["se"],
                "ci_low": row["ci_low"],
                "ci_high": row["ci_high"],
                "att": study.design.att,
                "ate": study.design.ate,
                "sd": study.design.sd,
            }
        )
    return rows


def designs(size: str, seeds: int, pool: ProcessPoolExecutor) -> pd.DataFrame:
    jobs = [(size, name, seed) for name in DESIGNS for seed in range(seeds)]
    studies = pool.map(_one_study, *zip(*jobs), chunksize=max(1, len(jobs) // 32))
    return pd.DataFrame([row for rows in studies for row in rows])


def _against(results: pd.DataFrame, truth: str) -> pd.DataFrame:
    by = ["size", "design", "estimator"]
    table = recovery(results.assign(truth=results[truth]), by=by)
    error = results["estimate"] - results[truth]
    rmse = np.sqrt((error**2).groupby([results[c] for c in by], sort=False).mean())
    sd = results.groupby(by, sort=False)["sd"].first()
    return pd.DataFrame(
        {
            f"{truth}": table["truth"],
            f"bias_{truth}": table["bias"],
            f"bias_sd_{truth}": table["bias"] / sd,
            f"rmse_{truth}": rmse,
            f"coverage_{truth}": table["coverage"],
        }
    )


def design_table(results: pd.DataFrame) -> pd.DataFrame:
    refused = (
        results["estimate"].isna().groupby([results[c] for c in ("size", "design", "estimator")], sort=False).sum()
    )
    results = results[results["estimate"].notna()]
    table = _against(results, "att").join(_against(results, "ate"))
    n_sim = results.groupby(["size", "design", "estimator"], sort=False).size()
    table.insert(0, "n_sim", n_sim)
    table.insert(1, "refused", refused.reindex(table.index))
    table["bias_mcse"] = results.assign(error=results["estimate"] - results["att"]).groupby(
        ["size", "design", "estimator"], sort=False
    )["error"].std() / np.sqrt(n_sim)
    return table


# --- part 2: the whole path, through instruments and scoring ---------------------------------------------

CONTINUOUS = ["naive", "change", "ancova", "mixed", "ipw", "dr"]
SCENARIOS = {"selection (default truth)": {}, "no selection": {"selection": 0.0, "confounding": 0.0}}
# outcome -> (baseline occasion, estimators, which truth: the scored average effect or the latent parameter)
OUTCOMES = {
    "wellbeing": ("intake", CONTINUOUS, "att"),
    "soc_total": ("intake", CONTINUOUS, "att"),
    "eigen_inkomen": ("intake", CONTINUOUS, "att"),
    "eigen_inkomen_improved": (None, ["naive", "risk_difference", "dr"], "att"),
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
                        row = METHODS[method](cohorts, confidence=0.95)
                    except EffectsError:  # refused data sets are counted, not hidden
                        row = {"outcome": outcome, "method": method, "refused": True}
                    rows.append(
                        {
                            **row,
                            "seconds": time.perf_counter() - start,
                            "scenario": scenario,
                            "truth": study.true_effects.loc[outcome, target],
                        }
                    )
    return pd.DataFrame(rows)


def _versus_naive(values: pd.Series) -> pd.Series:
    """Each value divided by the naive estimator's value for the same scenario and outcome (blank without one)."""
    naive = values.xs("naive", level="method")
    return values / naive.reindex(values.index.droplevel("method")).to_numpy()


def study_table(seeds: int) -> pd.DataFrame:
    results = run(seeds)
    refused = results.get("refused", pd.Series(False, index=results.index)).fillna(False).astype(bool)
    table = recovery(results[~refused], by=["scenario", "outcome", "method"])
    table["refused"] = refused.groupby([results["scenario"], results["outcome"], results["method"]]).sum()
    seconds = results.groupby(["scenario", "outcome", "method"], sort=False)["seconds"].mean()
    table["abs_bias_vs_naive"] = _versus_naive(table["bias"].abs())
    table["se_ratio"] = table["model_se"] / table["empirical_se"]
    table["time_vs_naive"] = _versus_naive(seconds)
    columns = [
        "n_sim",
        "refused",
        "truth",
        "bias",
        "bias_mcse",
        "relative_bias",
        "coverage",
        "coverage_mcse",
        "se_ratio",
        "abs_bias_vs_naive",
        "time_vs_naive",
    ]
    return table[columns]


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    large = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    study_seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    with warnings.catch_warnings(), pd.option_context("display.width", 250, "display.max_columns", 20):
        warnings.simplefilter("ignore", OverlapWarning)
        with ProcessPoolExecutor(max_workers=2) as pool:  # two cores, shared: never more than two processes
            for size, n in zip(SIZES, (seeds, large)):
                if not n:  # a size asked with 0 studies is left out (e.g. only the pilot size: ... 300 0 0)
                    continue
                start = time.perf_counter()
                table = design_table(designs(size, n, pool))
                print(
                    f"\nDesigns with an exact truth: {n} studies of {size} citizens (synthetic data); Monte "
                    f"Carlo SE of a coverage near 0.95: {np.sqrt(0.95 * 0.05 / n):.3f}; "
                    f"{time.perf_counter() - start:.0f} s\n",
                    flush=True,
                )
                print(table.round(3).to_string(), flush=True)
        if study_seeds:
            print(
                f"\nThe whole path through instruments and scoring: {study_seeds} synthetic studies per scenario "
                "(90 pilot, 200 regular citizens); truth: the ATT\n"
            )
            print(study_table(study_seeds).round(3).to_string())


if __name__ == "__main__":
    main()
