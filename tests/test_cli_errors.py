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
    frame = pd.DataFrame(
        {"respondent": [f"r{i}" for i in range(rows)], **{f"soc{i}": [4] * rows for i in range(1, 14)}}
    )
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
        "version",
    ]


def test_import_refuses_an_unknown_occasion_in_one_line(tmp_path, store):
    result = _run(
        "import", _soc13(tmp_path / "a.csv", rows=30), "--instrument", "soc13", "--occasion", "week_9", *store
    )
    assert result.exit_code == 2
    assert "occasion 'week_9' is not one of soc13's occasions; allowed: intake, follow_up" in result.output
    assert len(result.output.splitlines()) < 5


def test_export_refuses_an_unknown_occasion(tmp_path, store):
    result = _run("export", "--instrument", "soc13", "--occasion", "week_9", "--out", tmp_path / "x.csv", *store)
    assert (
        result.exit_code == 2
        and "occasion 'week_9' is not one of soc13's occasions; allowed: intake, follow_up" in result.output
    )
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--instrument", "soc13", "--out", "x.csv"],
        ["erase", "p-someone", "--yes"],
        ["report", "--out", "x.html"],
    ],
)
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
    for command in (
        ["codebook", "soc13", "--out", missing / "c.csv"],
        ["paper", "soc13", "--occasion", "intake", "--out", missing / "p.html"],
    ):
        result = _run(*command)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(f"Error: {missing}"), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_invite_into_a_missing_folder_leaves_no_invitations(tmp_path, store):
    result = _run(
        "invite",
        "--instrument",
        "soc13",
        "--occasion",
        "intake",
        "--count",
        "3",
        "--out",
        tmp_path / "no" / "links.csv",
        *store,
    )
    assert result.exit_code == 1
    assert f"{tmp_path / 'no' / 'links.csv'}: No such file or directory" in result.output
    with Store(store[1], key_file=store[3]).engine.connect() as connection:
        assert connection.execute(text("select count(*) from invitations")).scalar() == 0


def test_invite_refuses_a_base_url_that_is_no_web_address(store):
    result = _run(
        "invite",
        "--instrument",
        "soc13",
        "--occasion",
        "intake",
        "--count",
        "1",
        "--base-url",
        "form.example.nl",
        *store,
    )
    assert result.exit_code == 2
    assert "'form.example.nl'; allowed: an address starting with http:// or https://" in result.output


# --- one base for the errors, converted to one line in one place --------------------------------------------------


def _package_modules():
    import importlib
    import pkgutil

    import kantelmeter

    for info in pkgutil.walk_packages(kantelmeter.__path__, "kantelmeter."):
        if info.name.startswith(("kantelmeter.questionnaires", "kantelmeter.data", "kantelmeter.notebooks")):
            continue
        yield importlib.import_module(info.name)


def test_every_public_error_of_the_package_derives_from_the_one_base():
    import inspect

    from kantelmeter.errors import KantelmeterError

    errors = {
        f"{module.__name__}.{name}": value
        for module in _package_modules()
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, Exception)
        and not issubclass(value, Warning)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }
    assert len(errors) >= 25
    assert [name for name, error in errors.items() if not issubclass(error, KantelmeterError)] == []


def test_the_errors_keep_the_builtin_base_user_code_catches():
    from kantelmeter.conditions import ConditionError
    from kantelmeter.errors import NotFoundError
    from kantelmeter.privacy import BSNError, KeyFileError
    from kantelmeter.scoring import ScoringError

    assert issubclass(ScoringError, ValueError) and issubclass(ConditionError, ValueError)
    assert issubclass(BSNError, ValueError) and issubclass(KeyFileError, OSError)
    assert issubclass(NotFoundError, KeyError) and str(NotFoundError("no item 'x'")) == "no item 'x'"


def test_no_module_raises_a_bare_value_or_key_error():
    """Input the package refuses raises a domain error; pydantic's validators must raise ValueError (it wraps them)."""
    import ast
    import inspect

    bare = []
    for module in _package_modules():
        tree = ast.parse(inspect.getsource(module))
        validators = {
            node
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef)
            and any("validator" in ast.unparse(d) for d in function.decorator_list)
            for node in ast.walk(function)
        }
        bare += [
            f"{module.__name__}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Raise)
            and isinstance(node.exc, ast.Call)
            and ast.unparse(node.exc.func) in ("ValueError", "KeyError")
            and node not in validators
            # score(errors=...) is reworked with the pandera-style convention
            and "errors=" not in ast.unparse(node.exc)
        ]
    assert bare == []


def test_a_refusal_is_one_line_without_quotes_and_a_mistake_keeps_its_traceback(monkeypatch):
    from kantelmeter import instruments
    from kantelmeter.errors import NotFoundError

    # the CLI imports the instrument model inside the command (a quick start-up), so patch it there
    monkeypatch.setattr(
        instruments, "list_instruments", lambda: (_ for _ in ()).throw(NotFoundError("no instrument 'x'"))
    )
    refused = _run("instruments", "list")
    assert refused.exit_code == 1 and refused.output == "Error: no instrument 'x'\n"
    monkeypatch.setattr(instruments, "list_instruments", lambda: {}["x"])
    mistake = _run("instruments", "list")
    assert mistake.exit_code == 1 and type(mistake.exception) is KeyError


def test_a_respondent_the_store_does_not_hold_is_named_in_one_line(store):
    result = _run("erase", "p-nobody", "--yes", *store)
    assert result.exit_code == 1
    assert result.output == "Error: no respondent with pseudonym 'p-nobody' in this store\n"


def test_a_frame_problem_of_a_round_is_one_line(tmp_path, store):
    register = tmp_path / "register.csv"
    register.write_text("bsn,district\n12,Noord\n")
    result = _run("frame", "import", register, "--id", "bsn", "--round", "2026-ceo", *store)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: register.csv: 1 problem(s): row 1, field 'bsn'"), result.output


def test_the_user_commands_open_the_store_with_its_key_file(tmp_path):
    url, key = f"sqlite:///{tmp_path / 'k.db'}", tmp_path / "k.key"
    Store(url, key_file=key).pseudonym("bsn", "111222333")  # the store records its key on first use
    runner = CliRunner(env={"KANTELMETER_KEY_FILE": None})
    with runner.isolated_filesystem(tmp_path):  # no key file in the working folder
        password = "a long enough secret\n" * 2
        added = runner.invoke(
            main, ["user", "add", "anna", "--role", "interviewer", "--db", url, "--key-file", key], input=password
        )
        assert added.exit_code == 0, added.output
        without = runner.invoke(main, ["user", "passwd", "anna", "--db", url], input=password)
        assert without.exit_code == 1 and "was pseudonymised with the key in" in without.output
        changed = runner.invoke(main, ["user", "passwd", "anna", "--db", url, "--key-file", key], input=password)
        assert changed.exit_code == 0, changed.output
        removed = runner.invoke(main, ["user", "remove", "anna", "--db", url, "--key-file", key])
        assert removed.exit_code == 0 and "user anna removed" in removed.output
