"""Rater agreement: each statistic against a published worked example."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from kantelmeter import agreement
from kantelmeter.instruments import load_instrument

# Agresti, Categorical Data Analysis (2002), table 10.9 on husbands' and wives' ratings; R:
# vcd::Kappa(SexualFun) gives Unweighted 0.1293 (ASE 0.06860), Weighted 0.2374 (ASE 0.07832)
# with the default equal-spacing (linear) weights.
SEXUAL_FUN = [[7, 7, 2, 3], [2, 8, 3, 7], [1, 5, 4, 9], [2, 8, 9, 14]]

# Krippendorff (2011), Computing Krippendorff's alpha-reliability, section E: four coders,
# twelve units, missing values. Published: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
NAN = np.nan
KRIPPENDORFF_2011 = pd.DataFrame(
    {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        "C": [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    }
)

# Shrout & Fleiss (1979), Intraclass correlations, Psychological Bulletin 86, table 2 and 4:
# ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
SHROUT_FLEISS = pd.DataFrame(
    {"j1": [9, 6, 8, 7, 10, 6], "j2": [2, 1, 4, 1, 5, 2], "j3": [5, 3, 6, 2, 6, 4], "j4": [8, 2, 8, 6, 9, 7]}
)


def test_kappa_and_its_standard_error_match_vcd():
    plain = agreement.kappa_from_table(SEXUAL_FUN).iloc[0]
    assert plain["kappa"] == pytest.approx(0.1293, abs=5e-5)
    assert plain["se"] == pytest.approx(0.06860, abs=5e-6)
    assert plain["ci_low"] == pytest.approx(0.1293 - 1.959964 * 0.06860, abs=1e-4)
    weighted = agreement.kappa_from_table(SEXUAL_FUN, "linear").iloc[0]
    assert weighted["kappa"] == pytest.approx(0.2374, abs=5e-5)
    assert weighted["se"] == pytest.approx(0.07832, abs=5e-6)


def test_kappa_of_the_fleiss_textbook_table():
    # Fleiss, Levin & Paik (2003), Statistical Methods for Rates and Proportions, ch. 18:
    # 100 subjects, three diagnoses; p_o = 0.89, p_e = 0.66, kappa = 0.23 / 0.34 = 0.676.
    result = agreement.kappa_from_table([[75, 1, 4], [5, 4, 1], [0, 0, 10]]).iloc[0]
    assert (result["p_observed"], result["p_expected"]) == pytest.approx((0.89, 0.66))
    assert result["kappa"] == pytest.approx(0.676, abs=5e-4)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_kappa_from_ratings_agrees_with_scikit_learn(weights):
    rng = np.random.default_rng(4)
    first = rng.integers(1, 6, 200)
    second = np.clip(first + rng.integers(-1, 2, 200), 1, 5)
    frame = pd.DataFrame({"r1": first, "r2": second})
    ours = agreement.cohen_kappa(frame, "r1", "r2", weights, categories=[1, 2, 3, 4, 5])
    assert ours.loc[0, "kappa"] == pytest.approx(cohen_kappa_score(first, second, weights=weights))


def test_kappa_standard_error_matches_the_spread_of_simulated_kappas():
    # Known truth: raters drawn from the SexualFun cell proportions; over 2000 samples of 150 units
    # the mean standard error should equal the standard deviation of kappa (large-sample theory).
    cells = np.asarray(SEXUAL_FUN, float).ravel() / np.sum(SEXUAL_FUN)
    rng = np.random.default_rng(2026)
    kappas, ses = [], []
    for _ in range(2000):
        table = rng.multinomial(150, cells).reshape(4, 4)
        row = agreement.kappa_from_table(table, "quadratic").iloc[0]
        kappas.append(row["kappa"])
        ses.append(row["se"])
    assert np.mean(ses) == pytest.approx(np.std(kappas), rel=0.06)
    truth = agreement.kappa_from_table(SEXUAL_FUN, "quadratic").loc[0, "kappa"]
    covered = np.mean(np.abs(np.array(kappas) - truth) <= 1.96 * np.array(ses))
    assert covered == pytest.approx(0.95, abs=0.02)


def test_kappa_drops_units_one_rater_left_blank_and_names_bad_codes():
    frame = pd.DataFrame({"a": [1, 2, None, 2], "b": [1, 2, 2, 7]})
    with pytest.raises(ValueError, match=r"codes \[7\] of 'a'/'b' are not among the categories"):
        agreement.cohen_kappa(frame, "a", "b", categories=[1, 2, 3])
    assert agreement.cohen_kappa(frame.iloc[:3], "a", "b").loc[0, "n"] == 2
    with pytest.raises(ValueError, match="column 'c' is not in the data"):
        agreement.cohen_kappa(frame, "a", "c")
    with pytest.raises(ValueError, match="weights 'cubic' are not allowed"):
        agreement.kappa_from_table([[1, 0], [0, 1]], "cubic")


@pytest.mark.parametrize(
    "level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_reproduces_the_2011_worked_example(level, published):
    result = agreement.krippendorff_alpha(KRIPPENDORFF_2011, level, n_boot=200, seed=3).iloc[0]
    assert round(result["alpha"], 3) == published
    assert result["ci_low"] <= result["alpha"] <= result["ci_high"]
    # the unit with one value (unit 12: coder B only) is not pairable
    assert (result["n_units"], result["n_values"]) == (11, 40)


def test_krippendorff_alpha_two_coders_binary():
    # Krippendorff (2011), section A: two observers, ten units, binary data; alpha = 0.095.
    data = pd.DataFrame({"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]})
    assert round(agreement.krippendorff_alpha(data, n_boot=0).loc[0, "alpha"], 3) == 0.095


def test_krippendorff_bootstrap_is_seeded_and_narrows_with_more_units():
    rng = np.random.default_rng(8)
    truth = rng.integers(1, 4, 400)
    noisy = np.where(rng.random(400) < 0.8, truth, rng.integers(1, 4, 400))
    big = pd.DataFrame({"a": truth, "b": noisy})
    small = big.iloc[:40]
    first = agreement.krippendorff_alpha(small, n_boot=300, seed=5)
    assert first.equals(agreement.krippendorff_alpha(small, n_boot=300, seed=5))
    wide = first.loc[0, "ci_high"] - first.loc[0, "ci_low"]
    narrow = agreement.krippendorff_alpha(big, n_boot=300, seed=5)
    assert narrow.loc[0, "ci_high"] - narrow.loc[0, "ci_low"] < wide
    with pytest.raises(ValueError, match="level 'binary' is not allowed"):
        agreement.krippendorff_alpha(big, "binary")


def test_icc_reproduces_shrout_and_fleiss():
    table = agreement.icc(SHROUT_FLEISS, list(SHROUT_FLEISS), kind="all").set_index("kind")
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    assert table["icc"].round(2).to_dict() == published
    assert (table["ci_low"] < table["icc"]).all() and (table["icc"] < table["ci_high"]).all()
    single = agreement.icc(SHROUT_FLEISS, ["j1", "j2"])
    assert single["kind"].tolist() == ["ICC2"] and single.loc[0, "n"] == 6


def _double_rated_records(seed=11, n=120):
    """Synthetic intake records: a true level per citizen and domain, each rater off by one 30% of the time."""
    record = load_instrument("intake_record")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"respondent": [f"c{i}" for i in range(n)], "occasion": "intake", "double_rated": 1})
    domains = [item.id[: -len("_rater1")] for item in record.items if item.id.endswith("_rater1")]
    for domain in domains:
        truth = rng.integers(1, 6, n)
        for rater in ("rater1", "rater2"):
            frame[f"{domain}_{rater}"] = np.clip(truth + rng.choice([-1, 0, 1], n, p=[0.15, 0.7, 0.15]), 1, 5)
    return record, frame, domains


def test_two_raters_wheel_levels_give_a_kappa_with_an_interval():
    record, frame, domains = _double_rated_records()
    frame.loc[0, "wheel_eigen_inkomen_rater2"] = 9  # cannot be judged: left out
    table = agreement.wheel_agreement(record, frame).set_index("item")
    assert list(table.index) == [*domains, "all"]
    assert table.loc["wheel_eigen_inkomen", "n"] == 119
    assert table.loc["all", "n"] == 6 * 120 - 1
    assert (table["ci_low"] < table["kappa"]).all() and (table["kappa"] < table["ci_high"]).all()
    # off by one step 30% of the time on a five-point scale: quadratic kappa is high, not perfect
    assert 0.75 < table.loc["all", "kappa"] < 0.95
    pooled = agreement.double_ratings(record, frame)
    expected = cohen_kappa_score(*pooled.dropna()[["rater1", "rater2"]].to_numpy().T, weights="quadratic")
    assert table.loc["all", "kappa"] == pytest.approx(expected)


def test_double_ratings_need_the_design():
    with pytest.raises(ValueError, match="no double-rated items"):
        agreement.double_ratings(load_instrument("soc13"), pd.DataFrame({"respondent": ["a"]}))
    with pytest.raises(ValueError, match="none of the double-rated items"):
        agreement.double_ratings(
            load_instrument("intake_record"), pd.DataFrame({"respondent": ["a"], "occasion": ["intake"]})
        )
