"""The response store, run against SQLite and PostgreSQL (see conftest.store_url)."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from kantelmeter import BSNError, load_instrument
from kantelmeter.store import (
    SCHEMA_VERSION,
    DuplicateResponse,
    NotInStore,
    ResponseLocked,
    Store,
    StoreError,
    answer_table,
)

BSN = "111222333"  # passes the eleven-test: 9*1+8*1+7*1+6*2+5*2+4*2+3*3+2*3-1*3 = 66 = 6*11


def test_schema_is_created_once_and_reopening_keeps_the_data(store, store_url, key_file, sample_instrument):
    assert store.schema_version() == SCHEMA_VERSION
    person = store.add_respondent(cohort="pilot")
    store.close()
    again = Store(store_url, key_file=key_file)
    assert again.schema_version() == SCHEMA_VERSION
    assert again.cohorts([person]) == {person: "pilot"}
    with again.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM schema_version")).scalar() == SCHEMA_VERSION
    again.close()


def test_a_newer_schema_is_refused(store, store_url, key_file):
    with store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_version (version, applied_at) VALUES (:v, CURRENT_TIMESTAMP)"),
            {"v": SCHEMA_VERSION + 1},
        )
    with pytest.raises(StoreError, match="newer than this kantelmeter"):
        Store(store_url, key_file=key_file)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path, key_file):
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=key_file)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()


def test_registering_an_instrument_is_idempotent_but_a_changed_one_needs_a_new_version(store, sample_instrument):
    store.register_instrument(sample_instrument)
    store.register_instrument(sample_instrument)
    assert store.instrument("sample") == sample_instrument
    changed = sample_instrument.model_copy(update={"occasions": ["intake"]})
    with pytest.raises(StoreError, match="new version"):
        store.register_instrument(changed)
    store.register_instrument(changed.model_copy(update={"version": "1.1"}))
    assert store.instrument("sample").version == "1.1"
    assert store.instrument("sample", "1.0").occasions == ["intake", "follow_up"]


def test_the_same_bsn_gives_the_same_respondent_and_a_bad_one_is_refused(store):
    first = store.add_respondent(cohort="pilot", identifiers={"bsn": BSN, "name": "Anna de Wit"})
    assert store.add_respondent(identifiers={"bsn": "1112.22.333"}) == first
    assert store.add_respondent(identifiers={"name": "Anna de Wit"}) != first  # the BSN took precedence
    with pytest.raises(BSNError, match="eleven-test"):
        store.add_respondent(identifiers={"bsn": "111222334"})
    with pytest.raises(StoreError, match="another cohort"):
        store.add_respondent(cohort="regular", identifiers={"bsn": BSN})
    with pytest.raises(StoreError, match="unknown identifier kind"):
        store.add_respondent(identifiers={"passport": "X"})


def test_a_partial_response_is_resumed_and_a_complete_one_is_locked(store, sample_instrument):
    person = store.add_respondent()
    response = store.start_response(person, sample_instrument, "intake")
    assert store.start_response(person, sample_instrument, "intake") == response
    assert store.start_response(person, sample_instrument, "follow_up") != response
    store.save_answers(response, {"got_help": 2})
    store.save_answers(response, {"age": 80, "got_help": 1}, complete=True)
    assert store.response_status(response) == "complete"
    assert store.answers(response) == {"got_help": 1.0, "age": 80.0}
    with pytest.raises(ResponseLocked, match=f"response {response} is complete"):
        store.save_answers(response, {"age": 81})
    with pytest.raises(ResponseLocked, match="already completed"):
        store.start_response(person, sample_instrument, "intake")
    with pytest.raises(KeyError, match="occasion 'week_3'"):
        store.start_response(person, sample_instrument, "week_3")
    with pytest.raises(KeyError, match="no respondent"):
        store.start_response("p-unknown", sample_instrument, "intake")


def test_a_resubmission_with_the_same_key_is_stored_once(store, sample_instrument):
    response = store.start_response(store.add_respondent(), sample_instrument, "intake")
    assert store.save_answers(response, {"age": 40}, submission="form-1") is True
    assert store.save_answers(response, {"age": 99}, submission="form-1") is False
    assert store.answers(response) == {"age": 40.0}
    assert store.save_answers(response, {"age": 41}, complete=True, submission="form-2") is True
    # A double click on the final button: the repeat is a no-op, not an error.
    assert store.save_answers(response, {"age": 41}, complete=True, submission="form-2") is False
    saves = store.audit_log().query("action in ['save_answers', 'complete_response']")
    assert len(saves) == 2


def test_a_first_page_begins_its_response_with_its_answers_or_not_at_all(store, sample_instrument):
    person = store.add_respondent()
    with pytest.raises(StoreError, match="item 'age' \\(column 'age'\\): value 'old': not a number"):
        store.save_page(None, person, sample_instrument, "intake", {"age": "old"}, submission="page-1")
    with pytest.raises(BSNError):
        store.save_page(None, person, sample_instrument, "intake", {"bsn": "123456789"})
    assert store.completion()["n"].sum() == 0  # a refused first page begins nothing
    response = store.save_page(None, person, sample_instrument, "intake", {"age": 40}, submission="page-1")
    assert store.answers(response) == {"age": 40.0}
    # the same page posted again (a retry): the response it began is found, the repeat changes nothing
    assert store.save_page(None, person, sample_instrument, "intake", {"age": 99}, submission="page-1") == response
    assert store.answers(response) == {"age": 40.0}
    log = store.audit_log()
    saves = log[log["action"].isin(["start_response", "save_answers"]) & (log["object"] == str(response))]
    assert saves["action"].tolist() == ["start_response", "save_answers"]
    with pytest.raises(NotInStore, match="no respondent with pseudonym"):
        store.save_page(None, "R-unknown", sample_instrument, "intake", {"age": 40})


def test_none_clears_an_answer_and_bad_columns_or_values_are_refused(store, sample_instrument):
    response = store.start_response(store.add_respondent(), sample_instrument, "intake")
    store.save_answers(response, {"age": 40, "remarks": "fine"})
    store.save_answers(response, {"age": None, "remarks": np.nan})
    assert store.answers(response) == {}
    with pytest.raises(StoreError, match="column 'mood' is not a column"):
        store.save_answers(response, {"mood": 3})
    with pytest.raises(
        StoreError, match="item 'age' \\(column 'age'\\): value 'old': not a number; allowed: a number in 18..110"
    ):
        store.save_answers(response, {"age": "old"})
    with pytest.raises(StoreError, match="not a date"):
        store.save_answers(response, {"visit_date": "3 March"})
    with pytest.raises(BSNError):
        store.save_answers(response, {"bsn": "123456789"})
    assert store.answers(response) == {}  # each failed save changed nothing


def test_responses_follow_the_tidy_contract(store, sample_instrument):
    pilot = store.add_respondent(cohort="pilot")
    regular = store.add_respondent(cohort="regular")
    unfinished = store.add_respondent(cohort="pilot")
    for person, answers in (
        (
            pilot,
            {
                "got_help": 1,
                "help_kind_1": 1,
                "help_kind_2": 0,
                "helped_well": 8,
                "visit_date": "2011-05-03",
                "remarks": "prima",
            },
        ),
        (regular, {"got_help": 2, "wellbeing": 6}),
    ):
        store.save_answers(store.start_response(person, sample_instrument, "intake"), answers, complete=True)
    store.save_answers(store.start_response(unfinished, sample_instrument, "intake"), {"got_help": 2})
    store.save_answers(store.start_response(pilot, sample_instrument, "follow_up"), {"got_help": 1}, complete=True)

    wide = store.responses(sample_instrument)
    assert list(wide.columns) == [
        "respondent",
        "occasion",
        "cohort",
        "collected_at",
        "version",
        *sample_instrument.columns,
    ]
    assert len(wide) == 3
    row = wide[(wide.respondent == pilot) & (wide.occasion == "intake")].iloc[0]
    assert (row.helped_well, row.help_kind_1, row.help_kind_2) == (8.0, 1.0, 0.0)
    assert np.isnan(row.help_kind_3) and np.isnan(row.wellbeing)
    assert row.visit_date == pd.Timestamp("2011-05-03") and row.remarks == "prima"
    assert wide["collected_at"].dt.tz is not None
    assert wide["age"].dtype == "float64"

    assert list(store.responses(sample_instrument, occasion="follow_up").respondent) == [pilot]
    assert list(store.responses("sample", cohort="regular").respondent) == [regular]
    assert len(store.responses(sample_instrument, include_partial=True)) == 4

    counts = store.completion(sample_instrument).set_index(["occasion", "cohort", "status"])["n"]
    assert counts.to_dict() == {
        ("follow_up", "pilot", "complete"): 1,
        ("intake", "pilot", "complete"): 1,
        ("intake", "pilot", "partial"): 1,
        ("intake", "regular", "complete"): 1,
    }


def test_an_empty_instrument_gives_an_empty_frame_with_every_column(store, sample_instrument):
    wide = store.responses(sample_instrument)
    assert wide.empty and list(wide.columns)[5:] == sample_instrument.columns


def test_invitations_store_only_a_hash_of_the_token(store, sample_instrument):
    tokens = store.create_invitations(sample_instrument, "follow_up", 3, cohort="pilot")
    assert len(set(tokens)) == 3 and all(len(t) >= 43 for t in tokens)  # 32 bytes = 256 bits
    invitation = store.invitation(tokens[0])
    assert (invitation.instrument, invitation.occasion, invitation.cohort) == ("sample", "follow_up", "pilot")
    assert invitation.response is None and invitation.status is None
    response = store.start_response(invitation.respondent, "sample", invitation.occasion)
    assert store.invitation(tokens[0]).status == "partial"
    store.save_answers(response, {"got_help": 2}, complete=True)
    assert (store.invitation(tokens[0]).response, store.invitation(tokens[0]).status) == (response, "complete")
    assert store.invitation(tokens[1]).respondent != invitation.respondent
    assert store.invitation("not-a-token") is None
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_sha256 FROM invitations")).scalars().all()
    assert not set(tokens) & set(stored)


def test_users_sign_in_with_an_argon2_hash(store):
    store.add_user("evaluator", "a long enough secret")
    assert store.verify_user("evaluator", "a long enough secret")
    assert not store.verify_user("evaluator", "a long enough secreT")
    assert not store.verify_user("nobody", "a long enough secret")
    with pytest.raises(StoreError, match="already exists"):
        store.add_user("evaluator", "another long secret")
    with pytest.raises(StoreError, match="too short"):
        store.add_user("analyst", "short")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar()
    assert stored.startswith("$argon2id$") and "secret" not in stored
    assert list(store.audit_log().action)[-3:] == ["sign_in", "sign_in_failed", "sign_in_failed"]


def test_the_audit_log_is_append_only(store):
    store.log("export", "sample", "csv: 0 responses")
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert list(store.audit_log().actor) == ["tester"]


def test_erase_removes_every_trace_of_a_respondent(store, sample_instrument):
    person = store.add_respondent(identifiers={"bsn": BSN}, cohort="pilot")
    other = store.add_respondent(cohort="pilot")
    for occasion in ("intake", "follow_up"):
        response = store.start_response(person, sample_instrument, occasion)
        store.save_answers(response, {"bsn": BSN, "got_help": 2}, complete=True, submission=f"s-{occasion}")
    store.save_answers(store.start_response(other, sample_instrument, "intake"), {"got_help": 1}, complete=True)
    assert store.erase(person) == 2
    assert list(store.responses(sample_instrument).respondent) == [other]
    assert store.cohorts([person]) == {}
    answers = answer_table(sample_instrument).name
    with store.engine.connect() as conn:
        for table in (answers, "submissions", "responses", "respondents"):
            assert (
                conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                == {answers: 1, "submissions": 0, "responses": 1, "respondents": 1}[table]
            )
    log = store.audit_log()
    assert log.iloc[-1].action == "erase" and log.iloc[-1].detail == "2 responses"
    assert not log.astype(str).apply(lambda column: column.str.contains(person)).any().any()
    with pytest.raises(KeyError):
        store.erase(person)


def test_a_bulk_add_is_all_or_nothing(store, sample_instrument):
    people = [store.add_respondent() for _ in range(3)]
    store.save_answers(store.start_response(people[2], sample_instrument, "intake"), {"got_help": 1}, complete=True)
    frame = pd.DataFrame({"respondent": people, "got_help": [1.0, 2.0, 2.0]})
    with pytest.raises(DuplicateResponse, match="nothing was added"):
        store.add_responses(sample_instrument, "intake", frame)
    assert len(store.responses(sample_instrument)) == 1
    assert store.add_responses(sample_instrument, "intake", frame.iloc[:2], batch="abc") == 2
    assert store.add_responses(sample_instrument, "intake", frame.iloc[:2], batch="abc") == 0
    assert store.batch_seen(sample_instrument, "intake", "abc")
    assert len(store.responses(sample_instrument)) == 3


def test_concurrent_double_submits_are_stored_once(store, sample_instrument):
    person = store.add_respondent()
    outcomes, errors = [], []

    def submit():
        try:
            response = store.start_response(person, sample_instrument, "intake")
            outcomes.append(store.save_answers(response, {"got_help": 1}, complete=True, submission="click"))
        except Exception as exc:  # collected so that the test can show it
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A thread that starts after the completion is told the response is locked; no other error is allowed.
    assert all(isinstance(e, ResponseLocked) for e in errors), errors
    assert outcomes.count(True) == 1
    assert store.completion(sample_instrument)["n"].tolist() == [1]


def test_an_unsupported_database_is_named(tmp_path):
    with pytest.raises(StoreError, match="not supported"):
        Store("mysql+pymysql://localhost/k", key_file=tmp_path / "k")


def test_a_shipped_instrument_round_trips_through_the_store(store):
    soc = load_instrument("soc13")
    person = store.add_respondent()
    store.save_answers(
        store.start_response(person, soc, "intake"), {f"soc{i}": i % 7 + 1 for i in range(1, 14)}, complete=True
    )
    assert store.responses(soc).iloc[0][[f"soc{i}" for i in range(1, 14)]].tolist() == [
        float(i % 7 + 1) for i in range(1, 14)
    ]


def test_a_bulk_add_reads_back_cell_for_cell(store, sample_instrument):
    # More numeric answers than one bulk block, holes everywhere, numbers with all 17 digits, text that needs
    # escaping and dates: the bulk write (executemany or text COPY) and the pivot on read must put every
    # value back in its own cell, next to a response saved the single way.
    rng = np.random.default_rng(7)
    n = 4000
    numeric = ["got_help", "helped_well", "help_kind_1", "help_kind_2", "help_kind_3", "age", "wellbeing"]
    frame = pd.DataFrame(
        {
            "respondent": [f"r{i:04d}" for i in range(n)],
            "cohort": rng.choice(["pilot", "regular"], n),
            "got_help": rng.choice([1.0, 2.0], n),
            "helped_well": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 8.0, np.nan], n),
            **{f"help_kind_{k}": rng.choice([0.0, 1.0, np.nan], n) for k in (1, 2, 3)},
            "age": np.where(rng.random(n) < 0.2, np.nan, rng.uniform(18, 110, n)),
            "wellbeing": rng.choice([1.0, 4.0, 7.0, 9.0, np.nan], n),
            "remarks": rng.choice(
                ["prima", "tab\tand\nnewline", 'quote " and \\ backslash', "a literal \\N, a \r return", None], n
            ),
            "visit_date": rng.choice(["2011-05-03", "2012-02-29", None], n),
        }
    )
    assert frame[numeric].notna().sum().sum() > 20_000
    assert store.add_responses(sample_instrument, "intake", frame) == n
    single = store.add_respondent(cohort="pilot")
    store.save_answers(
        store.start_response(single, sample_instrument, "intake"), {"got_help": 2, "age": 18 + 1 / 3}, complete=True
    )

    wide = store.responses(sample_instrument).set_index("respondent")
    assert len(wide) == n + 1 and [p for p in wide.index if p != single] == frame.respondent.tolist()
    bulk = wide.loc[frame.respondent]
    assert np.array_equal(bulk[numeric].to_numpy(), frame[numeric].to_numpy(), equal_nan=True)
    assert bulk.cohort.tolist() == frame.cohort.tolist()
    assert bulk.remarks.fillna("<none>").tolist() == frame.remarks.fillna("<none>").tolist()
    assert bulk.visit_date.tolist() == pd.to_datetime(frame.visit_date).tolist()
    assert wide.loc[single, ["got_help", "age"]].tolist() == [2.0, 18 + 1 / 3]
    assert wide.loc[single, ["helped_well", "help_kind_1"]].isna().all() and pd.isna(wide.loc[single, "remarks"])


def test_imported_and_web_times_read_back_together(store, sample_instrument):
    # A time imported on the whole second and one saved by the form with its fraction of a second sit side by
    # side; reading them back once stopped at the second's format.
    imported, answered = store.add_respondent(), store.add_respondent()
    frame = pd.DataFrame({"respondent": [imported], "got_help": [1], "collected_at": ["2024-03-01 10:00"]})
    store.add_responses(sample_instrument, "intake", frame)
    store.save_answers(store.start_response(answered, sample_instrument, "intake"), {"got_help": 2}, complete=True)
    times = store.responses(sample_instrument).set_index("respondent")["collected_at"]
    assert times[imported] == pd.Timestamp("2024-03-01 10:00", tz="Europe/Amsterdam")  # a file gives Dutch time
    assert abs(times[answered] - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=5)
