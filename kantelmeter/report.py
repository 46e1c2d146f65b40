"""The publication: a notebook run against a store, audited, written as one HTML file, a PDF and CSV tables.

SATER's third module was the report; here it is one call (and one command,
``kantelmeter report``). :func:`report` refuses a store that lacks what a
nulmeting needs (:func:`check_store`), executes the notebook with papermill,
converts it into a single self-contained HTML file with the code hidden
(:func:`to_html`), audits the page as a reader would see it (:func:`audit`)
and only then writes it, with its tables as CSV and a PDF printed by
Chromium. The analysts' notebooks are not publications: :func:`run_notebook`
(``kantelmeter notebook``) runs them without the audit.

Inside the notebooks every table and figure goes out through
:mod:`kantelmeter.publish`; :class:`Texts` and :func:`publish` are
importable from here as well, as the notebooks have always done.
"""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2
import nbformat
import pandas as pd

from kantelmeter import disclosure, formatting

# the notebooks import these from here; they live in kantelmeter.publish
from kantelmeter.notebooks import ANALYST_NOTEBOOKS, PUBLISHABLE
from kantelmeter.publish import TABLE_CLASS, TOTAL_LABEL, PublishedTable, ReportError, Texts, publish

__all__ = [
    "ANALYST_NOTEBOOKS",
    "PUBLISHABLE",
    "PublishedTable",
    "ReportError",
    "Texts",
    "audit",
    "check_store",
    "execute",
    "notebook_path",
    "publish",
    "report",
    "run_notebook",
    "to_html",
]


#: Alternative text nbconvert gives an image that has none; a report must never show it.
_NO_ALT = "No description has been provided for this image"

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
.km-scroll { overflow-x: auto; max-width: 100%; }
figure.km-figure { margin: 1rem 0 1.5rem 0; }
figure.km-figure figcaption, p.km-source { color: #333; }
figure.km-figure figcaption { font-weight: bold; margin-top: 0.3rem; }
header.km-title { padding: 2rem 0 1rem 0; border-bottom: 2px solid #1f4e79; margin-bottom: 1.5rem; }
header.km-title img.km-logo { max-height: 4rem; }
dl.km-facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dl.km-facts dt { font-weight: bold; }
dl.km-facts dd { margin: 0; }
@media print {
  body { max-width: none; padding: 0; }
  header.km-title { min-height: 85vh; break-after: page; border: none; }
  .km-scroll { overflow: visible; }
  h2, h3 { break-after: avoid; }
  table.km-table, figure.km-figure { break-inside: avoid; }
}
</style>
{%- endblock extra_css -%}
"""


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


def execute(
    notebook: str | Path, output: str | Path, parameters: Mapping[str, Any] | None = None, *, progress: bool = True
) -> Path:
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
            raise ReportError(
                f"{source.name}: parameter(s) {', '.join(unknown)} not declared; allowed: {', '.join(sorted(declared))}"
            )
        output = Path(output).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
        papermill.execute_notebook(
            str(path),
            str(output),
            parameters=parameters,
            progress_bar=progress,
            kernel_name="python3",
            language="python",
            config=_kernel_config(),
        )
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
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


def to_html(
    executed: str | Path, out: str | Path, *, title: str | None = None, lang: str = "nl", printed: bool = True
) -> Path:
    """Convert an executed notebook to one self-contained HTML file without code.

    Code cells, prompts and stderr streams (warnings meant for the analyst)
    are left out; figures are embedded as base64 PNG; the page loads no
    script or style from elsewhere. Cells tagged ``analyst`` (notes for
    whoever maintains the notebook) are left out. A summary is written last, from the
    figures computed above it, but read first: cells tagged ``summary`` are
    moved to just after the cell tagged ``title``.

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
    printed : bool, default True
        Keep what the code printed on stdout. A publication shows only what
        the notebook displays (a solver's console line must not reach it).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from nbconvert import HTMLExporter

    notebook = nbformat.read(str(executed), as_version=4)
    # cells tagged "analyst" explain the notebook to whoever maintains it; the publication leaves them out
    notebook.cells = [cell for cell in notebook.cells if "analyst" not in cell.get("metadata", {}).get("tags", [])]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and (o.name == "stderr" or not printed))
            ]
    notebook.cells = _summary_first(notebook.cells)
    if title:
        notebook.metadata["title"] = title
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"kantelmeter.html.j2": _TEMPLATE})],
        template_file="kantelmeter.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
        language_code=lang,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": Path(executed).stem}})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def run_notebook(
    notebook: str | Path,
    out: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    lang: str | None = None,
    progress: bool = True,
) -> Path:
    """Run an analyst's notebook and write it as HTML without code, the executed notebook beside it.

    Unlike :func:`report` the page is not audited: an analyst's notebook may
    show checking tables and small groups, and is for internal use.

    Returns
    -------
    pathlib.Path
        The HTML file (``out``); the executed notebook is ``out`` with ``.ipynb``.
    """
    out = Path(out)
    executed = execute(notebook, out.with_suffix(".ipynb"), parameters, progress=progress)
    return to_html(executed, out.with_suffix(".html"), lang=lang or dict(parameters or {}).get("lang", "nl"))


def _summary_first(cells: list) -> list:
    """Cells tagged ``summary`` moved to just after the first cell tagged ``title`` (if there is one)."""

    def tagged(cell, tag: str) -> bool:
        return tag in cell.get("metadata", {}).get("tags", [])

    titles = [k for k, cell in enumerate(cells) if tagged(cell, "title")]
    if not titles:
        return cells
    summary = [cell for cell in cells if tagged(cell, "summary")]
    rest = [cell for cell in cells if not tagged(cell, "summary")]
    position = rest.index(cells[titles[0]]) + 1
    return rest[:position] + summary + rest[position:]


def audit(page: str, min_cell: int, *, lang: str = "nl") -> pd.DataFrame:
    """Check a report as a reader sees it: every table published, no small count, method stated.

    For every ``<table>`` in the page: it must have gone through
    :func:`publish`; a frequency table must pass
    :func:`kantelmeter.disclosure.check_table` (no count from 1 to
    ``min_cell - 1`` shown, none that a reader who knows the method can
    bring below ``min_cell`` by linear programming); a table of estimates
    must show no count column below ``min_cell``. Numbers are read in the
    table's language (``1.234`` is a thousand and more in Dutch). Every image
    must have an alternative text. The page must contain the disclosure
    method statement (:func:`kantelmeter.disclosure.method_statement`) for ``min_cell``.

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
        numbers_lang = tag.get("data-lang", lang)
        if "km-counts" in classes:
            total = TOTAL_LABEL.get(lang, "Totaal")
            counts = table.map(lambda cell: cell if cell == disclosure.MARKER else formatting.parse(cell, numbers_lang))  # noqa: B023 (used at once)
            for _, row in disclosure.check_table(counts, min_cell, margins_name=total).iterrows():
                problems.append((number, f"{row['row']} / {row['column']}", row["problem"]))
        elif "km-estimates" in classes:
            for column in json.loads(tag.get("data-count-columns", "[]")):
                values = table[column].map(lambda cell: formatting.parse(cell, numbers_lang))  # noqa: B023 (used at once)
                for label, value in values[(values > 0) & (values < min_cell)].items():
                    problems.append(
                        (number, f"{label} / {column}", f"count {value:g} is shown; allowed: 0 or >= {min_cell}")
                    )
    for image in soup.find_all("img"):
        alt = (image.get("alt") or "").strip()
        if not alt or alt == _NO_ALT:
            problems.append((0, image.get("src", "")[:40], "image without an alternative text saying what it shows"))
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
    return pd.DataFrame([row[1:] for row in body], index=[row[0] for row in body], columns=header[1:], dtype=object)


def check_store(
    db_url: str,
    min_cell: int = 10,
    *,
    baseline: str = "intake",
    survey_round: str | None = None,
    key_file: str | Path | None = None,
) -> list[str]:
    """What a store lacks for a nulmeting: empty when it holds enough to publish one.

    A nulmeting describes the baseline occasion, so the store needs at least
    one instrument with ``min_cell`` or more complete responses at
    ``baseline``: with fewer, every table would be withheld and the report
    would say nothing. A ``survey_round`` named for the fieldwork section
    must be in the store and have a sample.

    Returns
    -------
    list of str
        One sentence per thing missing, saying what to add.
    """
    from kantelmeter.store import Store

    store = Store(db_url, key_file=key_file)
    problems = []
    try:
        completion = store.completion()
        if survey_round:
            try:
                if store.round_sample(survey_round).empty:
                    problems.append(
                        f"survey round {survey_round!r} has no sample yet (`kantelmeter sample --round {survey_round}`)"
                    )
            except KeyError as missing:
                problems.append(str(missing).strip('"'))
    finally:
        store.close()
    done = completion[(completion["status"] == "complete")] if not completion.empty else completion
    if done.empty:
        return [
            f"the store holds no complete responses; a nulmeting needs at least {min_cell} complete responses "
            f"at the {baseline!r} occasion for one instrument (collect them with the web form, or "
            f"`kantelmeter import ... --occasion {baseline}`)",
            *problems,
        ]
    at_baseline = done[done["occasion"] == baseline].groupby("instrument")["n"].sum()
    if at_baseline.empty or at_baseline.max() < min_cell:
        found = ", ".join(f"{name} {int(n)}" for name, n in at_baseline.items()) or "none"
        return [
            f"the store holds too few complete responses at the {baseline!r} occasion (per instrument: "
            f"{found}); a nulmeting needs at least {min_cell} (--min-cell) for one instrument",
            *problems,
        ]
    return problems


def report(
    db_url: str,
    out: str | Path,
    *,
    notebook: str | Path = "nulmeting",
    min_cell: int = 10,
    lang: str = "nl",
    municipality: str | Path | None = None,
    previous_db: str | None = None,
    benchmark: str | Path | None = None,
    survey_round: str | None = None,
    key_file: str | Path | None = None,
    workdir: str | Path | None = None,
    pdf: bool = True,
    progress: bool = True,
) -> Path:
    """Run the baseline report against a store and write it as a publication: HTML, PDF and CSV tables.

    Steps: refuse a store that lacks what the report needs
    (:func:`check_store`); execute the notebook with papermill (parameters
    ``db_url``, ``min_cell``, ``lang``, ``output_dir`` and, when given,
    ``municipality_dir``, ``previous_db``, ``benchmark_csv``,
    ``survey_round`` and ``key_file``); convert it
    with :func:`to_html`; :func:`audit` the page; and only then write
    ``out``, its tables as CSV in ``<out>_tables/`` (with ``index.csv``) and,
    when Chromium is installed, ``out`` with ``.pdf``.

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
    municipality : path, optional
        The municipality's folder (``municipality.yaml`` and context CSV
        files, :func:`kantelmeter.municipal.load_municipality`); the shipped
        example when omitted.
    previous_db : str, optional
        The store of an earlier round, for the trend.
    benchmark : path, optional
        A CSV of national or peer figures (``indicator;group;value;source``).
    survey_round : str, optional
        A survey round in the store (:mod:`kantelmeter.survey`): the report
        then has a fieldwork section (sample, response per stratum with AAPOR
        RR1 and RR2, the R-indicator, the weighting) and the round's CEO
        indicators, weighted with the round's stored weights.
    key_file : path, optional
        The store's pseudonymisation key file: a store that has pseudonymised
        (a round's register, a BSN) opens only with its own key. Default: the
        store's default (``KANTELMETER_KEY_FILE``).
    workdir : path, optional
        Folder for the executed notebook (``<notebook>.ipynb``); a temporary
        folder when omitted.
    pdf : bool, default True
        Also print the report to PDF with Chromium (skipped when none is installed).
    progress : bool, default True

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ReportError
        The store lacks data, the notebook failed, or the audit found a
        problem (nothing is then written).
    """
    import shutil

    import papermill

    problems = check_store(db_url, int(min_cell), survey_round=survey_round, key_file=key_file)
    if problems:
        raise ReportError("the store cannot give a nulmeting: " + "; ".join(problems))
    out = Path(out)
    optional = {
        "municipality_dir": municipality,
        "previous_db": previous_db,
        "benchmark_csv": benchmark,
        "survey_round": survey_round,
        "key_file": key_file,
    }
    with tempfile.TemporaryDirectory(prefix="kantelmeter-report-") as scratch:
        folder = Path(workdir or scratch).resolve()
        name = Path(notebook_path(notebook).name).stem
        executed = folder / f"{name}.ipynb"
        tables = Path(scratch) / "tables"
        parameters = {
            "db_url": db_url,
            "min_cell": int(min_cell),
            "lang": lang,
            "output_dir": str(tables),
            **{key: str(value) for key, value in optional.items() if value is not None},
        }
        try:
            execute(notebook, executed, parameters, progress=progress)
        except papermill.PapermillExecutionError as exc:
            raise ReportError(f"{name}: cell {exc.exec_count} failed: {exc.ename}: {exc.evalue}") from None
        page_file = to_html(executed, folder / f"{name}.html", lang=lang, printed=False)
        page = page_file.read_text(encoding="utf-8")
        problems = audit(page, int(min_cell), lang=lang)
        if not problems.empty:
            raise ReportError(f"{name}: the report may not be published:\n{problems.to_string(index=False)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
        published_tables = out.resolve().with_name(f"{out.stem}_tables")
        if published_tables.exists():
            shutil.rmtree(published_tables)
        if tables.exists():
            shutil.copytree(tables, published_tables)
    # a PDF of an earlier run must not pass for this one
    out.with_suffix(".pdf").unlink(missing_ok=True)
    if pdf:
        from kantelmeter.web.paper import find_chromium, print_pdf

        if find_chromium() is not None:
            print_pdf(out, out.with_suffix(".pdf"))
    return out
