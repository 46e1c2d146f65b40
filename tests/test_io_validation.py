"""Row checks of imported responses: one report with every problem, identifiers never shown."""

from __future__ import annotations

import pandas as pd
import pytest

from kantelmeter.io import validate_responses

BSN = "111222333"


def _raw(**columns):
    return pd.DataFrame(columns, dtype=object)


def test_every_problem_is_reported_with_its_row_and_column(sample_instrument):
    raw = _raw(
        respondent=["a", "b", "c", "c", ""],
        got_help=["1", "3", "2", "x", "1"],
        helped_well=["4", "", "", "", "8"],
        age=["17", "50", "60.5", "70", ""],
        wellbeing=["8", "7", "0", "", ""],
        visit_date=["2011-05-03", "3 mei", "", "", ""],
        help_kind_1=["1", "2", "", "", ""],
        colour=["", "", "", "", ""],
    )
    report = validate_responses(sample_instrument, raw, "intake", source="may.csv")
    problems = {(row, column): problem for row, column, _, problem in report.problems.itertuples(index=False)}
    assert not report.ok and report.data is None
    assert "not a column of instrument 'sample'" in problems[(None, "colour")]
    assert "outside the allowed range 18..110" in problems[(2, "age")]
    assert "not a code of this item; allowed: 1, 2" in problems[(3, "got_help")]
    assert "not a number" in problems[(5, "got_help")]
    assert "not a date" in problems[(3, "visit_date")]
    assert "1 (chosen) or 0" in problems[(3, "help_kind_1")]
    # wellbeing is a 1..7 score with the agree5 missing codes 8 and 9: 8 is fine, 0 is not.
    assert (2, "wellbeing") not in problems and "allowed: 1..7; missing codes: 8, 9" in problems[(4, "wellbeing")]
    assert "no respondent given" in problems[(6, "respondent")]
    assert "more than once" in problems[(4, "respondent")] and "(rows 4, 5)" in problems[(5, "respondent")]
    text = str(report)
    assert text.startswith("may.csv: ") and "nothing was imported" in text
    assert "row 3, column got_help (value '3'): not a code" in text


def test_a_required_item_is_required_only_where_its_condition_shows_it(sample_instrument):
    raw = _raw(respondent=["a", "b", "c", "d"], got_help=["1", "2", "1", ""], helped_well=["", "", "8", ""])
    report = validate_responses(sample_instrument, raw, "intake")
    assert report.problems[["row", "column"]].values.tolist() == [[2, "helped_well"], [5, "got_help"]]
    assert "shown because got_help == 1" in report.problems.problem.iloc[0]


def test_items_not_asked_at_the_occasion_and_a_wrong_occasion_column_are_problems(sample_instrument):
    raw = _raw(respondent=["a"], got_help=["2"], visit_date=["2011-01-01"], occasion=["intake"])
    report = validate_responses(sample_instrument, raw, "follow_up")
    assert set(report.problems.column) == {"visit_date", "occasion"}


def test_multiple_choice_as_space_separated_codes_becomes_option_columns(sample_instrument):
    raw = _raw(
        respondent=["a", "b", "c"], got_help=["1", "1", "2"], helped_well=["4", "5", ""], help_kind=["1 3", "2 7", ""]
    )
    report = validate_responses(sample_instrument, raw, "intake")
    assert report.problems[["row", "column"]].values.tolist() == [[3, "help_kind"]]
    good = validate_responses(sample_instrument, raw.iloc[[0, 2]], "intake").data
    assert good[["help_kind_1", "help_kind_2", "help_kind_3"]].fillna(-1).values.tolist() == [
        [1.0, 0.0, 1.0],
        [-1.0, -1.0, -1.0],
    ]


def test_identifier_values_never_appear_in_a_report(sample_instrument):
    pseudonymise = lambda kind, value: f"p-{kind}"  # noqa: E731 - enough to drive the report
    raw = _raw(bsn=["111222334", BSN], full_name=["Truus Bakker", "Kees Bakker"], got_help=["9", "2"])
    report = validate_responses(sample_instrument, raw, "intake", respondent="bsn", pseudonymise=pseudonymise)
    text = str(report) + report.problems.to_csv()
    for secret in ("111222334", "Truus", "Kees", BSN):
        assert secret not in text
    assert "*****2334 fails the eleven-test" in text  # the masked form names the row without the number
    assert "<withheld>" in text


def test_a_clean_table_yields_typed_rows_with_pseudonymised_respondents(sample_instrument):
    raw = _raw(respondent=[BSN], got_help=["2"], age=["70,5"], remarks=[" fine "], cohort=[""])
    report = validate_responses(
        sample_instrument,
        raw,
        "intake",
        respondent_kind="bsn",
        cohort="pilot",
        pseudonymise=lambda kind, value: f"{kind}:{value[-2:]}",
    )
    assert report.ok
    assert report.data.iloc[0][["respondent", "cohort", "got_help", "age", "remarks"]].tolist() == [
        "bsn:33",
        "pilot",
        2.0,
        70.5,
        "fine",
    ]


def test_identifiers_need_a_pseudonymiser(sample_instrument):
    with pytest.raises(ValueError, match="pass pseudonymise"):
        validate_responses(sample_instrument, _raw(bsn=[BSN]), "intake", respondent="bsn")
