"""Mistakes a user makes on the command line end in one line naming the file, field and value, never a traceback."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from kantelmeter.cli import main
from kantelmeter.store import Store


def _run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


def _soc13(path, rows=3, bad=None):
    """A SOC-13 answer file; ``bad`` = (data row index, item, value) puts one wrong value in."""
    frame = pd.DataFrame({"respondent": [f"r{i}" for i in range(rows)],
                          **{f"soc{i}": [4] * rows for i in range(1, 14)}})
    if bad:
        frame.loc[bad[0], bad[1]] = bad[2]
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def store(tmp_path):
    url, key = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k.key"
    Store(url, key_file=key).close()
    return ["--db", url, "--key-file", key]


def test_score_names_the_row_as_the_spreadsheet_shows_it(tmp_path):
    # the third data row sits on line 4 of the file, under the header
    data = _soc13(tmp_path / "answers.csv", bad=(2, "soc5", 9))
    result = _run("score", "--instrument", "soc13", data)
    assert result.exit_code == 1
    assert "row 4 (respondent r2): item soc5 = '9': not a code of this item; allowed: 1..7" in result.output


def test_score_names_a_missing_column_without_a_placeholder_value(tmp_path):
    data = tmp_path / "answers.csv"
    pd.read_csv(_soc13(data)).drop(columns="soc13").to_csv(data, index=False)
    result = _run("score", "--instrument", "soc13", data)
    assert result.exit_code == 1
    assert "item soc13: the responses have no column for this item" in result.output
    assert "<NA>" not in result.output


def test_score_refuses_a_column_that_import_would_refuse(tmp_path):
    data = tmp_path / "answers.csv"
    pd.read_csv(_soc13(data)).assign(soc_14=5, cohort="pilot").to_csv(data, index=False)
    result = _run("score", "--instrument", "soc13", data)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"Error: {data}: 1 problem in the responses:",
        "  every row: item soc_14: not a column of instrument 'soc13'; allowed: the columns of soc13 "
        "(soc1, soc2, soc3, soc4, soc5, soc6, soc7, soc8, ...) and respondent, occasion, cohort, collected_at, "
        "version"]


def test_import_refuses_an_unknown_occasion_in_one_line(tmp_path, store):
    result = _run("import", _soc13(tmp_path / "a.csv", rows=30), "--instrument", "soc13", "--occasion", "week_9",
                  *store)
    assert result.exit_code == 2
    assert "'week_9'; soc13 has intake, follow_up" in result.output
    assert len(result.output.splitlines()) < 5


def test_export_refuses_an_unknown_occasion(tmp_path, store):
    result = _run("export", "--instrument", "soc13", "--occasion", "week_9", "--out", tmp_path / "x.csv", *store)
    assert result.exit_code == 2 and "'week_9'; soc13 has intake, follow_up" in result.output
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("command", [["export", "--instrument", "soc13", "--out", "x.csv"],
                                     ["erase", "p-someone", "--yes"],
                                     ["report", "--out", "x.html"]])
def test_reading_commands_do_not_create_a_store_for_a_mistyped_file(tmp_path, command):
    typo = tmp_path / "kantelmetr.db"
    result = _run(*command, "--db", f"sqlite:///{typo}")
    assert result.exit_code == 1, result.output
    assert f"no store in {typo}" in result.output and "Traceback" not in result.output
    assert not typo.exists()


def test_a_store_that_cannot_be_opened_is_named(tmp_path):
    not_a_store = tmp_path / "answers.csv"
    not_a_store.write_text("respondent,soc1\nr1,3\n" * 200)
    result = _run("export", "--instrument", "soc13", "--out", tmp_path / "x.csv", "--db", f"sqlite:///{not_a_store}")
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: sqlite:///{not_a_store}: cannot open the store: file is not a database"
    unparsable = _run("export", "--instrument", "soc13", "--out", tmp_path / "x.csv", "--db", "kantelmeter.db")
    assert unparsable.exit_code == 2 and "'kantelmeter.db' is not a database URL" in unparsable.output


def test_writing_into_a_missing_folder_names_the_file(tmp_path, store):
    missing = tmp_path / "no" / "such" / "folder"
    for command in (["codebook", "soc13", "--out", missing / "c.csv"],
                    ["paper", "soc13", "--occasion", "intake", "--out", missing / "p.html"]):
        result = _run(*command)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {missing}"), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_invite_into_a_missing_folder_leaves_no_invitations(tmp_path, store):
    result = _run("invite", "--instrument", "soc13", "--occasion", "intake", "--count", "3",
                  "--out", tmp_path / "no" / "links.csv", *store)
    assert result.exit_code == 1
    assert f"{tmp_path / 'no' / 'links.csv'}: No such file or directory" in result.output
    with Store(store[1], key_file=store[3]).engine.connect() as connection:
        assert connection.execute(text("select count(*) from invitations")).scalar() == 0


def test_invite_refuses_a_base_url_that_is_no_web_address(store):
    result = _run("invite", "--instrument", "soc13", "--occasion", "intake", "--count", "1",
                  "--base-url", "form.example.nl", *store)
    assert result.exit_code == 2
    assert "'form.example.nl'; allowed: an address starting with http:// or https://" in result.output
