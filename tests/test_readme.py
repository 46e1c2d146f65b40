"""Every Python snippet in the README runs as written: each block on its own, in order, in an empty folder.

A block fenced as ```python-norun is skipped; it must say on its first line why (only for what needs a
running server or a mail system).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(python[\w-]*)\n(.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(match[1], text[: match.start()].count("\n") + 1, match[2]) for match in FENCE.finditer(text)]


def test_the_readme_has_snippets_and_every_skipped_one_says_why():
    found = blocks()
    assert sum(kind == "python" for kind, _, _ in found) >= 6
    for kind, line, code in found:
        assert kind in ("python", "python-norun"), f"README.md:{line}: fence {kind!r}; allowed: python, python-norun"
        if kind == "python-norun":
            assert code.lstrip().startswith("#"), f"README.md:{line}: a python-norun block starts with why"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, monkeypatch_module):
    path = tmp_path_factory.mktemp("readme")
    monkeypatch_module.chdir(path)
    monkeypatch_module.setenv("KANTELMETER_KEY_FILE", str(path / "key"))
    matplotlib.use("Agg")
    return path


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_python_block_runs_as_written(folder):
    for kind, line, code in blocks():
        if kind != "python":
            continue
        try:
            exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "readme"})
        except Exception as error:  # the block and its line, not only the traceback
            raise AssertionError(f"README.md:{line}: the snippet fails: {error!r}") from error
