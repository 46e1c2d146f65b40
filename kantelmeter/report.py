"""The publishable report: a notebook run against a store, written as one HTML file without code.

SATER's third module was the report; here it is one call (and one command,
``kantelmeter report``). :func:`report` executes a shipped notebook (or any
notebook with a papermill ``parameters`` cell) against a store, converts the
executed notebook into a single self-contained HTML file with the code hidden
and the figures embedded as PNG, and audits the result before writing it: a
report that shows a count below the minimum, or that does not state its
disclosure method, is refused.

Inside the notebooks every table goes out through :func:`publish`, which
applies disclosure control (:mod:`kantelmeter.disclosure`) according to what
the table holds, and marks it in the HTML so that :func:`audit` can check it
again from the outside, as a reader would see it.
"""

from __future__ import annotations

import html
import json
import re
import string
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import jinja2
import nbformat
import numpy as np
import pandas as pd

from kantelmeter import disclosure
from kantelmeter.instruments import LANGUAGES

__all__ = [
    "PublishedTable",
    "ReportError",
    "Texts",
    "audit",
    "execute",
    "notebook_path",
    "publish",
    "report",
    "to_html",
]

Kind = Literal["counts", "estimates", "public"]

#: CSS class of every table that went through :func:`publish`; a table without it is a leak.
TABLE_CLASS = "km-table"

_TOTAL_LABEL = {"nl": "Totaal", "en": "Total"}

# nbconvert's lab template loads require.js, MathJax and mermaid from a CDN.
# A published report must open offline and log no errors, so those blocks are
# emptied; the notebooks' outputs need none of them (figures are PNG, tables HTML).
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
body { max-width: 60rem; margin: 0 auto; padding: 1rem 2rem; }
table.km-table { border-collapse: collapse; margin: 0.5rem 0 1rem 0; font-variant-numeric: tabular-nums; }
table.km-table th, table.km-table td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.6rem; text-align: right; }
table.km-table tbody th, table.km-table td:first-child { text-align: left; }
table.km-table th.km-text, table.km-table td.km-text { text-align: left; }
table.km-table caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
</style>
{%- endblock extra_css -%}
"""


class ReportError(ValueError):
    """A report that cannot be made or must not be published; lists every problem."""


class Texts:
    """The sentences of a notebook in Dutch and English, shown in the notebook's language.

    A report's code is hidden, so its headings and sentences are outputs: the
    notebook keeps them in one dictionary (key to ``{"nl": ..., "en": ...}``)
    and shows them with :meth:`show`, filling in computed numbers. Numbers
    follow the language's convention: in Dutch the decimal sign is a comma and
    thousands are grouped with a point.

    Parameters
    ----------
    texts : mapping of str to mapping of str to str
        Every key must have a text in every language.
    lang : {"nl", "en"}

    Examples
    --------
    >>> say = Texts({"n": {"nl": "{n} antwoorden", "en": "{n} responses"}}, "en")
    >>> say("n", n=12)
    '12 responses'
    >>> Texts({"r": {"nl": "{r:,.2f} euro", "en": "{r:,.2f} euro"}}, "nl")("r", r=1234.5)
    '1.234,50 euro'
    >>> Texts({"n": {"nl": "{n} antwoorden"}}, "en")
    Traceback (most recent call last):
    ...
    kantelmeter.report.ReportError: texts: key 'n' has no text in 'en'; allowed languages: nl, en
    """

    def __init__(self, texts: Mapping[str, Mapping[str, str]], lang: str):
        if lang not in LANGUAGES:
            raise ReportError(f"texts: lang {lang!r} is not allowed; allowed: {', '.join(LANGUAGES)}")
        for key, versions in texts.items():
            for language in LANGUAGES:
                if language not in versions:
                    raise ReportError(f"texts: key {key!r} has no text in {language!r}; allowed languages: "
                                      f"{', '.join(LANGUAGES)}")
        self.texts = dict(texts)
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key`` in the notebook's language, with ``values`` filled in."""
        if key not in self.texts:
            raise ReportError(f"texts: key {key!r} does not exist; allowed: {', '.join(self.texts)}")
        return _NumberFormatter(self.lang).format(self.texts[key][self.lang], **values)

    def show(self, key: str, **values: Any) -> None:
        """Display the text as Markdown (a heading when it starts with ``#``)."""
        from IPython.display import Markdown, display

        display(Markdown(self(key, **values)))


class _NumberFormatter(string.Formatter):
    """str.format with the decimal and thousands signs of a language."""

    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if self.lang == "nl" and isinstance(value, int | float | np.number) and not isinstance(value, bool):
            text = text.translate(str.maketrans({",": ".", ".": ","}))
        return text


@dataclass(frozen=True)
class PublishedTable:
    """A table ready for publication: disclosure control applied, marked for the audit.

    Attributes
    ----------
    display : pandas.DataFrame
        What the reader sees: text, withheld values as ``disclosure.MARKER``.
    kind : {"counts", "estimates", "public"}
    min_cell : int
    count_columns : tuple of str
        Columns holding numbers of people (for ``kind="estimates"``).
    caption : str
    """

    display: pd.DataFrame
    kind: Kind
    min_cell: int
    count_columns: tuple[str, ...] = ()
    caption: str = ""
    source: str = field(default="", repr=False)

    def to_html(self) -> str:
        """The table as HTML, with the classes and data attributes that :func:`audit` reads."""
        # a frequency table is labelled by its index; other tables carry their labels as columns
        body = self.display.to_html(classes=[TABLE_CLASS, f"km-{self.kind}"], border=0, escape=True,
                                    na_rep=disclosure.MARKER, index=self.kind == "counts")
        if self.kind != "counts":
            body = _mark_text_columns(body, [not _shows_numbers(self.display[column]) for column in self.display])
        attributes = (f' data-min-cell="{self.min_cell}"'
                      f' data-count-columns="{html.escape(json.dumps(list(self.count_columns)))}"')
        body = body.replace("<table", "<table" + attributes, 1)
        if self.caption:
            body = body.replace(">", f"><caption>{html.escape(self.caption)}</caption>", 1)
        if self.source:
            body += f'<p class="km-source"><small>{html.escape(self.source)}</small></p>'
        return body

    def _repr_html_(self) -> str:
        return self.to_html()


def _shows_numbers(cells: pd.Series) -> bool:
    """Whether every shown cell of a column is a number, withheld or empty."""
    def number(cell: Any) -> bool:
        text = str(cell).strip().replace(",", ".")
        return text in ("", disclosure.MARKER) or bool(re.fullmatch(r"[-+]?\d+(\.\d+)?", text))
    return all(number(cell) for cell in cells)


def _mark_text_columns(body: str, text_columns: list[bool]) -> str:
    """Class ``km-text`` on the heading and cells of text columns: words read left-aligned, numbers right."""
    def mark(row: re.Match) -> str:
        columns = iter(text_columns)
        return re.sub(r"<(t[dh])>", lambda cell: f'<{cell[1]} class="km-text">' if next(columns, False) else cell[0],
                      row[0])
    return re.sub(r"<tr[^>]*>.*?</tr>", mark, body, flags=re.S)


def publish(table: pd.DataFrame, min_cell: int, *, kind: Kind = "counts", count_columns: Iterable[str] = (),
            caption: str = "", source: str = "", lang: str = "nl", decimals: int | Mapping[str, int] = 1,
            ) -> PublishedTable:
    """Apply disclosure control to a table according to what it holds, for display in a report.

    Three kinds of table:

    ``"counts"``
        A frequency table (people per row and column category). Counts below
        ``min_cell`` are withheld, with secondary suppression so that none can
        be recovered from the totals, which are added
        (:func:`kantelmeter.disclosure.suppress`; Hundepool et al. 2012, ch. 5).
    ``"estimates"``
        One row per estimate (a mean, a percentage, an effect) with the number
        of people it rests on in ``count_columns``. A row resting on fewer than
        ``min_cell`` people (but more than none) is withheld entirely: its
        numbers and its counts. For percentages this is the rule of
        :func:`kantelmeter.disclosure.suppress_percentages` (no percentage on a
        small denominator).
    ``"public"``
        Figures already published by a statistical office or municipality
        (population, incomes): shown as they are, with their source.

    Parameters
    ----------
    table : pandas.DataFrame
    min_cell : int
        Smallest number of people a published figure may rest on.
    kind : {"counts", "estimates", "public"}, default "counts"
    count_columns : iterable of str
        For ``"estimates"``: the columns that hold numbers of people.
    caption, source : str
        Title above the table and source line under it.
    lang : {"nl", "en"}
        Language of the total label of a frequency table.
    decimals : int or mapping of column to int, default 1
        Decimals of numbers in ``"estimates"`` and ``"public"`` tables; a
        column of whole numbers is shown without decimals.

    Returns
    -------
    PublishedTable

    Examples
    --------
    >>> counts = pd.DataFrame({"pilot": [4, 30], "regulier": [25, 41]}, index=["intake", "follow-up"])
    >>> publish(counts, 10).display
                pilot regulier Totaal
    intake          x        x     29
    follow-up       x        x     71
    Totaal         34       66    100
    >>> scores = pd.DataFrame({"cohort": ["pilot", "regular"], "mean": [6.25, 7.0], "n": [8, 40]})
    >>> publish(scores, 10, kind="estimates", count_columns=["n"]).display
        cohort mean   n
    0    pilot    x   x
    1  regular  7.0  40
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise ReportError(f"publish: min_cell {min_cell!r} is not allowed; allowed: a whole number >= 1")
    count_columns = tuple(count_columns)
    if kind == "counts":
        total = _TOTAL_LABEL.get(lang)
        if total is None:
            raise ReportError(f"publish: lang {lang!r} is not allowed; allowed: {', '.join(_TOTAL_LABEL)}")
        display = disclosure.suppress(table, min_cell, margins_name=total).to_display()
    elif kind == "estimates":
        display = _withhold_small_rows(_labels_as_columns(table), min_cell, count_columns, decimals)
    elif kind == "public":
        display = _as_text(_labels_as_columns(table), decimals, missing="")
    else:
        raise ReportError(f"publish: kind {kind!r} is not allowed; allowed: counts, estimates, public")
    return PublishedTable(display=display, kind=kind, min_cell=int(min_cell), count_columns=count_columns,
                          caption=caption, source=source)


def _labels_as_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Move a meaningful index into the columns, so that the table can be shown without its index."""
    return table.reset_index(drop=isinstance(table.index, pd.RangeIndex) and table.index.name is None)


def _withhold_small_rows(table: pd.DataFrame, min_cell: int, count_columns: tuple[str, ...],
                         decimals: int | Mapping[str, int]) -> pd.DataFrame:
    missing = [column for column in count_columns if column not in table.columns]
    if missing or not count_columns:
        raise ReportError(f"publish: count column(s) {missing or '(none)'} not in the table; allowed: one or more "
                          f"of {', '.join(map(str, table.columns))}")
    counts = table[list(count_columns)].apply(pd.to_numeric, errors="raise")
    small = ((counts > 0) & (counts < min_cell)).any(axis=1).to_numpy()
    shown = _as_text(table, decimals, missing=disclosure.MARKER)
    for column in table.columns:
        if column in count_columns or _is_number(table[column]):
            shown[column] = shown[column].where(~small, disclosure.MARKER)
    return shown


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _as_text(table: pd.DataFrame, decimals: int | Mapping[str, int], missing: str) -> pd.DataFrame:
    """Numbers as text: whole-number columns without decimals, others with ``decimals``."""
    shown = pd.DataFrame(index=table.index)
    for column in table.columns:
        values = table[column]
        if not _is_number(values):
            shown[column] = values.astype(object).where(values.notna(), missing)
            continue
        present = values.dropna().astype(float)
        places = decimals.get(column, 1) if isinstance(decimals, Mapping) else decimals
        if (present % 1 == 0).all():
            places = 0
        shown[column] = values.map(lambda v, p=places: missing if pd.isna(v) else f"{v:.{p}f}").astype(object)
    return shown


def notebook_path(notebook: str | Path) -> Traversable | Path:
    """A shipped notebook by name (``"nulmeting"``) or a path to any ``.ipynb``.

    Examples
    --------
    >>> notebook_path("cost_benefit").name
    'cost_benefit.ipynb'
    """
    candidate = Path(notebook)
    if candidate.suffix == ".ipynb":
        if not candidate.is_file():
            raise ReportError(f"notebook {notebook}: file not found")
        return candidate
    shipped = resources.files("kantelmeter.notebooks")
    path = shipped / f"{notebook}.ipynb"
    if not path.is_file():
        names = sorted(p.name.removesuffix(".ipynb") for p in shipped.iterdir() if p.name.endswith(".ipynb"))
        raise ReportError(f"notebook {notebook!r} is not shipped; allowed: {', '.join(names)} or a .ipynb file")
    return path


def execute(notebook: str | Path, output: str | Path, parameters: Mapping[str, Any] | None = None, *,
            progress: bool = True) -> Path:
    """Run a notebook with papermill, injecting ``parameters`` after its ``parameters`` cell.

    Parameters
    ----------
    notebook : str or path
        A shipped notebook name or a ``.ipynb`` file.
    output : path
        Where the executed notebook (code and outputs) is written.
    parameters : mapping, optional
        Values for the notebook's parameters; a name the notebook does not
        declare is refused, so a typo cannot silently leave a default in place.
    progress : bool, default True
        Show papermill's progress bar (one step per cell, on stderr).

    Notes
    -----
    The kernel starts in the current working directory. papermill's own
    ``cwd`` option is not used: it changes the working directory of the whole
    process, which would break notebooks executed side by side in threads
    (:func:`kantelmeter.demo.run`).

    Returns
    -------
    pathlib.Path
        ``output``.
    """
    import papermill

    source = notebook_path(notebook)
    parameters = dict(parameters or {})
    with resources.as_file(source) as path:
        declared = _declared_parameters(nbformat.read(path, as_version=4), path)
        unknown = sorted(set(parameters) - declared)
        if unknown:
            raise ReportError(f"{source.name}: parameter(s) {', '.join(unknown)} not declared; allowed: "
                              f"{', '.join(sorted(declared))}")
        output = Path(output).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(str(path), str(output), parameters=parameters, progress_bar=progress,
                                   kernel_name="python3", language="python", config=_kernel_config())
    return output


def _kernel_config():
    """Kernel settings: encrypted kernel sockets where ZeroMQ can encrypt, a quiet kernel log.

    ipykernel 7 prints a warning on every start over unencrypted TCP, once per
    notebook on the user's terminal; asking jupyter_client for CurveZMQ keys
    ("auto") avoids it. A jupyter_client without the setting ignores it, and
    a libzmq without CURVE keeps the default (the setting would be refused).
    """
    import zmq
    from traitlets.config import Config

    # jupyter_client interrupts a kernel before shutting it down; an idle kernel then
    # logs "KeyboardInterrupt caught in kernel" as an ERROR on the user's terminal.
    # Cell errors reach the notebook as messages, so the kernel's own log can stay quiet.
    config = {"NotebookClient": {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}}
    if zmq.has("curve"):
        config["KernelManager"] = {"transport_encryption": "auto"}
    return Config(config)


def _declared_parameters(notebook: nbformat.NotebookNode, path: Path) -> set[str]:
    """Names assigned in the cell tagged ``parameters``."""
    import ast

    cells = [cell for cell in notebook.cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ReportError(f"{path}: {len(cells)} cells tagged 'parameters'; allowed: exactly one")
    tree = ast.parse(cells[0].source)
    return {target.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name)}


def to_html(executed: str | Path, out: str | Path, *, title: str | None = None, lang: str = "nl") -> Path:
    """Convert an executed notebook to one self-contained HTML file without code.

    Code cells, prompts and stderr streams (warnings meant for the analyst)
    are left out; figures are embedded as base64 PNG; the page loads no
    script or style from elsewhere.

    Parameters
    ----------
    executed : path
        An executed notebook.
    out : path
        The HTML file to write.
    title : str, optional
        Title of the page (default: the notebook's file name).
    lang : str, default "nl"
        Language of the page (``<html lang=...>``).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from nbconvert import HTMLExporter

    notebook = nbformat.read(str(executed), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    if title:
        notebook.metadata["title"] = title
    exporter = HTMLExporter(extra_loaders=[jinja2.DictLoader({"kantelmeter.html.j2": _TEMPLATE})],
                            template_file="kantelmeter.html.j2", exclude_input=True,
                            exclude_input_prompt=True, exclude_output_prompt=True, exclude_anchor_links=True,
                            embed_images=True,
                            language_code=lang)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": Path(executed).stem}})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def audit(page: str, min_cell: int, *, lang: str = "nl") -> pd.DataFrame:
    """Check a report as a reader sees it: every table published, no small count, method stated.

    For every ``<table>`` in the page: it must have gone through
    :func:`publish`; a frequency table must pass
    :func:`kantelmeter.disclosure.check_table` (no count from 1 to
    ``min_cell - 1`` shown, none recoverable from the totals by linear
    programming); a table of estimates must show no count column below
    ``min_cell``. The page must contain the disclosure method statement
    (:func:`kantelmeter.disclosure.method_statement`) for ``min_cell``.

    Returns
    -------
    pandas.DataFrame
        One row per problem (``table``, ``where``, ``problem``); empty when the
        report may be published.

    Examples
    --------
    >>> leaky = "<table><tr><th></th><th>n</th></tr><tr><th>pilot</th><td>3</td></tr></table>"
    >>> audit(leaky, 10, lang="en")["problem"].tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['table did not go through kantelmeter.report.publish',
     'the disclosure method statement (min_cell 10) is missing']
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page, "html.parser")
    problems = []
    for number, tag in enumerate(soup.find_all("table"), start=1):
        classes = tag.get("class") or []
        if TABLE_CLASS not in classes:
            problems.append((number, "", "table did not go through kantelmeter.report.publish"))
            continue
        table = parse_table(tag, index="km-counts" in classes)
        if "km-counts" in classes:
            total = _TOTAL_LABEL.get(lang, "Totaal")
            for _, row in disclosure.check_table(table, min_cell, margins_name=total).iterrows():
                problems.append((number, f"{row['row']} / {row['column']}", row["problem"]))
        elif "km-estimates" in classes:
            for column in json.loads(tag.get("data-count-columns", "[]")):
                values = pd.to_numeric(table[column].replace(disclosure.MARKER, np.nan), errors="coerce")
                for label, value in values[(values > 0) & (values < min_cell)].items():
                    problems.append((number, f"{label} / {column}",
                                     f"count {value:g} is shown; allowed: 0 or >= {min_cell}"))
    statement = disclosure.method_statement(lang, min_cell=min_cell, min_denominator=min_cell)
    if html.escape(statement, quote=False) not in str(soup) and statement not in soup.get_text():
        problems.append((0, "", f"the disclosure method statement (min_cell {min_cell}) is missing"))
    return pd.DataFrame(problems, columns=["table", "where", "problem"])


def parse_table(tag, index: bool = True) -> pd.DataFrame:
    """A published HTML table (a BeautifulSoup tag) back as text cells.

    pandas.read_html would need lxml or html5lib; the report's tables are
    simple (one header row, then rows of cells), so a few lines do.

    Parameters
    ----------
    tag : bs4.Tag
        The ``<table>``.
    index : bool, default True
        Whether the first column holds the row labels.
    """
    rows = [[cell.get_text(strip=True) for cell in tr.find_all(["th", "td"])] for tr in tag.find_all("tr")]
    header, body = rows[0], rows[1:]
    # pandas writes an extra header row holding the index name; data rows are as wide as the header
    body = [row for row in body if len(row) == len(header)]
    if not index:
        return pd.DataFrame(body, columns=header, dtype=object)
    return pd.DataFrame([row[1:] for row in body], index=[row[0] for row in body], columns=header[1:],
                        dtype=object)


def report(db_url: str, out: str | Path, *, notebook: str | Path = "nulmeting", min_cell: int = 10,
           lang: str = "nl", workdir: str | Path | None = None, progress: bool = True) -> Path:
    """Run the baseline report (or another notebook) against a store and write it as publishable HTML.

    Steps: execute the notebook with papermill (parameters ``db_url``,
    ``min_cell``, ``lang`` and ``output_dir``, the folder ``<out>_tables``
    beside the report where the notebook writes its published tables as CSV),
    convert it with :func:`to_html`, :func:`audit` the page, and only then
    write ``out``.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of the store (``sqlite:///kantelmeter.db``).
    out : path
        The HTML file to write.
    notebook : str or path, default "nulmeting"
    min_cell : int, default 10
        Smallest number of people any published figure rests on.
    lang : {"nl", "en"}, default "nl"
    workdir : path, optional
        Folder for the executed notebook (``<notebook>.ipynb``) and any files
        the notebook writes; a temporary folder when omitted.
    progress : bool, default True

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ReportError
        The notebook failed, or the audit found a problem (the report is then
        not written).
    """
    import papermill

    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="kantelmeter-report-") as scratch:
        folder = Path(workdir or scratch).resolve()
        name = Path(notebook_path(notebook).name).stem
        executed = folder / f"{name}.ipynb"
        tables = out.resolve().with_name(f"{out.stem}_tables")
        parameters = {"db_url": db_url, "min_cell": int(min_cell), "lang": lang, "output_dir": str(tables)}
        try:
            execute(notebook, executed, parameters, progress=progress)
        except papermill.PapermillExecutionError as exc:
            raise ReportError(f"{name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}") from None
        page_file = to_html(executed, folder / f"{name}.html", lang=lang)
        page = page_file.read_text(encoding="utf-8")
    problems = audit(page, int(min_cell), lang=lang)
    if not problems.empty:
        raise ReportError(f"{name}: the report may not be published:\n{problems.to_string(index=False)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
