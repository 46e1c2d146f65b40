"""Many respondents at once against a real server on loopback, and a server killed mid-load (marker ``slow``).

Each of 50 clients opens invitation links and submits the one-page SOC-13 form.
Every submission must be stored exactly once with the answers sent, including
when the server is killed with SIGKILL halfway and restarted: what the server
acknowledged (HTTP 303) must be in the store afterwards.
"""

import asyncio

import pytest

from kantelmeter import load_instrument
from kantelmeter.store import Store
from webserver import Server, Submitter

pytestmark = pytest.mark.slow

CLIENTS = 50


def answers_for(index: int) -> dict[str, str]:
    """Distinct answers per respondent, so a mixed-up or duplicated response shows."""
    return {f"soc{k}": str((index + k) % 7 + 1) for k in range(1, 14)}


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    store.register_instrument(load_instrument("soc13"))
    yield store
    store.close()


def stored_answers(store, tokens):
    """Token to the stored, completed answers of its response."""
    found = {}
    for token in tokens:
        invitation = store.invitation(token)
        if invitation.status == "complete":
            found[token] = {column: str(int(value)) for column, value in store.answers(invitation.response).items()}
    return found


def test_2000_submissions_from_50_clients_are_stored_once_each(store, tmp_path):
    tokens = store.create_invitations("soc13", "intake", 2000, cohort="pilot")
    jobs = {token: answers_for(i) for i, token in enumerate(tokens)}
    with Server(store.url, tmp_path / "k.key", tmp_path / "server.log") as server:
        submitter = Submitter(server.url, CLIENTS)
        asyncio.run(asyncio.wait_for(submitter.run(jobs), timeout=120))
    assert len(submitter.acknowledged) == 2000
    assert stored_answers(store, tokens) == jobs
    frame = store.responses("soc13", occasion="intake")
    assert len(frame) == 2000 and frame["respondent"].is_unique
    log = store.audit_log()
    assert (log["action"] == "complete_response").sum() == 2000


def test_acknowledged_submissions_survive_a_killed_server(store, tmp_path):
    tokens = store.create_invitations("soc13", "intake", 600, cohort="pilot")
    jobs = {token: answers_for(i) for i, token in enumerate(tokens)}
    server = Server(store.url, tmp_path / "k.key", tmp_path / "server.log").start()
    submitter = Submitter(server.url, CLIENTS, retry=True, deadline=90)

    async def load_with_a_crash():
        clients = asyncio.ensure_future(submitter.run(jobs))
        while len(submitter.acknowledged) < 200:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(server.kill)
        killed_at = len(submitter.acknowledged)
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(clients, timeout=120)
        return killed_at

    try:
        killed_at = asyncio.run(load_with_a_crash())
    finally:
        server.stop()
    assert 200 <= killed_at < 600 and submitter.failures > 0  # the kill did interrupt clients
    stored = stored_answers(store, tokens)
    assert {token: jobs[token] for token in submitter.acknowledged} == \
        {token: stored[token] for token in submitter.acknowledged}
    assert stored == jobs  # the unacknowledged ones were retried: nothing lost, nothing duplicated
    assert (store.audit_log()["action"] == "complete_response").sum() == 600
