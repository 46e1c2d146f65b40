"""The commands around the web form (invite, user add, paper) and the paper form itself."""

import csv
import os
import re
import shutil
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from kantelmeter import load_instrument
from kantelmeter.cli import main
from kantelmeter.store import Store
from kantelmeter.web.paper import find_chromium, paper_form, write_paper
from kantelmeter.web.settings import load_survey_settings

HAARLEMMERMEER_SURVEY = Path(__file__).resolve().parents[1] / "data" / "haarlemmermeer" / "survey.yaml"


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'k.db'}"


def test_invite_writes_links_that_open_one_new_respondent_each(tmp_path, db):
    out = tmp_path / "links.csv"
    result = CliRunner().invoke(
        main,
        [
            "invite",
            "--instrument",
            "citizen",
            "--occasion",
            "follow_up",
            "--count",
            "3",
            "--cohort",
            "pilot",
            "--base-url",
            "https://form.example.nl",
            "--out",
            str(out),
            "--db",
            db,
            "--key-file",
            str(tmp_path / "k.key"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["instrument"], r["occasion"], r["cohort"]) for r in rows] == [("citizen", "follow_up", "pilot")] * 3
    tokens = [re.fullmatch(r"https://form\.example\.nl/r/([A-Za-z0-9_-]{43})", r["link"]).group(1) for r in rows]
    store = Store(db, key_file=tmp_path / "k.key")
    invitations = [store.invitation(token) for token in tokens]
    assert len({i.respondent for i in invitations}) == 3
    assert {(i.instrument, i.occasion, i.cohort, i.response) for i in invitations} == {
        ("citizen", "follow_up", "pilot", None)
    }


def test_invite_names_the_occasions_an_instrument_has(tmp_path, db):
    result = CliRunner().invoke(
        main,
        [
            "invite",
            "--instrument",
            "citizen",
            "--occasion",
            "wave_9",
            "--count",
            "1",
            "--db",
            db,
            "--key-file",
            str(tmp_path / "k.key"),
        ],
    )
    assert result.exit_code == 2 and "intake, follow_up" in result.output


def test_user_add_asks_for_the_password_twice_and_stores_a_hash(tmp_path, db):
    result = CliRunner().invoke(
        main,
        ["user", "add", "evaluator", "--role", "evaluator", "--db", db],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output
    store = Store(db, key_file=tmp_path / "k.key")
    assert store.verify_user("evaluator", "a long enough secret")
    assert not store.verify_user("evaluator", "another secret!!")
    assert b"a long enough secret" not in (tmp_path / "k.db").read_bytes()


def question_block(html, number):
    """The HTML of question ``number`` on the paper form."""
    start = html.index(f'<span class="number">{number}.</span>')
    return html[html.rindex('<div class="question">', 0, start) :].split('<div class="question">')[1]


def test_the_paper_form_numbers_questions_and_writes_routing_instructions():
    citizen = load_instrument("citizen")
    html = paper_form(citizen, "follow_up", "nl")
    asked = citizen.items_at("follow_up")
    numbers = [int(n) for n in re.findall(r'<span class="number">(\d+)\.</span>', html)]
    assert numbers == list(range(1, len(asked) + 1))
    # 'referral_agency' is asked only when option 5 of 'interventions' is ticked; otherwise skip past it
    # (in the follow-up of the first problem: each problem's part routes within itself)
    position = citizen.question_numbers("follow_up")
    block = question_block(html, position["referral_agency__1"])
    assert (
        f"Alleen beantwoorden als bij vraag {position['interventions__1']} “ik werd doorgestuurd naar een andere "
        f"organisatie” is aangekruist. Anders: ga naar vraag {position['referral_agency__1'] + 1}."
    ) in block
    # every option has a box with its code beside it; missing codes are listed too
    waiting = question_block(html, position["waiting_time__1"])
    assert re.findall(r'<span class="code">(\d+)</span>', waiting) == ["1", "2", "3", "4", "5", "8"]
    assert "<script" not in html


def test_the_paper_form_speaks_to_the_respondent_in_the_organisations_name():
    citizen = load_instrument("citizen")
    survey = load_survey_settings(HAARLEMMERMEER_SURVEY)
    html = paper_form(citizen, "follow_up", "nl", survey=survey, code="K7Q2-M9XA")
    letter = html[html.index('<section class="letter">') : html.index("</section>")]
    assert "Gemeente Haarlemmermeer" in letter and "Beste meneer of mevrouw," in letter
    assert "15 minuten" in letter and "24 maanden" in letter and "Autoriteit Persoonsgegevens" in letter
    assert 'src="data:image/svg+xml;base64,' in letter  # the logo travels inside the file
    # the login code is in the page-margin footer of every printed page, and on the letter
    assert '@bottom-left { content: "Inlogcode: K7Q2-M9XA"; }' in html and "Inlogcode: K7Q2-M9XA" in letter
    # nothing written for analysts: no item ids, no occasion, no version, no note
    for analyst in ("[wellbeing]", "follow_up", "citizen 1.0", "Negatief geformuleerd", "CEO", "intake"):
        assert analyst not in html, analyst
    assert "Kies wat het meeste heeft geholpen." in html  # a respondent's help is printed
    # an answer box never parts from its label
    assert re.search(r"\.answers\.row li \{[^}]*white-space: nowrap", html)
    assert re.search(r"\.answers li \{[^}]*text-indent: -", html)
    with pytest.raises(ValueError, match="login code"):
        paper_form(citizen, "follow_up", "nl", code='x"; } body { display: none')


def test_the_paper_form_prints_the_login_code_on_every_page(tmp_path):
    assert find_chromium(), "Chromium is needed for the PDF; install it or set KANTELMETER_CHROMIUM"
    paths = write_paper(load_instrument("citizen"), "follow_up", "nl", tmp_path / "form.html", code="K7Q2-M9XA")
    pdf = pypdf.PdfReader(paths[1])
    pages = [page.extract_text() for page in pdf.pages]
    assert len(pages) >= 4
    assert all("Inlogcode: K7Q2-M9XA" in text for text in pages)
    first_questions = next(text for text in pages if "Hoe het met u gaat" in text)
    assert re.search(r"0 +1 +2 +3 +4 +5 +6 +7 +8 +9 +10\n", first_questions)  # the 0-10 scale on one line
    assert all(re.search(rf"(?<!\d){n} / {len(pages)}(?!\d)", text) for n, text in enumerate(pages, start=1))


def test_the_paper_form_in_english():
    html = paper_form(load_instrument("citizen"), "intake", "en")
    assert '<html lang="en">' in html and "Only answer if" in html and "Alleen" not in html


def test_paper_writes_html_and_a_pdf(tmp_path):
    # Chromium is a test requirement (see tests/test_web_browser.py): without it this fails
    assert find_chromium(), "Chromium is needed for the PDF; install it or set KANTELMETER_CHROMIUM"
    result = CliRunner().invoke(
        main, ["paper", "soc13", "--occasion", "intake", "--lang", "en", "--out", str(tmp_path / "soc13.html")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "soc13.html").read_text(encoding="utf-8").count('class="box"') == 13 * 7
    assert (tmp_path / "soc13.pdf").read_bytes()[:5] == b"%PDF-"


def test_find_chromium_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("KANTELMETER_CHROMIUM", str(tmp_path / "absent"))
    assert find_chromium() is None
    monkeypatch.setenv("KANTELMETER_CHROMIUM", shutil.which("sh") or "/bin/sh")
    assert find_chromium() == os.environ["KANTELMETER_CHROMIUM"]
