"""Scale scoring: keys, reverse coding, missing codes, prorating, errors; SOC norms; the score command."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kantelmeter import score, scoring
from kantelmeter.cli import main
from kantelmeter.instruments import list_instruments, load_instrument, theoretical_range
from kantelmeter.scoring import ScoringError, to_wide
from kantelmeter.soc import REFERENCES, compare_to_reference

# The SOC-13 key as published (Antonovsky 1987; DOMAIN.md), written out independently of soc13.yaml.
SOC13_REVERSED = {1, 2, 3, 7, 10}
SOC13_COMPONENTS = {
    "comprehensibility": [2, 6, 8, 9, 11],
    "manageability": [3, 5, 10, 13],
    "meaningfulness": [1, 4, 7, 12],
}


def random_responses(instrument, n, seed=0, blank=0.0):
    """Valid codes for every scorable item of an instrument, some left blank."""
    rng = np.random.default_rng(seed)
    items = sorted({member.item for scale in instrument.scales for member in scale.items})
    frame = pd.DataFrame({"respondent": [f"r{i}" for i in range(n)], "occasion": instrument.occasions[0]})
    for item in items:
        values = rng.choice(instrument.valid_codes(item), n).astype(float)
        values[rng.random(n) < blank] = np.nan
        frame[item] = values
    return frame


@pytest.fixture(scope="module")
def soc13():
    return load_instrument("soc13")


def test_soc13_matches_the_published_key_row_by_row(soc13):
    frame = random_responses(soc13, 200, seed=1)
    scores = score(soc13, frame)
    keyed = {i: (8 - frame[f"soc{i}"]) if i in SOC13_REVERSED else frame[f"soc{i}"] for i in range(1, 14)}
    for component, numbers in SOC13_COMPONENTS.items():
        expected = sum(keyed[i] for i in numbers)
        np.testing.assert_array_equal(scores[component], expected)
    np.testing.assert_array_equal(scores["soc_total"], sum(keyed.values()))
    assert scores["soc_total"].between(13, 91).all()


def test_prorating_uses_the_mean_of_answered_items_times_item_count(soc13):
    frame = pd.DataFrame({f"soc{i}": [4.0] for i in range(1, 14)})
    frame["soc4"] = 7.0
    frame[["soc12", "soc13"]] = np.nan  # meaningfulness loses soc12, manageability loses soc13
    scores = score(soc13, frame).iloc[0]
    # meaningfulness: soc1 (8-4), soc4 = 7, soc7 (8-4) answered -> mean 5 x 4 items
    assert scores["meaningfulness"] == pytest.approx(20.0)
    # total: 11 answers (the minimum), ten 4s and one 7 -> (47 / 11) x 13
    assert scores["soc_total"] == pytest.approx(47 / 11 * 13)


def test_fewer_answers_than_min_answered_give_no_score(soc13):
    frame = pd.DataFrame({f"soc{i}": [5.0] for i in range(1, 14)})
    frame[["soc3", "soc5"]] = np.nan  # manageability keeps 2 of 4; needs 3
    scores = score(soc13, frame).iloc[0]
    assert np.isnan(scores["manageability"])
    assert scores["comprehensibility"] == pytest.approx(5 * 4 + 3)


def test_reverse_key_uses_each_items_own_code_range():
    citizen = load_instrument("citizen")
    scale = citizen.scale("perceived_benefit")
    reversed_item = next(member.item for member in scale.items if member.key < 0)
    codes = citizen.valid_codes(reversed_item)
    frame = pd.DataFrame({member.item: [float(max(codes)) if member.key < 0 else np.nan] for member in scale.items})
    frame[[member.item for member in scale.items if member.key > 0][:2]] = float(min(codes))
    result = score(citizen, frame, scales=["perceived_benefit"])
    # the highest code of a reversed item becomes its lowest
    assert result["perceived_benefit"].iloc[0] == pytest.approx(min(codes))


def test_missing_codes_are_unanswered_not_errors():
    citizen = load_instrument("citizen")
    scale = citizen.scale("ceo_access")
    items = [member.item for member in scale.items]
    missing = citizen.missing_codes(items[0])
    frame = pd.DataFrame({item: [4.0, 4.0] for item in items})
    frame.loc[0, items[0]] = missing[0]
    frame.loc[1, items[:2]] = missing
    result = score(citizen, frame, scales=["ceo_access"])
    assert result["ceo_access"].iloc[0] == pytest.approx(4.0)  # 3 of 4 answered: enough
    assert np.isnan(result["ceo_access"].iloc[1])  # 2 of 4: too few


def test_out_of_code_value_names_respondent_item_value_and_allowed(soc13):
    frame = random_responses(soc13, 5)
    frame.loc[3, "soc6"] = 0
    with pytest.raises(ScoringError) as caught:
        score(soc13, frame)
    message = str(caught.value)
    for part in ("respondent r3", "soc6", "0", "1..7"):
        assert part in message


def test_coerce_scores_the_rest_and_problems_lists_every_problem(soc13):
    frame = random_responses(soc13, 30).astype({"soc1": object})
    frame.loc[[2, 5, 7], "soc2"] = 9
    frame.loc[4, "soc1"] = "x"
    frame.loc[6, "soc5"] = 3.5  # a whole-number code's neighbour is not a code either
    scores = score(soc13, frame, errors="coerce")
    problems = scoring.problems(soc13, frame)
    with pytest.raises(ScoringError) as caught:
        score(soc13, frame)
    # the same problems, whichever way they are asked for
    pd.testing.assert_frame_equal(caught.value.problems, problems)
    assert sorted(problems["row"].tolist()) == [2, 4, 5, 6, 7]
    assert problems.loc[problems["row"] == 6, ["item", "value"]].values.tolist() == [["soc5", 3.5]]
    # coercing is blanking the bad values
    blanked = frame.copy()
    for row, item in [(2, "soc2"), (5, "soc2"), (7, "soc2"), (4, "soc1"), (6, "soc5")]:
        blanked.loc[row, item] = np.nan
    pd.testing.assert_frame_equal(scores, score(soc13, blanked))
    assert scores.loc[[2, 5, 7], "soc_total"].notna().all()
    assert set(problems["problem"]) == {"not a code of this item", "not a number"}
    assert problems.loc[problems["row"] == 4, "value"].iloc[0] == "x"
    # the bad answers count as unanswered: soc2 blank still leaves enough for the total
    assert scores.loc[[2, 5, 7], "soc_total"].notna().all()
    assert len(scores) == 30


def test_more_than_twenty_problems_are_summarised_in_the_message(soc13):
    frame = random_responses(soc13, 40)
    frame["soc9"] = 12
    with pytest.raises(ScoringError) as caught:
        score(soc13, frame)
    assert len(caught.value.problems) == 40
    assert "and 20 more" in str(caught.value)


def test_a_missing_item_column_is_a_problem(soc13):
    frame = random_responses(soc13, 4).drop(columns="soc13")
    with pytest.raises(ScoringError, match="no column for this item"):
        score(soc13, frame)
    scores, problems = score(soc13, frame, errors="coerce"), scoring.problems(soc13, frame)
    assert problems["item"].tolist() == ["soc13"]
    assert scores["manageability"].notna().all()  # 3 of 4 answered


def test_an_unknown_column_is_a_problem_and_ignored_when_scoring(soc13):
    # "soc14" is a plausible typo: SOC-13 has no such item, and an import refuses the column
    frame = random_responses(soc13, 4).assign(soc14=3, cohort="pilot")
    scores, problems = score(soc13, frame, errors="coerce"), scoring.problems(soc13, frame)
    assert problems["item"].tolist() == ["soc14"]
    assert problems["problem"].iloc[0] == "not a column of instrument 'soc13'"
    assert "respondent, occasion, cohort, collected_at" in problems["allowed"].iloc[0]
    # library callers that raise keep scoring frames that carry other data beside the answers
    pd.testing.assert_frame_equal(score(soc13, frame), scores)


def test_long_input_gives_the_same_scores_as_wide(soc13):
    wide = random_responses(soc13, 25, seed=4, blank=0.05)
    long = wide.melt(id_vars=["respondent", "occasion"], var_name="item", value_name="value").dropna()
    from_long = score(soc13, long).set_index("respondent").sort_index()
    from_wide = score(soc13, wide).set_index("respondent").sort_index()
    pd.testing.assert_frame_equal(from_long, from_wide, check_dtype=False)


def test_long_input_with_a_repeated_answer_is_refused():
    long = pd.DataFrame({"respondent": ["a", "a"], "occasion": "intake", "item": "soc1", "value": [1, 2]})
    with pytest.raises(
        ScoringError,
        match=r"row 1 \(respondent a, occasion intake\): item soc1 = 2: the item is "
        "answered more than once; allowed: one value per respondent",
    ) as refused:
        to_wide(long)
    assert refused.value.problems["row"].tolist() == [0, 1]


def test_identifying_columns_lead_and_index_is_kept(soc13):
    frame = random_responses(soc13, 6)
    frame["cohort"] = "pilot"
    frame.index = [f"row{i}" for i in range(6)]
    scores = score(soc13, frame)
    assert list(scores.columns) == [
        "respondent",
        "occasion",
        "cohort",
        "comprehensibility",
        "manageability",
        "meaningfulness",
        "soc_total",
    ]
    assert list(scores.index) == list(frame.index)


def test_a_subset_of_scales_and_an_unknown_scale(soc13):
    frame = random_responses(soc13, 3)
    assert list(score(soc13, frame, scales=["soc_total"]).columns) == ["respondent", "occasion", "soc_total"]
    with pytest.raises(KeyError, match="no scale 'coherence'"):
        score(soc13, frame, scales=["coherence"])


@pytest.mark.parametrize("instrument_id", [i for i in list_instruments() if load_instrument(i).scales])
def test_every_shipped_instrument_scores_within_its_theoretical_range(instrument_id):
    instrument = load_instrument(instrument_id)
    scores = score(instrument, random_responses(instrument, 300, seed=2, blank=0.05))
    for scale in instrument.scales:
        low, high = theoretical_range(instrument, scale)
        values = scores[scale.id].dropna()
        assert len(values) > 0
        assert values.between(low, high).all(), scale.id


def test_soc29_reaches_both_ends_of_its_range():
    soc29 = load_instrument("soc29")
    total = soc29.scale("soc_total")
    for end, expected in (("low", 29.0), ("high", 203.0)):
        frame = pd.DataFrame(
            {member.item: [float(7 if (member.key > 0) == (end == "high") else 1)] for member in total.items}
        )
        assert score(soc29, frame)["soc_total"].iloc[0] == expected


def test_compare_to_published_soc13_norm():
    scores = pd.DataFrame({"respondent": ["a", "b", "c"], "soc_total": [70.0, 81.0, np.nan]})
    result = compare_to_reference(scores, "soc13_germany_2004")
    # Hannöver et al. 2004: mean 70, SD 11; one SD above the mean is the 84.13th percentile
    assert result["z"].tolist()[:2] == [0.0, 1.0]
    assert result["percentile"].iloc[1] == pytest.approx(84.134, abs=1e-3)
    assert np.isnan(result["z"].iloc[2])
    assert result.attrs["reference"].n == 4002
    assert REFERENCES["soc29_germany_2004"].mean == 155.0


def test_compare_to_user_reference_and_errors():
    scores = pd.DataFrame({"manageability": [20.0]})
    assert compare_to_reference(scores, mean=18, sd=4, scale="manageability")["z"].iloc[0] == 0.5
    with pytest.raises(ValueError, match="either a reference or mean and sd"):
        compare_to_reference(scores, "soc13_germany_2004", mean=1, sd=1)
    with pytest.raises(ValueError, match="sd=0"):
        compare_to_reference(scores, mean=1, sd=0, scale="manageability")
    with pytest.raises(KeyError, match="no column 'soc_total'"):
        compare_to_reference(scores, "soc13_germany_2004")


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "sav"])
def test_score_command_reads_csv_xlsx_and_sav(tmp_path, soc13, suffix):
    frame = random_responses(soc13, 8, seed=5)
    source = tmp_path / f"answers.{suffix}"
    if suffix == "csv":
        frame.to_csv(source, index=False)
    elif suffix == "xlsx":
        frame.to_excel(source, index=False)
    else:
        import pyreadstat

        pyreadstat.write_sav(frame.astype({"respondent": object, "occasion": object}), source)
    out = tmp_path / "scores.csv"
    result = CliRunner().invoke(main, ["score", "--instrument", "soc13", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    np.testing.assert_allclose(written["soc_total"], score(soc13, frame)["soc_total"])


def test_score_command_reports_bad_codes(tmp_path, soc13):
    frame = random_responses(soc13, 3)
    frame.loc[1, "soc4"] = 8
    source = tmp_path / "answers.csv"
    frame.to_csv(source, index=False)
    result = CliRunner().invoke(main, ["score", "--instrument", "soc13", str(source)])
    assert result.exit_code != 0
    assert "respondent r1" in result.output and "soc4" in result.output
