"""The synthetic pilot-versus-regular study: reproducible, labelled synthetic, shaped like the pilot, truth known."""

import numpy as np
import pandas as pd
import pytest

from kantelmeter import synth
from kantelmeter.store import Store


@pytest.fixture(scope="module")
def study():
    return synth.study(seed=7)


def test_same_seed_same_study_and_another_seed_differs(study):
    again = synth.study(seed=7)
    pd.testing.assert_frame_equal(study.outcomes, again.outcomes)
    for instrument_id, frame in study.responses.items():
        pd.testing.assert_frame_equal(frame, again.responses[instrument_id])
    assert not synth.study(seed=8).outcomes["wellbeing"].equals(study.outcomes["wellbeing"])


def test_labelled_synthetic_everywhere(study):
    assert study.synthetic and study.outcomes.attrs["synthetic"]
    for frame in (study.citizens, study.outcomes, *study.responses.values()):
        assert frame["respondent"].str.startswith("synth-").all()
    soc_text = [item.text.en for item in study.instruments["soc13"].items]
    assert all("invented" in text and "not SOC wording" in text for text in soc_text)


def test_shape_of_the_pilot(study):
    pilot = study.citizens[study.citizens["cohort"] == "pilot"]
    assert len(pilot) == 90 and (study.citizens["cohort"] == "regular").sum() == 300
    assert pilot["intake_date"].min() >= pd.Timestamp("2010-05-28")
    assert pilot["intake_date"].max() < pd.Timestamp("2012-09-01")
    assert set(pilot["intake_date"].dt.day_name()) == {"Tuesday", "Thursday"}
    assert not pilot["intake_date"].duplicated().any()  # one pilot intake per morning at most
    # selection shifts towards complex questions once the front office picks cases
    selected = pilot.groupby("period")["complexity"].mean()
    assert selected["selected"] > selected["first_visitor"] + 0.25


def test_drop_out_and_item_missingness(study):
    follow_up = study.outcomes[study.outcomes["occasion"] == "follow_up"]
    assert set(follow_up["respondent"]) == set(study.citizens.loc[~study.citizens["dropped_out"], "respondent"])
    share = study.citizens["dropped_out"].mean()
    assert 0.1 < share < 0.35
    items = study.responses["soc13"][[f"soc{i}" for i in range(1, 14)]]
    assert 0.01 < items.isna().to_numpy().mean() < 0.06


def test_truth_on_the_scored_scale_matches_the_parameters(study):
    truth = study.true_effects
    assert truth.loc["wellbeing", "ate"] == pytest.approx(1.0, abs=0.08)
    assert truth.loc["soc_total", "ate"] == pytest.approx(13 * 0.25, rel=0.1)
    for domain in ("eigen_inkomen", "sociale_contacten"):
        assert truth.loc[domain, "ate"] == pytest.approx(0.3, abs=0.06)
    assert truth.loc["satisfaction_professional", "ate"] == pytest.approx(0.3, abs=0.06)
    assert truth.loc["ladder_rung", "parameter"] == -0.8 and truth.loc["ladder_rung", "ate"] < 0
    null = synth.study(
        seed=7, effect_wellbeing=0.0, effect_wheel=0.0, effect_soc=0.0, effect_experience=0.0, effect_ladder=0.0
    )
    assert np.allclose(null.true_effects["ate"], 0.0)


def test_wheel_effect_per_domain():
    study = synth.study(
        seed=3,
        effect_wheel={
            "eigen_inkomen": 0.6,
            "sociale_contacten": 0.0,
            "maatschappelijke_bijdragen": 0.0,
            "opdoen_vaardigheden": 0.0,
            "zelfstandig_functioneren": 0.0,
            "maatschappelijk_deelnemen": 0.0,
        },
    )
    assert study.true_effects.loc["eigen_inkomen", "ate"] == pytest.approx(0.6, abs=0.08)
    assert study.true_effects.loc["sociale_contacten", "ate"] == 0.0


def test_unknown_parameter_is_refused():
    with pytest.raises(TypeError, match="unknown parameter.*effect_wellness"):
        synth.study(effect_wellness=1.0)


def test_fills_a_store_once(study, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'synth.db'}")
    added = study.to_store(store)
    assert added == sum(len(frame) for frame in study.responses.values())
    assert study.to_store(store) == 0
    stored = store.responses("soc13", "intake")
    assert len(stored) == 390 and set(stored["cohort"]) == {"synth-pilot", "synth-regular"}
