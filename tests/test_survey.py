"""The survey round's statistics against R's survey package and against known truth; every bad input named.

Reference values: R 4.2.2, survey 4.1-1 (Lumley), on the api data shipped with the survey
package (``data(api)``; ``apistrat`` is in tests/data/api/apistrat.csv, written by
``write.csv(apistrat[, ...])``). The design of R's own examples:

    dstrat <- svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)

``svymean(~api00, dstrat)`` = 662.29 (SE 9.4089) is the value printed in the package's
documentation and in Lumley (2010), *Complex Surveys*, ch. 2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kantelmeter import survey
from kantelmeter.privacy import Pseudonymiser
from kantelmeter.survey import CalibrationError, Frame, FrameError, Sample

DATA = Path(__file__).parent / "data" / "api"
POPULATION = {"E": 4421, "H": 755, "M": 1018}  # the fpc column of apistrat: schools per type in California
AWARDS = {"No": 2027, "Yes": 4167}  # table(apipop$awards)


@pytest.fixture(scope="module")
def api() -> tuple[pd.DataFrame, Sample]:
    """apistrat as a kantelmeter Sample, with a frame holding the population's stratum and awards counts."""
    strat = pd.read_csv(DATA / "apistrat.csv", dtype={"cds": str})
    strat = strat.rename(columns={"cds": "pseudonym", "stype": "stratum", "pw": "design_weight"})
    strat["wide"] = (strat["sch.wide"] == "Yes").astype(int)
    # Only the margins of the frame enter the estimates: N_h per type and the awards counts.
    stratum = np.repeat(list(POPULATION), list(POPULATION.values()))
    awards = np.repeat(list(AWARDS), list(AWARDS.values()))
    units = pd.DataFrame({"pseudonym": [f"pop-{i}" for i in range(len(stratum))], "stratum": stratum, "awards": awards})
    frame = Frame(units=units, strata="stype", auxiliaries=["awards"])
    sample = Sample(units=strat.assign(inclusion_probability=1 / strat["design_weight"]), frame=frame)
    return strat, sample


def test_stratified_mean_equals_r(api):
    strat, sample = api
    row = survey.estimate(strat, "design_weight", sample, "api00").iloc[0]
    # svymean(~api00, dstrat, deff=TRUE): 662.2874, SE 9.4089, DEff 1.2045
    assert row.estimate == pytest.approx(662.2874, abs=1e-4)
    assert row.se == pytest.approx(9.4089, abs=1e-4)
    assert row.deff == pytest.approx(1.2045, abs=1e-4)
    # confint(svymean(~api00, dstrat), df=degf(dstrat)): 643.7321883 680.842538
    assert (row.ci_low, row.ci_high) == pytest.approx((643.7321883, 680.842538), abs=1e-6)
    assert row.n == 200 and row.group == "all"


def test_without_fpc_equals_r(api):
    strat, _ = api
    # svymean(~api00, svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat)): SE 9.5361
    row = survey.estimate(strat, "design_weight", None, "api00").iloc[0]
    assert row.se == pytest.approx(9.5361, rel=0.01)  # one stratum here: only the weights' design


def test_domain_means_equal_r(api):
    strat, sample = api
    rows = survey.estimate(strat, "design_weight", sample, "api00", by="awards").set_index("group")
    # svyby(~api00, ~awards, dstrat, svymean, deff=TRUE)
    assert rows.loc["No", ["estimate", "se", "deff"]].tolist() == pytest.approx([633.7349117, 15.33477098, 1.358500899])
    assert rows.loc["Yes", ["estimate", "se", "deff"]].tolist() == pytest.approx(
        [678.4224056, 11.85663099, 1.142835504]
    )
    assert rows.loc["No", "n"] == 87


def test_proportion_and_its_intervals_equal_r(api):
    strat, sample = api
    logit = survey.estimate(strat, "design_weight", sample, "wide", kind="proportion").iloc[0]
    # svymean(~I(sch.wide=="Yes"), dstrat, deff=TRUE): 0.827948, SE 0.024345, DEff 0.8556
    assert (logit.estimate, logit.se, logit.deff) == pytest.approx((0.827948, 0.024345, 0.8556), abs=5e-5)
    # svyciprop(~I(sch.wide=="Yes"), dstrat, method="logit"): 0.7745396544 0.8708148545
    assert (logit.ci_low, logit.ci_high) == pytest.approx((0.7745396544, 0.8708148545), abs=1e-6)
    beta = survey.estimate(strat, "design_weight", sample, "wide", kind="proportion", interval="korn-graubard").iloc[0]
    # svyciprop(~I(sch.wide=="Yes"), dstrat, method="beta"): 0.7741713286 0.8734315926
    assert (beta.ci_low, beta.ci_high) == pytest.approx((0.7741713286, 0.8734315926), abs=1e-6)


def test_raking_equals_r(api):
    strat, sample = api
    weights = survey.calibrate(sample, strat, margins=["awards"], method="raking")
    reference = pd.read_csv(DATA / "apistrat_r_weights.csv", dtype={"cds": str}).set_index("cds")
    mine = weights.weights.set_index("pseudonym")["weight"]
    # rk <- rake(dstrat, list(~stype, ~awards), list(pop.types, pop.awards)); weights(rk)
    assert mine.to_numpy() == pytest.approx(reference.loc[mine.index, "rake"].to_numpy(), abs=1e-2)
    row = survey.estimate(strat, weights, None, "api00").iloc[0]
    # svymean(~api00, rk, deff=TRUE): 663.5111, SE 9.3421
    assert (row.estimate, row.se) == pytest.approx((663.5111, 9.3421), abs=1e-3)
    assert weights.weights["weight"].sum() == pytest.approx(6194)


def test_linear_calibration_equals_r(api):
    strat, sample = api
    weights = survey.calibrate(sample, strat, margins=["awards"], method="linear")
    reference = pd.read_csv(DATA / "apistrat_r_weights.csv", dtype={"cds": str}).set_index("cds")
    mine = weights.weights.set_index("pseudonym")["weight"]
    # lin <- calibrate(dstrat, ~stype+awards, c(6194, 755, 1018, 4167)); weights(lin)
    assert mine.to_numpy() == pytest.approx(reference.loc[mine.index, "linear"].to_numpy(), abs=1e-8)
    row = survey.estimate(strat, weights, None, "api00").iloc[0]
    # svymean(~api00, lin): 663.49, SE 9.3294
    assert (row.estimate, row.se) == pytest.approx((663.494, 9.3294), abs=1e-3)


def test_weights_report_kish_deff_and_spread(api):
    strat, sample = api
    weights = survey.calibrate(sample, strat, margins=["awards"])
    w = weights.weights["weight"]
    assert weights.kish_deff == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2)
    assert weights.kish_deff == pytest.approx(1.1926, abs=1e-4)  # as svy's Sample.check() reports it
    assert weights.spread["max"] / weights.spread["min"] == pytest.approx(weights.spread["ratio"])


def test_trimming_caps_the_weights_and_keeps_the_margins():
    rng = np.random.default_rng(6)
    units = pd.DataFrame(
        {
            "pseudonym": [f"p-{i:05d}" for i in range(3000)],
            "stratum": "all",
            "age_group": rng.choice(["young", "old"], 3000),
            "sex": rng.choice(["m", "v"], 3000),
        }
    )
    sample = survey.draw(Frame(units, None, ["age_group", "sex"]), n=3000, allocation="census")
    # young men hardly answer: their weights grow, and trimming shifts some of it to young women and old men
    rates = np.where((sample.units["age_group"] == "young") & (sample.units["sex"] == "m"), 0.05, 0.5)
    answered = sample.units[rng.random(3000) < rates]
    untrimmed = survey.calibrate(sample, answered)
    trimmed = survey.calibrate(sample, answered, trim=2.5)
    mean = trimmed.weights["weight"].mean()
    assert untrimmed.spread["max"] > 3 * mean
    assert trimmed.spread["max"] <= 2.5 * mean * 1.001
    assert trimmed.kish_deff < untrimmed.kish_deff
    weighted = trimmed.weights.merge(units, on="pseudonym")
    for margin in ("age_group", "sex"):
        assert weighted.groupby(margin)["weight"].sum().to_dict() == pytest.approx(
            units[margin].value_counts().to_dict(), rel=1e-3
        )
    with pytest.raises(CalibrationError, match="field 'trim' 1.01: calibration failed"):
        survey.calibrate(sample, answered, trim=1.01)


# --- sample size and drawing ---------------------------------------------------------------


def test_sample_size_has_known_values():
    # Cochran: z^2 p q / e^2 = 1.96^2 x 0.25 / 0.0025 = 384.1 -> 385, the figure every table prints.
    assert survey.sample_size(0.05) == 385
    # with the finite-population correction: 385 / (1 + 384 / 5000) = 357.5 -> 358 (Krejcie & Morgan's
    # table prints 357, rounding n0 at 384.1 instead of 385)
    assert survey.sample_size(0.05, population=5000) == 358
    assert survey.sample_size(0.03, population=100) < 100
    with pytest.raises(ValueError, match="margin=1.5"):
        survey.sample_size(1.5)


def _frame(sizes: dict[str, int]) -> Frame:
    stratum = np.repeat(list(sizes), list(sizes.values()))
    units = pd.DataFrame({"pseudonym": [f"p-{i:05d}" for i in range(len(stratum))], "stratum": stratum})
    return Frame(units, "district", [])


def test_draw_gives_inclusion_probabilities_and_is_reproducible():
    frame = _frame({"Noord": 600, "Zuid": 300, "Oost": 100})
    first = survey.draw(frame, n=100, allocation="proportional", seed=4)
    assert first.allocation["sampled"].to_dict() == {"Noord": 60, "Oost": 10, "Zuid": 30}
    assert set(first.units["inclusion_probability"].round(6)) == {0.1}
    assert first.units["design_weight"].sum() == pytest.approx(1000)
    assert first.units.equals(survey.draw(frame, n=100, seed=4).units)
    assert not first.units.equals(survey.draw(frame, n=100, seed=5).units)
    equal = survey.draw(frame, n=90, allocation="equal", seed=1)
    assert equal.allocation["sampled"].tolist() == [30, 30, 30]
    assert equal.units.groupby("stratum")["design_weight"].first().to_dict() == {
        "Noord": 20,
        "Oost": 100 / 30,
        "Zuid": 10,
    }
    census = survey.draw(frame, n=0, allocation="census")
    assert len(census.units) == 1000 and set(census.units["design_weight"]) == {1.0}


def test_a_sample_larger_than_its_stratum_is_refused():
    frame = _frame({"Noord": 600, "Oost": 10})
    with pytest.raises(FrameError, match="stratum 'Oost' holds 10 clients: a sample cannot be larger than its stratum"):
        survey.draw(frame, n={"Noord": 50, "Oost": 11})
    with pytest.raises(FrameError, match="stratum 'Oost' holds 10"):
        survey.draw(frame, n=60, allocation="equal")
    with pytest.raises(FrameError, match="larger than the frame of 610 clients"):
        survey.draw(frame, n=611)
    with pytest.raises(FrameError, match="'West': unknown stratum; strata: Noord, Oost"):
        survey.draw(frame, n={"West": 5})
    with pytest.raises(FrameError, match="field 'allocation' 'neyman': allowed: proportional, equal, census"):
        survey.draw(frame, n=5, allocation="neyman")


# --- the frame from a register ---------------------------------------------------------------


@pytest.fixture
def pseudonymiser(tmp_path) -> Pseudonymiser:
    return Pseudonymiser(tmp_path / "k.key")


def _register() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bsn": ["111222333", "123456782", "012345672"],
            "name": ["A", "B", "C"],
            "address": ["Dorpsstraat 1", "Kerkweg 2", "Molenlaan 3"],
            "district": ["Noord", "Zuid", "Noord"],
            "age_group": ["18-64", "65-74", "75+"],
            "sex": ["v", "m", "v"],
            "provision": ["hulp", "hulpmiddel", "hulp"],
        }
    )


def test_frame_keeps_pseudonyms_strata_and_auxiliaries_only(pseudonymiser):
    frame = survey.frame(
        _register(),
        id="bsn",
        strata="district",
        auxiliaries=["age_group", "sex", "provision"],
        pseudonymiser=pseudonymiser,
    )
    assert list(frame.units.columns) == ["pseudonym", "stratum", "age_group", "sex", "provision"]
    text = frame.units.to_csv()
    for secret in ("111222333", "123456782", "12345672", "Dorpsstraat", "Kerkweg"):
        assert secret not in text
    assert frame.units["pseudonym"].iloc[0] == pseudonymiser.pseudonymise("bsn", "111222333")
    assert frame.margins(["sex"]) == {"sex": {"m": 1, "v": 2}}


def test_register_files_keep_leading_zeros(pseudonymiser, tmp_path):
    register = _register()
    register.to_excel(tmp_path / "register.xlsx", index=False)
    register.to_csv(tmp_path / "register.csv", index=False, sep=";")
    expected = pseudonymiser.pseudonymise("bsn", "012345672")
    for name in ("register.xlsx", "register.csv"):
        frame = survey.frame(tmp_path / name, id="bsn", strata="district", pseudonymiser=pseudonymiser)
        assert expected in set(frame.units["pseudonym"])


def test_every_problem_of_a_register_is_reported_at_once(pseudonymiser):
    register = _register()
    register.loc[1, "bsn"] = "111222333"  # a duplicate of row 1
    register.loc[2, "bsn"] = "123456789"  # fails the eleven-test
    register.loc[0, "district"] = " "
    with pytest.raises(FrameError) as caught:
        survey.frame(
            register,
            id="bsn",
            strata="district",
            auxiliaries=["sex"],
            pseudonymiser=pseudonymiser,
            source="register.csv",
        )
    message = str(caught.value)
    assert message.startswith("register.csv: 3 problem(s)")
    assert "row 2, field 'bsn' '*****2333': duplicate identifier: also in row 1" in message
    assert "row 3, field 'bsn' '*****6789'" in message and "eleven-test" in message
    assert "row 1, field 'district': empty" in message
    assert "123456789" not in message and "111222333" not in message
    assert caught.value.problems["row"].tolist() == [1, 2, 3]


def test_unknown_columns_and_empty_margins_are_refused(pseudonymiser):
    with pytest.raises(FrameError, match="field 'wijk': no such column; columns: bsn, name"):
        survey.frame(_register(), id="bsn", strata="wijk", pseudonymiser=pseudonymiser)
    with pytest.raises(FrameError, match="field 'sex': the column is empty"):
        survey.frame(_register().assign(sex=None), id="bsn", auxiliaries=["sex"], pseudonymiser=pseudonymiser)
    with pytest.raises(FrameError, match="field 'id_kind' 'name': allowed: bsn, client_number"):
        survey.frame(_register(), id="name", id_kind="name", pseudonymiser=pseudonymiser)
    with pytest.raises(FrameError, match="both the stratum and an auxiliary"):
        survey.frame(_register(), id="bsn", strata="sex", auxiliaries=["sex"], pseudonymiser=pseudonymiser)


# --- response ---------------------------------------------------------------------------------


def _population(seed: int, n: int = 3000) -> tuple[Frame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    units = pd.DataFrame(
        {
            "pseudonym": [f"p-{i:05d}" for i in range(n)],
            "stratum": rng.choice(["Noord", "Zuid"], n, p=[0.6, 0.4]),
            "age_group": rng.choice(["18-64", "65-74", "75+"], n, p=[0.4, 0.3, 0.3]),
        }
    )
    return Frame(units, "district", ["age_group"]), units


def test_response_counts_and_aapor_rates():
    frame, units = _population(1, 400)
    sample = survey.draw(frame, n=400, allocation="census")
    codes = np.array(
        ["complete"] * 200 + ["partial"] * 40 + ["refused"] * 30 + ["moved"] * 20 + ["deceased"] * 10 + [""] * 100
    )
    outcomes = pd.DataFrame(
        {
            "pseudonym": sample.units["pseudonym"],
            "status": np.where(np.isin(codes, ["complete", "partial"]), codes, None),
            "source": np.where(codes == "complete", "web", np.where(codes == "partial", "import", None)),
            "disposition": np.where(np.isin(codes, ["refused", "moved", "deceased"]), codes, None),
        }
    )
    account = survey.response(sample, outcomes, replicates=10)
    total = account.table.set_index("stratum").loc["total"]
    assert total[["sampled", "ineligible", "eligible", "complete", "partial", "refused", "no_contact"]].tolist() == [
        400,
        30,
        370,
        200,
        40,
        30,
        100,
    ]
    assert total["rr1"] == pytest.approx(200 / 370) and total["rr2"] == pytest.approx(240 / 370)
    assert account.table.iloc[:-1][["sampled", "complete"]].sum().tolist() == [400, 200]
    modes = account.by_mode.set_index("mode")
    assert modes.loc["web", "complete"] == 200 and modes.loc["paper", "partial"] == 40
    assert modes["share"].sum() == pytest.approx(1)
    assert len(account.respondents) == 200


def test_an_unknown_disposition_code_is_refused():
    frame, _ = _population(2, 20)
    sample = survey.draw(frame, n=20, allocation="census")
    outcomes = pd.DataFrame(
        {
            "pseudonym": sample.units["pseudonym"],
            "status": None,
            "source": None,
            "disposition": ["emigrated"] + [None] * 19,
        }
    )
    with pytest.raises(ValueError, match="disposition 'emigrated' .*allowed: moved, deceased, not_client, refused"):
        survey.response(sample, outcomes)


def test_r_indicator_falls_with_selective_response():
    frame, units = _population(3)
    sample = survey.draw(frame, n=3000, allocation="census")
    rng = np.random.default_rng(3)
    rates = {"18-64": 0.2, "65-74": 0.5, "75+": 0.8}
    p = sample.units["age_group"].map(rates).to_numpy()
    answered = rng.random(len(p)) < p
    outcomes = pd.DataFrame(
        {
            "pseudonym": sample.units["pseudonym"],
            "status": np.where(answered, "complete", None),
            "source": np.where(answered, "web", None),
            "disposition": None,
        }
    )
    row = survey.response(sample, outcomes, replicates=100).r_indicator.iloc[0]
    # the population truth: 1 - 2 x sd of the propensities {0.2 (40%), 0.5 (30%), 0.8 (30%)}
    shares = np.array([0.4, 0.3, 0.3])
    values = np.array([0.2, 0.5, 0.8])
    truth = 1 - 2 * np.sqrt(np.sum(shares * (values - shares @ values) ** 2))
    assert row.ci_low < truth < row.ci_high
    assert 0.005 < row.se < 0.05
    at_random = outcomes.assign(status=np.where(rng.random(len(p)) < 0.5, "complete", None))
    fair = survey.response(sample, at_random, replicates=50).r_indicator.iloc[0]
    assert fair.r > 0.95 > row.r


# --- weights and estimates: bad input --------------------------------------------------------


def test_weights_on_a_round_without_response_are_refused():
    frame, _ = _population(4, 100)
    sample = survey.draw(frame, n=50, seed=1)
    with pytest.raises(CalibrationError, match="no response yet"):
        survey.calibrate(sample, pd.DataFrame({"pseudonym": []}))


def test_an_empty_respondent_cell_is_refused():
    frame, _ = _population(5, 300)
    sample = survey.draw(frame, n=300, allocation="census")
    young_absent = sample.units[sample.units["age_group"] != "18-64"]
    with pytest.raises(
        CalibrationError,
        match=r"field 'age_group' '18-64': \d+ clients in the frame but no "
        "respondent: an empty respondent cell",
    ):
        survey.calibrate(sample, young_absent)
    with pytest.raises(CalibrationError, match="'district': not an auxiliary of the frame; allowed: age_group"):
        survey.calibrate(sample, sample.units, margins=["district"])
    with pytest.raises(CalibrationError, match="field 'method' 'ipf': allowed: raking, linear"):
        survey.calibrate(sample, sample.units, method="ipf")


def test_estimate_names_bad_input(api):
    strat, sample = api
    with pytest.raises(ValueError, match="column\\(s\\) api01 not in the data"):
        survey.estimate(strat, "design_weight", sample, ["api01"])
    with pytest.raises(ValueError, match="outcome 'api00' holds 840.0; allowed for a proportion: 0 or 1"):
        survey.estimate(strat, "design_weight", sample, "api00", kind="proportion")
    with pytest.raises(ValueError, match="kind='median'"):
        survey.estimate(strat, "design_weight", sample, "api00", kind="median")
    with pytest.raises(ValueError, match="1 row\\(s\\) without a positive weight"):
        survey.estimate(
            strat.assign(design_weight=lambda t: t.design_weight.where(t.index > 0, 0)),
            "design_weight",
            sample,
            "api00",
        )


def test_missing_answers_are_a_domain_not_a_smaller_design(api):
    strat, sample = api
    gaps = strat.assign(api00=strat["api00"].where(strat.index % 5 > 0))
    row = survey.estimate(gaps, "design_weight", sample, "api00").iloc[0]
    assert row.n == 160
    subset = survey.estimate(gaps.dropna(subset=["api00"]), "design_weight", sample, "api00").iloc[0]
    assert row.estimate == pytest.approx(subset.estimate)
