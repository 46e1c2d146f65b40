"""The publishable nulmeting report: no code, no small counts, method stated, renders in a browser."""

import json
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from kantelmeter import disclosure
from kantelmeter.cli import main
from kantelmeter.demo import fill_store
from kantelmeter.report import ReportError, audit, execute, parse_table, publish, report
from kantelmeter.store import Store

MIN_CELL = 10


@pytest.fixture(scope="module")
def store_url(tmp_path_factory):
    """A small synthetic study (40 pilot, 60 regular citizens) and the professional panel."""
    folder = tmp_path_factory.mktemp("report")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    fill_store(store, seed=7, n_pilot=40, n_regular=60)
    store.close()
    return store.url


@pytest.fixture(scope="module")
def page(store_url, tmp_path_factory):
    """The report as the CLI writes it, in English."""
    out = tmp_path_factory.mktemp("out") / "report.html"
    result = CliRunner().invoke(main, ["report", "nulmeting", "--db", store_url, "--out", str(out),
                                       "--min-cell", str(MIN_CELL), "--lang", "en"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def soup(page):
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def test_report_has_no_code(soup):
    assert not soup.select(".jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt")
    text = soup.get_text()
    for code in ("import ", "say.show(", "publish(", "def "):
        assert code not in text


def test_report_is_self_contained(soup):
    assert not [tag for tag in soup.find_all(["script", "img", "link"]) if tag.get("src") or tag.get("href")
                if not (tag.get("src") or "").startswith("data:image/png;base64,")]
    images = soup.find_all("img")
    assert len(images) >= 3  # population pyramid, wheel radar, CEO agreement
    assert all(img["src"].startswith("data:image/png;base64,") for img in images)


def test_every_table_went_through_publish_and_shows_no_count_below_the_minimum(soup):
    tables = soup.find_all("table")
    assert len(tables) >= 8
    counted = 0
    for tag in tables:
        classes = tag.get("class", [])
        assert "km-table" in classes, tag.prettify()[:300]
        if "km-counts" in classes:
            table = parse_table(tag)
            assert disclosure.check_table(table, MIN_CELL, margins_name="Total").empty
            counted += table.size
        elif "km-estimates" in classes:
            table = parse_table(tag, index=False)
            for column in json.loads(tag["data-count-columns"]):
                shown = pd.to_numeric(table[column].replace(disclosure.MARKER, np.nan))
                assert not ((shown > 0) & (shown < MIN_CELL)).any(), (column, table)
                counted += shown.notna().sum()
        else:
            assert "km-public" in classes
    assert counted > 20


def test_small_groups_are_withheld_not_dropped(soup):
    # the synthetic team has ten professionals, of whom fewer than ten answer the first wave
    professionals = next(tag for tag in soup.find_all("table", class_="km-estimates")
                         if "first wave" in tag.caption.get_text())
    table = parse_table(professionals, index=False)
    assert (table["n"] == disclosure.MARKER).all()
    assert (table["mean"] == disclosure.MARKER).all()


def test_the_number_of_a_small_group_is_not_printed_in_the_text_either(soup):
    # the professionals' table withholds their count; the sentence under it must not give it away
    text = soup.get_text(" ")
    assert f"Fewer than {MIN_CELL} professionals took part" in text
    assert not re.search(r"\b[1-9] professionals", text)


@pytest.fixture(scope="module")
def dutch(store_url, tmp_path_factory):
    out = tmp_path_factory.mktemp("nl") / "nulmeting.html"
    result = CliRunner().invoke(main, ["report", "--db", store_url, "--out", str(out), "--lang", "nl"])
    assert result.exit_code == 0, result.output
    return BeautifulSoup(out.read_text(encoding="utf-8"), "html.parser")


def test_the_dutch_report_speaks_dutch_in_headings_and_occasions(dutch):
    headings = {th.get_text(strip=True) for table in dutch.find_all("table") for th in table.select("thead th")}
    assert not headings & {"mean", "scale", "domain", "theme", "item", "occasion", "instrument", "area", "note",
                           "95% CI low", "alpha 95% CI low", "r_item_rest", "alpha_if_dropped"}, headings
    assert {"gemiddelde", "schaal", "domein", "meetmoment"} <= headings
    text = dutch.get_text(" ")
    for raw in ("follow_up", "wave_1", "German adults", "households_below"):
        assert raw not in text, raw
    assert "Vragenlijst voor burgers · vervolgmeting" in text


def test_text_columns_are_left_aligned_and_numbers_right():
    table = pd.DataFrame({"item": ["Het duurde niet lang.", "Ik voelde mij serieus genomen."], "n": [40, 8],
                          "%": [62.5, 70.0]})
    tag = BeautifulSoup(publish(table, 10, kind="estimates", count_columns=["n"]).to_html(), "html.parser")
    for row in tag.find_all("tr"):
        assert [cell.get("class") for cell in row.find_all(["th", "td"])] == [["km-text"], None, None]


def test_report_states_its_method(soup):
    text = soup.get_text(" ")
    assert disclosure.method_statement("en", min_cell=MIN_CELL, min_denominator=MIN_CELL) in text
    assert "Synthetic data" in text


def test_audit_of_the_written_report_is_clean(page):
    assert audit(page.read_text(encoding="utf-8"), MIN_CELL, lang="en").empty


def test_audit_finds_a_recoverable_count():
    # one withheld cell in a row with its total: 17 - 12 = 5 can be worked out
    leaky = pd.DataFrame({"yes": ["x", 20, 25], "no": [12, 40, 52], "Totaal": [17, 60, 77]},
                         index=["a", "b", "Totaal"])
    html = (leaky.to_html(classes=["km-table", "km-counts"])
            + disclosure.method_statement("nl", min_cell=10, min_denominator=10))
    problems = audit(html, 10)
    assert problems["problem"].tolist() == ["withheld, but follows from the other cells and totals: exactly 5"]
    assert audit(publish(leaky.replace("x", 5), 10).to_html()
                 + disclosure.method_statement("nl", min_cell=10, min_denominator=10), 10).empty


def test_publish_estimates_withholds_whole_rows_and_keeps_zero():
    table = pd.DataFrame({"group": ["a", "b", "c"], "mean": [1.234, 2.5, np.nan], "n": [9, 10, 0]})
    shown = publish(table, 10, kind="estimates", count_columns=["n"], decimals=2).display
    assert shown["mean"].tolist() == ["x", "2.50", "x"]
    assert shown["n"].tolist() == ["x", "10", "0"]
    with pytest.raises(ReportError, match=r"count column\(s\) \['size'\] not in the table"):
        publish(table, 10, kind="estimates", count_columns=["size"])
    with pytest.raises(ReportError, match="kind 'sums' is not allowed"):
        publish(table, 10, kind="sums")


def _notebook(tmp_path, source):
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell("db_url = ''\nmin_cell = 10\nlang = 'nl'\noutput_dir = '.'")
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [parameters, nbformat.v4.new_code_cell(source)]
    path = tmp_path / "leaky.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_report_with_a_raw_table_is_refused_and_not_written(tmp_path, store_url):
    source = ("import pandas as pd\nfrom kantelmeter import disclosure\nfrom IPython.display import Markdown\n"
              "display(pd.DataFrame({'n': [3]}, index=['pilot']))\n"
              "display(Markdown(disclosure.method_statement('nl', min_cell=min_cell, min_denominator=min_cell)))")
    out = tmp_path / "report.html"
    with pytest.raises(ReportError, match="table did not go through kantelmeter.report.publish"):
        report(store_url, out, notebook=_notebook(tmp_path, source), progress=False)
    assert not out.exists()


def test_unknown_parameter_is_refused(tmp_path):
    with pytest.raises(ReportError, match=r"parameter\(s\) min_cells not declared; allowed: db_url, lang"):
        execute(_notebook(tmp_path, "1"), tmp_path / "out.ipynb", {"min_cells": 5}, progress=False)


def test_cli_report_names_a_notebook_that_does_not_exist(tmp_path):
    result = CliRunner().invoke(main, ["report", "nulmeting2", "--db", "sqlite://", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0
    assert re.search(r"notebook 'nulmeting2' is not shipped; allowed: .*nulmeting", result.output)


@pytest.mark.browser
def test_report_renders_in_chromium_without_errors(page):
    from playwright.sync_api import sync_playwright
    from webserver import CHROMIUM_ARGS, chromium

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        tab = browser.new_page()
        errors = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.on("requestfailed", lambda request: errors.append(f"request failed: {request.url}"))
        tab.goto(page.as_uri(), wait_until="load")
        widths = tab.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        browser.close()
    assert len(widths) >= 3
    assert all(width > 0 for width in widths), widths
    assert errors == []
