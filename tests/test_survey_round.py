"""A whole survey round through the commands an evaluator uses, on SQLite and PostgreSQL.

register -> frame import -> sample -> letters -> answers (web and paper) -> dispositions ->
reminders -> response -> weights -> ceo table / ceo export; and the store never holding a
name, address or BSN.
"""

from __future__ import annotations

import csv
import os
import stat

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from webserver import chromium

from kantelmeter.cli import main
from kantelmeter.instruments import load_instrument
from kantelmeter.store import Store, StoreError
from kantelmeter.survey import Sample, response
from kantelmeter.survey.register import synthetic_register

ROUND = "2026-ceo"


def _run(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def register(tmp_path):
    table = synthetic_register(300, seed=13)
    path = tmp_path / "register.csv"
    table.to_csv(path, index=False)
    return table, path


def _store_args(store_url, key_file):
    return ["--db", store_url, "--key-file", key_file]


def _answer(store: Store, letters: pd.DataFrame, rng: np.random.Generator) -> set[str]:
    """Half answer on the web through their token, a few on paper (imported); returns who completed.

    One in five had no contact with the municipality and, as the routing has it, no access question.
    """
    citizen = load_instrument("citizen")
    done = set()
    paper = []
    for _, row in letters.iterrows():
        draw = rng.random()
        token = row["link"].rsplit("/r/", 1)[1]
        invitation = store.invitation(token)
        contact = int(rng.choice([1, 1, 1, 1, 2]))
        answers = {
            "ceo_access_quick": int(rng.integers(1, 6)) if contact == 1 else None,
            "ceo_quality_good": int(rng.choice([2, 4, 5, 8])),
            "support_contact": contact,
            "sex": int(rng.integers(1, 3)),
            "support_type_1": 1,
            "support_type_4": 0,
        }
        if draw < 0.45:
            response_id = store.start_response(invitation.respondent, citizen, "follow_up", source="web")
            store.save_answers(response_id, answers, complete=True)
            done.add(invitation.respondent)
        elif draw < 0.55:
            paper.append({"respondent": invitation.respondent, **answers})
            done.add(invitation.respondent)
        elif draw < 0.6:
            response_id = store.start_response(invitation.respondent, citizen, "follow_up", source="web")
            store.save_answers(response_id, {"ceo_access_quick": 4})  # begun, not finished
    store.add_responses(citizen, "follow_up", pd.DataFrame(paper), source="import")
    return done


def test_a_round_from_register_to_weighted_ceo_table(tmp_path, register, store_url, key_file):
    table, path = register
    db = _store_args(store_url, key_file)
    out = _run(
        "frame",
        "import",
        path,
        "--round",
        ROUND,
        "--id",
        "bsn",
        "--strata",
        "district",
        "--aux",
        "age_group,sex,provision",
        *db,
    )
    assert "300 clients in the frame" in out
    out = _run("sample", "--round", ROUND, "--n", 150, "--seed", 7, *db)
    assert "150 clients sampled (seed 7)" in out

    letters_csv = tmp_path / "mail" / "letters.csv"
    letters_csv.parent.mkdir()
    _run("letters", "--round", ROUND, "--register", path, "--id", "bsn", "--out", letters_csv, "--no-pdf", *db)
    assert stat.S_IMODE(os.stat(letters_csv).st_mode) == 0o600
    letters = pd.read_csv(letters_csv, dtype=str)
    assert len(letters) == 150 and letters["code"].str.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}").all()
    assert set(letters["name"]) <= set(table["name"])
    assert "Beste " in letters["text"].iloc[0] and "privacy" in letters["text"].iloc[0].lower()
    qr = tmp_path / "mail" / letters["qr"].iloc[0]
    assert qr.read_bytes()[:4] == b"\x89PNG" and stat.S_IMODE(os.stat(qr.parent).st_mode) == 0o700

    store = Store(store_url, key_file=key_file)
    done = _answer(store, letters, np.random.default_rng(1))
    # the evaluator records who moved or died and who said no, by register id
    sampled = set(letters["pseudonym"])
    ids = {store.pseudonym("bsn", b): b for b in table["bsn"]}
    silent = [p for p in sorted(sampled) if p not in done]
    codes = pd.DataFrame(
        {
            "bsn": [ids[p] for p in silent[:6]],
            "code": ["moved", "deceased", "not_client", "refused", "refused", "no_contact"],
        }
    )
    codes.to_csv(tmp_path / "codes.csv", index=False)
    _run("disposition", tmp_path / "codes.csv", "--round", ROUND, "--id", "bsn", *db)

    reminders_csv = tmp_path / "mail" / "reminders.csv"
    _run(
        "letters",
        "--round",
        ROUND,
        "--register",
        path,
        "--id",
        "bsn",
        "--out",
        reminders_csv,
        "--reminder",
        "--no-pdf",
        *db,
    )
    reminded = set(pd.read_csv(reminders_csv, dtype=str)["pseudonym"])
    assert reminded == set(silent[5:])  # not the responders, the ineligible or those who refused
    assert "Herinnering" in pd.read_csv(reminders_csv, dtype=str)["subject"].iloc[0]

    out = _run("response", "--round", ROUND, "--figure", tmp_path / "response.png", *db)
    assert "R-indicator (age_group, sex, provision)" in out and (tmp_path / "response.png").stat().st_size > 0
    account = response(Sample.from_store(store, ROUND), store, replicates=20)
    total = account.table.set_index("stratum").loc["total"]
    assert total["sampled"] == 150 and total["ineligible"] == 3 and total["complete"] == len(done)
    assert total["refused"] == 2 and total["rr1"] == pytest.approx(len(done) / 147)
    modes = account.by_mode.set_index("mode")
    assert modes.loc["paper", "complete"] > 0 and modes.loc["web", "complete"] > 0
    assert modes.loc["web", "partial"] > 0

    out = _run("weights", "--round", ROUND, "--margins", "age_group,provision", *db)
    assert f"{len(done)} respondents weighted (raking on age_group, provision)" in out
    weights = store.round_weights(ROUND)
    assert weights["weight"].sum() == pytest.approx(300, rel=1e-3)

    ceo_csv = tmp_path / "ceo.csv"
    _run("ceo", "table", "--round", ROUND, "--out", ceo_csv, *db)
    ceo = pd.read_csv(ceo_csv).set_index("item")
    assert ceo["weighted"].all() and ceo.loc["ceo_quality_good", "n_valid"] < len(done)  # 'weet niet' left out
    assert (
        ceo.loc["ceo_access_quick", "ci_low"]
        < ceo.loc["ceo_access_quick", "pct_agree"]
        < ceo.loc["ceo_access_quick", "ci_high"]
    )

    export_csv = tmp_path / "delivery.csv"
    _run("ceo", "export", "--round", ROUND, "--out", export_csv, *db)
    delivery = pd.read_csv(export_csv)
    quick = delivery[delivery["indicator"] == "ceo_access_quick"]
    assert quick["count"].sum() == len(done)  # every complete response once; the begun one is not delivered
    responses = store.responses("citizen", occasion="follow_up")
    no_contact = int((responses["support_contact"] == 2).sum())
    assert 0 < no_contact < len(done)
    # a client routed past an access question is not asked, not a missing answer
    quick = quick.set_index("code")["count"]
    assert (quick["not_asked"], quick["no_answer"]) == (no_contact, 0)
    serious = delivery[delivery["indicator"] == "ceo_access_serious"].set_index("code")["count"]
    assert (serious["not_asked"], serious["no_answer"]) == (no_contact, len(done) - no_contact)
    assert ceo.loc["ceo_access_quick", "n_valid"] == len(done) - no_contact
    assert delivery["population"].unique().tolist() == [300] and delivery["invited"].unique().tolist() == [150]
    assert delivery["responses"].unique().tolist() == [len(done)]
    assert (delivery["mode_web"] + delivery["mode_paper"]).unique().tolist() == [len(done)]
    support = delivery[delivery["indicator"] == "soort_ondersteuning"].set_index("code")["count"]
    assert support["1"] == len(done) and support["4"] == 0

    _assert_store_holds_no_identity(store_url, table)
    store.close()


def _assert_store_holds_no_identity(store_url: str, table: pd.DataFrame) -> None:
    """Dump every table of the store and look for any BSN, name or address of the register."""
    engine = create_engine(store_url)
    with engine.connect() as conn:
        names = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if engine.dialect.name == "sqlite"
                    else "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                )
            )
        ]
        dump = "\n".join(str(row) for name in names for row in conn.execute(text(f'SELECT * FROM "{name}"')))
    engine.dispose()
    assert "survey_frame" in names
    for column in ("bsn", "name", "address"):
        leaked = [value for value in table[column] if value in dump]
        assert not leaked, f"{column} in the store: {leaked[:3]}"


def test_login_codes_open_the_letter_and_nothing_else(tmp_path, register, store):
    table, path = register
    from kantelmeter.survey import Frame, draw, frame

    frame(path, id="bsn", strata="district", auxiliaries=["sex"], pseudonymiser=store.pseudonymiser).to_store(
        store, ROUND, load_instrument("citizen"), "follow_up"
    )
    draw(Frame.from_store(store, ROUND), n=20, seed=2).to_store(store, ROUND)
    sent = store.invite_round(ROUND, store.round_sample(ROUND)["pseudonym"][:3])
    pseudonym, token, code = sent.iloc[1]
    fresh, invitation = store.invitation_by_code(code.lower().replace("-", " "))  # typed loosely
    assert invitation.respondent == pseudonym and invitation.occasion == "follow_up"
    assert store.invitation(token) is None  # the code replaced the letter's token ...
    assert store.invitation(fresh).respondent == pseudonym  # ... by a fresh one
    assert store.invitation_by_code("AAAAA-AAAAA") is None and store.invitation_by_code("") is None
    with pytest.raises(StoreError, match="not in its sample"):
        store.invite_round(ROUND, ["p-0000"])
    with pytest.raises(StoreError, match="already has its sample"):
        draw(Frame.from_store(store, ROUND), n=5, seed=3).to_store(store, ROUND)
    with pytest.raises(StoreError, match="disposition 'emigrated'"):
        store.record_dispositions(ROUND, {pseudonym: "emigrated"})
    with pytest.raises(StoreError, match="frame column\\(s\\) \\['name'\\] are not allowed"):
        store.create_round(
            "other",
            "citizen",
            "follow_up",
            pd.DataFrame({"pseudonym": ["p-1"], "stratum": ["a"], "name": ["Jan"]}),
            "bsn",
            None,
            [],
        )
    with pytest.raises(KeyError, match="no survey round 'nope' in this store; rounds: 2026-ceo"):
        store.round_info("nope")


def test_erasing_a_client_removes_them_from_every_round(register, store):
    table, path = register
    from kantelmeter.survey import Frame, draw, frame

    frame(path, id="bsn", strata="district", pseudonymiser=store.pseudonymiser).to_store(
        store, ROUND, load_instrument("citizen"), "follow_up"
    )
    draw(Frame.from_store(store, ROUND), n=300, allocation="census").to_store(store, ROUND)
    pseudonym = store.pseudonym("bsn", table["bsn"].iloc[0])
    store.invite_round(ROUND, [pseudonym])
    store.record_dispositions(ROUND, {pseudonym: "refused"})
    store.erase(pseudonym)
    assert pseudonym not in set(store.round_frame(ROUND)["pseudonym"])
    assert pseudonym not in set(store.round_outcomes(ROUND)["pseudonym"])
    assert len(store.round_frame(ROUND)) == 299


def test_follow_up_invitations_reach_the_same_pseudonyms(tmp_path, store_url, key_file):
    db = _store_args(store_url, key_file)
    intake = tmp_path / "intake.csv"
    _run("invite", "--instrument", "citizen", "--occasion", "intake", "--count", 3, "--out", intake, *db)
    first = list(csv.DictReader(intake.open(encoding="utf-8")))
    follow = tmp_path / "follow.csv"
    _run("invite", "--instrument", "citizen", "--occasion", "follow_up", "--respondents", intake, "--out", follow, *db)
    second = list(csv.DictReader(follow.open(encoding="utf-8")))
    assert [r["respondent"] for r in second] == [r["respondent"] for r in first]
    store = Store(store_url, key_file=key_file)
    for row in second:
        invitation = store.invitation(row["link"].rsplit("/r/", 1)[1])
        assert (invitation.respondent, invitation.occasion) == (row["respondent"], "follow_up")
    store.close()
    (tmp_path / "strangers.csv").write_text("respondent\nr-00000000000000000000\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "invite",
            "--instrument",
            "citizen",
            "--occasion",
            "follow_up",
            "--respondents",
            str(tmp_path / "strangers.csv"),
            *map(str, db),
        ],
    )
    assert result.exit_code == 1 and "1 respondent(s) are not in this store" in result.output
    result = CliRunner().invoke(main, ["invite", "--instrument", "citizen", "--occasion", "follow_up", *map(str, db)])
    assert result.exit_code == 2 and "give either --count" in result.output


def test_round_commands_name_bad_input(tmp_path, register):
    table, path = register
    db = ["--db", f"sqlite:///{tmp_path / 'k.db'}", "--key-file", str(tmp_path / "k.key")]
    bad = table.copy()
    bad.loc[3, "bsn"] = bad.loc[2, "bsn"]
    bad.loc[5, "bsn"] = "123456789"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    result = CliRunner().invoke(
        main, ["frame", "import", str(tmp_path / "bad.csv"), "--round", ROUND, "--id", "bsn", "--strata", "wijk", *db]
    )
    assert result.exit_code == 1 and "field 'wijk': no such column" in result.output
    result = CliRunner().invoke(
        main, ["frame", "import", str(tmp_path / "bad.csv"), "--round", ROUND, "--id", "bsn", *db]
    )
    assert result.exit_code == 1 and "bad.csv: 2 problem(s)" in result.output
    assert "row 4, field 'bsn'" in result.output and "row 6, field 'bsn' '*****6789'" in result.output
    _run("frame", "import", path, "--round", ROUND, "--id", "bsn", "--strata", "district", *db)
    result = CliRunner().invoke(main, ["weights", "--round", ROUND, *db])
    assert result.exit_code == 1 and "has no sample yet" in result.output
    result = CliRunner().invoke(main, ["sample", "--round", ROUND, "--n", 999, *db])
    assert result.exit_code == 1 and "larger than the frame of 300 clients" in result.output
    _run("sample", "--round", ROUND, "--n", 30, "--seed", 1, *db)
    result = CliRunner().invoke(main, ["weights", "--round", ROUND, *db])
    assert result.exit_code == 1 and "no response yet" in result.output
    result = CliRunner().invoke(main, ["response", "--round", "2025-ceo", *db])
    assert result.exit_code == 1 and "no survey round '2025-ceo' in this store; rounds: 2026-ceo" in result.output


def test_letters_print_to_one_pdf(tmp_path, register):
    chromium()
    table, path = register
    db = ["--db", f"sqlite:///{tmp_path / 'k.db'}", "--key-file", str(tmp_path / "k.key")]
    _run("frame", "import", path, "--round", ROUND, "--id", "bsn", *db)
    _run("sample", "--round", ROUND, "--n", 3, "--seed", 1, *db)
    out = _run("letters", "--round", ROUND, "--register", path, "--id", "bsn", "--out", tmp_path / "letters.csv", *db)
    pdf = tmp_path / "letters.pdf"
    assert f"PDF {pdf}" in out and pdf.read_bytes()[:5] == b"%PDF-"
    assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600


def test_the_demo_round_writes_every_step(tmp_path):
    from kantelmeter.demo import ROUND, survey_round

    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    result = survey_round(store, tmp_path / "round", seed=3, clients=400, n=160)
    table = pd.read_csv(result.files["response.csv"]).set_index("stratum")
    assert table.loc["total", "sampled"] == 160 and 0.3 < table.loc["total", "rr1"] < 0.8
    weights = store.round_weights(ROUND)
    collected = store.responses("citizen", occasion="follow_up")["collected_at"]
    assert collected.min() >= pd.Timestamp("2026-09-07", tz="UTC") and collected.max() < pd.Timestamp(
        "2026-10-13", tz="UTC"
    )
    assert len(weights) == table.loc["total", "complete"] and weights["weight"].sum() == pytest.approx(400, rel=1e-3)
    store.close()
    assert pd.read_csv(result.files["ceo_table.csv"])["weighted"].all()
    reminders = pd.read_csv(result.files["reminders.csv"], dtype=str)
    assert 0 < len(reminders) < 160 - table.loc["total", "complete"] + 1


def test_a_typed_login_code_opens_the_letters_form(tmp_path, register):
    from starlette.testclient import TestClient

    from kantelmeter.survey import Frame, draw, frame
    from kantelmeter.web.app import create_app

    table, path = register
    store = Store(f"sqlite:///{tmp_path / 'k.db'}", key_file=tmp_path / "k.key")
    frame(path, id="bsn", pseudonymiser=store.pseudonymiser).to_store(
        store, ROUND, load_instrument("citizen"), "follow_up"
    )
    draw(Frame.from_store(store, ROUND), n=2, seed=1).to_store(store, ROUND)
    pseudonym, _, code = store.invite_round(ROUND, store.round_sample(ROUND)["pseudonym"][:1]).iloc[0]
    client = TestClient(create_app(store), follow_redirects=False)
    moved = client.get(f"/c/{code}")
    assert moved.status_code == 303 and moved.headers["location"].startswith("/r/")
    assert store.invitation(moved.headers["location"][3:]).respondent == pseudonym
    assert client.get(moved.headers["location"]).status_code == 200
    assert client.get("/c/AAAAA-AAAAA").status_code == 404
    store.close()
