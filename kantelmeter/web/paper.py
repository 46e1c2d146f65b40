"""The paper form: a printable questionnaire with codes for data entry.

Many older citizens prefer paper. :func:`paper_form` renders an instrument at
one occasion as a self-contained HTML page with print CSS: a cover letter in
the name of the organisation of the survey settings (with the privacy
statement), then the questions numbered through the whole form, a box per
answer with its code beside it (the value a typist enters in the column the
codebook gives for that question number), and show-if conditions turned into
routing instructions ("Alleen beantwoorden als u bij vraag 5 'ja' heeft
gekozen. Anders: ga naar vraag 8."). The respondent's login code is printed
in the footer of every page, so a loose page still finds its respondent.
Only a question's ``help`` is printed, never an analyst's ``note``.
:func:`write_paper` also prints it to PDF with headless Chromium where one is
installed.
"""

from __future__ import annotations

import ast
import base64
import mimetypes
import os
import re
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from kantelmeter.conditions import Condition
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import Instrument
from kantelmeter.web import forms
from kantelmeter.web.i18n import translate
from kantelmeter.web.render import environment, item_views
from kantelmeter.web.settings import SurveySettings

__all__ = ["PaperError", "find_chromium", "paper_form", "print_pdf", "routing_text", "write_paper"]

_COMPARISON = {
    ast.Eq: "paper_eq",
    ast.NotEq: "paper_ne",
    ast.Lt: "paper_lt",
    ast.LtE: "paper_le",
    ast.Gt: "paper_gt",
    ast.GtE: "paper_ge",
}


class PaperError(KantelmeterError, ValueError):
    """A paper form that cannot be printed as asked, such as a login code with characters a form cannot hold."""


def routing_text(instrument: Instrument, condition: str, numbers: dict[str, int], lang: str) -> str:
    """A show-if condition in words, naming questions by their number on paper.

    Parameters
    ----------
    instrument : Instrument
    condition : str
        The ``show_if`` expression.
    numbers : dict
        Item id to question number; an item not on this form is named by its id.
    lang : {'nl', 'en'}

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> citizen = load_instrument("citizen")
    >>> numbers = citizen.question_numbers("follow_up")
    >>> routing_text(citizen, "network_involved__1 == 1", numbers, "nl")
    'bij vraag 8 “ja” is gekozen'
    >>> routing_text(citizen, "5 in interventions__1", numbers, "en")
    'at question 3 “I was sent on to another organisation” is ticked'
    """
    return _words(ast.parse(condition.strip(), mode="eval").body, instrument, numbers, lang)


def _words(node: ast.expr, instrument: Instrument, numbers: dict[str, int], lang: str) -> str:
    if isinstance(node, ast.BoolOp):
        joiner = translate("paper_and" if isinstance(node.op, ast.And) else "paper_or", lang)
        return f" {joiner} ".join(_words(v, instrument, numbers, lang) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return translate("paper_not", lang, condition=_words(node.operand, instrument, numbers, lang))
    if isinstance(node, ast.Name):
        return translate("paper_answered", lang, question=_question(node.id, numbers, lang))
    op, left, right = node.ops[0], node.left, node.comparators[0]
    if isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, ast.Name):  # a ticked multiple-choice option
        key = "paper_ticked" if isinstance(op, ast.In) else "paper_not_ticked"
        return translate(
            key,
            lang,
            question=_question(right.id, numbers, lang),
            answer=_label(instrument, right.id, _constant(left), lang),
        )
    question = _question(left.id, numbers, lang)
    if isinstance(op, (ast.In, ast.NotIn)):
        answers = f" {translate('paper_or', lang)} ".join(
            _label(instrument, left.id, _constant(e), lang) for e in right.elts
        )
        key = "paper_eq" if isinstance(op, ast.In) else "paper_ne"
        return translate(key, lang, question=question, answer=answers)
    value = _constant(right)
    answer = _label(instrument, left.id, value, lang) if isinstance(op, (ast.Eq, ast.NotEq)) else value
    return translate(_COMPARISON[type(op)], lang, question=question, answer=answer)


def _constant(node: ast.expr) -> object:
    return -node.operand.value if isinstance(node, ast.UnaryOp) else node.value


def _question(item_id: str, numbers: dict[str, int], lang: str) -> str:
    return translate("paper_question", lang, number=numbers.get(item_id, item_id))


def _label(instrument: Instrument, item_id: str, code: object, lang: str) -> str:
    scale = instrument.response_scale_of(item_id)
    labels = scale.labels(lang) if scale else {}
    return f"\u201c{labels.get(code, code)}\u201d"


LOGIN_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BLANK_CODE = "_" * 16
"""What the footer shows when no code is given: a line to write the code on."""


def paper_form(
    instrument: Instrument,
    occasion: str,
    lang: str = "nl",
    *,
    survey: SurveySettings | None = None,
    code: str | None = None,
) -> str:
    """The questionnaire at an occasion as one printable, self-contained HTML page.

    Parameters
    ----------
    instrument : Instrument
    occasion : str
    lang : {'nl', 'en'}
    survey : SurveySettings, optional
        Whose letter it is (name, logo, contact, privacy statement); neutral defaults otherwise.
    code : str, optional
        The respondent's login code (letters, digits, ``-`` and ``_``), printed
        in every page footer; without one the footer has a line to write it on.

    Returns
    -------
    str
        HTML with its print style sheet inlined, so the file prints alone.

    Examples
    --------
    >>> from kantelmeter import load_instrument
    >>> html = paper_form(load_instrument("soc13"), "intake", "en", code="AB12-CD34")
    >>> html.count('class="box"'), "[soc7]" in html, html.count("AB12-CD34") >= 2
    (91, False, True)
    """
    if code is not None and not LOGIN_CODE.match(code):
        raise PaperError(f"login code {code!r}: allowed are 1 to 64 letters, digits, '-' and '_'")
    survey = survey or SurveySettings()
    items = instrument.items_at(occasion)
    numbers = instrument.question_numbers(occasion)
    sections = []
    for page in forms.pages(instrument, occasion):
        views = item_views(instrument, page.items, lang, {}, numbers=numbers)
        for view, item in zip(views, page.items):
            condition = _within_repetition(instrument, item)
            view.condition = _instruction(instrument, item, condition, items, numbers, lang) if condition else None
        intro = page.section.intro[lang] if page.section.intro else None
        if instrument.repetition_of(page.items[0].id):
            after = next((numbers[later.id] for later in items[numbers[page.items[-1].id] :]), None)
            otherwise = translate("paper_go_to", lang, number=after) if after else translate("paper_go_to_end", lang)
            intro = translate("paper_repetition", lang, otherwise=otherwise)
        sections.append({"title": page.section.title[lang], "intro": intro, "views": views})
    css = resources.files("kantelmeter.web").joinpath("static/paper.css").read_text(encoding="utf-8")
    footer = translate("paper_code", lang, code=code or BLANK_CODE)
    # The footer of every printed page is a CSS page-margin box; its text is a CSS string.
    css += f'\n@page {{ @bottom-left {{ content: "{footer}"; }} @bottom-right {{ content: counter(page) " / " counter(pages); }} }}\n'
    return (
        environment()
        .get_template("paper.html")
        .render(
            lang=lang,
            title=instrument.title[lang],
            sections=sections,
            css=css,
            survey=survey,
            code=code,
            footer=footer,
            minutes=survey.minutes_for(len(items)),
            logo=_data_uri(survey.logo),
        )
    )


def _data_uri(path: Path | None) -> str | None:
    """The logo inlined, so the HTML file prints on its own."""
    if path is None:
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(Path(path).read_bytes()).decode()}"


def _within_repetition(instrument: Instrument, item) -> str | None:
    """An item's condition as paper routes it: within a repetition, without "this problem came up".

    On paper a repeated section is printed for every element, headed by an
    instruction to fill it in only for the problems that came up, so its items
    keep only the routing among themselves.
    """
    found = instrument.repetition_of(item.id)
    if found is None:
        return item.show_if
    repetition, declared = found
    show_if = instrument.item(declared).show_if
    return Condition(show_if).renamed(repetition.items).source if show_if else None


def _instruction(instrument: Instrument, item, condition: str, items, numbers: dict[str, int], lang: str) -> str:
    """'Only answer if ...; otherwise go to question X' for a conditional item."""
    position = numbers[item.id]
    after = next((numbers[later.id] for later in items[position:] if later.show_if != item.show_if), None)
    condition = routing_text(instrument, condition, numbers, lang)
    otherwise = translate("paper_go_to", lang, number=after) if after else translate("paper_go_to_end", lang)
    return translate("paper_only_if", lang, condition=condition, otherwise=otherwise)


def find_chromium() -> str | None:
    """The Chromium that prints PDFs: ``KANTELMETER_CHROMIUM``, or one on the PATH."""
    configured = os.environ.get("KANTELMETER_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return next(filter(None, (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome"))), None)


def write_paper(
    instrument: Instrument,
    occasion: str,
    lang: str,
    out: str | Path,
    *,
    survey: SurveySettings | None = None,
    code: str | None = None,
) -> list[Path]:
    """Write the paper form as HTML, and as PDF beside it when Chromium is installed.

    Parameters
    ----------
    instrument : Instrument
    occasion : str
    lang : {'nl', 'en'}
    out : path
        The HTML file (``.html``); the PDF gets the same name with ``.pdf``.
    survey, code
        As for :func:`paper_form`.

    Returns
    -------
    list of Path
        The files written: the HTML, then the PDF if one was made.
    """
    html_path = Path(out).with_suffix(".html")
    html_path.write_text(paper_form(instrument, occasion, lang, survey=survey, code=code), encoding="utf-8")
    if find_chromium() is None:
        return [html_path]
    return [html_path, print_pdf(html_path, html_path.with_suffix(".pdf"))]


def print_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print an HTML file to PDF with headless Chromium (:func:`find_chromium`), as a browser prints it.

    Raises
    ------
    FileNotFoundError
        No Chromium is installed.
    """
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found: install chromium or set KANTELMETER_CHROMIUM")
    pdf_path = Path(pdf_path)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf_path}",
                Path(html_path).resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return pdf_path
