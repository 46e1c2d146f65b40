"""The store's accounts: roles, server-side sessions, who started an interview, and the migration that added them."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from kantelmeter.store import SCHEMA_VERSION, SURVEY_TABLES, Account, Store, StoreError, upgrade
from kantelmeter.store.schema import legacy_answers

PASSWORD = "a long enough secret"


def test_a_version_1_database_gets_roles_and_sessions_and_keeps_its_users(store, store_url, key_file):
    store.add_user("ann", PASSWORD)
    with store.engine.begin() as conn:  # back to the schema of version 1
        for table in ["sessions", "interviews", *reversed(SURVEY_TABLES)]:
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(text("ALTER TABLE users DROP COLUMN role"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
        legacy_answers.create(conn)  # no instrument is registered, so no answer table is there to fold back
    store.close()
    with pytest.raises(StoreError, match="schema version 1, older .* run `kantelmeter db upgrade --db URL`"):
        Store(store_url, key_file=key_file)
    assert upgrade(store_url) == (1, SCHEMA_VERSION)
    again = Store(store_url, key_file=key_file)
    assert again.schema_version() == SCHEMA_VERSION
    assert again.verify_user("ann", PASSWORD)
    assert again.session(again.open_session("ann")) == Account("ann", "interviewer")  # what a user could do before
    again.close()


def test_a_role_is_one_of_two_and_a_session_names_it(store):
    with pytest.raises(StoreError, match="role 'admin' for 'ann'; allowed: interviewer, evaluator"):
        store.add_user("ann", PASSWORD, role="admin")
    store.add_user("eve", PASSWORD, role="evaluator")
    session = store.open_session("eve")
    assert store.session(session) == Account("eve", "evaluator")
    assert store.session(session + "x") is None and store.session(None) is None
    with store.engine.connect() as conn:  # only the hash of the id is kept
        assert conn.execute(text("SELECT count(*) FROM sessions WHERE id_sha256 = :id"), {"id": session}).scalar() == 0


def test_sessions_end_at_sign_out_when_idle_or_old_and_with_their_user(store):
    store.add_user("ann", PASSWORD)
    first, second, third = (store.open_session("ann") for _ in range(3))
    store.end_session(first)
    assert store.session(first) is None and store.session(second) is not None
    assert store.session(second, idle=timedelta(0)) is None and store.session(second) is None  # ended, not just refused
    assert store.session(third, lifetime=timedelta(0)) is None
    fourth = store.open_session("ann")
    store.set_password("ann", "another long secret")
    assert store.session(fourth) is None and store.verify_user("ann", "another long secret")
    fifth = store.open_session("ann")
    with store.engine.begin() as conn:  # a changed role ends the session too
        conn.execute(text("UPDATE users SET role = 'evaluator' WHERE username = 'ann'"))
    assert store.session(fifth) is None
    sixth = store.open_session("ann")
    store.remove_user("ann")
    assert store.session(sixth) is None and not store.verify_user("ann", "another long secret")
    with pytest.raises(StoreError, match="no user 'ann'"):
        store.remove_user("ann")
    with pytest.raises(StoreError, match="no user 'ann'"):
        store.set_password("ann", "yet another secret")
    with pytest.raises(StoreError, match="too short"):
        store.add_user("bob", "short")


def test_an_interview_belongs_to_who_started_it_until_they_are_removed(store, sample_instrument):
    store.add_user("ann", PASSWORD)
    person = store.add_respondent()
    interview = store.start_response(person, sample_instrument, "intake", "interview", actor="ann")
    web = store.start_response(store.add_respondent(), sample_instrument, "intake", "web")
    assert store.interviewer(interview) == "ann" and store.interviewer(web) is None
    assert store.start_response(person, sample_instrument, "intake", "interview", actor="bob") == interview
    assert store.interviewer(interview) == "ann"  # resuming does not hand it over
    store.remove_user("ann")
    assert store.interviewer(interview) is None
    assert [e for e in store.audit_log()["action"] if e in ("add_user", "remove_user")] == ["add_user", "remove_user"]
