"""End to end in a real headless Chromium against a real `kantelmeter serve` (marker ``browser``)."""

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect, sync_playwright

from kantelmeter import load_instrument
from kantelmeter.store import Store
from kantelmeter.web.forms import settle
from axe import axe_violations
from webserver import CHROMIUM_ARGS, Server, chromium

pytestmark = pytest.mark.browser

FORM = Path(__file__).parent / "data" / "web_form.yaml"
PASSWORD = "correct horse battery"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A store with the test form and the citizen questionnaire, served on loopback."""
    folder = tmp_path_factory.mktemp("browser")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    store.register_instrument(load_instrument(FORM))
    store.register_instrument(load_instrument("citizen"))
    store.add_user("evaluator", PASSWORD)
    with Server(store.url, folder / "k.key", folder / "server.log", instruments=(FORM,)) as server:
        yield store, server
    store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def invite(store, instrument, occasion):
    return store.create_invitations(instrument, occasion, 1, cohort="pilot")[0]


def fill_page(page, policy):
    """Answer every visible question; questions revealed by an answer are answered in the next round.

    ``policy`` 'first' takes the first option of every choice and ticks every box, which opens
    the show-if branches; 'last' takes the last valid option and ticks only the first box.
    """
    done = set()
    while True:
        todo = [w for w in page.locator("[data-item]:visible").all() if w.get_attribute("data-item") not in done]
        if not todo:
            return
        for wrapper in todo:
            done.add(wrapper.get_attribute("data-item"))
            boxes = wrapper.locator("input[type=checkbox]")
            radios = wrapper.locator(".options:not(.missing) input[type=radio]")
            if boxes.count():
                for box in boxes.all() if policy == "first" else boxes.all()[:1]:
                    box.check()
            elif radios.count():
                radios.nth(0 if policy == "first" else radios.count() - 1).check()
            elif wrapper.locator("input[type=date]").count():
                wrapper.locator("input[type=date]").fill("2012-05-01")
            elif wrapper.locator("input[inputmode=decimal]").count():
                bounds = wrapper.locator(".bounds")
                low = re.search(r"\d+", bounds.inner_text()).group(0) if bounds.count() else "3"
                wrapper.locator("input").fill(low)
            else:
                wrapper.locator("textarea, input[type=text]").fill("in eigen woorden")


def complete(page, policy):
    """Answer page after page until the thank-you page; return the page titles seen."""
    titles = []
    while page.locator("form[data-answers]").count():
        titles.append(page.locator("h1").inner_text())
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        fill_page(page, policy)
        page.locator("button[value=next]").click()
        page.wait_for_load_state()
        assert not page.locator(".error-summary").count(), page.locator(".error-summary").inner_text()
    expect(page.locator("h1")).to_have_text("Hartelijk dank")
    return titles


@pytest.mark.parametrize("occasion, policy", [("follow_up", "first"), ("intake", "last")])
def test_a_citizen_completes_the_questionnaire_on_a_phone(site, browser, occasion, policy):
    store, server = site
    citizen = load_instrument("citizen")
    token = invite(store, citizen, occasion)
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}")
    titles = complete(page, policy)
    context.close()
    sections = [s for s in citizen.sections if occasion in (s.occasions or citizen.occasions)]
    assert titles == [s.title.nl for s in sections]
    response = store.invitation(token).response
    assert store.response_status(response) == "complete"
    answers = store.answers(response)
    assert settle(citizen, answers) == answers  # no hidden question kept an answer
    conditional = [item for item in citizen.items_at(occasion) if item.show_if]
    answered = [item.id for item in conditional if any(c in answers for c in citizen.columns_of(item))]
    if policy == "first":  # every branch opened in the page was answered and stored
        assert len(answered) >= len(conditional) - 1
    else:
        assert len(answered) < len(conditional)
    row = store.responses(citizen, occasion=occasion).set_index("respondent").loc[store.invitation(token).respondent]
    assert not pd.isna(row["wellbeing"])


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_every_page_of_the_citizen_form_has_no_wcag_violation(site, browser, viewport):
    store, server = site
    token = invite(store, load_instrument("citizen"), "follow_up")
    page = browser.new_page(viewport=viewport)
    page.goto(f"{server.url}/r/{token}")
    seen = 0
    while page.locator("form[data-answers]").count():
        assert axe_violations(page) == [], page.locator("h1").inner_text()
        fill_page(page, "first")
        page.locator("button[value=next]").click()
        page.wait_for_load_state()
        seen += 1
    assert seen >= 5 and axe_violations(page) == []  # the thank-you page too
    page.close()


def test_show_if_reveals_questions_in_the_page_and_keyboard_only_works(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    page = browser.new_page()
    page.goto(f"{server.url}/r/{token}")
    help_kind = page.locator("#q-help_kind")
    expect(help_kind).to_be_hidden()
    page.focus("#age")
    page.keyboard.type("70")
    page.keyboard.press("Tab")  # into the radio group
    assert page.evaluate("document.activeElement.id") == "got_help-0"
    assert page.evaluate("getComputedStyle(document.activeElement.closest('.option')).outlineStyle") == "solid"
    page.keyboard.press("Space")
    expect(help_kind).to_be_visible()
    page.keyboard.press("ArrowDown")  # 'nee' hides the follow-up questions again
    expect(help_kind).to_be_hidden()
    page.keyboard.press("ArrowUp")
    page.check("#help_kind-2")
    page.locator("button[value=next]").press("Enter")
    expect(page.locator("h1")).to_have_text("Het gesprek")
    page.close()


def test_a_validation_error_is_summarised_and_linked(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    page = browser.new_page()
    page.goto(f"{server.url}/r/{token}")
    page.fill("#age", "7")
    page.locator("button[value=next]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # read out first
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#age-error")).to_have_text("Vul een getal in van 18 tot en met 110.")
    assert page.get_attribute("#age", "aria-describedby") == "age-help age-error"
    summary.locator("a[href='#got_help-0']").click()
    assert page.url.endswith("#got_help-0")
    page.fill("#age", "70")
    page.check("#got_help-1")
    page.locator("button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Hoe het nu gaat")
    page.close()


def test_answers_survive_closing_the_browser(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    first = browser.new_context()
    page = first.new_page()
    page.goto(f"{server.url}/r/{token}")
    page.fill("#age", "64")
    page.check("#got_help-0")
    page.check("#help_kind-2")
    page.fill("#first_contact", "2010-05-28")
    page.locator("button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Het gesprek")
    first.close()

    second = browser.new_context()
    page = second.new_page()
    page.goto(f"{server.url}/r/{token}")
    expect(page.locator("h1")).to_have_text("Het gesprek")
    page.check("#talk_useful-3")
    page.locator("button[value=previous]").click()
    expect(page.locator("#age")).to_have_value("64")
    expect(page.locator("#help_kind-2")).to_be_checked()
    expect(page.locator("#first_contact")).to_have_value("2010-05-28")
    second.close()


def test_without_javascript_new_questions_appear_after_next(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}")
    expect(page.locator("#q-help_kind")).to_be_hidden()
    page.fill("#age", "70")
    page.check("#got_help-0")
    page.locator("button[value=next]").click()
    expect(page.locator(".notice")).to_have_text("Door uw antwoord zijn er vragen op deze pagina bijgekomen.")
    expect(page.locator("#q-help_kind")).to_be_visible()
    expect(page.locator("#age")).to_have_value("70")
    context.close()


def test_the_language_switch_carries_over_to_the_next_page(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}")
    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=age]")).to_contain_text("How old are you?")
    page.fill("#age", "70")
    page.check("#got_help-1")
    page.locator("button[value=next]").click()
    expect(page.locator("h1")).to_have_text("How things are now")
    expect(page.locator("#q-wellbeing_now .anchor-max")).to_have_text("10 = excellent")
    context.close()


def test_an_interviewer_signs_in_and_administers_the_form(site, browser):
    store, server = site
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{server.url}/interviewer")
    expect(page).to_have_url(f"{server.url}/login")
    page.fill("#username", "evaluator")
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".error-summary")).to_have_text("Gebruikersnaam of wachtwoord klopt niet.")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Overzicht")
    page.click("text=Vragenlijst afnemen")
    page.select_option("#questionnaire", "web_form:intake")
    page.fill("#cohort", "regular")
    page.fill("#client_number", "C-1024")
    page.click("main button[type=submit]")
    expect(page.locator(".instrument")).to_contain_text("Respondent")
    page.fill("#age", "77")
    page.check("#got_help-1")
    page.locator("button[value=next]").click()
    expect(page.locator("main")).to_contain_text("De vragenlijst is afgerond en opgeslagen.")
    page.click("text=Naar het overzicht")
    expect(page.locator("tbody")).to_contain_text("regular")
    context.close()
    frame = store.responses(load_instrument(FORM), occasion="intake", cohort="regular")
    assert frame["respondent"].tolist() == [store.pseudonym("client_number", "C-1024")]
    assert "C-1024" not in (Path(server.log)).read_text()
