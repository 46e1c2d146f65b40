"""The package declares what it imports, and says its version in one place."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import kantelmeter

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _declared() -> set[str]:
    project = PYPROJECT["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    return {re.split(r"[\s\[<>=;!~]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _imported() -> set[str]:
    """Top-level names of every import in the package, the ones inside functions (imported on use) too."""
    names = set()
    for path in (ROOT / "kantelmeter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"kantelmeter", "__future__"}


def test_every_import_of_the_package_is_a_declared_dependency():
    distributions = packages_distributions()
    undeclared = {
        name: distributions.get(name)
        for name in _imported()
        if not {d.lower() for d in distributions.get(name, [name])} & _declared()
    }
    assert undeclared == {}


def test_every_declared_runtime_dependency_is_used():
    distributions = packages_distributions()
    used = {d.lower() for name in _imported() for d in distributions.get(name, [name])}
    # declared for what they bring at run time, not for an import: the notebook server, the kernel, drivers, servers
    not_imported = {
        "jupyterlab",
        "ipykernel",
        "psycopg",
        "uvicorn",
        "httptools",
        "uvloop",
        "python-multipart",
        "papermill",
        "nbconvert",
        "nbclient",
        "python-docx",
        "seaborn",
        "argon2-cffi",
        "openpyxl",
        "tabulate",
    }  # pandas' to_markdown
    declared = {
        re.split(r"[\s\[<>=;!~]", r, maxsplit=1)[0].lower()
        for extra in ("web", "io", "report", "survey", "postgres")
        for r in PYPROJECT["project"]["optional-dependencies"][extra]
    } | _runtime()
    assert declared - used - not_imported == set()


def _runtime() -> set[str]:
    return {re.split(r"[\s\[<>=;!~]", r, maxsplit=1)[0].lower() for r in PYPROJECT["project"]["dependencies"]}


def test_the_version_is_written_once_and_installed_from_there():
    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kantelmeter.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", kantelmeter.__version__)
