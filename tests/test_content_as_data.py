"""No Python names an item or scale of a shipped questionnaire: content lives in questionnaires/*.yaml.

Roles are declared in the YAML instead (``role: ceo_theme`` on a scale, ``meaning:`` on a code, ``ceo:`` on
an item, ``role: urgency`` on an item), and norms and the synthetic truth are data files (data/norms,
data/synthetic).
"""

from __future__ import annotations

import ast
from pathlib import Path

from kantelmeter.contract import IDENTIFIER_KINDS
from kantelmeter.instruments import list_instruments, load_instrument

PACKAGE = Path(__file__).resolve().parents[1] / "kantelmeter"

# Words that are item ids and also the column names of the registers, population tables and rosters the
# package reads (CBS tables, the client register, the team roster) or of other formats (XLSForm's "name").
VOCABULARY = {*IDENTIFIER_KINDS, "name", "function", "age", "age_group", "sex", "household", "team", "organisation"}


def _shipped_ids() -> set[str]:
    ids: set[str] = set()
    for instrument_id in list_instruments():
        instrument = load_instrument(instrument_id)
        ids |= {item.id for item in instrument.items} | {scale.id for scale in instrument.scales}
    return ids - VOCABULARY


def _strings_in_code(source: str) -> set[str]:
    """The string constants of a module's code, its docstrings (which show examples) left out."""
    tree = ast.parse(source)
    docstrings = {
        id(statement.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        for statement in node.body
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_no_python_names_a_shipped_item_or_scale():
    ids = _shipped_ids()
    named = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        found = _strings_in_code(path.read_text(encoding="utf-8")) & ids
        if found:
            named[path.relative_to(PACKAGE).as_posix()] = found
    assert named == {}


def test_the_check_sees_an_id_in_code_and_not_in_a_docstring():
    source = '"""Example: soc13."""\nDEFAULT = "soc13"\n\n\ndef f():\n    """soc29"""\n'
    assert _strings_in_code(source) == {"soc13"}
