"""The words kantelmeter says, in every language: one message catalogue per language, in a file.

Every text a person reads that is not part of a questionnaire (the web
form's buttons and messages, a report's captions and method paragraph, a
notebook's sentences, the CLI's translated output) lives in
``kantelmeter/messages/<lang>.yaml``, one file per language of
:data:`kantelmeter.instruments.LANGUAGES`. A file is a tree of sections
(``web``, ``report``, ``notebooks: pilot_vs_regular``) whose leaves are the
texts; a text is named by its path, ``"web.next"``. Every catalogue has the
same names (a test checks it), so a translator adds a language by copying
``en.yaml`` and translating the leaves, and the instrument model's
``LANGUAGES`` by adding its code.

Values are filled in by :func:`kantelmeter.formatting.fill`, so numbers read
as the language writes them (``{n:,}`` is 1.200 in Dutch, 1,200 in English).

Examples
--------
>>> message("web.next", "en")
'Next'
>>> message("web.number_range", "nl", min=18, max=110)
'Vul een getal in van 18 tot en met 110.'
>>> message("report.withheld", "en", caption="Teams", min_cell=10)
'Teams: not published, because every group has fewer than 10 people.'
>>> sorted(section("report.fieldwork", "nl"))[:2]
['complete', 'eligible']
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import LANGUAGES

__all__ = ["CatalogueError", "catalogue", "message", "section", "translations"]


class CatalogueError(KantelmeterError, ValueError):
    """A language or a message name that the catalogues do not hold."""


def _loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every message of a language, by its dotted name (``"web.next"``), read once from ``<lang>.yaml``.

    Examples
    --------
    >>> catalogue("nl")["report.table"]
    'Tabel'
    >>> catalogue("fr")
    Traceback (most recent call last):
    ...
    kantelmeter.messages.CatalogueError: language 'fr' is not allowed; allowed: nl, en
    """
    if lang not in LANGUAGES:
        raise CatalogueError(f"language {lang!r} is not allowed; allowed: {', '.join(LANGUAGES)}")
    name = f"{lang}.yaml"
    tree = yaml.load(files(__name__).joinpath(name).read_text(encoding="utf-8"), Loader=_loader())
    flat: dict[str, str] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(node, str):
            flat[path] = node
        else:
            raise CatalogueError(f"messages/{name}: {path} is {node!r}; allowed: a text or a section of texts")

    walk(tree, "")
    return flat


def message(name: str, lang: str, /, **values: Any) -> str:
    """The message ``name`` in ``lang``, with ``values`` filled in in the language's style.

    Examples
    --------
    >>> message("web.page_of", "nl", number=2, total=5)
    'Deel 2 van 5'
    >>> message("web.nope", "nl")
    Traceback (most recent call last):
    ...
    kantelmeter.messages.CatalogueError: messages/nl.yaml has no message 'web.nope'
    """
    from kantelmeter.formatting import fill

    texts = catalogue(lang)
    if name not in texts:
        raise CatalogueError(f"messages/{lang}.yaml has no message {name!r}")
    return fill(texts[name], lang, **values) if values else texts[name]


def section(prefix: str, lang: str) -> dict[str, str]:
    """The messages under a section, by their names within it (unfilled).

    Examples
    --------
    >>> section("report.index", "en")
    {'number': 'number', 'title': 'title', 'file': 'file', 'source': 'source'}
    """
    start = prefix + "."
    found = {name[len(start) :]: text for name, text in catalogue(lang).items() if name.startswith(start)}
    if not found:
        raise CatalogueError(f"messages/{lang}.yaml has no section {prefix!r}")
    return found


def translations(name: str) -> dict[str, str]:
    """One message in every language, as the instrument model holds a text (language to text).

    Examples
    --------
    >>> translations("report.total")
    {'nl': 'Totaal', 'en': 'Total'}
    """
    return {lang: message(name, lang) for lang in LANGUAGES}
