"""Simulation study: the estimators recover the true effect of synthetic studies with known truth.

Each seed draws a synthetic study (:func:`kantelmeter.synth.study`) in which the front office selects
complex cases for the pilot after March 2011 and complex cases improve less in regular service: the
situation in which a naive comparison is biased. The truth is the average effect of the pilot on the
scored well-being item, known from each citizen's answers with and without the pilot.

Tolerances follow from the Monte Carlo error (Morris, White & Crowther 2019):
- bias: |bias| <= 3 x its Monte Carlo SE + 5% of the true effect (the 5% allows for the measurement
  scale: rounding and clipping make effects vary slightly between citizens, so estimators that weight
  citizens differently target slightly different averages);
- coverage of 95% intervals: at least 0.95 - 3 x sqrt(0.95 x 0.05 / S), the binomial lower limit;
- naive: bias below -20% of the truth and more than 3 Monte Carlo SEs from zero.
A larger version with more seeds and outcomes is benchmarks/bench_effects_simulation.py.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from kantelmeter import synth
from kantelmeter.effects import OverlapWarning, compare_cohorts, recovery

SEEDS = 80  # for the fast estimators
MIXED_SEEDS = 30  # the mixed model costs about ten times as much per fit
OUTCOME = "wellbeing"


@pytest.fixture(scope="module")
def performance():
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        for seed in range(SEEDS):
            study = synth.study(seed=seed, n_regular=200)
            methods = ["naive", "change", "ancova", "ipw", "dr"] + (["mixed"] if seed < MIXED_SEEDS else [])
            table = compare_cohorts(study.outcomes, OUTCOME, covariates=synth.COVARIATES, method=methods)
            # the weighting estimators target the ATT (their default); the others are held to the ATE
            truth = np.where(
                table["estimand"] == "ATT",
                study.true_effects.loc[OUTCOME, "att"],
                study.true_effects.loc[OUTCOME, "ate"],
            )
            rows.append(table.assign(truth=truth, seed=seed))
    return recovery(pd.concat(rows, ignore_index=True))


@pytest.mark.parametrize("method", ["ancova", "mixed", "ipw", "dr"])
def test_adjusted_estimators_recover_the_truth(performance, method):
    row = performance.loc[method]
    assert abs(row["bias"]) <= 3 * row["bias_mcse"] + 0.05 * row["truth"], row.to_dict()
    assert row["coverage"] >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / row["n_sim"]), row.to_dict()


def test_naive_comparison_is_biased_by_selection(performance):
    naive = performance.loc["naive"]
    assert naive["bias"] < -0.2 * naive["truth"], naive.to_dict()
    assert naive["bias"] < -3 * naive["bias_mcse"], naive.to_dict()
    # the difference in change removes baseline differences but not the slower improvement of complex cases
    change = performance.loc["change"]
    assert change["bias"] < -3 * change["bias_mcse"], change.to_dict()
    assert abs(performance.loc["dr", "bias"]) < abs(naive["bias"]) / 3


def test_without_selection_the_naive_comparison_is_fine():
    rows = []
    for seed in range(30):
        study = synth.study(seed=1000 + seed, n_regular=200, selection=0.0, confounding=0.0)
        table = compare_cohorts(study.outcomes, OUTCOME, method=["naive", "change"])
        rows.append(table.assign(truth=study.true_effects.loc[OUTCOME, "ate"]))
    performance = recovery(pd.concat(rows, ignore_index=True))
    for method in ("naive", "change"):
        row = performance.loc[method]
        assert abs(row["bias"]) <= 3 * row["bias_mcse"] + 0.05 * row["truth"], row.to_dict()


def test_the_headline_recovers_the_att_with_heterogeneity_selection_on_intake_and_attrition():
    # issue 17's designs at once, at pilot size (90 + 300), with an exact truth (synth.effect_study); the full
    # table at pilot size and n = 5,000 is benchmarks/bench_effects_simulation.py
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)  # strong selection on intake leaves some thin tails
        for seed in range(100):
            study = synth.effect_study(
                seed=seed,
                heterogeneity=0.35,
                selection_on_intake=0.6,
                attrition=0.5,
                dropout_pilot=0.22,
                dropout_regular=0.15,
            )
            table = compare_cohorts(study.outcomes, "wellbeing", covariates=study.covariates, method=["dr", "naive"])
            rows.append(table.assign(truth=study.design.att, sd=study.design.sd))
    results = pd.concat(rows, ignore_index=True)
    performance = recovery(results)
    dr, naive = performance.loc["dr"], performance.loc["naive"]
    sd = results["sd"].iloc[0]
    assert abs(dr["bias"]) <= 3 * dr["bias_mcse"] and abs(dr["bias"]) < 0.05 * sd, dr.to_dict()
    assert dr["coverage"] >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / dr["n_sim"]), dr.to_dict()
    assert naive["bias"] < -0.5 * sd, naive.to_dict()


def test_the_ate_moves_with_the_regular_sample_and_the_att_does_not():
    small, large = (synth.EffectDesign(heterogeneity=0.35, n_regular=n) for n in (300, 3000))
    assert small.att == large.att > small.ate > large.ate
    # the pilot's mean complexity is the tilt times the covariance (0.8 with selection 0.8)
    study = synth.effect_study(seed=1, n_pilot=20_000, n_regular=10)
    pilot = study.outcomes[(study.outcomes["cohort"] == "pilot") & (study.outcomes["occasion"] == "intake")]
    assert pilot["complexity"].mean() == pytest.approx(0.8, abs=0.03)
