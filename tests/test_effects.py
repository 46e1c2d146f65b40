"""Effect estimators checked against independent implementations, published values and identities."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from kantelmeter import effects
from kantelmeter.effects import EffectsError, OverlapWarning, compare_cohorts, prepare


def _cohort_frame(before_pilot, after_pilot, before_regular, after_regular, **covariates):
    """An outcome frame from per-cohort arrays of baseline and follow-up values."""
    before = np.r_[before_pilot, before_regular]
    after = np.r_[after_pilot, after_regular]
    n = len(before)
    cohort = ["pilot"] * len(before_pilot) + ["regular"] * len(before_regular)
    people = pd.DataFrame({"respondent": [f"c{i}" for i in range(n)], "cohort": cohort, **covariates})
    return pd.concat(
        [people.assign(occasion="intake", y=before), people.assign(occasion="follow_up", y=after)], ignore_index=True
    )


@pytest.fixture
def pairs():
    rng = np.random.default_rng(11)
    before = rng.normal(5, 1.5, 40).round()
    after = (before + rng.normal(0.6, 1.2, 40)).round()
    frame = pd.DataFrame(
        {
            "respondent": np.tile(np.arange(40), 2),
            "cohort": "pilot",
            "occasion": ["intake"] * 40 + ["follow_up"] * 40,
            "y": np.r_[before, after],
            "z": np.r_[before, before + rng.normal(0.1, 1.0, 40)],
        }
    )
    return frame, before, after


def test_prepost_matches_scipy_and_pingouin(pairs):
    frame, before, after = pairs
    row = effects.prepost(frame, ["y"]).iloc[0]
    reference = stats.ttest_rel(after, before)
    assert row["t"] == pytest.approx(reference.statistic)
    assert row["p_t"] == pytest.approx(reference.pvalue)
    ci = pg.ttest(after, before, paired=True)["CI95"].iloc[0]
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ci), abs=0.005)  # pingouin rounds to 2 decimals
    # d_z is t / sqrt(n) (Lakens 2013, eq. 7): an identity independent of how d_z is computed
    assert row["d_z"] == pytest.approx(reference.statistic / np.sqrt(40))
    nonzero = (after - before) != 0
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(after[nonzero], before[nonzero]).pvalue)
    assert row["r_rb"] == pytest.approx(pg.wilcoxon(after, before)["RBC"].iloc[0])


def test_prepost_holm_and_bh_adjust_over_outcomes(pairs):
    frame, *_ = pairs
    holm = effects.prepost(frame, ["y", "z"], correction="holm")
    raw = holm["p_t"].to_numpy()
    order = np.argsort(raw)
    expected = np.empty(2)
    expected[order] = np.minimum(1, np.maximum.accumulate(raw[order] * np.array([2, 1])))  # Holm 1979 step-down
    assert holm["p_t_adj"].to_numpy() == pytest.approx(expected)
    bh = effects.prepost(frame, ["y", "z"], correction="fdr_bh")["p_t_adj"].to_numpy()
    expected_bh = np.minimum(1, np.minimum.accumulate((raw[order] * 2 / np.array([1, 2]))[::-1])[::-1])
    assert bh[order] == pytest.approx(expected_bh)


def test_difference_in_change_is_welch_on_change_scores():
    rng = np.random.default_rng(12)
    frame = _cohort_frame(rng.normal(4, 1, 30), rng.normal(6, 1.5, 30), rng.normal(5, 1, 50), rng.normal(5.5, 1, 50))
    row = effects.difference_in_change(prepare(frame, "y"))
    cohorts = prepare(frame, "y").frame
    change = cohorts["outcome"] - cohorts["baseline"]
    pilot, regular = change[cohorts["treated"] == 1], change[cohorts["treated"] == 0]
    reference = pg.ttest(pilot, regular, correction=True)
    assert row["estimate"] == pytest.approx(pilot.mean() - regular.mean())
    assert row["p"] == pytest.approx(reference["p_val"].iloc[0] if "p_val" in reference else reference["p-val"].iloc[0])
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(reference.filter(like="CI").iloc[0, 0]), abs=0.005)


def test_hedges_g_and_interval_match_pingouin():
    rng = np.random.default_rng(13)
    frame = _cohort_frame(rng.normal(4, 1, 25), rng.normal(6, 1.5, 25), rng.normal(5, 1, 40), rng.normal(5.5, 1, 40))
    cohorts = prepare(frame, "y")
    row = effects.hedges_g(cohorts)
    change = cohorts.frame["outcome"] - cohorts.frame["baseline"]
    pilot, regular = change[cohorts.frame["treated"] == 1], change[cohorts.frame["treated"] == 0]
    g = pg.compute_effsize(pilot, regular, eftype="hedges")
    assert row["estimate"] == pytest.approx(g)
    ci = pg.compute_esci(stat=g, nx=25, ny=40, eftype="cohen", decimals=6)
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(list(ci), abs=1e-5)


@pytest.mark.parametrize(
    ("counts", "interval"),
    [
        # Newcombe (1998), Stat Med 17:873-890, Table II, method 10 (hybrid score)
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
    ],
)
def test_risk_difference_reproduces_newcombe_1998(counts, interval):
    a, n1, c, n0 = counts
    frame = pd.DataFrame(
        {
            "respondent": range(n1 + n0),
            "occasion": "follow_up",
            "cohort": ["pilot"] * n1 + ["regular"] * n0,
            "improved": [1] * a + [0] * (n1 - a) + [1] * c + [0] * (n0 - c),
        }
    )
    row = effects.risk_difference(prepare(frame, "improved", baseline=None))
    assert row["estimate"] == pytest.approx(a / n1 - c / n0)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(interval, abs=5e-5)


def test_risk_ratio_is_katz_log_interval():
    a, n1, c, n0 = 30, 60, 20, 70
    frame = pd.DataFrame(
        {
            "respondent": range(n1 + n0),
            "occasion": "follow_up",
            "cohort": ["pilot"] * n1 + ["regular"] * n0,
            "improved": [1] * a + [0] * (n1 - a) + [1] * c + [0] * (n0 - c),
        }
    )
    row = effects.risk_ratio(prepare(frame, "improved", baseline=None))
    ratio = (a / n1) / (c / n0)
    half = 1.959964 * np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    assert row["estimate"] == pytest.approx(ratio)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ratio * np.exp(-half), ratio * np.exp(half)), rel=1e-5)


def test_sample_size_reproduces_cohen_and_borm():
    # Cohen (1988), Table 2.4.1: n per group for d = 0.2, 0.5, 0.8 at alpha 0.05 (two-sided), power 0.80
    assert [effects.sample_size(d) for d in (0.2, 0.5, 0.8)] == [394, 64, 26]
    # Borm et al. (2007): ANCOVA needs the t-test's n times 1 - rho^2
    assert effects.sample_size(0.5, rho=0.6) == int(np.ceil(63.7656 * (1 - 0.36)))
    d = effects.minimal_detectable_effect(64)
    assert 0.49 < d < 0.5 and effects.sample_size(d * 1.0001) == 64
    assert effects.minimal_detectable_effect(64, rho=0.6) == pytest.approx(d * np.sqrt(1 - 0.36), rel=0.01)
    with pytest.raises(EffectsError, match="rho=1.2"):
        effects.sample_size(0.5, rho=1.2)


def test_ancova_coefficient_equals_least_squares_and_cluster_changes_only_the_error():
    rng = np.random.default_rng(14)
    n = 120
    pilot = np.repeat([1, 0], n // 2)
    age = rng.normal(60, 10, n)
    before = rng.normal(5, 1, n)
    after = 1 + 0.6 * before + 0.02 * age + 0.8 * pilot + rng.normal(0, 1, n)
    frame = _cohort_frame(before[:60], after[:60], before[60:], after[60:], age=age, team=np.repeat(np.arange(12), 10))
    row = effects.ancova(prepare(frame, "y", covariates=["age"]))
    design = np.column_stack([np.ones(n), pilot, before, age])
    assert row["estimate"] == pytest.approx(np.linalg.lstsq(design, after, rcond=None)[0][1])
    clustered = effects.ancova(prepare(frame, "y", covariates=["age"], cluster="team"))
    assert clustered["estimate"] == pytest.approx(row["estimate"])
    assert clustered["se"] != pytest.approx(row["se"])


def test_mixed_model_with_complete_data_equals_difference_in_change():
    # with every respondent measured twice and no covariates, the REML occasion x cohort estimate is
    # exactly the difference in mean change (balanced data: GLS equals OLS)
    rng = np.random.default_rng(15)
    person = rng.normal(0, 1, 60)
    frame = _cohort_frame(
        5 + person[:30],
        6 + person[:30] + rng.normal(0, 0.5, 30),
        5 + person[30:],
        5.3 + person[30:] + rng.normal(0, 0.5, 30),
    )
    cohorts = prepare(frame, "y")
    assert effects.mixed_model(cohorts)["estimate"] == pytest.approx(
        effects.difference_in_change(cohorts)["estimate"], abs=1e-6
    )


def test_mixed_model_uses_respondents_without_follow_up():
    rng = np.random.default_rng(16)
    frame = _cohort_frame(rng.normal(5, 1, 30), rng.normal(6, 1, 30), rng.normal(5, 1, 40), rng.normal(5, 1, 40))
    frame.loc[(frame["occasion"] == "follow_up") & frame["respondent"].isin(["c0", "c1", "c40"]), "y"] = np.nan
    row = effects.mixed_model(prepare(frame, "y"))
    assert (row["n_pilot"], row["n_regular"]) == (30, 40)
    assert (effects.ancova(prepare(frame, "y"))["n_pilot"], effects.ancova(prepare(frame, "y"))["n_regular"]) == (
        28,
        39,
    )


def _stratified(frame, over="everyone"):
    """Standardisation over one binary covariate: the effect any saturated adjustment must give.

    Strata weighted by their share of everyone (the ATE) or of the pilot (the ATT).
    """
    follow = frame[frame["occasion"] == "follow_up"]
    population = follow if over == "everyone" else follow[follow["cohort"] == "pilot"]
    effect = 0.0
    for x, stratum in follow.groupby("x"):
        means = stratum.groupby("cohort")["y"].mean()
        effect += (means["pilot"] - means["regular"]) * (population["x"] == x).sum() / len(population)
    return effect


@pytest.mark.parametrize(("estimand", "over"), [("ate", "everyone"), ("att", "pilot")])
def test_aipw_and_ipw_equal_standardisation_with_a_saturated_binary_covariate(estimand, over):
    rng = np.random.default_rng(17)
    n = 400
    x = (rng.random(n) < 0.5).astype(float)
    pilot = rng.random(n) < np.where(x == 1, 0.6, 0.25)
    # the effect differs between the strata, so the ATT (more x = 1 in the pilot) and the ATE differ
    y = 2 * x + (1.0 + 1.0 * x) * pilot + rng.normal(0, 1, n)
    frame = pd.DataFrame(
        {"respondent": range(n), "occasion": "follow_up", "x": x, "cohort": np.where(pilot, "pilot", "regular"), "y": y}
    )
    cohorts = prepare(frame, "y", baseline=None, covariates=["x"])
    expected = _stratified(frame, over)
    assert effects.aipw(cohorts, estimand=estimand)["estimate"] == pytest.approx(expected, abs=1e-9)
    assert effects.ipw(cohorts, estimand=estimand)["estimate"] == pytest.approx(expected, abs=1e-9)
    assert abs(_stratified(frame, "everyone") - _stratified(frame, "pilot")) > 0.1
    weights = effects.ipw_weights(cohorts, effects.propensity_scores(cohorts), estimand=estimand)
    balance = effects.balance(cohorts, weights)
    assert abs(balance["smd_before"].iloc[0]) > 0.5 and abs(balance["smd_after"].iloc[0]) < 1e-9


def test_proportional_odds_recovers_a_known_log_odds_ratio():
    rng = np.random.default_rng(18)
    n = 3000
    pilot = rng.random(n) < 0.5
    complexity = rng.integers(1, 6, n).astype(float)
    latent = -0.7 * pilot + 0.5 * complexity + rng.logistic(size=n)
    frame = pd.DataFrame(
        {
            "respondent": range(n),
            "occasion": "follow_up",
            "complexity": complexity,
            "cohort": np.where(pilot, "pilot", "regular"),
            "rung": np.digitize(latent, [0.5, 1.5, 2.5]) + 1,
        }
    )
    row = effects.proportional_odds(prepare(frame, "rung", baseline=None, covariates=["complexity"]))
    assert row["ci_low"] < -0.7 < row["ci_high"]
    assert row["estimate"] == pytest.approx(-0.7, abs=0.15)


def test_overlap_warns_and_refuses():
    rng = np.random.default_rng(19)
    n = 300
    x = rng.normal(size=n)
    frame = pd.DataFrame({"respondent": range(n), "occasion": "follow_up", "x": x, "y": rng.normal(size=n)})
    strong = frame.assign(cohort=np.where(rng.random(n) < 1 / (1 + np.exp(-2.5 * x)), "pilot", "regular"))
    with pytest.warns(OverlapWarning, match="limited overlap"):
        effects.aipw(prepare(strong, "y", baseline=None, covariates=["x"]))
    separated = frame.assign(cohort=np.where(x > 0, "pilot", "regular"))
    with pytest.raises(EffectsError, match="separate the cohorts|no overlap"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effects.aipw(prepare(separated, "y", baseline=None, covariates=["x"]))


@pytest.fixture
def small():
    rng = np.random.default_rng(20)
    return _cohort_frame(
        rng.normal(5, 1, 20),
        rng.normal(6, 1, 20),
        rng.normal(5, 1, 30),
        rng.normal(5, 1, 30),
        age=rng.normal(60, 10, 50),
    )


def test_bad_input_gets_a_clear_message(small):
    with pytest.raises(EffectsError, match=r"cohort 'pilot' has 3 respondent\(s\).*at least 5"):
        compare_cohorts(small[~small["respondent"].isin([f"c{i}" for i in range(3, 20)])], "y")
    with pytest.raises(EffectsError, match="'y' is constant"):
        compare_cohorts(small.assign(y=4.0), "y")
    missing = small.copy()
    missing.loc[missing["respondent"] == "c7", "age"] = np.nan
    with pytest.raises(EffectsError, match=r"covariate 'age' is missing for 1 analysed respondent\(s\): c7"):
        compare_cohorts(missing, "y", covariates=["age"])
    with pytest.raises(EffectsError, match="no column.*'income'"):
        compare_cohorts(small, "y", covariates=["income"])
    with pytest.raises(EffectsError, match="method.*'magic' unknown"):
        compare_cohorts(small, "y", method="magic")
    with pytest.raises(EffectsError, match="exactly two cohorts"):
        compare_cohorts(small.assign(cohort="pilot"), "y")
    with pytest.raises(EffectsError, match="needs a baseline"):
        compare_cohorts(small, "y", baseline=None, method="change")
    with pytest.raises(EffectsError, match="needs a 0/1 outcome"):
        compare_cohorts(small, "y", method="risk_difference")
    unlabelled = small.copy()
    unlabelled.loc[unlabelled["respondent"] == "c3", "cohort"] = None
    with pytest.raises(EffectsError, match=r"column 'cohort' is missing for respondent\(s\) c3"):
        compare_cohorts(unlabelled, "y")


def test_compare_cohorts_returns_one_tidy_row_per_outcome_and_method(small):
    small = small.assign(z=small["y"] * 2)
    table = compare_cohorts(small, ["y", "z"], covariates=["age"], method="all")
    assert list(table.columns) == effects.COMPARISON_COLUMNS
    assert table[["outcome", "method"]].value_counts().eq(1).all() and len(table) == 14
    assert table[["estimate", "se", "ci_low", "ci_high", "p"]].notna().all().all()
    assert ((table["ci_low"] < table["estimate"]) & (table["estimate"] < table["ci_high"])).all()
    y, z = (table[table["outcome"] == name].set_index("method")["estimate"] for name in ("y", "z"))
    np.testing.assert_allclose(z.drop("hedges_g"), 2 * y.drop("hedges_g"), rtol=1e-6)  # effects scale with y
    assert z["hedges_g"] == pytest.approx(y["hedges_g"])  # a standardised one does not


def test_recovery_measures():
    results = pd.DataFrame(
        {
            "method": ["a"] * 4,
            "estimate": [1.0, 2.0, 3.0, 4.0],
            "se": 1.0,
            "ci_low": [0, 1, 2, 3.5],
            "ci_high": [2, 3, 4, 5],
            "truth": 2.0,
        }
    )
    row = effects.recovery(results).loc["a"]
    assert row["bias"] == 0.5 and row["coverage"] == 0.75
    assert row["bias_mcse"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1) / 2)


def test_aipw_refuses_a_category_held_by_one_respondent_of_a_cohort():
    rng = np.random.default_rng(21)
    n = 60
    household = np.array(["alone"] * 30 + ["couple"] * 29 + ["other"])
    frame = pd.DataFrame(
        {
            "respondent": range(n),
            "occasion": "follow_up",
            "household": household,
            "cohort": ["pilot", "regular"] * 30,
            "y": rng.normal(size=n),
        }
    )
    frame.loc[frame["household"] == "other", "cohort"] = "pilot"
    frame.loc[57, "household"] = "other"  # a regular respondent shares the category, so the propensity fits
    with pytest.raises(EffectsError, match="alone determine part of their cohort's outcome model"):
        effects.aipw(prepare(frame, "y", baseline=None, covariates=["household"]))


def test_covariates_are_never_taken_from_the_follow_up_row():
    # A covariate blank at baseline must not be filled from the follow-up row
    # (a post-treatment value): the analyst is told instead.
    rows = []
    for i in range(40):
        cohort = "pilot" if i % 2 else "regular"
        rows.append({"respondent": i, "cohort": cohort, "occasion": "intake", "y": float(i % 5), "age": float(i)})
        rows.append({"respondent": i, "cohort": cohort, "occasion": "follow_up", "y": float(i % 7), "age": 99.0})
    data = pd.DataFrame(rows)
    assert (prepare(data, "y", covariates=["age"]).frame["age"] < 99).all()
    data.loc[(data["respondent"] == 3) & (data["occasion"] == "intake"), "age"] = np.nan
    with pytest.raises(EffectsError, match=r"covariate 'age' is missing for 1 analysed respondent\(s\): 3"):
        prepare(data, "y", covariates=["age"])


# --- issue 17: estimands, selection on the intake value, attrition, sensitivity, power ----------------------


def test_e_values_match_the_r_package_evalue():
    # R: EValue::evalues.RR(est = 3.9, lo = 1.8, hi = 8.7) gives E-values 7.26 and 3.0 (the package's vignette)
    point, limit = effects.e_value(3.9, 1.8, 8.7)
    assert (round(point, 2), round(limit, 2)) == (7.26, 3.0)
    # R: EValue::evalues.RR(est = 10.73, lo = 8.02, hi = 14.36) gives 20.94777 and 15.52336 (the package's README)
    assert effects.e_value(10.73, 8.02, 14.36) == pytest.approx((20.94777, 15.52336), abs=1e-5)
    # R: EValue::evalues.RR(est = 0.80, lo = 0.71, hi = 0.91): a protective ratio is inverted, the limit closer
    # to 1 is the upper one: 1.81 and 1.43 (VanderWeele & Ding 2017, Ann Intern Med 167:268-274)
    assert effects.e_value(0.80, 0.71, 0.91) == pytest.approx((1.809, 1.429), abs=1e-3)
    assert effects.e_value(1.5, 0.9, 2.5)[1] == 1.0  # an interval holding 1
    # R: EValue::evalues.MD(0.5, 0.25): RR = exp(0.91 x 0.5) -> E-value 2.529; R's lower limit uses 1.78 for
    # 0.91 x 1.96, so its E-value (1.111) differs from ours (1.105) in the third decimal
    point, limit = effects.e_value_smd(0.5, 0.25)
    assert point == pytest.approx(2.529, abs=1e-3) and limit == pytest.approx(1.111, abs=0.01)
    with pytest.raises(EffectsError, match="positive risk ratio"):
        effects.e_value(-1.0)


def test_compare_cohorts_gives_e_values_on_the_standardised_scale(small):
    table = compare_cohorts(small, "y", covariates=["age"], method=["naive", "dr", "hedges_g"]).set_index("method")
    cohorts = prepare(small, "y", covariates=["age"])
    sd = effects.outcome_sd(cohorts)
    dr = table.loc["dr"]
    assert dr["e_value"] == pytest.approx(effects.e_value_smd(dr["estimate"] / sd, dr["se"] / sd)[0])
    assert (table["e_value"] >= 1).all() and (table["e_value_ci"] <= table["e_value"]).all()


def test_mixed_model_names_its_estimand_and_its_handling_of_the_lost(small):
    row = effects.mixed_model(prepare(small, "y"))
    assert row["estimand"] == effects.CONDITIONAL and row["missing_follow_up"].startswith("every measurement")


@pytest.mark.parametrize("ratio", [0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 4.05, 5.5, 8.0])
def test_minimal_detectable_effect_over_a_grid_of_cohort_sizes(ratio):
    # the old solve_power raised "only 0-dimensional arrays can be converted to Python scalars" for some of
    # these, e.g. 70 pilot and 280 regular citizens; statsmodels' power at the answer must be the power asked
    from statsmodels.stats.power import TTestIndPower

    for n in (8, 20, 52, 70, 90, 150, 400):
        for rho in (0.0, 0.6):
            d = effects.minimal_detectable_effect(n, ratio=ratio, rho=rho)
            power = TTestIndPower().power(d, n / (1 - rho**2), 0.05, ratio=ratio)
            assert power == pytest.approx(0.8, abs=1e-6) or not np.isfinite(power), (n, ratio, rho)
    with pytest.raises(EffectsError, match="n x ratio of at least 2"):
        effects.minimal_detectable_effect(3, ratio=0.1)


def test_ipw_weights_are_untruncated_unless_asked():
    from kantelmeter import synth

    study = synth.effect_study(seed=3)
    cohorts = prepare(study.outcomes, "wellbeing", covariates=study.covariates)
    scores = effects.propensity_scores(cohorts)
    plain = effects.ipw_weights(cohorts, scores, estimand="ate")
    treated = cohorts.frame["treated"].to_numpy() == 1
    share = treated.mean()
    expected = np.where(treated, share / scores, (1 - share) / (1 - scores))
    np.testing.assert_allclose(plain, expected)  # stabilised, not truncated
    clipped = effects.ipw_weights(cohorts, scores, estimand="ate", truncate=(0.01, 0.99))
    assert clipped.max() < plain.max()
    row = effects.ipw(cohorts)
    assert row["estimand"] == "ATT" and 0 < row["ess_regular"] < cohorts.counts["n_regular"]


def test_the_intake_value_enters_the_propensity_model():
    from kantelmeter import synth

    # the front office picks those doing worst at intake: only a model with the intake value balances it
    study = synth.effect_study(seed=4, n_pilot=1000, n_regular=4000, selection_on_intake=0.6)
    cohorts = prepare(study.outcomes, "wellbeing", covariates=study.covariates)
    with_intake = effects.balance(cohorts, effects.ipw_weights(cohorts, effects.propensity_scores(cohorts)))
    without = effects.balance(cohorts, effects.ipw_weights(cohorts, effects.propensity_scores(cohorts, intake=False)))
    assert abs(with_intake.set_index("covariate").loc["baseline", "smd_after"]) < 0.1
    assert abs(without.set_index("covariate").loc["baseline", "smd_after"]) > 0.2
    row = effects.aipw(cohorts)
    assert abs(row["estimate"] - study.design.att) < 3 * row["se"]


def test_attrition_is_counted_and_weighted():
    from kantelmeter import synth

    study = synth.effect_study(
        seed=5,
        n_pilot=1000,
        n_regular=4000,
        heterogeneity=0.35,
        attrition=0.5,
        dropout_pilot=0.22,
        dropout_regular=0.15,
    )
    table = compare_cohorts(
        study.outcomes, "wellbeing", covariates=study.covariates, method=["ancova", "dr"]
    ).set_index("method")
    lost = (
        study.outcomes.groupby("respondent")["occasion"]
        .size()
        .eq(1)
        .groupby(study.outcomes.groupby("respondent")["cohort"].first())
        .sum()
    )
    assert (table["lost_pilot"] == lost["pilot"]).all() and (table["lost_regular"] == lost["regular"]).all()
    assert table.loc["dr", "missing_follow_up"] == "inverse probability of response weights"
    assert table.loc["ancova", "missing_follow_up"] == "complete cases"
    assert table.loc["ancova", "estimand"] == effects.CONDITIONAL
    complete = compare_cohorts(study.outcomes, "wellbeing", covariates=study.covariates, attrition="complete")
    assert complete["missing_follow_up"].iloc[0] == "complete cases"
    # the lost were more complex, and complex cases gain more: complete cases understate the ATT
    assert complete["estimate"].iloc[0] < table.loc["dr", "estimate"]
    with pytest.raises(EffectsError, match="attrition='everything'; allowed"):
        compare_cohorts(study.outcomes, "wellbeing", covariates=study.covariates, attrition="everything")
    with pytest.raises(EffectsError, match="estimand='atc'; allowed"):
        compare_cohorts(study.outcomes, "wellbeing", covariates=study.covariates, estimand="atc")


def test_the_forest_plot_sets_only_like_beside_like(small):
    import matplotlib

    matplotlib.use("Agg")
    from kantelmeter import plots

    table = compare_cohorts(
        small.assign(z=small["y"] * 10), ["y", "z"], covariates=["age"], method=["naive", "ancova", "ipw", "dr"]
    )
    with pytest.raises(ValueError, match="several estimands"):
        plots.forest(table)
    axes = plots.forest(table[table["estimand"] == "ATT"])
    assert len(axes) == 2  # one panel, and one scale, per outcome
    assert [tick.get_text() for tick in axes[1].get_yticklabels()] == ["ipw", "dr"]
    assert axes[1].get_xlim()[1] > 5 * axes[0].get_xlim()[1]


def _resampled(cohorts, rng):
    """A nonparametric bootstrap sample of everyone who entered (lost included), with fresh respondent ids."""
    people = pd.concat([cohorts.frame, cohorts.lost])
    drawn = people.iloc[rng.integers(0, len(people), len(people))]
    drawn = drawn.set_axis(pd.RangeIndex(len(people), name=people.index.name))
    lost = drawn["outcome"].isna()
    return dataclasses.replace(cohorts, frame=drawn[~lost], lost=drawn.loc[lost, cohorts.lost.columns])


def _misspecified_outcome_model(seed):
    """Pilot size, selection and MAR loss on x, an outcome quadratic in x fitted as linear: AIPW leans on the
    propensity and response models, so treating them as known would overstate the SE (by 19% at seed 2)."""
    rng = np.random.default_rng(seed)
    n = 400
    x = rng.normal(size=n)
    pilot = rng.random(n) < 1 / (1 + np.exp(1 - x))
    intake = rng.normal(size=n)
    follow_up = 0.5 * x**2 + 2 * x + intake + 0.5 * pilot + 1.5 * x * pilot
    responded = rng.random(n) < 1 / (1 + np.exp(-(1 + 1.2 * x - 0.8 * pilot)))
    data = pd.DataFrame(
        {
            "respondent": np.tile(np.arange(n), 2),
            "occasion": ["intake"] * n + ["follow_up"] * n,
            "cohort": np.tile(np.where(pilot, "pilot", "regular"), 2),
            "x": np.tile(x, 2),
            "y": np.concatenate([intake, follow_up]),
        }
    )
    return prepare(data[np.concatenate([np.ones(n, bool), responded])], "y", covariates=["x"])


def _issue_design(seed):
    """Issue 17's hardest design at pilot size: heterogeneous effects, selection on intake, MAR attrition."""
    from kantelmeter import synth

    study = synth.effect_study(
        seed=seed, heterogeneity=0.35, selection_on_intake=0.6, attrition=0.5, dropout_pilot=0.22, dropout_regular=0.15
    )
    return prepare(study.outcomes, "wellbeing", covariates=study.covariates)


@pytest.mark.parametrize("draw, seed", [(_issue_design, 7), (_misspecified_outcome_model, 2)])
def test_the_dr_standard_error_counts_the_estimated_propensity_and_response_models(draw, seed):
    # the sandwich SE, with the propensity and response models' score equations stacked, against the SD of 500
    # bootstrap estimates that refit every model (the standard a delta-method SE must meet)
    cohorts = draw(seed)
    assert len(cohorts.lost) > 50
    rng = np.random.default_rng(1)
    estimates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        row = effects.aipw(cohorts)
        for _ in range(500):
            try:
                estimates.append(effects.aipw(_resampled(cohorts, rng))["estimate"])
            except EffectsError:  # a resample without overlap is refused, as a study would be
                continue
    assert len(estimates) > 450
    assert row["se"] == pytest.approx(np.std(estimates, ddof=1), rel=0.10)


def _left_out(cohorts, who):
    """The comparison without one respondent who entered (analysed or lost)."""
    return dataclasses.replace(
        cohorts, frame=cohorts.frame.drop(who, errors="ignore"), lost=cohorts.lost.drop(who, errors="ignore")
    )


def test_the_dr_standard_error_follows_the_jackknife_that_refits_every_model():
    # the small-sample sandwich takes each person's leave-one-out influence; the delete-one jackknife
    # (Efron & Tibshirani 1993, eq. 11.5) refits the outcome, propensity and response models without them
    from kantelmeter import synth

    study = synth.effect_study(
        seed=1,
        n_pilot=60,
        n_regular=150,
        heterogeneity=0.35,
        selection_on_intake=0.6,
        attrition=0.5,
        dropout_pilot=0.22,
        dropout_regular=0.15,
    )
    cohorts = prepare(study.outcomes, "wellbeing", covariates=study.covariates)
    assert len(cohorts.lost) > 30
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        row = effects.aipw(cohorts)
        left_out = np.array([effects.aipw(_left_out(cohorts, who))["estimate"] for who in cohorts.entered.index])
    n = len(left_out)
    jackknife = np.sqrt((n - 1) / n * np.sum((left_out - left_out.mean()) ** 2))
    # the one-step influences agree with the refits to first order; in single data sets of this size the two
    # errors differ by up to about 10% (0.92-1.00 for seeds 1-3), as the bootstrap's do
    assert row["se"] == pytest.approx(jackknife, rel=0.10)


def test_a_weighted_mean_s_influence_is_its_exact_leave_one_out_change():
    rng = np.random.default_rng(8)
    weight, values = rng.exponential(size=30) ** 2, rng.normal(size=30)  # skewed weights, as with selection
    mean, influence = effects._hajek(weight, values, values)
    for i in range(30):
        kept = np.arange(30) != i
        moved = np.average(values[kept], weights=weight[kept]) - mean
        assert moved == pytest.approx(-influence[i] / 30, rel=1e-12, abs=1e-15)


def test_a_logistic_model_s_influence_is_its_one_step_leave_one_out_change():
    import statsmodels.api as sm

    rng = np.random.default_rng(9)
    x = sm.add_constant(pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)}))
    y = (rng.random(200) < 1 / (1 + np.exp(-(0.5 + x["x"] - 0.5 * x["z"])))).astype(float).to_numpy()
    fit = sm.Logit(y, x).fit(disp=0)
    fitted = fit.predict(x).to_numpy()
    influence = effects._logit_influence(x, y, fitted)
    # the infinitesimal influence, without the leverage: (1 - h) times as large
    bread = np.linalg.inv(fit.model.hessian(fit.params) * -1)
    leverage = fitted * (1 - fitted) * np.einsum("ij,jk,ik->i", x.to_numpy(), bread, x.to_numpy())
    one_step, infinitesimal = [], []
    for i in range(0, 200, 5):
        kept = np.arange(200) != i
        moved = sm.Logit(y[kept], x[kept]).fit(disp=0).params.to_numpy() - fit.params.to_numpy()
        one_step.append(np.linalg.norm(moved + influence[i] / 200) / np.linalg.norm(moved))
        infinitesimal.append(np.linalg.norm(moved + (1 - leverage[i]) * influence[i] / 200) / np.linalg.norm(moved))
    # Pregibon's one step is within 2% of each refitted change, and closer than the infinitesimal one
    assert max(one_step) < 0.02 and np.mean(one_step) < np.mean(infinitesimal) / 2


def test_the_dr_interval_is_t_with_the_pilot_s_residual_degrees_of_freedom():
    cohorts = _issue_design(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        row = effects.aipw(cohorts)
    # follow-up on a constant, the intake value, age, sex and complexity among the pilot's respondents
    dof = cohorts.counts["n_pilot"] - 5
    half = stats.t.ppf(0.975, dof) * row["se"]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((row["estimate"] - half, row["estimate"] + half))
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(row["estimate"]) / row["se"], dof))
    # with twelve clusters (intake mornings, say) the t reference has eleven degrees of freedom
    everyone = cohorts.entered.index
    mornings = pd.Series(np.arange(len(everyone)) % 12, index=everyone)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OverlapWarning)
        clustered = effects.aipw(dataclasses.replace(cohorts, cluster=mornings))
    half = stats.t.ppf(0.975, 11) * clustered["se"]
    assert clustered["ci_high"] - clustered["estimate"] == pytest.approx(half)
    assert clustered["estimate"] == pytest.approx(row["estimate"]) and clustered["se"] != pytest.approx(row["se"])
