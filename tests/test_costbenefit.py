"""Cost-benefit estimate: the published Radar figures, sensitivity and Monte Carlo."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from kantelmeter.costbenefit import (  # noqa: E402
    CostBenefit,
    CostBenefitError,
    check_published,
    load_radar_2012,
    monte_carlo,
    sensitivity,
)
from kantelmeter.plots import tornado  # noqa: E402

# The Radar figures exactly as the study published them (no quantities or prices added), kept in the repository.
PUBLISHED_RADAR = Path(__file__).parent / "data" / "radar" / "cost_benefit_2012_as_published.yaml"


@pytest.fixture(scope="module")
def radar():
    return load_radar_2012()


def write(tmp_path, text):
    path = tmp_path / "estimate.yaml"
    path.write_text(text)
    return path


def test_reproduces_published_totals_and_ratio(radar):
    # Appendix 6: 1,234,250 benefits, 1,264,190 investments, 0.98 per euro.
    assert radar.benefits_total == 1_234_250
    assert radar.investments_total == 1_264_190
    assert radar.ratio == pytest.approx(1_234_250 / 1_264_190)
    assert round(radar.ratio, 2) == 0.98
    assert radar.net_value == -29_940


def test_line_items_as_quantity_times_price(radar):
    search = radar.item("less_search_time")
    assert (search.quantity, search.unit, search.price, search.price_implied) == (3790, "hour", 175, True)
    assert radar.item("ended_benefits").amount == 40 * 13_000
    assert radar.item("evictions_prevented_housing_corporation").amount == 3 * 6_500
    table = radar.table()
    assert table["amount"].sum() == radar.benefits_total + radar.investments_total
    assert table.loc[table["id"] == "fewer_returning_wwb_clients", "quantity"].isna().all()


def test_file_as_published_loads_to_the_same_estimate(radar):
    # The project's copy adds quantities and prices; the figures must not change.
    published = CostBenefit.from_yaml(PUBLISHED_RADAR)
    assert published.benefits_total == radar.benefits_total
    assert published.investments_total == radar.investments_total
    assert published.item("less_search_time").price == 175
    assert published.context["client_contacts_per_year"] == 18_950


def test_check_published_flags_only_the_inexact_arithmetic(radar):
    table = check_published(radar).set_index("check")
    assert table.loc["ended_benefits: quantity", "recomputed"] == 37.5
    assert table.loc["ended_benefits: quantity", "difference"] == -2.5
    assert "37.5" in table.loc["ended_benefits: quantity", "note"]
    assert table.loc["less_search_time: quantity", "recomputed"] == 3790
    assert table.loc["less_search_time: implied price per hour", "recomputed"] == 175
    assert pd.isna(table.loc["less_search_time: implied price per hour", "exact"])
    assert table.loc["ratio", "exact"]  # 0.976 rounds to the published 0.98
    # 37.5 benefits of 13,000: (1,234,250 - 32,500) / 1,264,190
    assert table.loc["ratio with exact published quantities", "recomputed"] == pytest.approx(
        1_201_750 / 1_264_190, abs=1e-9)
    inexact = table.index[table["exact"].eq(False).fillna(False)].tolist()
    assert inexact == ["ended_benefits: quantity", "ratio with exact published quantities"]


def test_check_published_finds_a_wrong_total(tmp_path):
    path = write(tmp_path, "benefits:\n  - {id: a, amount: 100}\ninvestments:\n  - {id: b, amount: 50}\n"
                           "benefits_total_published: 110\nratio_published: 2.0\n")
    table = check_published(CostBenefit.from_yaml(path)).set_index("check")
    assert not table.loc["benefits_total", "exact"]
    assert table.loc["benefits_total", "difference"] == -10
    assert table.loc["ratio", "exact"]


def test_scenario_changes_one_item(radar):
    exact = radar.with_item("ended_benefits", quantity=37.5)
    assert exact.benefits_total == 1_234_250 - 2.5 * 13_000
    assert radar.benefits_total == 1_234_250  # the original is unchanged
    assert radar.with_item("municipality", amount=0.0).investments_total == 157_990
    with pytest.raises(CostBenefitError, match="ended_benefits.*quantity x price"):
        radar.with_item("ended_benefits", amount=1.0)
    with pytest.raises(CostBenefitError, match="'nope' does not exist; allowed: fewer_returning"):
        radar.with_item("nope", amount=1.0)


def test_invalid_file_reports_every_problem(tmp_path):
    path = write(tmp_path, """
benefits:
  - {id: a, hours: 10}
  - {id: b, amount: -5}
  - {id: a, amount: 1, colour: red}
investments:
  - {id: c, quantity: 2, price: 3, amount_implied: 6}
""")
    with pytest.raises(CostBenefitError) as info:
        CostBenefit.from_yaml(path)
    problems = info.value.problems
    assert "estimate.yaml: benefits[0] (a): quantity 10.0 and price None do not go together" in problems[0]
    assert any("benefits[1] (b): field 'amount': value -5 is not allowed; allowed: a number >= 0" in p
               for p in problems)
    assert any("benefits[2] (a): field 'colour' is not allowed" in p for p in problems)
    assert any("investments[0] (c): field 'amount_implied' is not allowed here" in p for p in problems)
    assert len(problems) == 4


def test_sensitivity_recomputes_each_item_at_its_bounds(radar):
    table = sensitivity(radar, {"ended_benefits": (487_500, 520_000)}, spread=0.5)
    assert len(table) == 2 * len(radar.items)
    ended = table[table["item"] == "ended_benefits"].set_index("bound")
    assert ended.loc["low", "ratio"] == pytest.approx(1_201_750 / 1_264_190)
    assert ended.loc["high", "ratio"] == pytest.approx(radar.ratio)
    municipality = table[table["item"] == "municipality"].set_index("bound")
    assert municipality.loc["low", "amount"] == 1_106_200 * 0.5
    assert municipality.loc["high", "investments_total"] == 157_990 + 1_106_200 * 1.5
    assert municipality.loc["high", "net_value"] == pytest.approx(1_234_250 - 157_990 - 1_659_300)
    swings = table.groupby("item", sort=False)["ratio"].agg(lambda r: r.max() - r.min())
    assert list(swings) == sorted(swings, reverse=True)
    assert (table["base_ratio"] == radar.ratio).all()


def test_sensitivity_rejects_bad_ranges(radar):
    with pytest.raises(CostBenefitError) as info:
        sensitivity(radar, {"ended_benefits": (0, 100), "unknown": (0, 1)})
    text = str(info.value)
    assert "'unknown' does not exist" in text
    assert "'ended_benefits': range (0, 100) is not allowed; allowed: low <= estimate 520000 <= high" in text


def test_monte_carlo_is_seeded(radar):
    first = monte_carlo(radar, n=500, seed=7)
    again = monte_carlo(radar, n=500, seed=7)
    other = monte_carlo(radar, n=500, seed=8)
    assert first.draws.equals(again.draws)
    assert not first.draws.equals(other.draws)


def test_monte_carlo_mean_matches_the_known_expectation(tmp_path):
    # Uniform draws: E[benefits] is the sum of the range midpoints (here 100 + 300).
    path = write(tmp_path, "benefits:\n  - {id: a, amount: 100}\n  - {id: b, amount: 250}\n"
                           "investments:\n  - {id: c, amount: 400}\n")
    estimate = CostBenefit.from_yaml(path)
    result = monte_carlo(estimate, {"a": (0, 200), "b": (200, 400)}, spread=0, n=20_000, seed=3,
                         distribution="uniform")
    sd = math.sqrt(200**2 / 12 * 2)
    assert result.summary.loc["benefits_total", "mean"] == pytest.approx(400, abs=4 * sd / math.sqrt(20_000))
    assert result.summary.loc["benefits_total", "sd"] == pytest.approx(sd, rel=0.03)
    assert (result.draws["investments_total"] == 400).all()
    # Benefits are symmetric around the investment: P(ratio >= 1) = 0.5.
    assert result.p_break_even == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(20_000))


def test_monte_carlo_triangular_percentiles(tmp_path):
    # Triangular(0, 0, 1): P(X <= x) = 1 - (1 - x)^2, so the median is 1 - sqrt(0.5) = 0.2929.
    path = write(tmp_path, "benefits:\n  - {id: a, amount: 0}\ninvestments:\n  - {id: c, amount: 1}\n")
    result = monte_carlo(CostBenefit.from_yaml(path), {"a": (0, 1)}, spread=0, n=40_000, seed=11,
                         percentiles=(50, 90))
    assert result.summary.loc["ratio", "p50"] == pytest.approx(1 - math.sqrt(0.5), abs=0.01)
    assert result.summary.loc["ratio", "p90"] == pytest.approx(1 - math.sqrt(0.1), abs=0.01)
    assert result.summary.loc["ratio", "mean"] == pytest.approx(1 / 3, abs=0.01)


def test_monte_carlo_of_the_radar_estimate_is_centred_on_it(radar):
    result = monte_carlo(radar, n=4000, seed=2012)
    assert result.draws.columns[:len(radar.items)].tolist() == [item.id for item in radar.items]
    # Symmetric triangular ranges around each estimate: the totals are centred on the estimate.
    assert result.summary.loc["benefits_total", "mean"] == pytest.approx(radar.benefits_total, rel=0.01)
    assert result.summary.loc["ratio", "p2.5"] < radar.ratio < result.summary.loc["ratio", "p97.5"]
    assert 0.3 < result.p_break_even < 0.6


def test_tornado_draws_one_bar_per_item_and_bound(radar):
    fig, ax = plt.subplots()
    table = sensitivity(radar)
    assert tornado(table, "net_value", ax=ax) is ax
    assert len(ax.patches) == len(table)
    widths = sorted(abs(p.get_width()) for p in ax.patches)
    assert widths[-1] == pytest.approx(abs(table["net_value"] - table["base_net_value"]).max())
    plt.close(fig)
    with pytest.raises(ValueError, match="outcome 'cost' is not allowed"):
        tornado(table, "cost")
