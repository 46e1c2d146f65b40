"""One translation mechanism: the message catalogues, the same in every language, and no text outside them."""

from __future__ import annotations

import ast
import re
import string
from importlib.resources import files
from pathlib import Path

import nbformat
import pytest

from kantelmeter.instruments import LANGUAGES
from kantelmeter.messages import CatalogueError, catalogue, message, section

PACKAGE = Path(__file__).resolve().parents[1] / "kantelmeter"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# nulmeting.ipynb still keeps its own dictionary of sentences (its owner moves it to notebooks.nulmeting)
CATALOGUED_NOTEBOOKS = ["pilot_vs_regular", "professionals_over_time", "cost_benefit", "thesis_replication"]
# a language code or a CLDR locale id is not a text to translate
CODE = re.compile(r"[a-z]{2}(_[A-Z]{2})?")


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_there_is_one_catalogue_per_language_of_the_instrument_model():
    shipped = sorted(path.name for path in files("kantelmeter.messages").iterdir() if path.name.endswith(".yaml"))
    assert shipped == sorted(f"{lang}.yaml" for lang in LANGUAGES)


@pytest.mark.parametrize("lang", LANGUAGES[1:])
def test_every_catalogue_has_the_same_names_and_placeholders(lang):
    first, other = catalogue(LANGUAGES[0]), catalogue(lang)
    assert sorted(set(first) - set(other)) == [], f"missing in {lang}.yaml"
    assert sorted(set(other) - set(first)) == [], f"only in {lang}.yaml"
    assert {name: placeholders(text) for name, text in other.items()} == {
        name: placeholders(text) for name, text in first.items()
    }
    assert [name for name, text in other.items() if not text.strip()] == []


def test_a_missing_message_or_language_is_named():
    with pytest.raises(CatalogueError, match="messages/en.yaml has no message 'web.missing'"):
        message("web.missing", "en")
    with pytest.raises(CatalogueError, match="language 'de' is not allowed; allowed: nl, en"):
        catalogue("de")
    with pytest.raises(CatalogueError, match="no section 'report.nothing'"):
        section("report.nothing", "nl")


def test_values_are_filled_in_as_the_language_writes_numbers():
    assert (
        message("notebooks.thesis_replication.kappa_caption", "en")
        == "Agreement per domain (quadratically weighted kappa)"
    )
    assert "1.234,57" in message(
        "notebooks.pilot_vs_regular.reading_outcome", "nl", outcome="x", naive=1234.567, dr=0, low=0, high=0, verdict=""
    )


def _is_text(node: ast.AST) -> bool:
    """A literal a reader would read: a string (or tuple of strings) with a letter, not a language code."""
    if isinstance(node, ast.Tuple):
        return any(_is_text(element) for element in node.elts)
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and not CODE.fullmatch(node.value)
        and any(character.isalpha() for character in node.value)
    )


def translated_in_code(source: str) -> list[int]:
    """Lines where Python holds a text per language: a ``{"nl": ..., "en": ...}`` table, or ``a if lang == "nl" else b``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Dict)
            and len(node.keys) >= 2
            and all(isinstance(key, ast.Constant) and key.value in LANGUAGES for key in node.keys)
        ):
            if any(_is_text(value) for value in node.values):
                found.append(node.lineno)
        elif (
            isinstance(node, ast.IfExp)
            and isinstance(node.test, ast.Compare)
            and any(
                isinstance(side, ast.Constant) and side.value in LANGUAGES
                for side in [node.test.left, *node.test.comparators]
            )
        ):
            if _is_text(node.body) or _is_text(node.orelse):
                found.append(node.lineno)
    return found


def test_the_check_finds_texts_written_in_python():
    assert translated_in_code('WORDS = {"nl": "Totaal", "en": "Total"}') == [1]
    assert translated_in_code('label = "geen antwoord" if lang == "nl" else "no answer"') == [1]
    assert translated_in_code('LOCALES = {"nl": "nl_NL", "en": "en_GB"}\nother = "en" if lang == "nl" else "nl"') == []


def test_no_module_of_the_package_writes_a_text_per_language():
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := translated_in_code(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "move these texts to kantelmeter/messages/<lang>.yaml"


@pytest.mark.parametrize("name", CATALOGUED_NOTEBOOKS)
def test_a_notebook_takes_its_sentences_from_the_catalogue(name):
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = "\n".join(
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if not line.lstrip().startswith(("%", "!"))
    )
    assert translated_in_code(code) == []
    assert f'Texts("notebooks.{name}", lang)' in code
    assert section(f"notebooks.{name}", "nl")
