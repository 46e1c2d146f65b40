"""Shared fixtures: the same store tests run on SQLite and on a real PostgreSQL server.

PostgreSQL comes from ``KANTELMETER_PG_URL`` (``.ci/run`` starts a throw-away
server and sets it). Under CI (``CI=true``) a missing or unreachable server
fails the test; elsewhere the PostgreSQL case is skipped. Every test gets a
fresh state: a new SQLite file, or a new PostgreSQL schema dropped afterwards.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from kantelmeter.instruments import parse_instrument
from kantelmeter.store import Store

BACKENDS = ["sqlite", "postgresql"]

SAMPLE_YAML = """
id: sample
version: "1.0"
title: {nl: Proefvragenlijst, en: Sample questionnaire}
description: {nl: Een kleine vragenlijst met elk soort vraag., en: A small questionnaire with every kind of question.}
source: {citation: "kantelmeter test data"}
licence: {name: EUPL-1.2}
occasions: [intake, follow_up]
response_scales:
  agree5:
    codes:
      - {code: 1, label: {nl: helemaal oneens, en: strongly disagree}}
      - {code: 2, label: {nl: oneens, en: disagree}}
      - {code: 3, label: {nl: neutraal, en: neutral}}
      - {code: 4, label: {nl: eens, en: agree}}
      - {code: 5, label: {nl: helemaal eens, en: strongly agree}}
    missing:
      - {code: 8, label: {nl: weet niet, en: don't know}}
      - {code: 9, label: {nl: niet van toepassing, en: not applicable}}
  yes_no:
    codes:
      - {code: 1, label: {nl: ja, en: "yes"}}
      - {code: 2, label: {nl: nee, en: "no"}}
  help_kinds:
    codes:
      - {code: 1, label: {nl: informatie, en: information}}
      - {code: 2, label: {nl: praktische hulp, en: practical help}}
      - {code: 3, label: {nl: gesprek, en: conversation}}
sections:
  - id: person
    title: {nl: Over u, en: About you}
    items:
      - id: bsn
        type: text
        identifier: bsn
        text: {nl: Burgerservicenummer, en: Citizen service number}
      - id: full_name
        type: text
        identifier: name
        text: {nl: Naam, en: Name}
      - id: age
        type: number
        min: 18
        max: 110
        text: {nl: Leeftijd, en: Age}
      - id: visit_date
        type: date
        text: {nl: Datum van het bezoek, en: Date of the visit}
        occasions: [intake]
  - id: help
    title: {nl: De hulp, en: The help}
    items:
      - id: got_help
        type: single_choice
        response_scale: yes_no
        required: true
        text: {nl: "Kreeg u hulp?", en: "Did you get help?"}
      - id: help_kind
        type: multiple_choice
        response_scale: help_kinds
        show_if: "got_help == 1"
        text: {nl: "Welke hulp?", en: "Which help?"}
      - id: helped_well
        type: rating
        response_scale: agree5
        required: true
        show_if: "got_help == 1"
        text: {nl: Ik ben goed geholpen., en: I was helped well.}
      - id: wellbeing
        type: score
        response_scale: agree5
        min: 1
        max: 7
        anchors: {min: {nl: slecht, en: bad}, max: {nl: uitstekend, en: excellent}}
        text: {nl: "Hoe gaat het met u?", en: "How are you?"}
      - id: remarks
        type: text
        text: {nl: Opmerkingen, en: Remarks}
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path):
    """A database URL with a fresh, empty state, for each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kantelmeter.db'}"
        return
    url = os.environ.get("KANTELMETER_PG_URL")
    if not url:
        _unavailable("KANTELMETER_PG_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except OperationalError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} is unreachable: {exc}")
    # The schema comes first on the search path, so the store's tables land in it.
    yield make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def key_file(tmp_path):
    return tmp_path / "keys" / "pseudonym.key"


@pytest.fixture
def store(store_url, key_file):
    store = Store(store_url, key_file=key_file, actor="tester")
    yield store
    store.close()


@pytest.fixture
def sample_instrument():
    """A small instrument with an item of every type, identifiers and show-if conditions."""
    return parse_instrument(SAMPLE_YAML, "sample.yaml")
