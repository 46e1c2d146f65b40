"""The upgrade from answer rows (schema 3) to one row per response (schema 4), and readers that never migrate."""

import hashlib
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import insert, inspect, select

from kantelmeter.store import SCHEMA_VERSION, Store, StoreError, answer_table, upgrade
from kantelmeter.store.schema import (
    MIGRATIONS,
    _engine,
    instruments,
    legacy_answers,
    respondents,
    responses_table,
    schema_versions,
)

AT = datetime(2026, 3, 1, 12, 0)
# (pseudonym, cohort, version, occasion, status, answers as the old layout held them)
RESPONSES = [
    (
        "r-anna",
        "pilot",
        "1.0",
        "intake",
        "complete",
        {"age": 34.0, "got_help": 1.0, "help_kind_2": 1.0, "visit_date": "2026-02-11", "remarks": "goed geholpen"},
    ),
    ("r-anna", "pilot", "2.0", "follow_up", "complete", {"age": 35.0, "got_help": 2.0, "extra": 3.0}),
    ("r-bram", "regular", "1.0", "intake", "partial", {"wellbeing": 4.0}),
    ("r-cees", None, "2.0", "intake", "partial", {}),  # begun, nothing answered yet
]


def _old_layout_store(url: str, versions: dict) -> None:
    """A store as kantelmeter wrote it before one row per response: schema 3, one row per answer."""
    engine = _engine(url)
    with engine.begin() as conn:
        schema_versions.create(conn)
        for version in (1, 2, 3):
            MIGRATIONS[version](conn)
            conn.execute(insert(schema_versions).values(version=version, applied_at=AT))
        for instrument in versions.values():
            definition = instrument.model_dump_json()
            conn.execute(
                insert(instruments).values(
                    id=instrument.id,
                    version=instrument.version,
                    definition=definition,
                    registered_at=AT,
                    sha256=hashlib.sha256(definition.encode()).hexdigest(),
                )
            )
        for pseudonym, cohort in dict((r[0], r[1]) for r in RESPONSES).items():
            conn.execute(insert(respondents).values(pseudonym=pseudonym, cohort=cohort, created_at=AT))
        for pseudonym, _, version, occasion, status, answers in RESPONSES:
            respondent = conn.execute(select(respondents.c.id).where(respondents.c.pseudonym == pseudonym)).scalar()
            response = conn.execute(
                insert(responses_table)
                .values(
                    respondent_id=respondent,
                    instrument="sample",
                    version=version,
                    occasion=occasion,
                    collected_at=AT if status == "complete" else None,
                    status=status,
                    source="web",
                )
                .returning(responses_table.c.id)
            ).scalar()
            for column, value in answers.items():
                numeric = isinstance(value, float)
                conn.execute(
                    insert(legacy_answers).values(
                        response_id=response,
                        column=column,
                        value_numeric=value if numeric else None,
                        value_text=None if numeric else value,
                    )
                )
    engine.dispose()


@pytest.fixture
def versions(sample_instrument):
    """Version 2 drops the remarks and adds a coded item, so reading all versions needs the union."""
    second = sample_instrument.model_dump()
    items = second["sections"][-1]["items"]
    coded = next(item for item in items if item["id"] == "wellbeing")
    items[:] = [item for item in items if item["id"] != "remarks"] + [{**coded, "id": "extra"}]
    return {"1.0": sample_instrument, "2.0": type(sample_instrument).model_validate({**second, "version": "2.0"})}


def test_an_old_store_is_refused_until_upgraded_then_holds_every_answer(store_url, key_file, versions, tmp_path):
    _old_layout_store(store_url, versions)
    with pytest.raises(
        StoreError,
        match=r"schema version 3, older than this kantelmeter uses \(4\); nothing was "
        r"read or changed.*kantelmeter db upgrade --db URL",
    ):
        Store(store_url, key_file=key_file)
    assert upgrade(store_url) == (3, SCHEMA_VERSION)
    assert upgrade(store_url) == (SCHEMA_VERSION, SCHEMA_VERSION)  # a second upgrade changes nothing
    migrated = Store(store_url, key_file=key_file, actor="tester")
    assert "answers" not in inspect(migrated.engine).get_table_names()

    # The same responses entered today, through the store's own calls, read back the same.
    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}", key_file=key_file, actor="tester")
    for pseudonym, cohort, version, occasion, status, answers in RESPONSES:
        frame = pd.DataFrame([{"respondent": pseudonym, "cohort": cohort, **answers}])
        if status == "complete":
            reference.add_responses(versions[version], occasion, frame.assign(collected_at="2026-03-01T12:00:00Z"))
        else:
            with reference._write() as conn:  # a respondent under this very pseudonym, as the old store has
                reference._respondent_ids(conn, {pseudonym: cohort}, None)
            response = reference.start_response(pseudonym, versions[version], occasion)
            reference.save_answers(response, answers)
    for occasion in (None, "intake"):
        expected = reference.responses("sample", occasion=occasion, include_partial=True)
        found = migrated.responses(versions["2.0"], occasion=occasion, include_partial=True)
        pd.testing.assert_frame_equal(found.drop(columns="collected_at"), expected.drop(columns="collected_at"))
    complete = migrated.responses(versions["2.0"]).set_index("occasion")
    assert complete.version.to_dict() == {"follow_up": "2.0", "intake": "1.0"}
    assert complete.remarks.intake == "goed geholpen" and pd.isna(complete.remarks.follow_up)
    assert complete.visit_date.intake == pd.Timestamp("2026-02-11") and pd.isna(complete.extra.intake)
    assert complete.extra.follow_up == 3.0 and complete.help_kind_2.intake == 1.0

    # A migrated partial response goes on as any other: its page is saved into its row.
    bram = migrated.start_response("r-bram", versions["1.0"], "intake")
    assert migrated.answers(bram) == {"wellbeing": 4.0}
    migrated.save_answers(bram, {"got_help": 2, "wellbeing": None}, complete=True)
    assert migrated.answers(bram) == {"got_help": 2.0}
    assert migrated.erase("r-anna") == 2
    with migrated.engine.connect() as conn:
        rows = {v: conn.execute(select(answer_table(i).c.response_id)).scalars().all() for v, i in versions.items()}
    assert [len(r) for r in rows.values()] == [1, 1]  # bram's and cees's rows; anna's went with her
    migrated.close()
    reference.close()


def test_a_new_store_is_made_at_the_latest_version_directly(store_url, key_file):
    assert upgrade(store_url) == (0, SCHEMA_VERSION)
    store = Store(store_url, key_file=key_file)
    assert store.schema_version() == SCHEMA_VERSION
    assert "answers" not in inspect(store.engine).get_table_names()
    store.close()


def test_kantelmeter_db_upgrade_is_the_explicit_step(tmp_path, versions):
    from click.testing import CliRunner

    from kantelmeter.cli import main

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _old_layout_store(url, versions)
    done = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert done.exit_code == 0 and f"now at schema version {SCHEMA_VERSION} (was 3)" in done.output
    again = CliRunner().invoke(main, ["db", "upgrade", "--db", url])
    assert again.exit_code == 0 and "nothing to do" in again.output
