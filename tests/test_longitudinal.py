"""Growth models on the professional panel: recovery of known effects, coverage, comparison, descriptives."""

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from kantelmeter.instruments import load_instrument
from kantelmeter.longitudinal import (
    LongitudinalError,
    compare_growth,
    fit_growth,
    leavers_vs_stayers,
    panel_from_responses,
    wave_changes,
)
from kantelmeter.scoring import score
from kantelmeter.synth import professional_panel

#: The model an analyst fits to ask whether municipal helpers gained: slopes by
#: organisation and role, team 2 and the announcement of the end as offsets.
COVARIATES = ["team", "organisation", "role", "end_announced"]
INTERACTIONS = ["months:organisation", "months:role", "months:organisation:role"]
#: With municipality and service provider as references, the slope of municipal helpers.
MUNICIPAL_HELPER_SLOPE = {"months": 1.0, "months:role[T.helper]": 1.0}


def _full_model(data, **kwargs):
    return fit_growth(data, "work_enjoyment", covariates=COVARIATES, interactions=INTERACTIONS, **kwargs)


@pytest.fixture(scope="module")
def recovery():
    """Four synthetic studies of six sites each (108 professionals): estimates and their truth."""
    rows = []
    for seed in range(4):
        panel = professional_panel(seed=seed, n_teams=6)
        fit = _full_model(panel.data)
        slope = fit.combine(MUNICIPAL_HELPER_SLOPE).iloc[0]
        rows.append(
            {
                "slope": slope["estimate"],
                "slope_se": slope["se"],
                "team_2": fit.params["team[T.2]"],
                "end_dip": fit.params["end_announced[T.True]"],
                "icc": fit.icc,
            }
        )
    return pd.DataFrame(rows), panel.truth.total("work_enjoyment")


def test_recovers_municipal_helper_slope(recovery):
    estimates, truth = recovery
    # truth: 0.025 per month (0.035 autonomy x 0.6 loading + 0.004 direct)
    assert truth.slope_municipal_helper == pytest.approx(0.025)
    assert estimates["slope"].mean() == pytest.approx(truth.slope_municipal_helper, abs=0.004)
    # every single study sees a rise: the CI lies above zero
    assert (estimates["slope"] - 1.96 * estimates["slope_se"] > 0).all()


def test_recovers_team_2_offset_and_end_dip(recovery):
    estimates, truth = recovery
    assert truth.team_2 == pytest.approx(-0.42) and truth.end_dip == pytest.approx(-0.42)
    assert estimates["team_2"].mean() == pytest.approx(truth.team_2, abs=0.12)
    assert estimates["end_dip"].mean() == pytest.approx(truth.end_dip, abs=0.12)


def test_no_effect_is_found_when_there_is_none():
    panel = professional_panel(
        seed=11,
        n_teams=6,
        autonomy={"slope_municipal_helper": 0.0},
        work_enjoyment={"slope_municipal_helper": 0.0, "end_dip": 0.0, "team_2": 0.0},
    )
    fit = _full_model(panel.data)
    slope = fit.combine(MUNICIPAL_HELPER_SLOPE).iloc[0]
    assert abs(slope["estimate"]) < 0.01
    # team 2 still carries autonomy's own team-2 offset (0.6 x -0.2)
    assert fit.params["team[T.2]"] == pytest.approx(panel.truth.total("work_enjoyment").team_2, abs=0.2)


def test_the_gain_runs_mainly_through_autonomy():
    data = professional_panel(seed=4, n_teams=6).data
    total = _full_model(data, random_slope=False).combine(MUNICIPAL_HELPER_SLOPE)["estimate"].iloc[0]
    direct = (
        fit_growth(
            data, "work_enjoyment", covariates=COVARIATES + ["autonomy"], interactions=INTERACTIONS, random_slope=False
        )
        .combine(MUNICIPAL_HELPER_SLOPE)["estimate"]
        .iloc[0]
    )
    # truth: total 0.025, direct 0.004; item noise in autonomy leaves part of it unexplained
    assert direct < 0.5 * total


def test_confidence_intervals_cover_the_truth():
    """95% Wald intervals over 20 studies of three sites, random-intercept truth and model."""
    flat = {"sd_slope": 0.0}
    hits = {"team_2": 0, "end_dip": 0}
    for seed in range(20):
        panel = professional_panel(seed=100 + seed, n_teams=3, autonomy=flat, work_enjoyment=flat)
        fit = fit_growth(panel.data, "work_enjoyment", covariates=COVARIATES, random_slope=False)
        truth, ci = panel.truth.total("work_enjoyment"), fit.conf_int()
        hits["team_2"] += ci.loc["team[T.2]", "ci_low"] <= truth.team_2 <= ci.loc["team[T.2]", "ci_high"]
        hits["end_dip"] += (
            ci.loc["end_announced[T.True]", "ci_low"] <= truth.end_dip <= ci.loc["end_announced[T.True]", "ci_high"]
        )
    # binomial(20, 0.95): 16 or more hits has probability > 0.997
    assert hits["team_2"] >= 16 and hits["end_dip"] >= 16, hits


def test_icc_matches_known_variance_components():
    rng = np.random.default_rng(5)
    people, waves = 300, 3
    between = rng.normal(0, 1.0, people).repeat(waves)
    data = pd.DataFrame(
        {
            "professional": np.arange(people).repeat(waves),
            "months": np.tile([0.0, 6, 12], people),
            "score": 3 + between + rng.normal(0, 1.0, people * waves),
        }
    )
    fit = fit_growth(data, "score", random_slope=False)
    assert fit.icc == pytest.approx(0.5, abs=0.07)


def test_single_wave_professionals_count():
    panel = professional_panel(seed=2)
    fit = fit_growth(panel.data, "work_enjoyment", covariates=["team"], random_slope=False)
    waves = panel.data.groupby("professional").size()
    assert fit.single_wave == (waves == 1).sum() > 0
    assert fit.n_professionals == panel.data["professional"].nunique()
    assert fit.n_obs == len(panel.data)


def test_predict_is_the_fixed_part_with_a_band_from_its_covariance():
    data = professional_panel(seed=3, n_teams=4).data
    fit = _full_model(data)
    grid = pd.DataFrame(
        {
            "months": [0.0, 12.0, 24.0],
            "team": 1,
            "organisation": "municipality",
            "role": "helper",
            "end_announced": False,
        }
    )
    band = fit.predict(grid)
    p = fit.params
    by_hand = p["Intercept"] + p["role[T.helper]"] + (p["months"] + p["months:role[T.helper]"]) * grid["months"]
    np.testing.assert_allclose(band["predicted"], by_hand)
    at_zero = ["Intercept", "role[T.helper]"]
    assert band["se"].iloc[0] == pytest.approx(
        np.sqrt(fit.fe_cov[np.ix_([p.index.get_loc(t) for t in at_zero], [p.index.get_loc(t) for t in at_zero])].sum())
    )
    with pytest.raises(LongitudinalError, match="'role'.*'manager'.*allowed"):
        fit.predict(grid.assign(role="manager"))
    with pytest.raises(LongitudinalError, match="lacks column.*'end_announced'"):
        fit.predict(grid.drop(columns="end_announced"))


def test_compare_growth_refits_by_ml_and_tests_the_added_term():
    data = professional_panel(seed=6, n_teams=3).data
    small = fit_growth(data, "work_enjoyment", covariates=["team"], random_slope=False)
    large = fit_growth(data, "work_enjoyment", covariates=["team", "end_announced"], random_slope=False)
    table = compare_growth(small, large)
    ml = large.refit(reml=False)
    assert not ml.reml and large.reml
    assert table["loglik"].iloc[1] == pytest.approx(ml.result.llf)
    lr = 2 * (table["loglik"].iloc[1] - table["loglik"].iloc[0])
    assert table["lr"].iloc[1] == pytest.approx(lr) and table["df"].iloc[1] == 1
    assert table["p"].iloc[1] == pytest.approx(stats.chi2.sf(lr, 1))
    assert table["aic"].iloc[1] < table["aic"].iloc[0]
    with pytest.raises(LongitudinalError, match="not nested"):
        compare_growth(large, small)


def test_compare_growth_uses_the_boundary_mixture_for_a_random_slope():
    data = professional_panel(seed=6, n_teams=3).data
    table = compare_growth(fit_growth(data, "work_enjoyment", random_slope=False), fit_growth(data, "work_enjoyment"))
    lr = table["lr"].iloc[1]
    assert table["df"].iloc[1] == 2 and "mixture" in table["method"].iloc[1]
    assert table["p"].iloc[1] == pytest.approx(0.5 * stats.chi2.sf(lr, 1) + 0.5 * stats.chi2.sf(lr, 2))


def test_instrument_score_model_path_is_consistent():
    panel = professional_panel(seed=7)
    scored = score(load_instrument("professional"), panel.responses)
    for scale in ("work_enjoyment", "autonomy", "competences"):
        np.testing.assert_allclose(scored[scale], panel.data[scale])
    # the reversed enjoyment item runs against the scale
    assert np.corrcoef(panel.responses["enjoy_routine"], panel.data["work_enjoyment"])[0, 1] < -0.3
    assert set(panel.responses["organisation"].unique()) == {1, 2}


def test_wave_changes_are_paired_differences():
    data = pd.DataFrame(
        {
            "professional": ["a", "a", "b", "b", "c", "c", "d"],
            "wave": [1, 2, 1, 2, 1, 3, 2],
            "score": [3.0, 3.5, 2.0, 3.0, 4.0, 4.0, 1.0],
        }
    )
    table = wave_changes(data, "score")
    first = table.iloc[0]
    assert (first["from_wave"], first["to_wave"], first["n"]) == (1, 2, 2)  # c skipped wave 2, d came later
    assert first["mean_change"] == pytest.approx(0.75)
    t = stats.ttest_rel([3.5, 3.0], [3.0, 2.0])
    assert first["p"] == pytest.approx(t.pvalue)
    half = stats.t.ppf(0.975, 1) * np.std([0.5, 1.0], ddof=1) / np.sqrt(2)
    assert first["ci_high"] - first["mean_change"] == pytest.approx(half)
    assert table.iloc[1]["n"] == 0


def test_leavers_are_compared_with_stayers_at_their_last_wave():
    data = pd.DataFrame(
        {
            "professional": list("aabbccddeef"),
            "wave": [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1],
            "left": [pd.NaT] * 10 + [pd.Timestamp("2011-01-01")],
            "score": [3.0, 3.2, 4.0, 4.1, 3.5, 3.3, 2.5, 2.9, 3.1, 3.0, 2.0],
        }
    )
    data.loc[data["professional"].isin(["e"]), "left"] = pd.Timestamp("2012-01-01")
    data = data[~((data["professional"] == "e") & (data["wave"] == 2))]
    table = leavers_vs_stayers(data, "score").set_index("wave")
    leavers, stayers = np.array([3.1, 2.0]), np.array([3.0, 4.0, 3.5, 2.5])
    row = table.loc[1]
    assert (row["n_leavers"], row["n_stayers"]) == (2, 4)
    assert row["difference"] == pytest.approx(leavers.mean() - stayers.mean())
    assert row["hedges_g"] == pytest.approx(pingouin.compute_effsize(leavers, stayers, eftype="hedges"))
    welch = stats.ttest_ind(leavers, stayers, equal_var=False).confidence_interval()
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((welch.low, welch.high))
    inferred = leavers_vs_stayers(data, "score", left=None)
    assert inferred["n_leavers"].tolist() == [2]


def test_synthetic_leavers_are_team_1():
    table = leavers_vs_stayers(professional_panel(seed=8, n_teams=2).data, "work_enjoyment")
    assert table["n_leavers"].sum() > 0 and set(table["wave"]) <= {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"outcome": "enjoyment"}, r"unknown column\(s\) \['enjoyment'\]"),
        ({"covariates": ["teem"]}, r"unknown column\(s\) \['teem'\]"),
        ({"interactions": ["months:rol"]}, r"unknown column\(s\) \['rol'\]"),
        ({"outcome": "organisation"}, "outcome column 'organisation' has dtype"),
    ],
)
def test_bad_columns_are_named(kwargs, message):
    data = professional_panel(seed=1).data
    with pytest.raises(LongitudinalError, match=message):
        fit_growth(data, **{"outcome": "work_enjoyment", **kwargs})


def test_too_few_professionals_and_constant_outcome():
    data = professional_panel(seed=1).data
    few = data[data["professional"].isin(data["professional"].unique()[:4])]
    with pytest.raises(LongitudinalError, match="4 professional.*at least 5"):
        fit_growth(few, "work_enjoyment")
    with pytest.raises(LongitudinalError, match=r"constant \(3.0\)"):
        fit_growth(data.assign(work_enjoyment=3.0), "work_enjoyment")
    with pytest.raises(LongitudinalError, match="unknown column"):
        wave_changes(data, "work_enjoyment", wave="round")


def test_unknown_synthetic_parameter_is_named():
    with pytest.raises(TypeError, match="unknown parameter 'end_dip'.*outcome"):
        professional_panel(end_dip=0.0)


def test_panel_from_stored_responses_matches_the_synthetic_panel(tmp_path):
    from kantelmeter.store import Store

    panel = professional_panel(seed=9)
    store = Store("sqlite://", key_file=tmp_path / "key")
    assert panel.to_store(store) == len(panel.data)
    data = panel_from_responses(
        panel.instrument,
        store.responses("professional"),
        "2010-03-01",
        labels=["organisation", "team"],
        keep=["role_service_vs_helper"],
    )
    expected = panel.data.sort_values(["professional", "wave"]).reset_index(drop=True)
    np.testing.assert_allclose(data["work_enjoyment"], expected["work_enjoyment"])
    np.testing.assert_allclose(data["months"], expected["months"], atol=1 / 30)
    assert data["team"].cat.categories.tolist() == ["team 1", "team 2"]
    assert (data["organisation"] == "municipality").sum() == (expected["organisation"] == "municipality").sum()
    with pytest.raises(LongitudinalError, match="'years_in_job' has no single coded answer"):
        panel_from_responses(panel.instrument, panel.responses, "2010-03-01", labels=["years_in_job"])
