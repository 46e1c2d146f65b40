"""The municipal context tables: published figures reproduced, misprints caught."""

import shutil
from importlib import resources

import pandas as pd
import pytest

from kantelmeter.municipal import (
    MunicipalDataError,
    jobseekers,
    low_income_households,
    mean_household_income,
    population_by_age,
)


@pytest.fixture
def own_figures(tmp_path):
    """A writable copy of the shipped figures, as a municipality would supply its own."""
    shipped = resources.files("kantelmeter.data") / "haarlemmermeer"
    for name in (
        "population_by_age.csv",
        "population_totals_published.csv",
        "jobseekers.csv",
        "low_income_households.csv",
        "mean_household_income_thousand_eur.csv",
    ):
        with resources.as_file(shipped / name) as path:
            shutil.copy(path, tmp_path / name)
    return tmp_path


def test_population_adds_up_to_published_totals_and_shares_to_100():
    population = population_by_age()
    # appendix 1 of the source study: totals 2006 and 2013
    totals = population.groupby("year")["inhabitants"].sum()
    assert totals[2006] == 135163
    assert totals[2013] == 144162
    assert population.groupby("year")["share_pct"].sum().round(9).eq(100).all()
    assert population["age_group"].iloc[:3].tolist() == ["0-4", "5-9", "10-14"]
    assert population.query("year == 2012 and age_group == '65-69'")["inhabitants"].item() == 6714


def test_population_that_does_not_add_up_names_file_year_and_both_numbers(own_figures):
    path = own_figures / "population_by_age.csv"
    table = pd.read_csv(path)
    table.loc[table["age_group"] == "85+", "2009"] += 1
    table.to_csv(path, index=False)
    with pytest.raises(MunicipalDataError, match=r"population_by_age.csv: age groups of 2009 add up to 142029.*142028"):
        population_by_age(own_figures)


def test_missing_column_is_named(own_figures):
    table = pd.read_csv(own_figures / "jobseekers.csv").drop(columns="published_share_pct")
    table.to_csv(own_figures / "jobseekers.csv", index=False)
    with pytest.raises(MunicipalDataError, match="jobseekers.csv: missing column.*published_share_pct"):
        jobseekers(own_figures)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(MunicipalDataError, match="jobseekers.csv: file not found"):
        jobseekers(tmp_path)


def test_jobseeker_shares_recomputed_match_published_within_a_hundredth():
    table = jobseekers().set_index("year")
    # 1654 / 78881 = 2.0968 %, printed as 2.09 in the source
    assert table.loc[2001, "share_pct"] == pytest.approx(2.09683, abs=1e-5)
    assert not table.loc[2001, "rounds_to_published"]
    assert table.drop(index=2001)["rounds_to_published"].all()
    assert table["within_tolerance"].all()
    assert table["difference_pp"].abs().max() < 0.01


def test_misprinted_share_is_flagged(own_figures):
    path = own_figures / "jobseekers.csv"
    table = pd.read_csv(path)
    # the 2006 labour force as printed in the source ("93.06") gives an absurd share
    table.loc[table["year"] == 2006, "labour_force_15_64"] = 93060 // 10
    table.to_csv(path, index=False)
    flagged = jobseekers(own_figures).set_index("year")
    assert not flagged.loc[2006, "within_tolerance"]
    assert flagged.loc[2006, "difference_pp"] == pytest.approx(100 * 3236 / 9306 - 3.48)


def test_more_jobseekers_than_labour_force_is_refused(own_figures):
    path = own_figures / "jobseekers.csv"
    table = pd.read_csv(path)
    table.loc[table["year"] == 2006, "labour_force_15_64"] = 93
    table.to_csv(path, index=False)
    with pytest.raises(MunicipalDataError, match="year 2006: 3236 jobseekers in a labour force of 93"):
        jobseekers(own_figures)


def test_low_income_rates_use_population_of_the_same_year():
    low = low_income_households()
    assert low["indicator"].iloc[0] == "households_below_low_income_threshold"
    row = low.query("indicator == 'children_in_households_below_105pct_social_minimum' and year == 2008").iloc[0]
    assert row["count"] == 1530
    assert row["per_1000_inhabitants"] == pytest.approx(1000 * 1530 / 140683)


def test_income_relative_to_the_country_and_unknown_reference():
    income = mean_household_income()
    row = income.query("area == 'Hoofddorp Floriande' and year == 2005").iloc[0]
    assert row["relative_to_reference"] == pytest.approx(35.9 / 29.4)
    relative_to_municipality = mean_household_income(reference="Haarlemmermeer")
    assert relative_to_municipality.query("area == 'Haarlemmermeer'")["relative_to_reference"].eq(1).all()
    with pytest.raises(MunicipalDataError, match="reference area 'Amsterdam' not found; areas: Nederland"):
        mean_household_income(reference="Amsterdam")


def test_the_shipped_example_municipality_is_read_from_its_yaml():
    from kantelmeter.municipal import load_municipality

    town = load_municipality()
    assert (town.name, town.cbs_code, town.areas, town.reference_area) == (
        "Haarlemmermeer",
        "GM0394",
        ("Haarlemmermeer", "Hoofddorp"),
        "Nederland",
    )
    assert town.logo.suffix == ".svg" and town.contact["email"].endswith("@example.nl")
    assert all(
        town.has(kind) for kind in ("population_by_age", "low_income_households", "mean_household_income", "jobseekers")
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (("name: Haarlemmermeer\n", ""), "field 'name' is missing"),
        (("cbs_code: GM0394", "cbs_code: '0394'"), "field 'cbs_code' is '0394'; allowed: GM and four digits"),
        (("logo: logo.svg", "logo: logo.gif"), "field 'logo' is 'logo.gif'; allowed: an .svg or .png file"),
        (("areas:", "aeras:"), "field 'aeras' is unknown; allowed: name, cbs_code"),
        (("  email: onderzoek@example.nl\n", ""), "field 'contact.email' is missing"),
    ],
)
def test_a_municipality_yaml_with_a_bad_field_names_the_file_field_and_value(tmp_path, change, message):
    from kantelmeter.municipal import load_municipality

    shipped = resources.files("kantelmeter.data") / "haarlemmermeer"
    for name in ("municipality.yaml", "logo.svg"):
        (tmp_path / name).write_bytes((shipped / name).read_bytes())
    config = tmp_path / "municipality.yaml"
    text = config.read_text(encoding="utf-8")
    assert change[0] in text
    config.write_text(text.replace(change[0], change[1]), encoding="utf-8")
    with pytest.raises(MunicipalDataError, match=message) as error:
        load_municipality(tmp_path)
    assert str(config) in str(error.value)


def test_a_folder_without_yaml_says_what_it_needs(tmp_path):
    from kantelmeter.municipal import load_municipality

    with pytest.raises(MunicipalDataError, match="municipality.yaml: file not found; a municipality folder needs"):
        load_municipality(tmp_path)
