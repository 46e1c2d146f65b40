"""One answer domain: the web form, the import, the store and scoring accept and refuse the same values."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import text

from kantelmeter import load_instrument
from kantelmeter.answers import AnswerError, domains, parse_datetime
from kantelmeter.io import validate_responses
from kantelmeter.scoring import answers as scored_answers
from kantelmeter.store import AnswerRefused, StoreError
from kantelmeter.web.forms import pages, read_page

RAW = ["4", "4.0", " 7 ", "3.5", "9", "0", "x", "", "1e0"]


def test_the_store_refuses_what_the_instrument_does_not_allow_and_never_completes_it(store):
    soc = load_instrument("soc13")
    response = store.start_response(store.add_respondent(), soc, "intake")
    with pytest.raises(
        AnswerRefused,
        match=r"item 'soc1' \(column 'soc1'\): value 42: not a code of this item; "
        r"allowed: 1\.\.7",
    ):
        store.save_answers(response, {"soc1": 42, "soc2": 3.5}, complete=True)
    assert store.response_status(response) == "partial" and store.answers(response) == {}
    with pytest.raises(AnswerRefused, match="value 3.5: not a code"):
        store.add_responses(soc, "intake", pd.DataFrame({"respondent": ["r-x"], "soc2": [3.5]}))
    assert store.responses(soc).empty


def test_every_path_decides_alike(store):
    soc = load_instrument("soc13")
    domain = domains(soc)["soc1"]
    page = pages(soc, "intake")[0]
    for value in RAW:
        expected = domain.refusal(value) is None
        form = read_page(soc, page, {"soc1": [value]}, {}, check_required=False)
        report = validate_responses(soc, pd.DataFrame({"respondent": ["r-1"], "soc1": [value]}), "intake")
        _, problems = scored_answers(soc, pd.DataFrame({"soc1": [value]}), ["soc1"], errors="coerce")
        response = store.start_response(store.add_respondent(), soc, "intake")
        try:
            store.save_answers(response, {"soc1": value})
            saved = True
        except AnswerRefused:
            saved = False
        assert ("soc1" not in form.errors, report.ok, problems.empty, saved) == (expected,) * 4, value
        if expected and value.strip():
            assert form.answers["soc1"] == report.data["soc1"].iloc[0] == store.answers(response)["soc1"]


def test_a_time_without_offset_is_local_in_a_configurable_zone(monkeypatch):
    assert parse_datetime("2011-07-01 12:00") == pd.Timestamp("2011-07-01 10:00", tz="UTC")  # summer: +02:00
    assert parse_datetime("01-12-2011 12:00") == pd.Timestamp("2011-12-01 11:00", tz="UTC")  # winter: +01:00
    assert parse_datetime("2011-07-01T12:00:00Z") == pd.Timestamp("2011-07-01 12:00", tz="UTC")
    monkeypatch.setenv("KANTELMETER_TIMEZONE", "America/Curacao")  # Caribbean Netherlands: -04:00
    assert parse_datetime("2011-07-01 12:00") == pd.Timestamp("2011-07-01 16:00", tz="UTC")
    monkeypatch.setenv("KANTELMETER_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="KANTELMETER_TIMEZONE='Mars/Olympus' is not a time zone"):
        parse_datetime("2011-07-01 12:00")


def test_an_identifier_value_is_never_shown_in_a_refusal():
    domain = domains(load_instrument("intake_record"))["bsn"]
    with pytest.raises(AnswerError) as refused:
        domain.parse("123456789")
    assert "123456789" not in str(refused.value) and "<withheld>" in str(refused.value)
    assert domain.parse("p-0123456789abcdef0123") == "p-0123456789abcdef0123"  # already a pseudonym


def test_a_nul_character_is_refused_by_name_before_it_reaches_either_store(store, sample_instrument):
    """PostgreSQL cannot hold a NUL and SQLite's JSON functions cut text at it, so a text would be lost or cut."""
    assert domains(sample_instrument)["remarks"].refusal("fine\x00print").key == "hidden_character"
    help_page = next(page for page in pages(sample_instrument, "intake") if page.id == "help")
    form = read_page(sample_instrument, help_page, {"remarks": ["a\x00b"]}, {}, check_required=False)
    assert form.errors["remarks"].key == "hidden_character" and form.answers.get("remarks") is None
    response = store.start_response(store.add_respondent(), sample_instrument, "intake")
    with pytest.raises(AnswerRefused, match="column 'remarks'.*holds a NUL character"):
        store.save_answers(response, {"remarks": "a\x00b"})
    assert store.answers(response) == {}
    with store.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM respondents")).scalar()
    with pytest.raises(StoreError, match="respondents.cohort: value 'pilot\\\\x00' holds a NUL character"):
        store.add_respondent(cohort="pilot\x00")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM respondents")).scalar() == before
