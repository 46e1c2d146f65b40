"""The publishable nulmeting: safe tables, the municipality as configuration, readable Dutch, HTML + PDF + CSV."""

import json
import re
import shutil
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from kantelmeter import disclosure, formatting
from kantelmeter.cli import main
from kantelmeter.demo import ROUND, fill_store
from kantelmeter.notebooks import ANALYST_NOTEBOOKS
from kantelmeter.report import ReportError, audit, check_store, execute, parse_table, publish, report
from kantelmeter.store import Store

MIN_CELL = 10


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    """A small synthetic study (40 pilot, 60 regular citizens), the professional panel, and a survey round.

    The round is the demo's (kantelmeter.demo.survey_round): 800 clients, 400 sampled, letters, web and paper
    answers, dispositions, reminders and raked weights, all in this store.
    """
    from kantelmeter.demo import survey_round

    folder = tmp_path_factory.mktemp("report")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    fill_store(store, seed=7, n_pilot=40, n_regular=60)
    survey_round(store, folder / "round", seed=7, clients=800, n=400)
    store.close()
    # the round's register was pseudonymised, so the store opens only with its key; the commands below find it here
    environment = pytest.MonkeyPatch()
    environment.setenv("KANTELMETER_KEY_FILE", str(folder / "k.key"))
    yield store.url
    environment.undo()


@pytest.fixture(scope="module")
def page(store_url, tmp_path_factory):
    """The report as the CLI writes it, in English, without PDF."""
    out = tmp_path_factory.mktemp("out") / "report.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "nulmeting",
            "--db",
            store_url,
            "--out",
            str(out),
            "--min-cell",
            str(MIN_CELL),
            "--lang",
            "en",
            "--no-pdf",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def soup(page):
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="module")
def dutch_page(store_url, tmp_path_factory):
    """The Dutch report with its PDF (Chromium) and its tables as CSV."""
    from webserver import chromium

    chromium()
    out = tmp_path_factory.mktemp("nl") / "nulmeting.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "--db",
            store_url,
            "--out",
            str(out),
            "--lang",
            "nl",
            "--round",
            ROUND,
            "--key-file",
            str(Path(store_url.removeprefix("sqlite:///")).with_name("k.key")),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def dutch(dutch_page):
    return BeautifulSoup(dutch_page.read_text(encoding="utf-8"), "html.parser")


def _numbers(cells: pd.Series, lang: str) -> pd.Series:
    return cells.map(lambda cell: formatting.parse(cell, lang))


def test_report_has_no_code(soup):
    assert not soup.select(".jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
    text = soup.get_text()
    for code in ("import ", "say.show(", "publish(", "def ", "pub.table"):
        assert code not in text


def test_report_is_self_contained_and_every_image_says_what_it_shows(soup):
    images = soup.find_all("img")
    assert len(images) >= 3  # logo, population by age, participation profile
    assert all(img["src"].startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for img in images)
    assert not [tag for tag in soup.find_all(["script", "link"]) if tag.get("src") or tag.get("href")]
    assert "No description has been provided" not in str(soup)
    alts = [img["alt"] for img in images]
    assert all(len(alt) > 20 for alt in alts), alts
    population = next(alt for alt in alts if "age group" in alt)
    assert "side by side" in population and re.search(r"rose from \d+\.\d% to \d+\.\d%", population)


def test_every_table_went_through_publish_and_shows_no_count_below_the_minimum(soup):
    tables = soup.find_all("table")
    assert len(tables) >= 8
    counted = 0
    for tag in tables:
        classes = tag.get("class", [])
        assert "km-table" in classes, tag.prettify()[:300]
        if "km-counts" in classes:
            table = parse_table(tag).map(
                lambda cell: cell if cell == disclosure.MARKER else formatting.parse(cell, "en")
            )
            assert disclosure.check_table(table, MIN_CELL, margins_name="Total").empty
            counted += table.size
        elif "km-estimates" in classes:
            table = parse_table(tag, index=False)
            for column in json.loads(tag["data-count-columns"]):
                shown = _numbers(table[column], "en")
                assert not ((shown > 0) & (shown < MIN_CELL)).any(), (column, table)
                counted += shown.notna().sum()
        else:
            assert "km-public" in classes
    assert counted > 20


def test_a_withheld_table_is_one_sentence_and_its_count_is_not_printed(soup):
    # the synthetic team has ten professionals, of whom fewer than ten answer the first wave
    assert not [tag for tag in soup.find_all("table") if "professionals" in tag.caption.get_text()]
    text = soup.get_text(" ")
    assert f"Fewer than {MIN_CELL} professionals took part: their scores are not published." in text
    assert not re.search(r"\b[1-9] professionals", text)


def test_baseline_measures_come_from_the_baseline_only(soup):
    text = soup.get_text(" ")
    # the CEO statements and the satisfaction scales are asked at follow-up: not in a nulmeting
    assert "agree" not in text and "Satisfaction" not in text
    captions = [tag.caption.get_text() for tag in soup.find_all("table")]
    assert any("at intake" in caption for caption in captions)
    assert not any("follow-up" in caption for caption in captions)
    # the power sentence counts the expected drop-out
    assert re.search(r"With the expected drop-out \(30%\) about \d+ and \d+ participants remain", text)


def test_tables_and_figures_are_numbered_in_order_and_checking_tables_are_in_the_appendix(soup):
    captions = [tag.caption.get_text() for tag in soup.find_all("table")]
    assert [int(re.match(r"Table (\d+)\. ", caption)[1]) for caption in captions] == list(range(1, len(captions) + 1))
    figures = [tag.get_text() for tag in soup.find_all("figcaption")]
    assert [int(re.match(r"Figure (\d+)\. ", caption)[1]) for caption in figures] == list(range(1, len(figures) + 1))
    headings = [h.get_text(strip=True) for h in soup.find_all("h2")]
    recomputed = next(k for k, caption in enumerate(captions) if "recomputed" in caption)
    appendix = headings.index("Appendix A. Check of the context figures")
    assert appendix > headings.index("Note on method")
    assert all("recomputed" not in caption for caption in captions[:recomputed])
    assert any("item analysis" in caption for caption in captions[recomputed:])


def test_title_page_and_summary_come_first(soup):
    title = soup.find("header", class_="km-title")
    facts = title.get_text(" ")
    assert "Municipality of Haarlemmermeer" in facts and "GM0394" in facts
    assert re.search(r"Fieldwork \w+ \d+ \d{4} to \w+ \d+ \d{4}|Fieldwork \d+ \w+ \d{4} to \d+ \w+ \d{4}", facts)
    headings = [h.get_text(strip=True) for h in soup.find_all("h2")]
    assert headings[0] == "Summary"
    summary = soup.find("h2", string="Summary").find_next("ul").get_text(" ")
    assert re.search(
        r"At intake, 100 people completed the questionnaire: 40 in the pilot group, 60 in the "
        r"regular group",
        summary,
    )
    assert re.search(r"Well-being at the start averaged \d\.\d on a scale from 0 to 10", summary)


def test_audit_of_the_written_report_is_clean(page):
    assert audit(page.read_text(encoding="utf-8"), MIN_CELL, lang="en").empty


def test_the_dutch_report_speaks_dutch_with_dutch_numbers(dutch):
    headings = {th.get_text(strip=True) for table in dutch.find_all("table") for th in table.select("thead th")}
    assert not headings & {"mean", "scale", "domain", "item", "occasion", "area", "note", "smd_before", "ci_low"}
    assert {"gebied", "schaal", "domein"} <= headings
    text = dutch.get_text(" ")
    for raw in ("follow_up", "wave_1", "German adults", "households_below", "NaN", "True", "False"):
        assert raw not in text, raw
    cells = [td.get_text(strip=True) for td in dutch.find_all("td")]
    assert not [cell for cell in cells if re.fullmatch(r"-0(,0+)?", cell)], "a negative zero"
    assert "39,4" in cells and "2.910" in cells  # income x 1,000 euro; low-income households
    assert not [cell for cell in cells if re.fullmatch(r"\d+\.\d{1,2}", cell)], "a decimal point in a Dutch table"
    assert "Tabel 1. Netto steekproef en respons per stratum" in text and "Figuur 1." in text
    assert re.search(r"Tabel \d+\. Ingevulde vragenlijsten bij de intake", text)


def test_the_fieldwork_section_comes_from_the_round_in_the_store(dutch, store_url):
    from kantelmeter.survey import Sample, kish_deff, response

    store = Store(store_url, key_file=Path(store_url.removeprefix("sqlite:///")).with_name("k.key"))
    account = response(Sample.from_store(store, ROUND), store)
    weights = store.round_weights(ROUND)["weight"]
    store.close()
    text = dutch.get_text(" ")
    assert "Veldwerk en respons" in text
    assert "uit de 800 cliënten in het register 400 cliënten getrokken" in text
    assert re.search(
        r"Het veldwerk liep van \d+ (september|oktober) 2026 tot en met \d+ (september|oktober) 2026", text
    )
    tables = {tag.caption.get_text(): tag for tag in dutch.find_all("table")}
    rates = parse_table(next(t for c, t in tables.items() if "Responspercentages" in c), index=False)
    total = account.table.set_index("stratum").loc["total"]
    shown = rates.set_index("stratum").loc["totaal"]
    assert shown["netto steekproef"] == formatting.number(total["eligible"])
    assert shown["respons RR1 (%)"] == formatting.number(100 * total["rr1"], 1, "nl")
    counts = next(t for c, t in tables.items() if "Netto steekproef en respons per stratum" in c)
    assert disclosure.check_table(
        parse_table(counts).map(lambda cell: cell if cell == disclosure.MARKER else formatting.parse(cell, "nl")),
        MIN_CELL,
    ).empty
    by_auxiliary = parse_table(next(t for c, t in tables.items() if "Respons per kenmerk" in c), index=False)
    expected = account.by_auxiliary.set_index(["auxiliary", "category"])
    old = by_auxiliary[by_auxiliary["kenmerk"] == "leeftijdsgroep"].set_index("groep")
    for category, row in old.iterrows():
        if row["respons (%)"] != disclosure.MARKER:
            assert row["respons (%)"] == formatting.number(100 * expected.loc[("age_group", category), "rate"], 1)
    assert (old["respons (%)"] != disclosure.MARKER).sum() >= 2
    r = account.r_indicator.iloc[0]
    assert f"(R-indicator, 1 = volledig representatief) is {formatting.number(r.r, 2)}" in text
    assert f"het ontwerpeffect van de weging (Kish) is {formatting.number(kish_deff(weights), 2)}" in text
    assert (
        f"De gewichten lopen van {formatting.number(weights.min(), 2)} tot {formatting.number(weights.max(), 2)}"
        in text
    )


def test_the_weighted_ceo_indicators_have_margins_of_error(dutch, store_url):
    from kantelmeter.ceo import round_indicators

    store = Store(store_url, key_file=Path(store_url.removeprefix("sqlite:///")).with_name("k.key"))
    expected = round_indicators(store, ROUND).set_index("item")
    citizen = store.instrument("citizen")
    store.close()
    assert expected["weighted"].all()
    table = next(tag for tag in dutch.find_all("table") if "% (helemaal) mee eens" in tag.caption.get_text())
    shown = parse_table(table, index=False).set_index("stelling")
    quick = shown.loc[citizen.item("ceo_access_quick").text["nl"]]
    row = expected.loc["ceo_access_quick"]
    assert quick["% (helemaal) mee eens"] == formatting.number(row["pct_agree"], 1)
    assert quick["marge (procentpunt)"] == formatting.number((row["ci_high"] - row["ci_low"]) / 2, 1)
    assert quick["n"] == formatting.number(row["n_valid"])
    # only clients with contact were asked about access: fewer valid answers than for the quality statements
    assert row["n_valid"] < expected.loc["ceo_quality_good", "n_valid"]
    assert quick["thema"] == "toegang"


def test_the_published_tables_open_in_dutch_excel(dutch_page):
    folder = dutch_page.with_name("nulmeting_tables")
    index = (folder / "index.csv").read_bytes()
    assert index.startswith(b"\xef\xbb\xbf")
    listed = pd.read_csv(folder / "index.csv", sep=";", encoding="utf-8-sig")
    assert list(listed.columns) == ["nummer", "titel", "bestand", "bron"]
    assert listed["nummer"].tolist() == list(range(1, len(listed) + 1))
    assert all((folder / name).is_file() for name in listed["bestand"])
    income = next(name for name, title in zip(listed["bestand"], listed["titel"]) if "huishoudinkomen" in title)
    text = (folder / income).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("gebied;2005;2006") and ";39,4;" in text


@pytest.mark.browser
def test_the_dutch_report_has_a_pdf(dutch_page):
    pdf = dutch_page.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000


@pytest.mark.browser
def test_the_report_passes_wcag_21_aa_in_chromium(dutch_page):
    from axe import axe_violations
    from playwright.sync_api import sync_playwright
    from webserver import CHROMIUM_ARGS, chromium

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page()
        errors = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
        tab.goto(dutch_page.as_uri(), wait_until="load")
        widths = tab.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        violations = axe_violations(tab)
        browser.close()
    assert violations == []
    assert len(widths) >= 3 and all(width > 0 for width in widths), widths
    assert errors == []


@pytest.fixture(scope="module")
def other_town(tmp_path_factory):
    """Another municipality: its own yaml and areas, no jobseekers figures, no logo."""
    folder = tmp_path_factory.mktemp("voorbeeldstad")
    shipped = resources.files("kantelmeter.data") / "haarlemmermeer"
    for name in ("population_by_age.csv", "population_totals_published.csv", "low_income_households.csv"):
        (folder / name).write_bytes((shipped / name).read_bytes())
    income = pd.DataFrame(
        {"area": ["Nederland", "Voorbeeldstad", "Noord"], "2010": [33.2, 31.0, 29.5], "2011": [33.5, 31.4, 29.9]}
    )
    income.to_csv(folder / "mean_household_income_thousand_eur.csv", index=False)
    (folder / "municipality.yaml").write_text(
        "name: Voorbeeldstad\ncbs_code: GM9999\ncontact: {organisation: Team Onderzoek, email: onderzoek@example.org}\n"
        "areas: [Voorbeeldstad, Noord]\nsource: {nl: 'Bron: gemeente Voorbeeldstad.', en: 'Source: Voorbeeldstad.'}\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def other_report(store_url, other_town, tmp_path_factory):
    benchmark = tmp_path_factory.mktemp("bench") / "peers.csv"
    benchmark.write_text(
        "indicator;group;value;source\nwellbeing;alle gemeenten;6,4;Voorbeeldbron 2010\n", encoding="utf-8-sig"
    )
    out = tmp_path_factory.mktemp("other") / "nulmeting.html"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "nulmeting",
            "--db",
            store_url,
            "--out",
            str(out),
            "--municipality",
            str(other_town),
            "--previous-db",
            store_url,
            "--benchmark",
            str(benchmark),
            "--no-pdf",
        ],
    )
    assert result.exit_code == 0, result.output
    return BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")


def test_the_report_is_about_the_configured_municipality(other_report):
    text = other_report.get_text(" ")
    assert "Gemeente Voorbeeldstad" in text and "GM9999" in text and "Bron: gemeente Voorbeeldstad." in text
    for shipped in ("Haarlemmermeer", "Hoofddorp", "werkzoekenden"):
        assert shipped not in text, shipped
    income = next(tag for tag in other_report.find_all("table") if "huishoudinkomen" in tag.caption.get_text())
    assert parse_table(income, index=False)["gebied"].tolist() == ["Nederland", "Voorbeeldstad", "Noord"]


def test_trend_and_benchmark_stand_beside_this_round(other_report):
    table = next(
        tag
        for tag in other_report.find_all("table")
        if "vorige ronde" in tag.caption.get_text() or "eerdere ronde" in tag.caption.get_text()
    )
    rows = parse_table(table, index=False).set_index("uitkomst")
    wellbeing = rows.loc["welbevinden (0-10)"]
    # the previous round is the same store here, so both columns agree
    assert wellbeing["deze ronde: gemiddelde"] == wellbeing["vorige ronde: gemiddelde"]
    assert wellbeing["vergelijkingscijfer"] == "6,4" and wellbeing["bron vergelijkingscijfer"] == "Voorbeeldbron 2010"


def test_no_municipality_is_written_into_the_notebooks_or_the_report_code():
    # thesis_replication and cost_benefit reproduce the source study, which took place in one municipality
    for name in ("nulmeting", "professionals_over_time"):
        text = (resources.files("kantelmeter.notebooks") / f"{name}.ipynb").read_text(encoding="utf-8")
        for town in ("Haarlemmermeer", "Hoofddorp"):
            assert town not in text, (name, town)
    code = (resources.files("kantelmeter") / "report.py").read_text(encoding="utf-8")
    assert "Haarlemmermeer" not in code


def test_an_empty_or_too_small_store_is_refused_with_what_is_missing(tmp_path):
    empty = Store(f"sqlite:///{tmp_path / 'empty.db'}", key_file=tmp_path / "k.key")
    empty.close()
    result = CliRunner().invoke(main, ["report", "--db", empty.url, "--out", str(tmp_path / "r.html")])
    assert result.exit_code != 0
    assert "the store holds no complete responses; a nulmeting needs at least 10 complete responses" in result.output
    assert not (tmp_path / "r.html").exists()
    small = Store(f"sqlite:///{tmp_path / 'small.db'}", key_file=tmp_path / "k.key")
    fill_store(small, seed=3, n_pilot=4, n_regular=5)
    small.close()
    problems = check_store(small.url, 10)
    assert len(problems) == 1 and "too few complete responses at the 'intake' occasion" in problems[0]
    assert re.search(r"citizen 9\b", problems[0])
    assert check_store(small.url, 5) == []
    assert check_store(small.url, 5, survey_round="2026-ceo") == [
        "no survey round '2026-ceo' in this store; rounds: none (create one with `kantelmeter frame import`)"
    ]


def test_report_offers_only_what_works_and_notebook_runs_the_rest(tmp_path, store_url):
    offered = CliRunner().invoke(main, ["report", "--help"]).output
    assert "nulmeting" in offered and "pilot_vs_regular" not in offered
    result = CliRunner().invoke(main, ["report", "pilot_vs_regular", "--db", store_url, "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "'pilot_vs_regular' is not 'nulmeting'" in result.output
    listed = CliRunner().invoke(main, ["notebook", "--help"]).output
    assert all(name in listed.replace("\n", "").replace(" ", "") for name in ANALYST_NOTEBOOKS)
    # every analyst notebook declares the parameters the command passes it
    import ast

    import nbformat

    for name, needed in ANALYST_NOTEBOOKS.items():
        with resources.as_file(resources.files("kantelmeter.notebooks") / f"{name}.ipynb") as path:
            cell = next(
                c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", [])
            )
        declared = {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets}
        assert set(needed) <= declared, name
    out = tmp_path / "thesis.html"
    result = CliRunner().invoke(main, ["notebook", "thesis_replication", "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".ipynb").is_file()


def test_audit_finds_a_count_a_reader_can_pin_down():
    # withholding only the two 1s of a row with total 32 and a published 30: both are exactly 1
    leaky = pd.DataFrame(
        {
            "p": ["x", "20", "22", "43"],
            "q": ["x", "25", "28", "54"],
            "r": ["30", "30", "31", "91"],
            "Totaal": ["32", "75", "81", "188"],
        },
        index=["a", "b", "c", "Totaal"],
    )
    statement = disclosure.method_statement("nl", min_cell=10, min_denominator=10)
    problems = audit(leaky.to_html(classes=["km-table", "km-counts"]) + statement, 10)
    assert len(problems) == 2 and all("exactly 1" in problem for problem in problems["problem"])
    counts = pd.DataFrame([[1, 1, 30], [20, 25, 30], [22, 28, 31]], index=list("abc"), columns=list("pqr"))
    assert audit(publish(counts, 10).to_html() + statement, 10).empty


def test_audit_reads_dutch_numbers_and_wants_alternative_texts():
    statement = disclosure.method_statement("nl", min_cell=10, min_denominator=10)
    table = publish(
        pd.DataFrame({"groep": ["a", "b"], "gemiddelde": [6.25, 7.0], "n": [1234, 15]}),
        10,
        kind="estimates",
        count_columns=["n"],
    )
    assert table.display["n"].tolist() == ["1.234", "15"]
    assert audit(table.to_html() + statement, 10).empty
    bare = '<img src="data:image/png;base64,AAAA" alt="No description has been provided for this image">'
    assert audit(bare + statement, 10)["problem"].tolist() == ["image without an alternative text saying what it shows"]


def test_publish_estimates_withholds_whole_rows_keeps_zero_and_goes_wide():
    table = pd.DataFrame({"group": ["a", "b", "c"], "mean": [1.234, 2.5, np.nan], "n": [9, 10, 0]})
    shown = publish(table, 10, kind="estimates", count_columns=["n"], decimals=2, lang="en").display
    assert shown["mean"].tolist() == ["x", "2.50", "x"]
    assert shown["n"].tolist() == ["x", "10", "0"]
    long = pd.DataFrame(
        {
            "scale": ["a", "a", "b", "b"],
            "cohort": ["pilot", "regular"] * 2,
            "mean": [-0.001, 2.0, 3.0, 4.5],
            "n": [12, 40, 8, 40],
        }
    )
    wide = publish(long, 10, kind="estimates", count_columns=["n"], wide="cohort")
    assert list(wide.display.columns) == ["scale", "mean (pilot)", "n (pilot)", "mean (regular)", "n (regular)"]
    assert wide.display.iloc[0].tolist() == ["a", "0,0", "12", "2,0", "40"]  # no -0,0
    assert wide.display.iloc[1].tolist() == ["b", "x", "x", "4,5", "40"]
    assert wide.count_columns == ("n (pilot)", "n (regular)")
    with pytest.raises(ReportError, match=r"count column\(s\) \['size'\] not in the table"):
        publish(table, 10, kind="estimates", count_columns=["size"])
    with pytest.raises(ReportError, match="kind 'sums' is not allowed"):
        publish(table, 10, kind="sums")


def test_fieldwork_section_from_the_survey_round_tables():
    """The shape kantelmeter.survey.response documents, made by hand: one small stratum."""
    from kantelmeter.publish import Publication, fieldwork

    response = pd.DataFrame(
        {
            "stratum": ["65+", "18-64", "kleine wijk", "total"],
            "sampled": [120, 200, 8, 328],
            "ineligible": [4, 6, 0, 10],
            "complete": [60, 80, 5, 145],
            "partial": [10, 12, 1, 23],
            "refused": [30, 60, 1, 91],
            "no_contact": [16, 42, 1, 59],
            "rr1": [0.517, 0.412, 0.625, 0.450],
            "rr2": [0.603, 0.474, 0.75, 0.522],
        }
    )
    pub = Publication(10, "nl")
    # the R-indicator as kantelmeter.survey.response gives it: a one-row table
    r_indicator = pd.DataFrame({"r": [0.81], "se": [0.03], "ci_low": [0.75], "ci_high": [0.87], "n": [318]})
    sentences = fieldwork(pub, response, r_indicator=r_indicator, show=False)
    counts, rates = pub.tables
    assert counts.kind == "counts" and disclosure.check_table(counts.display, 10).empty
    # per stratum the eligible clients' outcomes, the net sample as total; the small stratum is withheld
    assert list(counts.display.columns) == [
        "volledig",
        "gedeeltelijk",
        "geen respons (geweigerd of niet bereikt)",
        "Totaal",
    ]
    assert counts.display.loc["kleine wijk"].tolist() == ["x", "x", "x", "x"]
    assert counts.display.loc["18-64"].tolist() == ["80", "12", "102", "194"]
    shown_rates = rates.display.set_index("stratum")
    assert shown_rates.loc["kleine wijk"].tolist() == ["x", "x", "x"]
    assert shown_rates.loc["18-64"].tolist() == ["194", "41,2", "47,4"]
    # a stratum whose counts a complement withheld loses its rates and net sample too: they would give them back
    assert counts.display.loc["65+"].tolist() == ["x", "x", "x", "x"]
    assert shown_rates.loc["65+"].tolist() == ["x", "x", "x"]
    # the ineligible are counted in total only (10: publishable), never per stratum
    assert sentences[0] == (
        "Van de 328 getrokken cliënten hoorden er 10 niet (meer) tot de doelgroep (verhuisd, "
        "overleden of geen cliënt meer); de netto steekproef is 318 cliënten."
    )
    assert sentences[1] == (
        "De representativiteit van de respons (R-indicator, 1 = volledig representatief) is 0,81 "
        "(95%-betrouwbaarheidsinterval 0,75 tot 0,87)."
    )
    few = fieldwork(
        Publication(10, "nl"), response.assign(ineligible=[4, 3, 0, 7], sampled=[120, 197, 8, 325]), show=False
    )
    assert not [sentence for sentence in few if "doelgroep" in sentence]
    with pytest.raises(ReportError, match="lacks column"):
        fieldwork(pub, response.drop(columns="rr2"), show=False)


def test_a_report_with_a_raw_table_is_refused_and_not_written(tmp_path, store_url):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("db_url = ''\nmin_cell = 10\nlang = 'nl'\noutput_dir = '.'")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            "import pandas as pd\nfrom kantelmeter import disclosure\nfrom IPython.display import Markdown\n"
            "display(pd.DataFrame({'n': [3]}, index=['pilot']))\n"
            "display(Markdown(disclosure.method_statement('nl', min_cell=min_cell, min_denominator=min_cell)))"
        ),
    ]
    path = tmp_path / "leaky.ipynb"
    nbformat.write(notebook, path)
    out = tmp_path / "report.html"
    with pytest.raises(ReportError, match="table did not go through kantelmeter.report.publish"):
        report(store_url, out, notebook=path, progress=False, pdf=False)
    assert not out.exists()
    with pytest.raises(ReportError, match=r"parameter\(s\) min_cells not declared; allowed: db_url, lang"):
        execute(path, tmp_path / "out.ipynb", {"min_cells": 5}, progress=False)


def test_a_municipality_folder_with_a_bad_field_is_named(tmp_path, store_url):
    shutil.copytree(resources.files("kantelmeter.data") / "haarlemmermeer", tmp_path / "town")
    config = tmp_path / "town" / "municipality.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("GM0394", "GM394"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["report", "--db", store_url, "--out", str(tmp_path / "r.html"), "--municipality", str(tmp_path / "town")]
    )
    assert result.exit_code != 0
    assert "municipality.yaml: field 'cbs_code' is 'GM394'; allowed: GM and four digits" in result.output


def test_the_page_puts_the_summary_after_the_title_and_leaves_out_notes_and_console_lines(tmp_path):
    import nbformat

    from kantelmeter.report import to_html

    def cell(text, tags=(), printed=""):
        made = nbformat.v4.new_code_cell("")
        made.metadata["tags"] = list(tags)
        made.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text})]
        if printed:
            made.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=printed))
        return made

    note = nbformat.v4.new_markdown_cell("A note for the maintainer")
    note.metadata["tags"] = ["analyst"]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        cell("Title page", ["title"]),
        note,
        cell("Body text", printed="solver console line"),
        cell("Summary text", ["summary"]),
    ]
    nbformat.write(notebook, tmp_path / "made.ipynb")
    page = to_html(tmp_path / "made.ipynb", tmp_path / "made.html", printed=False).read_text(encoding="utf-8")
    text = BeautifulSoup(page, "html.parser").get_text(" ")
    assert text.index("Title page") < text.index("Summary text") < text.index("Body text")
    assert "A note for the maintainer" not in text and "solver console line" not in text
