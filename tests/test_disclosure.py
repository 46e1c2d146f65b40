"""Small-cell suppression: primary and secondary suppression, audit, percentages."""

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from kantelmeter.disclosure import (
    MARKER,
    DisclosureError,
    check_table,
    display_table,
    method_statement,
    suppress,
    suppress_percentages,
)


def intruder_bounds(published: pd.DataFrame, total: str = "Totaal", cells=None) -> dict:
    """Smallest and largest value of every withheld cell, found independently of the module.

    All cells of the table with totals are variables; a published cell is fixed
    by its bounds; every row and column says inner cells sum to the total. The
    intruder has read the method statement: zeros are shown, so a withheld cell is at least 1.
    """
    rows = [r for r in published.index if r != total] + [total]
    columns = [c for c in published.columns if c != total] + [total]
    table = published.loc[rows, columns]
    n_rows, n_columns = table.shape
    position = {(i, j): i * n_columns + j for i in range(n_rows) for j in range(n_columns)}
    equations = []
    for i in range(n_rows):
        equation = np.zeros(n_rows * n_columns)
        for j in range(n_columns - 1):
            equation[position[i, j]] = 1
        equation[position[i, n_columns - 1]] = -1
        equations.append(equation)
    for j in range(n_columns):
        equation = np.zeros(n_rows * n_columns)
        for i in range(n_rows - 1):
            equation[position[i, j]] = 1
        equation[position[n_rows - 1, j]] = -1
        equations.append(equation)
    bounds = [
        (1, None) if pd.isna(table.iat[i, j]) else (table.iat[i, j], table.iat[i, j])
        for i in range(n_rows)
        for j in range(n_columns)
    ]
    result = {}
    for (i, j), k in position.items():
        if not pd.isna(table.iat[i, j]) or (cells is not None and (rows[i], columns[j]) not in cells):
            continue
        objective = np.zeros(n_rows * n_columns)
        objective[k] = 1
        low = linprog(objective, A_eq=np.array(equations), b_eq=np.zeros(len(equations)), bounds=bounds)
        high = linprog(-objective, A_eq=np.array(equations), b_eq=np.zeros(len(equations)), bounds=bounds)
        assert low.status == 0 and high.status in (0, 3)
        result[rows[i], columns[j]] = (low.fun, np.inf if high.status == 3 else -high.fun)
    return result


def random_table(rng: np.random.Generator) -> pd.DataFrame:
    n_rows, n_columns = rng.integers(2, 6, size=2)
    # A mix of empty, small and large cells, as in cross-tables of a pilot of ~90 people.
    means = rng.choice([0.5, 4, 12, 40], size=(n_rows, n_columns), p=[0.15, 0.35, 0.3, 0.2])
    counts = rng.poisson(means)
    return pd.DataFrame(counts, index=[f"r{i}" for i in range(n_rows)], columns=[f"c{j}" for j in range(n_columns)])


def test_primary_and_secondary_suppression_of_a_known_table():
    table = pd.DataFrame({"team 1": [4, 12, 25], "team 2": [11, 14, 30]}, index=["gemeente", "MEE", "overig"])
    result = suppress(table)
    # 4 is primary; its row needs a second cell (11), its column the smallest other (12),
    # and row MEE then needs one more: 14 closes the rectangle.
    assert result.pattern.loc["gemeente", "team 1"] == "primary"
    hidden = sorted(zip(*np.nonzero(result.counts.isna().to_numpy())))
    assert hidden == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert result.counts.loc["Totaal", "Totaal"] == 96
    assert result.counts.dtypes.eq("Int64").all()
    assert check_table(result.counts).empty


def test_zero_is_published_and_margins_are_protected():
    table = pd.DataFrame({"a": [0, 30, 20], "b": [0, 25, 15]}, index=["x", "y", "z"])
    result = suppress(table, min_cell=10)
    assert result.counts.loc["x", "a"] == 0
    assert not result.counts.isna().any().any()
    # A small total is itself a count: its row total 7 must not be shown.
    small_total = pd.DataFrame({"a": [3, 30, 20], "b": [4, 25, 15]}, index=["x", "y", "z"])
    result = suppress(small_total)
    assert pd.isna(result.counts.loc["x", "Totaal"])
    assert result.pattern.loc["x", "Totaal"] == "primary"
    assert check_table(result.counts).empty


def test_given_margins_are_used_and_checked():
    table = pd.crosstab(
        pd.Series(list("aabbbbbbbbbbbb"), name="row"),
        pd.Series(list("pqpqpqpqpqpqpq"), name="col"),
        margins=True,
        margins_name="All",
    )
    result = suppress(table, min_cell=3, margins_name="All")
    assert list(result.counts.index) == ["a", "b", "All"]
    # Row a is 1, 1 and total 2: all primary; row b must go too, or a would follow from the column totals.
    assert (result.pattern.loc["a"] == "primary").all()
    assert (result.pattern.loc["b"] == "secondary").all()
    assert result.counts.loc["All"].tolist() == [7, 7, 14]
    wrong = table.copy()
    wrong.loc["a", "All"] = 3
    with pytest.raises(DisclosureError, match="total column 'All' at 'a' is 3, but the cells add up to 2"):
        suppress(wrong, min_cell=3, margins_name="All")


def test_invalid_tables_name_the_cell():
    with pytest.raises(DisclosureError, match=r"cell \('r1', 'b'\) value 2.5 is not allowed; allowed: a whole"):
        suppress(pd.DataFrame({"a": [1, 2], "b": [3, 2.5]}, index=["r0", "r1"]))
    with pytest.raises(DisclosureError, match="cell .* value -1 is not allowed"):
        suppress(pd.DataFrame({"a": [1, -1]}))
    with pytest.raises(DisclosureError, match="row label 'r' occurs twice"):
        suppress(pd.DataFrame({"a": [1, 2]}, index=["r", "r"]))
    with pytest.raises(DisclosureError, match="min_cell 0 is not allowed"):
        suppress(pd.DataFrame({"a": [1, 2]}), min_cell=0)


def test_a_reader_who_knows_zeros_are_shown_cannot_pin_the_pair_of_ones():
    # The audit's case: row a holds 1, 1 and 30 with total 32. Withholding only the two 1s
    # leaves 2 for both, and each is at least 1 (zeros are shown): both are exactly 1.
    leaky = pd.DataFrame(
        {"p": ["x", 20, 22, 43], "q": ["x", 25, 28, 54], "r": [30, 30, 31, 91], "Totaal": [32, 75, 81, 188]},
        index=["a", "b", "c", "Totaal"],
    )
    problems = check_table(leaky)
    assert problems[["row", "column", "lower", "upper"]].values.tolist() == [["a", "p", 1, 1], ["a", "q", 1, 1]]
    assert "exactly 1" in problems["problem"].iloc[0]
    result = suppress(
        pd.DataFrame([[1, 1, 30], [20, 25, 30], [22, 28, 31]], index=list("abc"), columns=list("pqr")), 10
    )
    assert check_table(result.to_display()).empty
    for cell in [("a", "p"), ("a", "q")]:
        low, high = intruder_bounds(result.counts)[cell]
        assert high >= 10, (cell, low, high)
    # optimal: each 1 needs a cycle through row a's 30 and two cells of row b; no pattern of fewer than
    # six cells protects both (checked here by trying every pattern of five)
    assert result.counts.isna().sum().sum() == 6
    assert not any(
        _protects(pattern)
        for pattern in itertools.combinations(_cells(result.counts), 5)
        if {(0, 0), (0, 1)} <= set(pattern)
    )


def _cells(table):
    return [(i, j) for i in range(table.shape[0]) for j in range(table.shape[1])]


def _protects(pattern):
    """Whether withholding ``pattern`` in the audit's 3 x 3 table (with margins) passes the intruder."""
    values = np.array([[1, 1, 30, 32], [20, 25, 30, 75], [22, 28, 31, 81], [43, 54, 91, 188]], dtype=object)
    for i, j in pattern:
        values[i, j] = pd.NA
    published = pd.DataFrame(values, index=["a", "b", "c", "Totaal"], columns=["p", "q", "r", "Totaal"])
    bounds = intruder_bounds(published, cells=[("a", "p"), ("a", "q")])
    return all(bounds[cell][1] >= 10 for cell in [("a", "p"), ("a", "q")])


def test_check_table_finds_shown_small_counts_and_tables_without_totals():
    shown = pd.DataFrame({"ja": [5, 20], "nee": [12, 0]}, index=["a", "b"])
    problems = check_table(shown)
    assert problems[["row", "column"]].values.tolist() == [["a", "ja"]]
    # Without published totals a single withheld cell cannot be worked out.
    assert check_table(pd.DataFrame({"ja": [pd.NA, 20], "nee": [12, 30]}, index=["a", "b"])).empty
    with pytest.raises(DisclosureError, match=r"cell \('a', 'ja'\) value '<5' is not allowed"):
        check_table(pd.DataFrame({"ja": ["<5", 20]}, index=["a", "b"]))
    inconsistent = pd.DataFrame({"ja": [10, 20, 31]}, index=["a", "b", "Totaal"])
    with pytest.raises(DisclosureError, match="add up to 30, but the total is 31"):
        check_table(inconsistent)


@pytest.mark.parametrize("seed", range(12))
def test_no_suppressed_cell_can_be_recovered_from_random_tables(seed):
    rng = np.random.default_rng(seed)
    for _ in range(3):
        table = random_table(rng)
        min_cell = int(rng.choice([3, 5, 10]))
        result = suppress(table, min_cell=min_cell)
        published = result.counts
        values = published.to_numpy(dtype="float64", na_value=np.nan)
        # Nothing shown is below the minimum.
        assert not ((values > 0) & (values < min_cell)).any()
        # Every small count of the input (totals included) is withheld.
        full = table.copy()
        full["Totaal"] = full.sum(axis=1)
        full.loc["Totaal"] = full.sum(axis=0)
        small = (full > 0) & (full < min_cell)
        assert published.isna()[small].fillna(True).all().all()
        # Every row and column with a withheld cell has at least two.
        hidden = published.isna().to_numpy()
        for line in itertools.chain(hidden, hidden.T):
            assert line.sum() != 1
        # An intruder with linear programming, who knows withheld cells are at least 1, cannot bring
        # the largest possible value of any withheld cell below the minimum.
        for cell, (low, high) in intruder_bounds(published).items():
            assert high >= min_cell - 1e-9, (seed, cell, low, high, table)
            assert low - 1e-9 <= full.loc[cell] <= high + 1e-9
        assert check_table(published, min_cell).empty


def test_display_marks_every_withheld_cell_the_same():
    table = pd.DataFrame({"p": [2, 30, 40], "q": [30, 30, 50]}, index=["a", "b", "c"])
    result = suppress(table)
    shown = result.to_display()
    assert set(shown.to_numpy().ravel()) >= {MARKER, "40"}
    assert (shown == MARKER).sum().sum() == result.counts.isna().sum().sum() == 4
    html = result.to_html()
    assert "<table" in html and ">x<" in html and ">2<" not in html


def test_percentages_withheld_on_small_denominators():
    agree = pd.DataFrame({"2015": [30, 3, 0], "2016": [8, 45, 1]}, index=["toegang", "kwaliteit", "effect"])
    valid = pd.DataFrame({"2015": [40, 6, 0], "2016": [9, 50, 20]}, index=["toegang", "kwaliteit", "effect"])
    result = suppress_percentages(agree, valid, min_denominator=10, decimals=1)
    assert result.loc["toegang", "2015"] == 75.0
    assert result.loc["effect", "2016"] == 5.0
    assert result.loc["kwaliteit", "2016"] == 90.0
    assert result[["2015"]].isna().sum().sum() == 2  # 6 and 0 answers
    assert pd.isna(result.loc["toegang", "2016"])  # 9 answers
    assert display_table(result, decimals=1).loc["toegang", "2015"] == "75.0"
    with pytest.raises(DisclosureError, match=r"at \('effect', '2016'\) numerator 21 and denominator 20"):
        suppress_percentages(agree.replace({1: 21}), valid)
    with pytest.raises(DisclosureError, match="different labels"):
        suppress_percentages(agree, valid.rename(index={"effect": "effekt"}))


def test_method_statement_in_both_languages():
    nl = method_statement("nl", min_cell=5, min_denominator=20)
    en = method_statement("en", min_cell=5, min_denominator=20)
    assert "1 tot en met 4" in nl and "minder dan 20" in nl and "Hundepool" in nl
    assert "from 1 to 4" in en and "fewer than 20" in en and "Hundepool" in en
    with pytest.raises(DisclosureError, match="language 'de' is not allowed; allowed: nl, en"):
        method_statement("de")
