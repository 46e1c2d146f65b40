"""The participation-wheel model: change per domain, the study's tallies, Wilson intervals."""

from importlib import resources

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from kantelmeter import wheel
from kantelmeter.instruments import load_instrument
from kantelmeter.proportions import wilson_interval
from kantelmeter.scoring import ScoringError

# Section 7.4.2 of the source study: people whose participation increased, per domain.
STUDY_TALLIES = {
    "eigen_inkomen": 2,
    "maatschappelijke_bijdragen": 2,
    "sociale_contacten": 3,
    "zelfstandig_functioneren": 4,
    "opdoen_vaardigheden": 3,
    "maatschappelijk_deelnemen": 0,
}


@pytest.fixture(scope="module")
def instrument():
    return load_instrument("participation_wheel")


def test_domains_come_from_the_instrument(instrument):
    assert set(wheel.domains(instrument)) == set(STUDY_TALLIES)
    fewer = instrument.model_copy(update={"sections": instrument.sections[2:]})
    assert wheel.domains(fewer) == [section.id for section in instrument.sections[2:]]
    with pytest.raises(ValueError, match="no wheel domains"):
        wheel.domains(load_instrument("soc13"))


def test_thesis_tallies_are_reproduced(instrument):
    summary = wheel.summarise(wheel.thesis_changes(instrument=instrument)).set_index("domain")
    assert summary["n_increase"].to_dict() == STUDY_TALLIES
    # every domain is listed, also the one the study never reports an increase for
    assert list(summary.index) == wheel.domains(instrument)


def test_skills_three_is_one_person_and_a_couple(instrument):
    table = wheel.thesis_changes(instrument=instrument)
    improved = table[(table["domain"] == "opdoen_vaardigheden") & (table["change"] == "increase")]
    # each person counts once, so the couple counts twice
    assert sorted(improved["respondent"]) == ["Specht (mevrouw)", "Westerfield (de heer)", "Westerfield (mevrouw)"]


def test_independent_functioning_counts_three_scooters_and_one_adaptation(instrument):
    with resources.files("kantelmeter.data").joinpath("thesis/participation_changes.csv").open("rb") as handle:
        coded = pd.read_csv(handle)
    rows = coded[(coded["domain"] == "zelfstandig_functioneren") & (coded["change"] == "increase")]
    assert rows["note"].str.contains("scooter").sum() == 3
    assert rows["note"].str.contains("home adaptation").sum() == 1


def _questionnaire_from_thesis(instrument):
    """Responses a fieldworker would have recorded for the fifteen citizens.

    An increase is coded as level 2 at intake and 3 at follow-up, no change as
    3 and 3, and a domain the study does not discuss as 9 (cannot be judged).
    """
    table = wheel.thesis_changes(instrument=instrument)
    level_before = table["change"].map({"increase": 2, "no_change": 3}).astype(float).fillna(9)
    level_after = table["change"].map({"increase": 3, "no_change": 3}).astype(float).fillna(9)
    attribution = table["attribution"].map({"yes": 1, "partly": 2, "no": 3}).astype(float)
    rows = []
    for occasion, levels in (("intake", level_before), ("follow_up", level_after)):
        wide = table.assign(level=levels.to_numpy()).pivot(index="respondent", columns="domain", values="level")
        wide.columns = [f"{domain}_level" for domain in wide.columns]
        if occasion == "follow_up":
            given = table.assign(code=attribution.to_numpy()).pivot(index="respondent", columns="domain", values="code")
            wide = wide.join(given.set_axis([f"{domain}_attribution" for domain in given.columns], axis=1))
        rows.append(wide.reset_index().assign(occasion=occasion, cohort="pilot"))
    return pd.concat(rows, ignore_index=True)


def test_questionnaire_path_gives_the_same_summary_as_the_thesis_file(instrument):
    from_questionnaire = wheel.summarise(wheel.changes(instrument, _questionnaire_from_thesis(instrument)))
    from_thesis = wheel.summarise(wheel.thesis_changes(instrument=instrument))
    pd.testing.assert_frame_equal(from_questionnaire, from_thesis)
    assert from_questionnaire.set_index("domain")["n_increase"].to_dict() == STUDY_TALLIES


def _two_occasions(**levels):
    frame = pd.DataFrame(
        {
            "respondent": ["a", "a", "b", "b", "c"],
            "occasion": ["intake", "follow_up", "intake", "follow_up", "intake"],
            "cohort": ["pilot", "pilot", "regular", "regular", "pilot"],
        }
    )
    for column, values in levels.items():
        frame[column] = values
    return frame


def test_change_direction_missing_codes_and_single_occasions(instrument):
    frame = _two_occasions(
        eigen_inkomen_level=[2, 4, 5, 4, 3],
        sociale_contacten_level=[3, 9, 2, 2, 1],
        eigen_inkomen_attribution=[np.nan, 1, np.nan, 3, np.nan],
    )
    table = wheel.changes(instrument, frame).set_index(["respondent", "domain"])
    assert table.loc[("a", "eigen_inkomen"), "change"] == "increase"
    assert table.loc[("a", "eigen_inkomen"), "attribution"] == "yes"
    assert table.loc[("b", "eigen_inkomen"), "change"] == "decrease"
    assert table.loc[("b", "eigen_inkomen"), "attribution"] == "no"
    assert table.loc[("b", "sociale_contacten"), "change"] == "no_change"
    assert pd.isna(table.loc[("a", "sociale_contacten"), "change"])  # 9: cannot be judged
    assert pd.isna(table.loc[("c", "eigen_inkomen"), "change"])  # no follow-up
    assert table.loc[("b", "eigen_inkomen"), "cohort"] == "regular"
    assert len(table) == 3 * 6


def test_bad_levels_and_attributions_are_all_named_whether_raised_or_coerced(instrument):
    frame = _two_occasions(
        eigen_inkomen_level=[2, 4, 7, 4, 3], eigen_inkomen_attribution=[np.nan, 5, np.nan, 3, np.nan]
    )
    with pytest.raises(ScoringError) as caught:
        wheel.changes(instrument, frame)
    found = wheel.problems(instrument, frame)
    pd.testing.assert_frame_equal(caught.value.problems, found)
    assert found[["item", "value"]].values.tolist() == [["eigen_inkomen_level", 7], ["eigen_inkomen_attribution", 5.0]]
    # coerced, the bad values are missing: what a blank gives
    blanked = frame.assign(
        eigen_inkomen_level=[2, 4, np.nan, 4, 3], eigen_inkomen_attribution=[np.nan, np.nan, np.nan, 3, np.nan]
    )
    pd.testing.assert_frame_equal(wheel.changes(instrument, frame, errors="coerce"), wheel.changes(instrument, blanked))


def test_minimum_difference_is_configurable(instrument):
    frame = _two_occasions(eigen_inkomen_level=[2, 3, 1, 4, 3])
    table = wheel.changes(instrument, frame, min_difference=2).set_index(["respondent", "domain"])
    assert table.loc[("a", "eigen_inkomen"), "change"] == "no_change"
    assert table.loc[("b", "eigen_inkomen"), "change"] == "increase"
    with pytest.raises(ValueError, match="min_difference"):
        wheel.changes(instrument, frame, min_difference=0)


def test_per_respondent_and_profile(instrument):
    frame = _two_occasions(eigen_inkomen_level=[2, 4, 5, 4, 3], sociale_contacten_level=[1, 3, 2, 2, 1])
    table = wheel.changes(instrument, frame)
    counts = wheel.per_respondent(table).set_index("respondent")
    assert counts.loc["a", ["domains_assessed", "domains_improved", "domains_declined"]].tolist() == [2, 2, 0]
    assert counts.loc["b", ["domains_assessed", "domains_improved", "domains_declined"]].tolist() == [2, 0, 1]
    shape = wheel.profile(table, by="cohort").set_index(["cohort", "domain"])
    assert shape.loc[("pilot", "eigen_inkomen"), ["n_before", "mean_before", "n_after", "mean_after"]].tolist() == [
        2,
        2.5,
        1,
        4.0,
    ]


def test_summary_by_cohort_with_wilson_interval(instrument):
    frame = _two_occasions(eigen_inkomen_level=[2, 4, 5, 4, 3])
    summary = wheel.summarise(wheel.changes(instrument, frame), by="cohort").set_index(["cohort", "domain"])
    pilot = summary.loc[("pilot", "eigen_inkomen")]
    assert (pilot["n_assessed"], pilot["n_increase"], pilot["share_improved"]) == (1, 1, 1.0)
    low, high = proportion_confint(1, 1, method="wilson")
    assert (pilot["ci_low"], pilot["ci_high"]) == pytest.approx((low, high))
    assert summary.loc[("pilot", "sociale_contacten"), "n_assessed"] == 0
    assert np.isnan(summary.loc[("pilot", "sociale_contacten"), "share_improved"])


def test_one_response_per_respondent_and_occasion(instrument):
    frame = pd.DataFrame({"respondent": ["a", "a"], "occasion": ["intake", "intake"], "eigen_inkomen_level": [1, 2]})
    with pytest.raises(ValueError, match="respondent 'a' has more than one response at occasion 'intake'"):
        wheel.changes(instrument, frame)
    with pytest.raises(ValueError, match="occasion 'wave_3'"):
        wheel.changes(instrument, frame, after="wave_3")


def test_bad_thesis_codes_are_named():
    coded = pd.DataFrame(
        {"respondent": ["x"], "domain": ["sociale_contacten"], "change": ["better"], "attribution": ["pilot"]}
    )
    with pytest.raises(ValueError, match="row 2, column 'change': value 'better'"):
        wheel.thesis_changes(coded)


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
def test_wilson_matches_statsmodels(confidence):
    successes = np.array([0, 1, 3, 7, 15, 40, 99])
    n = np.array([5, 1, 15, 20, 15, 100, 100])
    low, high = wilson_interval(successes, n, confidence)
    expected_low, expected_high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(low, expected_low, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, atol=1e-12)


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError, match="between 0 and n"):
        wilson_interval(4, 3)
