"""The shared statistics (kantelmeter._stats) against R's published output, and their users against them."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from kantelmeter import _stats, effects, longitudinal

# R's datasets::sleep: extra hours of sleep of ten patients under drug 1 and drug 2 (Student 1908)
DRUG_1 = np.array([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
DRUG_2 = np.array([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])


def test_welch_matches_r():
    # R: t.test(extra ~ group, data = sleep)
    # t = -1.8608, df = 17.776, p-value = 0.07939; 95 percent CI -3.3654832 0.2054832
    row = _stats.welch(DRUG_1, DRUG_2)
    assert row["t"] == pytest.approx(-1.8608, abs=1e-4)
    assert row["dof"] == pytest.approx(17.776, abs=1e-3)
    assert row["p"] == pytest.approx(0.07939, abs=1e-5)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((-3.3654832, 0.2054832), abs=1e-7)
    assert row["se"] == pytest.approx(row["difference"] / row["t"])
    # R: t.test(extra ~ group, data = sleep, conf.level = 0.90): -3.0533815 -0.1066185
    narrow = _stats.welch(DRUG_1, DRUG_2, confidence=0.90)
    assert (narrow["ci_low"], narrow["ci_high"]) == pytest.approx((-3.0533815, -0.1066185), abs=1e-6)


def test_paired_mean_matches_r():
    # R: with(sleep, t.test(extra[group == 2], extra[group == 1], paired = TRUE))
    # t = 4.0621, df = 9, p-value = 0.002833; 95 percent CI 0.7001142 2.4598858; mean difference 1.58
    row = _stats.mean_interval(DRUG_2 - DRUG_1)
    assert (row["n"], row["dof"]) == (10, 9)
    assert row["mean"] == pytest.approx(1.58)
    assert row["t"] == pytest.approx(4.0621, abs=1e-4)
    assert row["p"] == pytest.approx(0.002833, abs=1e-6)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.7001142, 2.4598858), abs=1e-7)


def test_mean_interval_without_spread_is_nan_not_an_error():
    row = _stats.mean_interval(np.array([2.0, 2.0, 2.0]))
    assert row["mean"] == 2.0 and np.isnan(row["ci_low"]) and np.isnan(row["p"])
    assert np.isnan(_stats.mean_interval(np.array([1.0]))["sd"])


def test_hedges_g_follows_hedges_and_olkin():
    # Hedges & Olkin (1985), ch. 5: g = J d, J = 1 - 3 / (4 (n1 + n2) - 9); se = sqrt((n1 + n2) / (n1 n2) + g^2 /
    # (2 (n1 + n2))); interval g -/+ t(n1 + n2 - 2) se. For the sleep data d = -1.58 / 1.898625 = -0.832181.
    row = _stats.hedges_g(DRUG_1, DRUG_2)
    pooled = np.sqrt((DRUG_1.var(ddof=1) + DRUG_2.var(ddof=1)) / 2)
    assert pooled == pytest.approx(1.898625, abs=1e-6)
    assert row["g"] == pytest.approx(-1.58 / pooled * (1 - 3 / 71))
    assert row["se"] == pytest.approx(np.sqrt(20 / 100 + row["g"] ** 2 / 40))
    half = 2.100922 * row["se"]  # R: qt(0.975, 18) = 2.100922
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((row["g"] - half, row["g"] + half), abs=1e-6)
    assert row["p"] == pytest.approx(0.07919, abs=1e-5)  # R: t.test(extra ~ group, sleep, var.equal = TRUE)


def test_wald_interval_and_critical_values():
    low, high, p = _stats.wald_interval(np.array([1.0, -2.0]), np.array([0.5, 1.0]), confidence=0.90)
    assert low == pytest.approx([1 - 1.644854 * 0.5, -2 - 1.644854], abs=1e-6)  # R: qnorm(0.95) = 1.644854
    assert high == pytest.approx([1 + 1.644854 * 0.5, -2 + 1.644854], abs=1e-6)
    assert p == pytest.approx([0.04550026, 0.04550026])  # R: 2 * pnorm(-2)
    assert _stats.critical(0.99, dof=5) == pytest.approx(4.032143, abs=1e-6)  # R: qt(0.995, 5)


@pytest.mark.parametrize("confidence", [95, 0.05, 0.0, 1.0, -0.5, True, "0.95"])
def test_a_confidence_outside_one_half_and_1_is_refused_by_name(confidence):
    # 0.05 is refused too: an alpha passed where the level belongs (as positional calls from before the
    # rename would) must not give a 5% interval silently
    with pytest.raises(ValueError, match=r"confidence=.*allowed: a level from 0.5 to below 1"):
        _stats.critical(confidence)


def _sleep_as_cohorts() -> pd.DataFrame:
    """The sleep data as a pilot (drug 2) and a regular cohort (drug 1) measured at follow-up."""
    return pd.DataFrame(
        {
            "respondent": range(20),
            "occasion": "follow_up",
            "cohort": ["regular"] * 10 + ["pilot"] * 10,
            "extra": np.r_[DRUG_1, DRUG_2],
        }
    )


def test_effects_and_longitudinal_report_the_shared_welch_and_hedges_g():
    cohorts = effects.prepare(_sleep_as_cohorts(), "extra", baseline=None)
    row = effects.naive_difference(cohorts)
    # R: t.test(extra ~ group, data = sleep), the other way round: 1.58, CI -0.2054832 3.3654832
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx((1.58, -0.2054832, 3.3654832), abs=1e-7)
    panel = pd.DataFrame(
        {
            "professional": range(20),
            "wave": 1,
            "score": np.r_[DRUG_1, DRUG_2],
            "left": [None] * 10 + ["2026-01-01"] * 10,
        }
    )
    leavers = longitudinal.leavers_vs_stayers(panel, "score").iloc[0]
    assert (leavers["ci_low"], leavers["ci_high"]) == pytest.approx((-0.2054832, 3.3654832), abs=1e-7)
    assert leavers["hedges_g"] == pytest.approx(-_stats.hedges_g(DRUG_1, DRUG_2)["g"])


def test_prepost_and_wave_changes_report_the_shared_paired_interval():
    frame = pd.DataFrame(
        {
            "respondent": list(range(10)) * 2,
            "cohort": "pilot",
            "occasion": ["intake"] * 10 + ["follow_up"] * 10,
            "extra": np.r_[DRUG_1, DRUG_2],
        }
    )
    row = effects.prepost(frame, ["extra"]).iloc[0]
    # R: with(sleep, t.test(extra[group == 2], extra[group == 1], paired = TRUE))
    assert (row["change"], row["ci_low"], row["ci_high"]) == pytest.approx((1.58, 0.7001142, 2.4598858), abs=1e-7)
    assert row["p_t"] == pytest.approx(0.002833, abs=1e-6)
    panel = frame.rename(columns={"respondent": "professional", "occasion": "wave"}).replace(
        {"wave": {"intake": 1, "follow_up": 2}}
    )
    change = longitudinal.wave_changes(panel, "extra").iloc[0]
    assert (change["ci_low"], change["ci_high"], change["p"]) == pytest.approx(
        (0.7001142, 2.4598858, 0.002833), abs=1e-6
    )


def test_ipw_uses_hc3_errors_like_its_neighbours():
    rng = np.random.default_rng(21)
    x = rng.normal(size=120)
    pilot = rng.random(120) < 1 / (1 + np.exp(-x))
    frame = pd.DataFrame(
        {
            "respondent": range(120),
            "occasion": "follow_up",
            "x": x,
            "cohort": np.where(pilot, "pilot", "regular"),
            "y": x + pilot + rng.normal(0, 1, 120),
        }
    )
    cohorts = effects.prepare(frame, "y", baseline=None, covariates=["x"])
    row = effects.ipw(cohorts)
    weights = effects.ipw_weights(cohorts, effects.propensity_scores(cohorts))
    model = sm.WLS(cohorts.frame["outcome"], sm.add_constant(cohorts.frame[["treated"]]), weights=weights)
    assert row["se"] == pytest.approx(model.fit(cov_type="HC3").bse["treated"])
    assert row["se"] != pytest.approx(model.fit(cov_type="HC1").bse["treated"])


def test_every_interval_takes_a_confidence_level():
    cohorts = effects.prepare(_sleep_as_cohorts(), "extra", baseline=None)
    wide, narrow = effects.naive_difference(cohorts, confidence=0.99), effects.naive_difference(cohorts, confidence=0.8)
    assert wide["ci_high"] - wide["ci_low"] > narrow["ci_high"] - narrow["ci_low"]
    with pytest.raises(ValueError, match="confidence=95"):
        effects.compare_cohorts(_sleep_as_cohorts(), "extra", baseline=None, method="naive", confidence=95)
