"""CEO-comparable indicators: % (fully) agree among valid answers."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from kantelmeter import ceo
from kantelmeter.instruments import load_instrument


@pytest.fixture(scope="module")
def citizen():
    return load_instrument("citizen")


def test_missing_codes_leave_numerator_and_denominator(citizen):
    # 6 valid answers (codes 1-5), 4 of them agree (4 or 5); "don't know" (8), "n.a." (9) and a blank are left out
    frame = pd.DataFrame({"respondent": [f"r{i}" for i in range(9)], "cohort": ["regular"] * 9,
                          "ceo_effect_cope": [5, 4, 4, 5, 1, 3, 8, 9, np.nan]})
    row = ceo.indicators(citizen, frame).set_index("item").loc["ceo_effect_cope"]
    assert (row["n_valid"], row["n_agree"]) == (6, 4)
    assert row["pct_agree"] == pytest.approx(100 * 4 / 6)
    low, high = proportion_confint(4, 6, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((100 * low, 100 * high))


def test_groups_are_counted_apart_and_absent_items_skipped(citizen):
    frame = pd.DataFrame({"respondent": list("abcd"), "cohort": ["pilot", "pilot", "regular", "regular"],
                          "ceo_access_quick": [5, 2, 4, 4]})
    table = ceo.indicators(citizen, frame)
    assert table["item"].unique().tolist() == ["ceo_access_quick"]
    assert table.set_index("cohort")["pct_agree"].to_dict() == {"pilot": 50.0, "regular": 100.0}


def test_nobody_valid_gives_nan_not_zero(citizen):
    frame = pd.DataFrame({"respondent": ["a"], "cohort": ["pilot"], "ceo_quality_good": [8]})
    row = ceo.indicators(citizen, frame).iloc[0]
    assert row["n_valid"] == 0
    assert np.isnan(row["pct_agree"])


def test_top_three_and_ungrouped(citizen):
    frame = pd.DataFrame({"respondent": list("abcd"), "ceo_quality_good": [3, 2, 4, 5]})
    row = ceo.indicators(citizen, frame, by=None, top=3).iloc[0]
    assert row["n_agree"] == 3


def test_bad_arguments_are_named(citizen):
    frame = pd.DataFrame({"respondent": ["a"], "ceo_quality_good": [3]})
    with pytest.raises(ValueError, match="grouping column.*cohort not in the responses"):
        ceo.indicators(citizen, frame)
    with pytest.raises(ValueError, match="no CEO themes"):
        ceo.themes(load_instrument("soc13"))
    with pytest.raises(ValueError, match="an out-of-range code|allowed"):
        ceo.indicators(citizen, frame.assign(ceo_quality_good=6), by=None)
