"""The citizen follow-up on the web and on paper: one page per problem raised at intake."""

from __future__ import annotations

import re

from test_web import answer, open_page

from kantelmeter import load_instrument
from kantelmeter.store import Store
from kantelmeter.web.app import create_app
from kantelmeter.web.paper import paper_form

TestClient = __import__("starlette.testclient", fromlist=["TestClient"]).TestClient

PRACTICAL = "Uw vraag over: een praktisch probleem"
ORGANISATION = "Uw vraag over: een probleem met een organisatie"
PERSONAL = "Uw vraag over: een persoonlijk probleem"
FOLLOW_UP_ITEMS = [
    item.id
    for section in load_instrument("citizen").sections
    if section.id == "problem_follow_up"
    for item in section.items
]


def test_the_follow_up_asks_about_each_problem_raised_at_intake_and_stores_what_it_was_asked_for(tmp_path):
    citizen = load_instrument("citizen")
    store = Store(f"sqlite:///{tmp_path / 'c.db'}", key_file=tmp_path / "c.key")
    respondent = store.add_respondent(cohort="pilot")
    intake = store.start_response(respondent, citizen, "intake")
    raised = {"problems_raised_1": 1, "problems_raised_2": 0, "problems_raised_3": 1, "problems_raised_4": 0}
    store.save_answers(intake, raised | {"urgency__1": 4, "urgency__3": 2}, complete=True)
    (token,) = store.invite_respondents(citizen, "follow_up", [respondent])
    client = TestClient(create_app(store), follow_redirects=False)
    url = f"/r/{token}"
    first = open_page(client, f"{url}?page=problem_follow_up__1").text
    assert PRACTICAL in first and "Hoe staat het nu met dit probleem?" in first
    # the page of a problem not raised is never shown: asking for it opens where the respondent is
    assert ORGANISATION not in client.get(f"{url}?page=problem_follow_up__2").text
    after = answer(
        client,
        f"{url}?page=problem_follow_up__1",
        {"problem_result__1": ["1"], "problem_rung__1": ["2"], "interventions__1": ["3", "7"]},
        shown=",".join(f"{item}__1" for item in FOLLOW_UP_ITEMS),
    )
    assert after.endswith("page=problem_follow_up__3")  # on to the next problem raised, past the one not raised
    assert PERSONAL in client.get(after).text
    stored = store.answers(store.start_response(respondent, citizen, "follow_up"))  # the partial one begun
    assert {column: stored[column] for column in raised} == raised  # carried from the intake with the first page
    assert (stored["problem_result__1"], stored["interventions__1_7"], stored["interventions__1_1"]) == (1, 1, 0)
    store.close()


def test_the_paper_follow_up_prints_every_problem_with_its_own_instruction():
    html = paper_form(load_instrument("citizen"), "follow_up", "nl")
    text = re.sub(r"<[^>]+>", " ", html)
    assert all(title in text for title in (PRACTICAL, ORGANISATION, PERSONAL, "Uw vraag over: een probleem met andere"))
    assert text.count("Vul dit deel alleen in als dit probleem in het eerste gesprek aan bod kwam.") == 4
    assert "problems_raised" not in text  # the routing names no question the paper form does not have
