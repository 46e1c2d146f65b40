"""Many respondents at once against a real server on loopback, and a server killed mid-load (marker ``slow``).

Each of 50 clients opens invitation links and submits the one-page SOC-13 form.
Every submission must be stored exactly once with the answers sent, including
when the server is killed with SIGKILL halfway and restarted: what the server
acknowledged (HTTP 303) must be in the store afterwards.
"""

import asyncio

import pytest
from webserver import Server, Submitter

from kantelmeter import load_instrument
from kantelmeter.store import Store

pytestmark = pytest.mark.slow

CLIENTS = 50


def answers_for(index: int) -> dict[str, str]:
    """Distinct answers per respondent, so a mixed-up or duplicated response shows."""
    return {f"soc{k}": str((index + k) % 7 + 1) for k in range(1, 14)}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One store and one server for both tests: a server start costs seconds on a busy machine."""
    folder = tmp_path_factory.mktemp("load")
    store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
    store.register_instrument(load_instrument("soc13"))
    server = Server(store.url, folder / "k.key", folder / "server.log").start()
    yield store, server
    server.stop()
    store.close()


def stored_answers(store, tokens):
    """Token to the stored, completed answers of its response."""
    found = {}
    for token in tokens:
        invitation = store.invitation(token)
        if invitation.status == "complete":
            found[token] = {column: str(int(value)) for column, value in store.answers(invitation.response).items()}
    return found


def completions(store, tokens):
    """How often the audit log records each of these responses as completed."""
    log = store.audit_log()
    counted = log.loc[log["action"] == "complete_response", "object"].value_counts()
    return [int(counted.get(str(store.invitation(token).response), 0)) for token in tokens]


def test_2000_submissions_from_50_clients_are_stored_once_each(served):
    store, server = served
    tokens = store.create_invitations("soc13", "intake", 2000, cohort="load")
    jobs = {token: answers_for(i) for i, token in enumerate(tokens)}
    submitter = Submitter(server.url, CLIENTS)
    asyncio.run(asyncio.wait_for(submitter.run(jobs), timeout=300))  # a hang guard, not a time limit
    assert len(submitter.acknowledged) == 2000
    assert stored_answers(store, tokens) == jobs
    frame = store.responses("soc13", occasion="intake", cohort="load")
    assert len(frame) == 2000 and frame["respondent"].is_unique
    assert set(completions(store, tokens)) == {1}


def test_acknowledged_submissions_survive_a_killed_server(served):
    store, server = served
    tokens = store.create_invitations("soc13", "intake", 600, cohort="crash")
    jobs = {token: answers_for(i) for i, token in enumerate(tokens)}
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

    killed_at = asyncio.run(load_with_a_crash())
    assert 200 <= killed_at < 600 and submitter.failures > 0  # the kill did interrupt clients
    stored = stored_answers(store, tokens)
    assert {token: jobs[token] for token in submitter.acknowledged} == {
        token: stored[token] for token in submitter.acknowledged
    }
    assert stored == jobs  # the unacknowledged ones were retried: nothing lost
    assert set(completions(store, tokens)) == {1}  # and nothing saved twice
