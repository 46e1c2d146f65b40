"""The penetration test of issue 12, repeated against a real `kantelmeter serve` on loopback: every attack must fail.

Each test performs one attack the way an outsider, a respondent or a signed-in
user with the wrong role would (plain HTTP with httpx, no test client), then
checks the store, the log or the server's memory for what the attack was after.
The last tests fuzz form fields and paths with hypothesis.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import hmac
import re
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kantelmeter import load_instrument
from kantelmeter.cli import main
from kantelmeter.store import Store
from kantelmeter.web import access
from kantelmeter.web.app import create_app
from kantelmeter.web.forms import TEXT_LIMIT
from webserver import SECRET, Server, hidden

FORM = Path(__file__).parent / "data" / "web_form.yaml"
PASSWORD = "correct horse battery"
BSN = "111222333"  # passes the eleven-test
HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy",
           "permissions-policy", "cache-control")


@pytest.fixture(scope="module")
def instrument():
    return load_instrument(FORM)


@pytest.fixture(scope="module")
def served(tmp_path_factory, instrument):
    """One store with two interviewers (ann, bob) and an evaluator (eve), and a server on it."""
    folder = tmp_path_factory.mktemp("security")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    store.register_instrument(instrument)
    for name, role in (("ann", "interviewer"), ("bob", "interviewer"), ("eve", "evaluator")):
        store.add_user(name, PASSWORD, role=role)
    server = Server(store.url, folder / "k.key", folder / "server.log", instruments=(FORM,)).start()
    yield store, server
    server.stop()
    store.close()


def browser(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD, **headers) -> httpx.Response:
    page = client.get("/login")
    return client.post("/login", data={"csrf": hidden(page.text, "csrf"), "username": username,
                                       "password": password}, headers=headers)


def signed_in(server: Server, username: str, password: str = PASSWORD) -> httpx.Client:
    client = browser(server)
    assert sign_in(client, username, password).status_code == 303
    return client


def post_page(client: httpx.Client, url: str, fields: dict[str, str], page: str | None = None) -> httpx.Response:
    """Open a page of a form and submit it with its hidden fields, as a browser would."""
    html = client.get(url if page is None else f"{url}?page={page}").text
    data = {name: hidden(html, name) for name in ("csrf", "submission", "page", "shown")}
    return client.post(url, data={**data, "action": "next", **fields})


def begin_interview(client: httpx.Client, **fields: str) -> httpx.Response:
    html = client.get("/interviewer/start").text
    return client.post("/interviewer/start", data={"csrf": hidden(html, "csrf"), "questionnaire": "web_form:intake",
                                                   **fields})


def web_response(store: Store, server: Server, instrument, age: str = "77") -> tuple[str, int]:
    """A citizen answers the first page of an invitation on the web: (token, response id)."""
    token = store.create_invitations(instrument, "follow_up", 1)[0]
    assert post_page(browser(server), f"/r/{token}", {"age": age, "got_help": "2"}).status_code == 303
    return token, store.invitation(token).response


def database_bytes(store: Store) -> bytes:
    path = Path(store.engine.url.database)
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


# --- 1. authorisation -------------------------------------------------------------------------------

def test_every_route_with_every_role_gets_exactly_its_allowed_answer(served, instrument):
    store, server = served
    token, _ = web_response(store, server, instrument)
    own = begin_interview(signed_in(server, "ann")).headers["location"]
    clients = {"none": browser(server), "interviewer": signed_in(server, "ann"), "evaluator": signed_in(server, "eve")}
    # the specification, written out: route, method -> status for no session, an interviewer, an evaluator
    expected = {
        ("/", "GET"): (303, 303, 303),
        ("/login", "GET"): (200, 200, 200),
        ("/logout", "POST"): (303, 303, 303),
        ("/static", "GET"): (200, 200, 200),
        ("/r/{token}", "GET"): (200, 200, 200),
        ("/interviewer", "GET"): (303, 200, 200),
        ("/interviewer/start", "GET"): (303, 200, 403),
        ("/interviewer/start", "POST"): (303, 422, 403),
        ("/interviewer/responses/{response:int}", "GET"): (303, 200, 403),
        ("/interviewer/responses/{response:int}", "POST"): (303, 303, 403),  # 303: shown again, nothing saved
    }
    urls = {"/static": "/static/form.css", "/r/{token}": f"/r/{token}", "/interviewer/responses/{response:int}": own}
    # every route the app has is walked (create_app refuses a route without a rule in kantelmeter.web.access)
    app_routes = {route.path for route in create_app(store).routes}
    assert app_routes == {path for path, _ in expected}
    assert {path: access.rule(path) for path in app_routes}["/interviewer/start"] == {"interviewer"}
    observed = {}
    for (path, method), _ in expected.items():
        url = urls.get(path, path)
        statuses = []
        for role in ("none", "interviewer", "evaluator"):
            client = clients[role]
            if method == "GET":
                statuses.append(client.get(url).status_code)
            else:
                csrf = hidden(client.get("/login").text, "csrf")
                fields = {"csrf": csrf, "page": "background", "action": "next", "questionnaire": "none:none"}
                statuses.append(client.post(url, data=fields).status_code)
        observed[(path, method)] = tuple(statuses)
        if path == "/logout":  # signed out by the walk: sign in again for the routes that follow
            clients |= {"interviewer": signed_in(server, "ann"), "evaluator": signed_in(server, "eve")}
    assert observed == expected
    # the evaluator's overview holds counts and no way to start an interview
    overview = clients["evaluator"].get("/interviewer").text
    assert "/interviewer/start" not in overview and "Afgerond" in overview


def test_an_interviewer_opens_only_the_interviews_they_started(served, instrument):
    store, server = served
    token, citizen = web_response(store, server, instrument, age="77")
    ann, bob = signed_in(server, "ann"), signed_in(server, "bob")
    anns = int(begin_interview(ann, cohort="pilot").headers["location"].rsplit("/", 1)[1])
    assert post_page(ann, f"/interviewer/responses/{anns}", {"age": "66", "got_help": "2"}).status_code == 303
    before = {response: store.answers(response) for response in (citizen, anns)}
    # bob walks every response id: all are 'not found' to him except his own, and none shows an answer
    bobs = int(begin_interview(bob).headers["location"].rsplit("/", 1)[1])
    for response in range(1, bobs + 3):
        page = bob.get(f"/interviewer/responses/{response}")
        assert page.status_code == (200 if response == bobs else 404), response
        assert 'value="77"' not in page.text and 'value="66"' not in page.text
    # forging a post to someone else's response changes nothing, and neither does completing it
    csrf = hidden(bob.get("/interviewer").text, "csrf")
    for response in (citizen, anns):
        forged = bob.post(f"/interviewer/responses/{response}",
                          data={"csrf": csrf, "submission": "s", "page": "background", "shown": "age,got_help",
                                "action": "next", "age": "18", "got_help": "1"})
        assert forged.status_code == 404
    assert {response: store.answers(response) for response in (citizen, anns)} == before
    assert store.response_status(citizen) == "partial"  # not completed by the forged post
    # starting an 'interview' with the citizen's pseudonym does not hand over their web response
    refused = begin_interview(bob, respondent=store.invitation(token).respondent, questionnaire="web_form:follow_up")
    assert refused.status_code == 422 and "al begonnen" in refused.text


# --- 2. secrets -------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", ["x", "", "a" * 31])
def test_a_short_or_empty_secret_is_refused_at_start(served, tmp_path, secret):
    store, _ = served
    server = Server(store.url, tmp_path / "k.key", tmp_path / "server.log", env={"KANTELMETER_SECRET": secret})
    with pytest.raises(RuntimeError, match="exited with 1"):
        server.start(timeout=30)
    assert "KANTELMETER_SECRET has" in server.log.read_text() and "at least 32 bytes" in server.log.read_text()


def test_without_a_secret_a_secret_file_keeps_open_forms_valid_across_a_restart(served, instrument, tmp_path):
    store, _ = served
    key_file = tmp_path / "keys" / "k.key"
    server = Server(store.url, key_file, tmp_path / "server.log", env={}).start()
    try:
        secret_file = key_file.parent / "web-form.secret"
        assert secret_file.stat().st_mode & 0o777 == 0o600 and len(secret_file.read_bytes()) == 32
        token = store.create_invitations(instrument, "follow_up", 1)[0]
        client = browser(server)
        html = client.get(f"/r/{token}").text  # the form is open in the browser ...
        server.stop()
        server.start()  # ... while the server restarts
        data = {name: hidden(html, name) for name in ("csrf", "submission", "page", "shown")}
        kept = client.post(f"/r/{token}", data={**data, "action": "next", "age": "50", "got_help": "2"})
        assert kept.status_code == 303 and store.answers(store.invitation(token).response)["age"] == 50
    finally:
        server.stop()


def test_a_session_forged_for_a_user_who_does_not_exist_is_refused(served):
    """The attacker knows the secret (as if recovered offline) and signs a session for 'mallory' the old way."""
    _, server = served
    payload = base64.urlsafe_b64encode(f"{int(time.time())}:mallory".encode()).rstrip(b"=").decode()
    digest = hmac.new(SECRET.encode(), f"session\0{payload}".encode(), hashlib.sha256).digest()
    forged = f"{payload}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"
    for cookie in (forged, "0" * 43, hashlib.sha256(b"ann").hexdigest()):
        response = httpx.get(f"{server.url}/interviewer", cookies={"km_session": cookie})
        assert response.status_code == 303 and response.headers["location"] == "/login"


# --- 3. sessions ------------------------------------------------------------------------------------

def session_of(client: httpx.Client) -> str:
    return client.cookies["km_session"]


def replay(server: Server, session: str) -> int:
    return httpx.get(f"{server.url}/interviewer", cookies={"km_session": session}).status_code


def test_a_session_ends_at_logout_and_a_replayed_cookie_is_refused(served):
    _, server = served
    client = signed_in(server, "ann")
    session = session_of(client)
    assert replay(server, session) == 200
    client.post("/logout", data={"csrf": hidden(client.get("/interviewer").text, "csrf")})
    assert replay(server, session) == 303


def age_sessions(store: Store, column: str, by: timedelta) -> None:
    path = store.engine.url.database
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE sessions SET {column} = datetime({column}, ?)", (f"-{int(by.total_seconds())} seconds",))


def test_a_session_ends_after_30_minutes_idle_and_8_hours_in_all(served):
    store, server = served
    idle = session_of(signed_in(server, "ann"))
    age_sessions(store, "seen_at", timedelta(minutes=31))
    assert replay(server, idle) == 303
    busy = session_of(signed_in(server, "ann"))
    age_sessions(store, "created_at", timedelta(hours=8, minutes=1))  # used a minute ago, begun 8 hours ago
    assert replay(server, busy) == 303
    fresh = session_of(signed_in(server, "ann"))
    age_sessions(store, "seen_at", timedelta(minutes=29))
    assert replay(server, fresh) == 200


def test_removing_a_user_or_changing_their_password_ends_their_sessions(served, tmp_path):
    store, server = served
    runner = CliRunner()
    store.add_user("carl", PASSWORD, role="interviewer")
    session = session_of(signed_in(server, "carl"))
    changed = runner.invoke(main, ["user", "passwd", "carl", "--db", store.url], input="another long secret\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert replay(server, session) == 303
    assert sign_in(browser(server), "carl").status_code == 401  # the old password no longer works
    session = session_of(signed_in(server, "carl", "another long secret"))
    removed = runner.invoke(main, ["user", "remove", "carl", "--db", store.url])
    assert removed.exit_code == 0, removed.output
    assert replay(server, session) == 303
    assert runner.invoke(main, ["user", "remove", "carl", "--db", store.url]).output.strip().endswith(
        "no user 'carl' in this store")
