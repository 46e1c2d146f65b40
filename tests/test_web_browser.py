"""End to end in a real headless Chromium against a real `kantelmeter serve` (marker ``browser``)."""

import re
from pathlib import Path

import pandas as pd
import pytest
from axe import axe_violations
from playwright.sync_api import expect, sync_playwright
from webserver import CHROMIUM_ARGS, Server, chromium

from kantelmeter import load_instrument
from kantelmeter.store import Store
from kantelmeter.web.forms import pages, settle, visible_items

pytestmark = pytest.mark.browser

FORM = Path(__file__).parent / "data" / "web_form.yaml"
SURVEY = Path(__file__).resolve().parents[1] / "data" / "haarlemmermeer" / "survey.yaml"
PASSWORD = "correct horse battery"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
VALID_BSN = "111222333"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A store with the test form and the citizen questionnaire, served on loopback."""
    folder = tmp_path_factory.mktemp("browser")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    store.register_instrument(load_instrument(FORM))
    store.register_instrument(load_instrument("citizen"))
    store.add_user("evaluator", PASSWORD)
    with Server(store.url, folder / "k.key", folder / "server.log", instruments=(FORM,), survey=SURVEY) as server:
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
            elif wrapper.locator("input[inputmode=numeric], input[inputmode=decimal]").count():
                bounds = wrapper.locator(".bounds")
                low = re.search(r"\d+", bounds.inner_text()).group(0) if bounds.count() else "3"
                wrapper.locator("input").fill(low)
            else:
                wrapper.locator("textarea, input[type=text]").fill("in eigen woorden")


def begin(page):
    """Pass the welcome (or welcome-back) page by its button."""
    page.locator("a[data-start]").click()
    page.wait_for_load_state()


def answer_pages(page, policy, check=None):
    """Answer page after page until the review page; return the page titles seen.

    ``check`` is called on every page before it is answered (an accessibility check, say).
    """
    titles = []
    while page.locator("form[data-answers]").count():
        titles.append(page.locator("h1").inner_text())
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
        if check:
            check(page)
        fill_page(page, policy)
        page.locator("form[data-answers] button[value=next]").click()
        page.wait_for_load_state()
        assert not page.locator(".error-summary").count(), page.locator(".error-summary").inner_text()
    return titles


def complete(page, policy):
    """Begin, answer every page, and send the review; return the page titles seen."""
    begin(page)
    titles = answer_pages(page, policy)
    expect(page.locator("h1")).to_have_text("Controleer uw antwoorden")
    page.locator("button[value=send]").click()
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
    response = store.invitation(token).response
    assert store.response_status(response) == "complete"
    answers = store.answers(response)
    # every page with a question for these answers: a repeated section once per problem chosen
    assert titles == [p.section.title.nl for p in pages(citizen, occasion) if visible_items(citizen, p, answers)]
    assert any(title.startswith("Hoeveel last had u van:") for title in titles) == (occasion == "intake")
    assert settle(citizen, answers) == answers  # no hidden question kept an answer
    # the branches within a page (a repetition's pages depend on the problems raised, checked above)
    conditional = [item for item in citizen.items_at(occasion) if item.show_if and not citizen.repetition_of(item.id)]
    answered = [item.id for item in conditional if any(c in answers for c in citizen.columns_of(item))]
    if policy == "first":  # every branch opened in the page was answered and stored
        assert len(answered) >= len(conditional) - 1
    else:
        assert len(answered) < len(conditional)
    row = store.responses(citizen, occasion=occasion).set_index("respondent").loc[store.invitation(token).respondent]
    assert not pd.isna(row["wellbeing"])


def no_violations(page):
    assert axe_violations(page) == [], page.locator("h1").inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_every_page_of_the_citizen_form_has_no_wcag_violation(site, browser, viewport):
    """Welcome, every question page, the review, the closing page, the privacy page and a welcome back."""
    store, server = site
    token = invite(store, load_instrument("citizen"), "follow_up")
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}")
    no_violations(page)  # welcome
    begin(page)
    fill_page(page, "first")
    page.locator("form[data-answers] button[value=next]").click()
    page.wait_for_load_state()
    page.goto(f"{server.url}/r/{token}")
    expect(page.locator("h1")).to_have_text("Welkom terug")
    no_violations(page)
    begin(page)
    citizen = load_instrument("citizen")
    # a respondent invited without an intake has no problems to follow up: those pages are passed by
    shown = [p for p in pages(citizen, "follow_up") if visible_items(citizen, p, {})]
    assert len(answer_pages(page, "first", check=no_violations)) == len(shown) - 1  # the first was answered before
    expect(page.locator("h1")).to_have_text("Controleer uw antwoorden")
    no_violations(page)  # review
    page.locator("button[value=send]").click()
    expect(page.locator("h1")).to_have_text("Hartelijk dank")
    no_violations(page)  # closing
    page.goto(f"{server.url}/privacy")
    expect(page.locator("h1")).to_have_text("Wat wij met uw antwoorden doen")
    no_violations(page)
    context.close()


def test_show_if_reveals_questions_in_the_page_and_keyboard_only_works(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    page = browser.new_page()
    page.goto(f"{server.url}/r/{token}?page=background")
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
    page.locator("form[data-answers] button[value=next]").press("Enter")
    expect(page.locator("h1")).to_have_text("Het gesprek")
    page.check("#talk_useful-3")
    # Tab reaches "Vorige" before "Volgende"; Enter in a text field means "Volgende", not "Vorige"
    page.focus("#talk_useful-3")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "previous"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "next"
    page.goto(f"{server.url}/r/{token}?page=background")
    page.focus("#age")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Het gesprek")
    page.close()


def test_a_validation_error_is_summarised_and_linked(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    page = browser.new_page()
    page.goto(f"{server.url}/r/{token}?page=background")
    page.fill("#age", "7")
    page.locator("form[data-answers] button[value=next]").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # read out first
    expect(summary.locator("a")).to_have_count(2)
    expect(page.locator("#age-error")).to_have_text("Vul een getal in van 18 tot en met 110.")
    assert page.get_attribute("#age", "aria-describedby") == "age-help age-bounds age-error"
    expect(page.locator("#age-bounds")).to_have_text("Van 18 tot en met 110.")
    # an invalid text field turns red (it stayed grey when the input rule outweighed the invalid one)
    assert page.evaluate("getComputedStyle(document.querySelector('#age')).borderTopColor") == "rgb(176, 0, 32)"
    summary.locator("a[href='#got_help-0']").click()
    assert page.url.endswith("#got_help-0")
    page.fill("#age", "70")
    page.check("#got_help-1")
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Hoe het nu gaat")
    page.close()


def test_answers_survive_closing_the_browser(site, browser):
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    first = browser.new_context()
    page = first.new_page()
    page.goto(f"{server.url}/r/{token}")
    begin(page)
    page.fill("#age", "64")
    page.check("#got_help-0")
    page.check("#help_kind-2")
    page.fill("#first_contact", "2010-05-28")
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Het gesprek")
    first.close()

    second = browser.new_context()
    page = second.new_page()
    page.goto(f"{server.url}/r/{token}")
    expect(page.locator("h1")).to_have_text("Welkom terug")
    expect(page.locator("main")).to_contain_text("U was bij deel 2 van 3.")
    begin(page)
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
    begin(page)
    expect(page.locator("#q-help_kind")).to_be_hidden()
    page.fill("#age", "70")
    page.check("#got_help-0")
    page.locator("form[data-answers] button[value=next]").click()
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
    begin(page)
    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("label[for=age]")).to_contain_text("How old are you?")
    page.fill("#age", "70")
    page.check("#got_help-1")
    page.locator("form[data-answers] button[value=next]").click()
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
    page.fill("#bsn", "111222334")  # fails the eleven-test: what was typed stays
    page.click("main button[type=submit]")
    expect(page.locator("#start-error")).to_contain_text("elfproef")
    expect(page.locator("#client_number")).to_have_value("C-1024")
    expect(page.locator("#cohort")).to_have_value("regular")
    page.fill("#bsn", "")
    page.click("main button[type=submit]")
    expect(page.locator(".instrument")).to_contain_text("Respondent")
    page.fill("#age", "77")
    page.check("#got_help-1")
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("h1")).to_have_text("Controleer uw antwoorden")
    page.locator("button[value=send]").click()
    expect(page.locator("main")).to_contain_text("De vragenlijst is afgerond en opgeslagen.")
    page.click("text=Naar het overzicht")
    expect(page.locator("tbody")).to_contain_text("regular")
    context.close()
    frame = store.responses(load_instrument(FORM), occasion="intake", cohort="regular")
    assert frame["respondent"].tolist() == [store.pseudonym("client_number", "C-1024")]
    assert "C-1024" not in (Path(server.log)).read_text()


# --- the frame around the questionnaire, in both languages at phone and desktop width -------------

LANGUAGES_AND_WIDTHS = [("nl", PHONE), ("en", PHONE), ("nl", DESKTOP), ("en", DESKTOP)]
WORDS = {
    "nl": {
        "welcome": "Welkom",
        "review": "Controleer uw antwoorden",
        "thanks": "Hartelijk dank",
        "change": "Wijzigen",
        "lock": "Na het versturen kunt u uw antwoorden niet meer veranderen.",
        "back": "Welkom terug",
        "where": "U was bij deel 2 van 3.",
        "not_saved": "Nog niet bewaard",
        "switch": "English",
        "other": "en",
        "age_error": "Vul een getal in van 18 tot en met 110.",
        "about_you": "Over u",
        "stored": "Opgeslagen (pseudoniem p-",
    },
    "en": {
        "welcome": "Welcome",
        "review": "Check your answers",
        "thanks": "Thank you",
        "change": "Change",
        "lock": "After you submit, you can no longer change your answers.",
        "back": "Welcome back",
        "where": "You were at part 2 of 3.",
        "not_saved": "Not saved yet",
        "switch": "Nederlands",
        "other": "nl",
        "age_error": "Enter a number from 18 to 110.",
        "about_you": "About you",
        "stored": "Stored (pseudonym p-",
    },
}


def open_in(browser, viewport, lang):
    context = browser.new_context(viewport=viewport, locale="nl-NL")
    page = context.new_page()
    return context, page, (lambda url: page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}"))


def open_new_invitation(site, browser, lang, viewport):
    """A new invitation to the test form, opened in a fresh browser in ``lang``."""
    store, server = site
    token = invite(store, load_instrument(FORM), "follow_up")
    context, page, goto = open_in(browser, viewport, lang)
    goto(f"{server.url}/r/{token}")
    return token, context, page, goto


@pytest.mark.parametrize("lang, viewport", LANGUAGES_AND_WIDTHS)
def test_a_whole_questionnaire_with_welcome_review_and_closing(site, browser, lang, viewport):
    store, server = site
    words = WORDS[lang]
    token, context, page, goto = open_new_invitation(site, browser, lang, viewport)
    expect(page.locator("h1")).to_have_text(words["welcome"])
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"), "scrolls sideways"
    main = page.locator("main").inner_text()
    assert "Haarlemmermeer" in page.locator("header").inner_text() and "15 min" in main
    assert "kantelmeter" not in page.content().lower()  # no product branding in front of citizens
    expect(page.locator("footer a[href^='/privacy']")).to_be_visible()
    begin(page)
    titles = answer_pages(page, "first")
    assert len(titles) == 3
    expect(page.locator("h1")).to_have_text(words["review"])
    expect(page.locator("#lock-note")).to_have_text(words["lock"])
    assert page.locator("footer a[href^='/privacy']").count() == 1
    # every question asked is listed with its answer and a link to change it
    rows = page.locator(".review-row")
    assert rows.count() == 7
    expect(rows.nth(0).locator(".answer")).to_have_text("18")
    page.locator(".review-row").nth(0).locator(".change a").click()
    expect(page.locator("h1")).to_have_text(words["about_you"])
    page.fill("#age", "44")
    page.locator("form[data-answers] button[value=next]").click()  # "done": straight back to the review
    expect(page.locator("h1")).to_have_text(words["review"])
    expect(page.locator(".review-row").nth(0).locator(".answer")).to_have_text("44")
    assert store.response_status(store.invitation(token).response) == "partial"
    page.locator("button[value=send]").click()
    expect(page.locator("h1")).to_have_text(words["thanks"])
    assert store.response_status(store.invitation(token).response) == "complete"
    assert store.answers(store.invitation(token).response)["age"] == 44
    context.close()


@pytest.mark.parametrize("lang, viewport", LANGUAGES_AND_WIDTHS)
def test_resume_switch_language_with_errors_and_a_lost_cookie(site, browser, lang, viewport):
    store, server = site
    words = WORDS[lang]
    token, context, page, goto = open_new_invitation(site, browser, lang, viewport)
    begin(page)
    # a page with an error, then a language switch: what was typed is kept, the error is shown in the other language
    page.fill("#age", "7")
    page.check("#got_help-1")
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("#age-error")).to_have_text(words["age_error"])
    page.locator("header button", has_text=words["switch"]).click()
    other = WORDS[words["other"]]
    expect(page.locator("html")).to_have_attribute("lang", words["other"])
    expect(page.locator("#age")).to_have_value("7")
    expect(page.locator("#got_help-1")).to_be_checked()
    expect(page.locator("#age-error")).to_have_text(other["age_error"])
    # a switch without errors saves the page and stays on it
    page.fill("#age", "70")
    page.locator("header button", has_text=other["switch"]).click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#age")).to_have_value("70")
    assert store.answers(store.invitation(token).response) == {"age": 70, "got_help": 2}
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("h1")).not_to_have_text(words["about_you"])
    # a lost cookie: the typed answers come back with a plain explanation, and the next click saves them
    page.check("#wellbeing_now-8")
    page.fill("#remarks", "niet kwijt")
    context.clear_cookies()
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("#not-saved-title")).to_have_text(words["not_saved"])
    expect(page.locator("#wellbeing_now-8")).to_be_checked()
    expect(page.locator("#remarks")).to_have_value("niet kwijt")
    assert axe_violations(page) == []
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("h1")).to_have_text(words["review"])
    assert store.answers(store.invitation(token).response)["remarks"] == "niet kwijt"
    # another browser (no cookies at all): welcome back, where they were
    later, page, goto = open_in(browser, viewport, lang)
    goto(f"{server.url}/r/{token}")
    expect(page.locator("h1")).to_have_text(words["back"])
    assert axe_violations(page) == []
    later.close()
    context.close()


@pytest.mark.parametrize("lang, viewport", [("nl", PHONE), ("en", DESKTOP)])
def test_an_interviewer_keeps_identifiers_through_an_error_and_sees_them_stored(site, browser, lang, viewport):
    store, server = site
    words = WORDS[lang]
    context, page, goto = open_in(browser, viewport, lang)
    goto(f"{server.url}/login")
    page.fill("#username", "evaluator")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    goto(f"{server.url}/interviewer/start")
    page.select_option("#questionnaire", "intake_record:intake")
    page.click("main button[type=submit]")
    page.fill("#client_number", f"C-{lang}-77")
    page.fill("#name", "Jan de Vries")
    page.fill("#bsn", "111222334")  # fails the eleven-test
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("#bsn-error")).to_be_visible()
    expect(page.locator("#client_number")).to_have_value(f"C-{lang}-77")
    expect(page.locator("#name")).to_have_value("Jan de Vries")
    expect(page.locator("#bsn")).to_have_value("111222334")
    assert axe_violations(page) == []
    page.fill("#bsn", VALID_BSN)
    page.locator("form[data-answers] button[value=next]").click()
    expect(page.locator("#bsn")).to_have_count(0)  # on to the next page
    page.locator("form[data-answers] button[value=previous]").click()
    expect(page.locator("#bsn")).to_have_value("")  # never shown back
    pseudonym = store.pseudonym("bsn", VALID_BSN)
    expect(page.locator("#bsn-stored")).to_contain_text(f"{words['stored']}{pseudonym[2:]}")
    assert "bsn-stored" in page.get_attribute("#bsn", "aria-describedby")
    assert "Jan de Vries" not in page.content()
    context.close()


def option_boxes(page, item):
    return [
        page.locator(f"#{item}-{i}").locator("xpath=..").bounding_box()
        for i in range(page.locator(f"#q-{item} .options:not(.missing) input").count())
    ]


def in_order(boxes):
    """'column' when the options run top to bottom, 'row' when left to right on one line, else None."""
    centres = [(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2) for b in boxes]
    if all(
        later[1] > earlier[1] + 1 and abs(later[0] - earlier[0]) < 2 for earlier, later in zip(centres, centres[1:])
    ):
        return "column"
    if all(
        later[0] > earlier[0] + 1 and abs(later[1] - earlier[1]) < 2 for earlier, later in zip(centres, centres[1:])
    ):
        return "row"
    return None


@pytest.mark.parametrize("width, layout", [(320, "column"), (375, "column"), (1280, "row")])
def test_scales_keep_their_order_on_a_phone(site, browser, width, layout):
    """Measured on the page: the 0-10 score and the five-point agree scale never wrap into rows."""
    store, server = site
    token = invite(store, load_instrument("citizen"), "follow_up")
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{server.url}/r/{token}?page=how_you_are")
    score = option_boxes(page, "wellbeing")
    assert len(score) == 11 and in_order(score) == layout
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    # the end labels are read with the end options, and seen beside them
    first = page.locator("label[for=wellbeing-0]")
    expect(first).to_contain_text("heel slecht")
    page.goto(f"{server.url}/r/{token}?page=ceo")
    agree = option_boxes(page, "ceo_quality_good")  # the access items route on contact, not answered here
    assert len(agree) == 5 and in_order(agree) == layout
    assert all(box["width"] >= 44 and box["height"] >= 24 for box in score + agree)  # targets big enough to tap
    context.close()
