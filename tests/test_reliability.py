"""Item analysis checked against pingouin, R's psych (via pingouin's reference data) and simulation."""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from kantelmeter import item_analysis
from kantelmeter.instruments import load_instrument
from kantelmeter.scoring import ScoringError


def one_factor_data(n, loadings, error_variances, seed):
    """Continuous items x = loading * factor + error with a standard normal factor."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=n)
    errors = rng.normal(size=(n, len(loadings))) * np.sqrt(error_variances)
    return pd.DataFrame(
        factor[:, None] * np.asarray(loadings) + errors, columns=[f"x{i}" for i in range(1, len(loadings) + 1)]
    )


@pytest.fixture(scope="module")
def likert():
    """Seven-point answers from one factor, with 4% of answers blank."""
    rng = np.random.default_rng(11)
    latent = one_factor_data(800, [0.9, 0.8, 0.7, 0.6, 0.8, 0.5], [0.6, 0.7, 0.8, 1.0, 0.5, 1.2], seed=11)
    data = np.clip(np.round(4 + 1.2 * latent), 1, 7)
    return data.mask(rng.random(data.shape) < 0.04)


def test_alpha_equals_pingouin_with_pairwise_missing(likert):
    result = item_analysis(likert)
    expected, _ = pg.cronbach_alpha(likert)
    row = result.summary.set_index("statistic").loc["alpha"]
    assert row["estimate"] == pytest.approx(expected, abs=1e-12)
    assert row["ci_method"] == "Feldt"
    # on complete answers the Feldt interval is pingouin's
    complete = likert.dropna()
    _, ci = pg.cronbach_alpha(complete)
    feldt = item_analysis(complete).summary.set_index("statistic").loc["alpha"]
    assert [round(feldt["ci_low"], 3), round(feldt["ci_high"], 3)] == ci.tolist()


def test_feldt_n_is_the_harmonic_mean_of_the_pairwise_counts():
    rng = np.random.default_rng(12)
    data = one_factor_data(400, [0.8, 0.7, 0.6, 0.7, 0.5], [0.5, 0.6, 0.7, 0.5, 0.8], seed=12)
    blanks = data.mask(rng.random(data.shape) < 0.6)
    answered = blanks.notna().to_numpy().astype(float)
    pairs = (answered.T @ answered)[~np.eye(5, dtype=bool)]
    n = len(pairs) / np.sum(1 / pairs)  # about 64, not the ~390 who answered any
    alpha = item_analysis(blanks).estimate("alpha")
    k = 5
    expected = [
        1 - (1 - alpha) * stats.f.isf(0.025, n - 1, (n - 1) * (k - 1)),
        1 - (1 - alpha) * stats.f.ppf(0.025, n - 1, (n - 1) * (k - 1)),
    ]
    row = item_analysis(blanks).summary.set_index("statistic").loc["alpha"]
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(expected, abs=1e-12)
    assert row["n"] > 2 * n


def test_alpha_matches_psych_reference():
    # R: psych::alpha(data, use = "pairwise") gives raw_alpha 0.7327 on pingouin's
    # "cronbach_wide_missing" data; the value is quoted, with that R call, in the
    # docstring of pingouin.cronbach_alpha (pingouin 0.7.0).
    data = pg.read_dataset("cronbach_wide_missing")
    assert item_analysis(data).estimate("alpha") == pytest.approx(0.732660835214447, abs=1e-9)


def test_standardised_alpha_and_average_r_from_the_correlations(likert):
    result = item_analysis(likert)
    # as psych::alpha: R <- cov2cor(cov(x, use = "pairwise"))
    cov = likert.cov().to_numpy()
    r = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    k = len(r)
    average = r[~np.eye(k, dtype=bool)].mean()
    assert result.estimate("average_r") == pytest.approx(average, abs=1e-12)
    assert result.estimate("alpha_std") == pytest.approx(k * average / (1 + (k - 1) * average), abs=1e-12)


def test_lambda6_from_regression_r_squared():
    data = one_factor_data(2000, [0.8, 0.7, 0.6, 0.5, 0.7], [0.4, 0.5, 0.6, 0.8, 0.5], seed=3)
    z = ((data - data.mean()) / data.std()).to_numpy()
    r_squared = []
    for j in range(z.shape[1]):
        others = np.delete(z, j, axis=1)
        coefficients, *_ = np.linalg.lstsq(others, z[:, j], rcond=None)
        residual = z[:, j] - others @ coefficients
        r_squared.append(1 - residual.var() / z[:, j].var())
    r = np.corrcoef(z, rowvar=False)
    expected = 1 - (len(r) - sum(r_squared)) / r.sum()  # Guttman 1945, with smc = R^2 on the other items
    assert item_analysis(data).estimate("lambda6") == pytest.approx(expected, abs=1e-10)


def test_item_statistics_on_complete_data():
    data = one_factor_data(1500, [0.8, 0.7, 0.6, 0.5], [0.4, 0.5, 0.6, 0.8], seed=5)
    items = item_analysis(data).items.set_index("item")
    total = data.sum(axis=1)
    for column in data.columns:
        assert items.loc[column, "r_item_total"] == pytest.approx(data[column].corr(total), abs=1e-10)
        assert items.loc[column, "r_item_rest"] == pytest.approx(data[column].corr(total - data[column]), abs=1e-10)
        without = pg.cronbach_alpha(data.drop(columns=column))[0]
        assert items.loc[column, "alpha_if_dropped"] == pytest.approx(without, abs=1e-12)
        assert items.loc[column, "sd"] == pytest.approx(data[column].std(), abs=1e-12)
    assert (items["n"] == 1500).all()


def test_keys_are_applied_before_anything_is_computed(likert):
    flipped = likert.assign(x2=8 - likert["x2"])
    plain = item_analysis(likert)
    keyed = item_analysis(flipped, keys=["x1", "-x2", "x3", "x4", "x5", "x6"])
    assert keyed.estimate("alpha") == pytest.approx(plain.estimate("alpha"), abs=1e-12)
    assert keyed.items.set_index("item").loc["x2", "key"] == -1
    assert keyed.estimate("omega_total") == pytest.approx(plain.estimate("omega_total"), abs=1e-6)
    # psych warns about such an item; unkeyed it pulls alpha down
    assert item_analysis(flipped).estimate("alpha") < plain.estimate("alpha") - 0.1


def test_omega_total_recovers_the_population_value():
    loadings = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.75])
    error_variances = np.array([0.5, 0.6, 1.0, 0.4, 0.8, 0.3])
    population = loadings.sum() ** 2 / (loadings.sum() ** 2 + error_variances.sum())  # 0.834
    data = one_factor_data(20_000, loadings, error_variances, seed=21)
    result = item_analysis(data)
    # n = 20,000: the sampling SD of omega is about 0.002, so 0.01 is a five-SD tolerance
    assert result.estimate("omega_total") == pytest.approx(population, abs=0.01)
    expected_standardised = loadings / np.sqrt(loadings**2 + error_variances)
    np.testing.assert_allclose(result.loadings["loading"], expected_standardised, atol=0.02)


def test_omega_hierarchical_recovers_a_higher_order_model():
    # three groups of four items; group factors load 0.8, 0.7, 0.6 on the general factor
    rng = np.random.default_rng(8)
    n = 20_000
    loadings = np.array([0.7, 0.6, 0.8, 0.5, 0.6, 0.7, 0.5, 0.6, 0.8, 0.6, 0.7, 0.5])
    general_of_group = np.array([0.8, 0.7, 0.6])
    group = np.repeat([0, 1, 2], 4)
    general = rng.normal(size=n)
    factors = general[:, None] * general_of_group + rng.normal(size=(n, 3)) * np.sqrt(1 - general_of_group**2)
    data = pd.DataFrame(
        factors[:, group] * loadings + rng.normal(size=(n, 12)) * np.sqrt(1 - loadings**2),
        columns=[f"i{j}" for j in range(12)],
    )
    on_general = (loadings * general_of_group[group]).sum() ** 2
    specific = sum(((loadings * np.sqrt(1 - general_of_group[group] ** 2))[group == g].sum()) ** 2 for g in range(3))
    population = on_general / (on_general + specific + (1 - loadings**2).sum())  # 0.628
    groups = {f"g{g}": [f"i{j}" for j in range(12) if group[j] == g] for g in range(3)}
    result = item_analysis(data, groups=groups)
    # n = 20,000; tolerance 0.015 (about four sampling SDs)
    assert result.estimate("omega_hierarchical") == pytest.approx(population, abs=0.015)
    assert result.estimate("omega_hierarchical") < result.estimate("omega_total")
    # omega total comes from the same group model: the general and the group factors are common variance
    total = (on_general + specific) / (on_general + specific + (1 - loadings**2).sum())  # 0.853
    assert result.estimate("omega_total") == pytest.approx(total, abs=0.01)


def _higher_order(n, loadings, general_of_group, seed):
    """Items of a higher-order model: group factors that load general_of_group on one general factor."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(general_of_group)), len(loadings) // len(general_of_group))
    general = rng.normal(size=n)
    factors = general[:, None] * general_of_group + rng.normal(size=(n, len(general_of_group))) * np.sqrt(
        1 - general_of_group**2
    )
    data = pd.DataFrame(
        factors[:, group] * loadings + rng.normal(size=(n, len(loadings))) * np.sqrt(1 - loadings**2),
        columns=[f"i{j}" for j in range(len(loadings))],
    )
    groups = {f"g{g}": [f"i{j}" for j in range(len(loadings)) if group[j] == g] for g in range(len(general_of_group))}
    return data, groups


@pytest.mark.parametrize("seed", range(6))
def test_omega_total_of_the_group_model_is_at_least_alpha(seed):
    # weakly correlated groups: the one-factor omega falls below alpha (the defect of issue 17), the group
    # model's omega total does not; alpha is a lower bound of the reliability when the model fits
    rng = np.random.default_rng(100 + seed)
    loadings = rng.uniform(0.55, 0.8, 9)
    data, groups = _higher_order(300, loadings, rng.uniform(0.3, 0.6, 3), seed)
    result = item_analysis(data, groups=groups)
    assert result.estimate("omega_total") >= result.estimate("alpha")
    assert result.estimate("omega_total") > result.estimate("omega_total_1f")


def test_em_covariance_removes_the_bias_of_pairwise_deletion_under_mar():
    loadings = np.array([0.8, 0.7, 0.75, 0.6, 0.7, 0.65])
    data = one_factor_data(20_000, loadings, 1 - loadings**2, seed=31)
    k = len(loadings)
    population = k / (k - 1) * (1 - k / (loadings.sum() ** 2 + (1 - loadings**2).sum()))  # item variances 1
    rng = np.random.default_rng(31)
    # missing at random: the higher a respondent's first answer, the likelier items 2-6 are left blank
    chance = 1 / (1 + np.exp(-(2.0 * data["x1"].to_numpy() - 0.5)))
    blanks = data.copy()
    for column in data.columns[1:]:
        blanks.loc[rng.random(len(data)) < chance, column] = np.nan
    pairwise = item_analysis(blanks).estimate("alpha")
    em = item_analysis(blanks, covariance="em").estimate("alpha")
    assert abs(pairwise - population) > 0.02  # pairwise deletion is biased under MAR
    assert em == pytest.approx(population, abs=0.01)  # the EM (FIML) covariances are not
    assert item_analysis(data, covariance="em").estimate("alpha") == item_analysis(data).estimate("alpha")
    with pytest.raises(ValueError, match="covariance='em' use n_boot=0"):
        item_analysis(blanks, covariance="em", n_boot=10)
    with pytest.raises(ValueError, match="allowed: 'pairwise', 'em'"):
        item_analysis(blanks, covariance="listwise")


def test_instrument_scale_with_component_groups_and_frequencies():
    soc = load_instrument("soc13")
    scale = soc.scale("soc_total")
    data = np.clip(np.round(4 + 1.3 * one_factor_data(600, [0.8] * 13, [0.8] * 13, seed=2)), 1, 7)
    data.columns = [member.item for member in scale.items]
    for member in scale.items:  # answers as given, before the key
        if member.key < 0:
            data[member.item] = 8 - data[member.item]
    data.iloc[0, 0] = np.nan
    result = item_analysis(soc, data.assign(respondent=range(600)), scale="soc_total")
    assert "omega_hierarchical" in set(result.summary["statistic"])  # the three components
    assert result.estimate("alpha") > 0.85
    assert (result.items["key"] == [member.key for member in scale.items]).all()
    assert (result.items["r_item_rest"] > 0.5).all()  # reversed items were re-keyed
    first = result.frequencies[result.frequencies["item"] == scale.items[0].item]
    assert first["n"].sum() == 600
    assert first.loc[first["code"].isna(), "label"].tolist() == ["blank"]


def test_frequencies_include_missing_codes_with_their_labels():
    citizen = load_instrument("citizen")
    scale = citizen.scale("perceived_benefit")
    items = [member.item for member in scale.items]
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({item: rng.choice([1, 2, 3, 4, 5, 8, 9], 300).astype(float) for item in items})
    result = item_analysis(citizen, frame, scale="perceived_benefit")
    frequencies = result.frequencies[result.frequencies["item"] == items[0]]
    assert set(frequencies.loc[frequencies["missing_code"], "code"]) == {8, 9}
    assert frequencies["n"].sum() == 300
    # missing codes are not answers: n per item counts only valid codes
    valid = frame[items[0]].isin(citizen.valid_codes(items[0])).sum()
    assert result.items.set_index("item").loc[items[0], "n"] == valid


def test_bootstrap_is_seeded_and_brackets_the_estimate(likert):
    first = item_analysis(likert, n_boot=200, seed=1).summary
    again = item_analysis(likert, n_boot=200, seed=1).summary
    pd.testing.assert_frame_equal(first, again)
    boot = first[first["ci_method"].str.startswith("bootstrap")].set_index("statistic")
    assert {"alpha", "alpha_std", "lambda6", "average_r"} <= set(boot.index)
    assert boot.loc["alpha", "ci_low"] < boot.loc["alpha", "estimate"] < boot.loc["alpha", "ci_high"]
    feldt = first[(first["statistic"] == "alpha") & (first["ci_method"] == "Feldt")].iloc[0]
    # both intervals describe the same sampling error: widths agree within a factor of two
    ratio = (boot.loc["alpha", "ci_high"] - boot.loc["alpha", "ci_low"]) / (feldt["ci_high"] - feldt["ci_low"])
    assert 0.5 < ratio < 2


def test_html_display_and_errors(likert):
    result = item_analysis(likert)
    page = result._repr_html_()
    assert page.count("<table") == 3 and "omega_total" in page and "r_item_rest" in page
    with pytest.raises(KeyError, match="no statistic 'beta'"):
        result.estimate("beta")
    with pytest.raises(KeyError, match="keys name items the data lack: x9"):
        item_analysis(likert, keys=["x1", "x9"])
    with pytest.raises(ValueError, match="at least two"):
        item_analysis(likert, keys=["x1"])
    with pytest.raises(ValueError, match="responses and the scale id"):
        item_analysis(load_instrument("soc13"), likert)


def test_out_of_code_answers_are_refused_with_an_instrument():
    soc = load_instrument("soc13")
    frame = pd.DataFrame({f"soc{i}": [3, 4, 5] for i in range(1, 14)})
    frame.loc[2, "soc8"] = 0
    with pytest.raises(ScoringError, match="soc8"):
        item_analysis(soc, frame, scale="comprehensibility")
