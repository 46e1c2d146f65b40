"""The mix per problem: recovery of known coefficients, coverage of the clustered intervals, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kantelmeter.mix import MixError, estimate_mix
from kantelmeter.synth_problems import MixTruth, synthetic_problems


@pytest.mark.parametrize("seed", range(4))
def test_the_known_coefficients_lie_within_the_intervals(seed):
    study = synthetic_problems(n=800, seed=seed)
    fit = estimate_mix(study.table)
    truth = study.truth.coefficients()
    inside = (fit["ci_low"] <= truth) & (truth <= fit["ci_high"])
    assert inside.sum() >= 3, fit.assign(truth=truth)  # one of four may miss at 95%
    assert fit.loc["immaterial", "ci_low"] > 0 and fit.loc["urgency", "ci_low"] > 0
    assert fit.attrs["n_respondents"] == 800 and fit.attrs["n_problems"] > 800


def test_the_clustered_95_percent_intervals_cover_the_truth_about_95_percent_of_the_time():
    truth = MixTruth()
    hits = [
        estimate_mix(synthetic_problems(n=250, truth=truth, seed=100 + rep).table).pipe(
            lambda fit: (fit["ci_low"] <= truth.immaterial) & (truth.immaterial <= fit["ci_high"])
        )["immaterial"]
        for rep in range(60)
    ]
    coverage = float(np.mean(hits))
    # 60 replications: a binomial 95% band around 0.95 is roughly 0.88-1.00
    assert 0.86 <= coverage <= 1.0, coverage


def test_no_effect_is_found_where_there_is_none():
    fit = estimate_mix(synthetic_problems(n=800, truth=MixTruth(immaterial=0.0), seed=7).table)
    assert fit.loc["immaterial", "ci_low"] < 0 < fit.loc["immaterial", "ci_high"]


def test_a_table_the_mix_cannot_use_is_refused_with_the_reason():
    table = synthetic_problems(n=40, seed=1).table
    with pytest.raises(MixError, match="no column\\(s\\) urgencyy; columns present: respondent"):
        estimate_mix(table, predictors=("urgencyy",))
    with pytest.raises(MixError, match="outcome 'result' holds .*allowed: 0 and 1"):
        estimate_mix(table, outcome="result")
    with pytest.raises(MixError, match="5 respondents with a complete problem row"):
        estimate_mix(table[table["respondent"].isin(table["respondent"].unique()[:5])])


def test_the_problem_table_marks_support_by_the_kinds_in_the_questionnaire():
    study = synthetic_problems(n=30, seed=2)
    table = study.table
    row = table.iloc[0]
    wide = study.follow_up.set_index("respondent").loc[row["respondent"]]
    ticked = {
        int(c.rsplit("_", 1)[1])
        for c, v in wide.items()
        if c.startswith(f"interventions__{row['repetition']}_") and v == 1
    }
    assert row["immaterial"] == float(bool(ticked & {1, 3, 4, 5})) and row["material"] == float(
        bool(ticked & {2, 7, 8})
    )
    assert set(table.columns) >= {"urgency", "soc", "solved", "result", "element_label"}
    assert pd.api.types.is_float_dtype(table["soc"])


def test_the_mix_reads_its_items_from_the_questionnaire_and_names_a_missing_role(tmp_path):
    from importlib import resources

    from kantelmeter.errors import NotFoundError
    from kantelmeter.instruments import load_instrument
    from kantelmeter.mix import problem_table, solved_codes

    study = synthetic_problems(n=30, seed=2)
    text = resources.files("kantelmeter.questionnaires").joinpath("citizen.yaml").read_text(encoding="utf-8")
    # a result scale where only "fully solved" counts: the solved column follows the file, not the code
    strict = tmp_path / "citizen.yaml"
    strict.write_text(text.replace("{code: 2, meaning: solved, ", "{code: 2, "), encoding="utf-8")
    citizen = load_instrument(strict)
    assert solved_codes(citizen) == [1]
    table = problem_table(citizen, study.intake, study.follow_up)
    assert (table["solved"].dropna() == (table["result"].dropna() == 1)).all()
    assert ((study.table["solved"] == 1) & (table["solved"] == 0)).any()  # the partly solved problems
    unmarked = tmp_path / "unmarked.yaml"
    unmarked.write_text(text.replace("        role: urgency\n", ""), encoding="utf-8")
    with pytest.raises(NotFoundError, match="instrument 'citizen' has 0 items with role 'urgency'"):
        problem_table(load_instrument(unmarked), study.intake, study.follow_up)
