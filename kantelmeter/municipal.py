"""Municipal context for a baseline (nulmeting): the municipality in figures.

A baseline report places its respondents in their municipality: how the
population is built up by age, how many households live on a low income,
how incomes compare with the country, how many people in the labour force
are looking for work. A municipality is a folder: ``municipality.yaml`` (name,
CBS code, contact, logo, the areas the report shows, the source line of its
figures; read by :func:`load_municipality`) beside CSV files of context
figures in the layout ``data/haarlemmermeer/README.md`` documents. Every CSV
file is optional: the report leaves out what a folder does not hold.
kantelmeter ships Haarlemmermeer as the example, with its figures as
published by the municipality (website, May 2013) and reproduced in appendix 1
of Van der Zwaan (2014).

Every loader returns a tidy DataFrame (one row per figure) and checks the
published arithmetic where the publication allows it: the age groups must add
up to the published totals, and the share of jobseekers is recomputed from
its counts and set beside the published share. A municipality with its own
figures passes a folder holding CSV files of the same shape as ``source``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd
import yaml

from kantelmeter.errors import KantelmeterError

__all__ = [
    "CONTEXT_FILES",
    "Municipality",
    "MunicipalDataError",
    "load_municipality",
    "jobseekers",
    "low_income_households",
    "mean_household_income",
    "population_by_age",
]

Source = Path | str | Traversable | None

#: Largest difference (percentage points) between a recomputed and a published
#: share that is still explained by rounding to two decimals plus the source's
#: habit of truncating; anything larger is a misprint to report.
SHARE_TOLERANCE_PP = 0.01


#: The context figures a municipality's folder may hold, each read by the loader of the same name.
CONTEXT_FILES = {
    "population_by_age": ("population_by_age.csv", "population_totals_published.csv"),
    "low_income_households": ("low_income_households.csv", "population_by_age.csv"),
    "mean_household_income": ("mean_household_income_thousand_eur.csv",),
    "jobseekers": ("jobseekers.csv",),
}


class MunicipalDataError(KantelmeterError, ValueError):
    """A municipal figures file that is missing, misshapen or inconsistent."""


@dataclass(frozen=True)
class Municipality:
    """A municipality as its report presents it, read from its ``municipality.yaml``.

    Attributes
    ----------
    name : str
        As the municipality writes it (``Haarlemmermeer``).
    cbs_code : str
        The CBS municipality code, ``GM`` and four digits (``GM0394``).
    contact : dict of str to str
        Who answers questions about the report: ``organisation`` and
        ``email`` required, ``phone`` and ``website`` optional.
    logo : pathlib.Path or None
        An SVG or PNG file in the folder, shown on the title page.
    areas : tuple of str
        The areas the context tables show, in order (the municipality itself
        and the parts a reader looks for); the first is the municipality.
    reference_area : str
        The area incomes are compared with (``Nederland``).
    source : dict of str to str
        The source line of the context figures, per language.
    folder : pathlib.Path or Traversable
        Where the context CSV files are.
    """

    name: str
    cbs_code: str
    contact: dict
    logo: Path | None
    areas: tuple[str, ...]
    reference_area: str
    source: dict
    folder: Path | Traversable

    def has(self, figures: str) -> bool:
        """Whether the folder holds the files of one kind of context figures (a key of :data:`CONTEXT_FILES`).

        Examples
        --------
        >>> load_municipality().has("jobseekers")
        True
        """
        return all((self.folder / name).is_file() for name in CONTEXT_FILES[figures])


_REQUIRED = {"name": str, "cbs_code": str, "contact": dict, "areas": list, "source": dict}
_OPTIONAL = {"logo": str, "reference_area": str}


def load_municipality(folder: Source = None) -> Municipality:
    """Read a municipality's folder: its ``municipality.yaml`` and where its context figures are.

    Parameters
    ----------
    folder : path, optional
        The folder holding ``municipality.yaml``; the shipped example
        (Haarlemmermeer) when omitted.

    Returns
    -------
    Municipality

    Raises
    ------
    MunicipalDataError
        A missing file, or a field that is missing, unknown or of the wrong
        kind, named with its value and what is allowed.

    Examples
    --------
    >>> town = load_municipality()
    >>> town.name, town.cbs_code, town.areas[0]
    ('Haarlemmermeer', 'GM0394', 'Haarlemmermeer')
    """
    base = _folder(folder)
    path = base / "municipality.yaml"
    if not path.is_file():
        raise MunicipalDataError(
            f"{path}: file not found; a municipality folder needs municipality.yaml "
            f"(name, cbs_code, contact, areas, source)"
        )
    with path.open("r", encoding="utf-8") as handle:
        config = yaml.safe_load(handle) or {}
    if not isinstance(config, dict):
        raise MunicipalDataError(f"{path}: holds {type(config).__name__}; allowed: a mapping of fields")
    fields = {**_REQUIRED, **_OPTIONAL}
    for key in config:
        if key not in fields:
            raise MunicipalDataError(f"{path}: field {key!r} is unknown; allowed: {', '.join(fields)}")
    for key, kind in fields.items():
        if key not in config:
            if key in _REQUIRED:
                raise MunicipalDataError(f"{path}: field {key!r} is missing")
            continue
        if not isinstance(config[key], kind) or not config[key]:
            raise MunicipalDataError(f"{path}: field {key!r} is {config[key]!r}; allowed: a non-empty {kind.__name__}")
    if not re.fullmatch(r"GM\d{4}", config["cbs_code"]):
        raise MunicipalDataError(
            f"{path}: field 'cbs_code' is {config['cbs_code']!r}; allowed: GM and four "
            f"digits, as CBS codes municipalities (GM0394)"
        )
    for key in ("organisation", "email"):
        if not isinstance(config["contact"].get(key), str):
            raise MunicipalDataError(f"{path}: field 'contact.{key}' is missing; allowed: a text")
    for lang in ("nl", "en"):
        if not isinstance(config["source"].get(lang), str):
            raise MunicipalDataError(f"{path}: field 'source.{lang}' is missing; allowed: the source line in {lang}")
    logo = None
    if "logo" in config:
        logo = base / config["logo"]
        if Path(config["logo"]).suffix.lower() not in (".svg", ".png") or not logo.is_file():
            raise MunicipalDataError(
                f"{path}: field 'logo' is {config['logo']!r}; allowed: an .svg or .png file in the folder"
            )
    return Municipality(
        name=config["name"],
        cbs_code=config["cbs_code"],
        contact=dict(config["contact"]),
        logo=logo,
        areas=tuple(map(str, config["areas"])),
        reference_area=config.get("reference_area", "Nederland"),
        source=dict(config["source"]),
        folder=base,
    )


def _folder(source: Source) -> Traversable | Path:
    if source is None:
        return resources.files("kantelmeter.data") / "haarlemmermeer"
    return Path(source) if isinstance(source, str) else source


def _read(source: Source, name: str, required: list[str]) -> tuple[pd.DataFrame, str]:
    """Read one CSV of the folder and check that it has the required columns."""
    path = _folder(source) / name
    if not path.is_file():
        raise MunicipalDataError(f"{path}: file not found; a municipal figures folder needs {name}")
    with path.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle)
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise MunicipalDataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, table.columns))}"
        )
    return table, str(path)


def _read_by_year(source: Source, name: str, key: str, value: str) -> tuple[pd.DataFrame, str]:
    """Read a table with a key column and one column per year, in long form and in file order."""
    wide, path = _read(source, name, [key])
    years = [column for column in wide.columns if column != key]
    bad = [column for column in years if not str(column).isdigit()]
    if bad:
        raise MunicipalDataError(f"{path}: column(s) {', '.join(bad)} are not years; expected {key} and years")
    long = wide.melt(id_vars=key, value_vars=years, var_name="year", value_name=value)
    long["year"] = long["year"].astype(int)
    long[key] = long[key].astype(str)
    order = {label: position for position, label in enumerate(wide[key].astype(str))}
    long = long.sort_values([key, "year"], key=lambda c: c.map(order) if c.name == key else c, ignore_index=True)
    return long, path


def population_by_age(source: Source = None) -> pd.DataFrame:
    """Inhabitants per five-year age group on 1 January of each year.

    The age groups are checked against the published totals
    (``population_totals_published.csv``): a year whose groups do not add up
    to its total raises an error naming the year and both numbers.

    Parameters
    ----------
    source : path, optional
        Folder with ``population_by_age.csv`` (column ``age_group``, then one
        column per year) and ``population_totals_published.csv`` (``year``,
        ``total``); the shipped Haarlemmermeer figures when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per year and age group: ``year``, ``age_group``, ``age_from``
        (lower bound in years, for ordering), ``inhabitants`` and ``share_pct``
        (the group's percentage of that year's total).

    Raises
    ------
    MunicipalDataError
        A missing file or column, or groups that do not add up to the total.

    Examples
    --------
    >>> population = population_by_age()
    >>> population.groupby("year")["inhabitants"].sum().loc[[2010, 2013]].tolist()
    [142825, 144162]
    >>> row = population.query("year == 2013 and age_group == '85+'").iloc[0]
    >>> int(row.inhabitants), round(float(row.share_pct), 2)
    (1911, 1.33)
    """
    long, path = _read_by_year(source, "population_by_age.csv", "age_group", "inhabitants")
    totals, totals_path = _read(source, "population_totals_published.csv", ["year", "total"])
    # "85+" and "0-4" both start with their lower bound
    long["age_from"] = long["age_group"].str.extract(r"^(\d+)", expand=False).astype(int)
    summed = long.groupby("year")["inhabitants"].sum()
    published = totals.set_index("year")["total"]
    for year, total in summed.items():
        if year not in published.index:
            raise MunicipalDataError(f"{totals_path}: no published total for year {year}")
        if total != published[year]:
            raise MunicipalDataError(
                f"{path}: age groups of {year} add up to {total}, but {totals_path} publishes {published[year]}"
            )
    long["share_pct"] = 100 * long["inhabitants"] / long["year"].map(summed)
    return long.sort_values(["year", "age_from"], ignore_index=True)[
        ["year", "age_group", "age_from", "inhabitants", "share_pct"]
    ]


def low_income_households(source: Source = None) -> pd.DataFrame:
    """Households on a low income, and children in them, per year.

    The publication gives counts only. To compare years the counts are set
    against the population of 1 January of the same year (a crude rate per
    1,000 inhabitants, because the number of households is not published).

    Parameters
    ----------
    source : path, optional
        Folder with ``low_income_households.csv`` (``indicator``, then one
        column per year) and the population files of
        :func:`population_by_age`; the shipped figures when omitted.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``year``, ``count`` and ``per_1000_inhabitants``.

    Examples
    --------
    >>> low = low_income_households()
    >>> row = low.query("indicator == 'households_below_low_income_threshold' and year == 2010").iloc[0]
    >>> int(row["count"]), round(float(row.per_1000_inhabitants), 1)
    (2910, 20.4)
    """
    long, _ = _read_by_year(source, "low_income_households.csv", "indicator", "count")
    inhabitants = population_by_age(source).groupby("year")["inhabitants"].sum()
    long["per_1000_inhabitants"] = 1000 * long["count"] / long["year"].map(inhabitants)
    return long


def mean_household_income(source: Source = None, reference: str = "Nederland") -> pd.DataFrame:
    """Mean household income (x 1,000 euro) per area and year, and its ratio to a reference area.

    Parameters
    ----------
    source : path, optional
        Folder with ``mean_household_income_thousand_eur.csv`` (``area``, then
        one column per year); the shipped figures when omitted.
    reference : str, default "Nederland"
        The area the others are compared with (``relative_to_reference`` is
        area / reference in the same year).

    Returns
    -------
    pandas.DataFrame
        ``area``, ``year``, ``thousand_eur`` and ``relative_to_reference``.

    Examples
    --------
    >>> income = mean_household_income()
    >>> row = income.query("area == 'Haarlemmermeer' and year == 2010").iloc[0]
    >>> float(row.thousand_eur), round(float(row.relative_to_reference), 3)
    (39.4, 1.187)
    """
    long, path = _read_by_year(source, "mean_household_income_thousand_eur.csv", "area", "thousand_eur")
    areas = list(dict.fromkeys(long["area"]))
    if reference not in areas:
        raise MunicipalDataError(f"{path}: reference area {reference!r} not found; areas: {', '.join(areas)}")
    reference_income = long[long["area"] == reference].set_index("year")["thousand_eur"]
    long["relative_to_reference"] = long["thousand_eur"] / long["year"].map(reference_income)
    return long


def jobseekers(source: Source = None, tolerance_pp: float = SHARE_TOLERANCE_PP) -> pd.DataFrame:
    """Non-working jobseekers as a share of the labour force, recomputed beside the published share.

    The share is recomputed as 100 x jobseekers / labour force (15-64 years)
    and compared with the published percentage. Two flags tell the reader how
    far to trust the publication: ``rounds_to_published`` (the recomputed
    share rounded half-up to two decimals equals the printed one) and
    ``within_tolerance`` (the difference is below ``tolerance_pp``). In the
    shipped figures every year is within 0.01 point; 2001 is printed as 2.09
    where 1654 / 78881 = 2.097 % rounds to 2.10. The 2006 labour force is
    printed "93.06" in the source and stored as 93,060, the value consistent
    with the published 3.48 %.

    Parameters
    ----------
    source : path, optional
        Folder with ``jobseekers.csv`` (``year``, ``labour_force_15_64``,
        ``non_working_jobseekers``, ``published_share_pct``); the shipped
        figures when omitted.
    tolerance_pp : float, default 0.01
        Largest acceptable difference in percentage points.

    Returns
    -------
    pandas.DataFrame
        The input columns plus ``share_pct`` (recomputed), ``difference_pp``
        (recomputed minus published), ``rounds_to_published`` and
        ``within_tolerance``.

    Examples
    --------
    >>> table = jobseekers()
    >>> bool(table["within_tolerance"].all())
    True
    >>> table.loc[~table["rounds_to_published"], ["year", "share_pct", "published_share_pct"]].round(3)
       year  share_pct  published_share_pct
    0  2001      2.097                 2.09
    """
    required = ["year", "labour_force_15_64", "non_working_jobseekers", "published_share_pct"]
    table, path = _read(source, "jobseekers.csv", required)
    implausible = table[
        (table["labour_force_15_64"] <= 0) | (table["non_working_jobseekers"] > table["labour_force_15_64"])
    ]
    if not implausible.empty:
        year, force, seekers = implausible[["year", "labour_force_15_64", "non_working_jobseekers"]].iloc[0].map(int)
        raise MunicipalDataError(
            f"{path}: year {year}: {seekers} jobseekers in a labour force of {force}; "
            "the labour force must be positive and at least the number of jobseekers"
        )
    table["share_pct"] = 100 * table["non_working_jobseekers"] / table["labour_force_15_64"]
    table["difference_pp"] = table["share_pct"] - table["published_share_pct"]
    # half-up, as printed tables round; numpy's round() rounds half to even
    rounded = (table["share_pct"] * 100 + 0.5).apply(int) / 100
    table["rounds_to_published"] = (rounded - table["published_share_pct"]).abs() < 1e-9
    table["within_tolerance"] = table["difference_pp"].abs() < tolerance_pp
    return table
