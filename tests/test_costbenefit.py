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
    by_actor,
    check_published,
    load_radar_2012,
    monte_carlo,
    present_value_factor,
    sensitivity,
)
from kantelmeter.plots import actor_balance, tornado  # noqa: E402

# The file as the project first received it (no quantities, prices, actors or scopes), copied into the tests.
AS_PUBLISHED = Path(__file__).resolve().parent / "data" / "radar_cost_benefit_2012_as_published.yaml"


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
    returning = radar.item("fewer_returning_wwb_clients")  # 300 clients x 6 visits x a quarter hour
    assert (returning.quantity, returning.price, returning.price_implied) == (450, 50, True)
    assert table.loc[table["id"] == "mee_and_management", "quantity"].isna().all()


def test_shared_file_as_published_loads_to_the_same_estimate(radar):
    # The project's copy adds quantities and prices; the figures must not change.
    published = CostBenefit.from_yaml(AS_PUBLISHED)
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
        1_201_750 / 1_264_190, abs=1e-9
    )
    arithmetic = table[table["kind"] == "arithmetic"]
    inexact = arithmetic.index[arithmetic["exact"].eq(False).fillna(False)].tolist()
    assert inexact == ["ended_benefits: quantity", "ratio with exact published quantities"]


def test_check_published_finds_a_wrong_total(tmp_path):
    path = write(
        tmp_path,
        "benefits:\n  - {id: a, amount: 100}\ninvestments:\n  - {id: b, amount: 50}\n"
        "benefits_total_published: 110\nratio_published: 2.0\n",
    )
    table = check_published(CostBenefit.from_yaml(path)).set_index("check")
    assert not table.loc["benefits_total", "exact"]
    # one scope, no hours, no staff time: nothing inconsistent to flag
    assert table.loc[table["kind"] == "consistency", "exact"].all()
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
    path = write(
        tmp_path,
        """
benefits:
  - {id: a, hours: 10}
  - {id: b, amount: -5}
  - {id: a, amount: 1, colour: red}
investments:
  - {id: c, quantity: 2, price: 3, amount_implied: 6}
""",
    )
    with pytest.raises(CostBenefitError) as info:
        CostBenefit.from_yaml(path)
    problems = info.value.problems
    assert "estimate.yaml: benefits[0] (a): quantity 10.0 and price None do not go together" in problems[0]
    assert any(
        "benefits[1] (b): field 'amount': value -5 is not allowed; allowed: a number >= 0" in p for p in problems
    )
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
    path = write(
        tmp_path,
        "benefits:\n  - {id: a, amount: 100}\n  - {id: b, amount: 250}\ninvestments:\n  - {id: c, amount: 400}\n",
    )
    estimate = CostBenefit.from_yaml(path)
    result = monte_carlo(estimate, {"a": (0, 200), "b": (200, 400)}, spread=0, n=20_000, seed=3, distribution="uniform")
    sd = math.sqrt(200**2 / 12 * 2)
    assert result.summary.loc["benefits_total", "mean"] == pytest.approx(400, abs=4 * sd / math.sqrt(20_000))
    assert result.summary.loc["benefits_total", "sd"] == pytest.approx(sd, rel=0.03)
    assert (result.draws["investments_total"] == 400).all()
    # Benefits are symmetric around the investment: P(ratio >= 1) = 0.5.
    assert result.p_break_even == pytest.approx(0.5, abs=4 * 0.5 / math.sqrt(20_000))


def test_monte_carlo_triangular_percentiles(tmp_path):
    # Triangular(0, 0, 1): P(X <= x) = 1 - (1 - x)^2, so the median is 1 - sqrt(0.5) = 0.2929.
    path = write(tmp_path, "benefits:\n  - {id: a, amount: 0}\ninvestments:\n  - {id: c, amount: 1}\n")
    result = monte_carlo(CostBenefit.from_yaml(path), {"a": (0, 1)}, spread=0, n=40_000, seed=11, percentiles=(50, 90))
    assert result.summary.loc["ratio", "p50"] == pytest.approx(1 - math.sqrt(0.5), abs=0.01)
    assert result.summary.loc["ratio", "p90"] == pytest.approx(1 - math.sqrt(0.1), abs=0.01)
    assert result.summary.loc["ratio", "mean"] == pytest.approx(1 / 3, abs=0.01)


def test_monte_carlo_of_the_radar_estimate_is_centred_on_it(radar):
    result = monte_carlo(radar, n=4000, seed=2012)
    assert result.draws.columns[: len(radar.items)].tolist() == [item.id for item in radar.items]
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


def test_check_published_flags_rates_scopes_and_time_that_is_not_cash(radar):
    table = check_published(radar).set_index("check")
    rates = table.loc["hourly rates"]
    # 663,250 / 3,790 h = 175 per hour against 22,500 / (300 x 6 x 0.25 h) = 50 per hour
    assert (rates["recomputed"], rates["exact"]) == (3.5, False)
    assert "less_search_time 175 per hour" in rates["note"] and "50 per hour" in rates["note"]
    scopes = table.loc["scopes"]
    assert scopes["recomputed"] == 3 and not scopes["exact"]
    for part in ("client_contacts (18,950)", "pilot_cases (80)", "wwb_clients (1,500)"):
        assert part in scopes["note"]
    time = table.loc["time counted as cash"]
    # time: 22,500 + 663,250; without it (520,000 + 9,000 + 19,500) / 1,264,190
    assert time["recomputed"] == pytest.approx(548_500 / 1_264_190, abs=1e-9)
    assert "685,750 of 1,234,250" in time["note"] and not time["exact"]


def test_every_line_item_has_an_actor_kind_and_scope(radar):
    table = radar.table()
    assert (table["actor"] != "").all() and (table["scope"] != "").all()
    assert set(table["actor"]) <= set(radar.actors)
    actor = table.set_index("id")["actor"]
    assert actor["mee_and_management"] == "mee"
    assert actor["evictions_prevented_housing_corporation"] == "housing_corporation"
    assert radar.appraisal.discount_rate == 0.0225
    assert "Werkgroep discontovoet (2020)" in radar.appraisal.sources["discount_rate"]
    assert radar.appraisal.null_alternative["en"].startswith("Without the extra investments")


def test_who_pays_and_who_gains(radar):
    table = by_actor(radar).set_index("actor")
    assert table.loc["mee", "net_value"] == -157_990  # MEE invests and gains nothing back
    assert table.loc["housing_corporation", "net_value"] == 19_500  # gains without investing
    municipality = table.loc["municipality"]
    assert (municipality["benefits"], municipality["investments"]) == (1_214_750, 1_106_200)
    assert table.loc["all", "net_value"] == pytest.approx(radar.net_value)
    assert table.drop(index="all")["net_value"].sum() == pytest.approx(radar.net_value)
    # society: the ended benefits are a transfer from the citizen, not a gain
    assert table.loc["all", "pv_net_value_social"] == pytest.approx(-29_940 - 520_000)
    # the budget: staff time saved is not cash
    assert table.loc["all", "pv_net_value_budget"] == pytest.approx(548_500 - 1_264_190)


def test_horizon_discounting_and_deadweight(radar):
    five = radar.with_assumptions(time_horizon_years=5, discount_rate=0.03)
    factor = 1 + 1 / 1.03 + 1 / 1.03**2 + 1 / 1.03**3 + 1 / 1.03**4
    assert present_value_factor(0.03, 5) == pytest.approx(factor)
    table = by_actor(five).set_index("actor")
    assert table.loc["mee", "pv_investments"] == pytest.approx(157_990 * factor)
    assert table.loc["all", "ratio"] == pytest.approx(radar.ratio)  # yearly items: the ratio stays
    half = radar.with_assumptions(deadweight={"ended_benefits": 0.5})
    assert half.ratio == pytest.approx((1_234_250 - 260_000) / 1_264_190)
    halved = by_actor(half).set_index("actor")
    assert halved.loc["municipality", "benefits"] == 1_214_750 - 260_000
    # a measured effect is a difference with the null alternative: no deadweight comes off it
    linked = monte_carlo(half, effects=_effect("eigen_inkomen_improved", 0.025, 0.025, 0.025), spread=0, n=50)
    assert (linked.draws["ended_benefits"] == 520_000).all()
    assert (monte_carlo(half, spread=0, n=50).draws["ended_benefits"] == 260_000).all()
    assert (
        check_published(radar.with_assumptions(deadweight={"less_search_time": 1.0}))
        .set_index("check")
        .loc["time counted as cash", "note"]
        .startswith("22,500 of 571,000")
    )
    with pytest.raises(CostBenefitError) as info:
        radar.with_assumptions(
            time_horizon_years=0, discount_rate=0.5, deadweight={"municipality": 0.1, "ended_benefits": 2, "nope": 0}
        )
    text = str(info.value)
    for part in (
        "time_horizon_years 0",
        "discount_rate 0.5",
        "'municipality' is an investment",
        "'ended_benefits': share 2",
        "'nope' does not exist",
    ):
        assert part in text


def test_invalid_actor_scope_kind_and_effect_are_named(tmp_path):
    path = write(
        tmp_path,
        """
actors: {city: {nl: stad, en: city}}
scopes: {all: {size: 10}}
appraisal: {discount_rate: 7, colour: red}
benefits:
  - {id: a, amount: 1, actor: ghost, scope: all, kind: money, deadweight: 1.5}
  - {id: b, amount: 1, actor: city, scope: none, effect: {outcome: x}}
investments:
  - {id: c, amount: 1, deadweight: 0.2}
""",
    )
    with pytest.raises(CostBenefitError) as info:
        CostBenefit.from_yaml(path)
    text = str(info.value)
    for part in (
        "appraisal: field 'discount_rate': value 7",
        "appraisal: field 'colour' is not allowed",
        "(a): field 'kind': value 'money'",
        "(a): field 'deadweight': value 1.5",
        "(b): field 'effect'",
        "(c): field 'deadweight' is not allowed on an investment",
    ):
        assert part in text
    path = write(
        tmp_path,
        "actors: {city: {nl: stad}}\nbenefits:\n  - {id: a, amount: 1, actor: ghost}\n"
        "investments:\n  - {id: c, amount: 1}\n",
    )
    with pytest.raises(CostBenefitError, match="line item 'a': actor 'ghost' is not allowed; allowed: city"):
        CostBenefit.from_yaml(path)


def _effect(outcome, estimate, low, high, method="risk_difference"):
    return pd.DataFrame(
        {
            "outcome": [outcome],
            "method": [method],
            "estimate": [estimate],
            "se": [0.0],
            "ci_low": [low],
            "ci_high": [high],
            "n_pilot": [80],
        }
    )


def test_monte_carlo_draws_linked_items_from_the_measured_effect(radar):
    # Known truth: effect ~ N(0.05, se) with se = 0.02 / 1.96; the eviction amount is 9,000 x effect / 0.0375.
    effects = pd.concat(
        [
            _effect("eviction_prevented", 0.05, 0.05 - 0.02, 0.05 + 0.02),
            _effect("eigen_inkomen_improved", 0.025, 0.025, 0.025),
        ]
    )
    result = monte_carlo(radar, effects=effects, n=20_000, seed=5)
    assert result.links == {
        "ended_benefits": "eigen_inkomen_improved",
        "evictions_prevented_municipality": "eviction_prevented",
        "evictions_prevented_housing_corporation": "eviction_prevented",
    }
    municipality = result.draws["evictions_prevented_municipality"]
    se = 0.02 / 1.959964
    assert municipality.mean() == pytest.approx(9_000 * 0.05 / 0.0375, rel=4 * se / 0.05 / math.sqrt(20_000))
    assert municipality.std() == pytest.approx(9_000 * se / 0.0375, rel=0.03)
    # one draw per outcome: both eviction items move together
    assert municipality.corr(result.draws["evictions_prevented_housing_corporation"]) == pytest.approx(1)
    assert (result.draws["ended_benefits"] == 520_000).all()  # a zero-width interval
    actors = result.actors.set_index("actor")
    assert actors.loc["mee", "p_gain"] == 0
    assert actors.loc["housing_corporation", "mean"] == pytest.approx(19_500 * 0.05 / 0.0375, rel=0.01)


def test_monte_carlo_effects_errors_name_the_problem(radar):
    two = pd.concat(
        [
            _effect("eigen_inkomen_improved", 0.02, 0, 0.04, "risk_difference"),
            _effect("eigen_inkomen_improved", 1.2, 0.9, 1.5, "risk_ratio"),
        ]
    )
    with pytest.raises(
        CostBenefitError, match="'eigen_inkomen_improved' has 2 rows; allowed: one, choose with method="
    ):
        monte_carlo(radar, effects=two, n=10)
    assert monte_carlo(radar, effects=two, method="risk_difference", n=10).links == {
        "ended_benefits": "eigen_inkomen_improved"
    }
    with pytest.raises(CostBenefitError, match="method 'dr' is not in the table; allowed: risk_difference, risk_ratio"):
        monte_carlo(radar, effects=two, method="dr", n=10)
    with pytest.raises(CostBenefitError, match="'municipality' has no published effect"):
        monte_carlo(radar, effects=two.iloc[:1], links={"municipality": "eigen_inkomen_improved"}, n=10)
    with pytest.raises(CostBenefitError, match="columns ci_low, ci_high are missing"):
        monte_carlo(radar, effects=pd.DataFrame({"outcome": ["x"], "estimate": [1]}), n=10)


def test_a_municipality_re_estimates_the_ratio_from_its_own_effects(radar):
    from kantelmeter import compare_cohorts, synth

    study = synth.study(seed=3)
    effects = compare_cohorts(study.outcomes, "eigen_inkomen_improved", baseline=None, method="risk_difference")
    result = monte_carlo(radar, effects=effects, n=4000, seed=1)
    row = effects.iloc[0]
    expected = 520_000 * row["estimate"] / 0.025
    assert result.draws["ended_benefits"].mean() == pytest.approx(expected, rel=0.05)
    # the measured effect is far less certain than the published 2.5%: the ratio's interval widens
    fixed = monte_carlo(radar, n=4000, seed=1)
    width = result.summary.loc["ratio", "p97.5"] - result.summary.loc["ratio", "p2.5"]
    assert width > fixed.summary.loc["ratio", "p97.5"] - fixed.summary.loc["ratio", "p2.5"]


def test_actor_balance_draws_one_group_per_actor(radar):
    table = by_actor(radar)
    result = monte_carlo(radar, n=500, seed=4)
    fig, ax = plt.subplots()
    assert actor_balance(table, result.actors, ax=ax) is ax
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == table["label"].tolist()
    # one benefit bar and one investment bar per actor, and the net value with its interval
    assert len(ax.patches) == 2 * len(table)
    widths = sorted(round(p.get_width()) for p in ax.patches)
    assert widths[0] == -1_264_190 and widths[-1] == 1_234_250
    plt.close(fig)
    with pytest.raises(ValueError, match="actor_balance: column 'pv_net_value' is missing"):
        actor_balance(table.drop(columns="pv_net_value"))
