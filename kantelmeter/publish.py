"""What a notebook calls to publish a table or a figure safely, numbered and in the reader's language.

A report's code is hidden, so everything a reader sees is an output: the
sentences (:class:`Texts`), the tables (:func:`publish`) and the figures.
:class:`Publication` keeps them together the way a printed report does:
tables and figures numbered in order with a title, every figure with an
alternative text that says what it shows, a table of which nothing may be
shown replaced by one sentence, and at the end every published table written
as a CSV file that Dutch Excel opens (BOM, ``;`` between fields, decimal
commas) with an index file naming them.

Every table goes through :func:`publish`, which applies disclosure control
(:mod:`kantelmeter.disclosure`) according to what the table holds and marks
the HTML so that :func:`kantelmeter.report.audit` can check it again from
the outside. Numbers are written by :mod:`kantelmeter.formatting`.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kantelmeter import disclosure, formatting
from kantelmeter.errors import KantelmeterError
from kantelmeter.instruments import LANGUAGES
from kantelmeter.messages import message, section, translations

__all__ = [
    "TABLE_CLASS",
    "AnalystTable",
    "Publication",
    "PublishedTable",
    "ReportError",
    "Texts",
    "analyst_table",
    "fieldwork",
    "publish",
    "title_page",
]

Kind = Literal["counts", "estimates", "public"]

#: CSS class of every table that went through :func:`publish`; a table without it is a leak.
TABLE_CLASS = "km-table"

#: The label of the total row and column, per language (``report.total`` in :mod:`kantelmeter.messages`).
TOTAL_LABEL = translations("report.total")


class ReportError(KantelmeterError, ValueError):
    """A report that cannot be made or must not be published; lists every problem."""


class Texts:
    """The sentences of a notebook, shown in the notebook's language.

    A shipped notebook's headings and sentences are a section of the message
    catalogues (``notebooks.<notebook>`` in :mod:`kantelmeter.messages`); a
    notebook of your own, outside the package, may pass a dictionary (key to
    ``{"nl": ..., "en": ...}``) instead. :meth:`show` fills in computed
    numbers in the language's style (:func:`kantelmeter.formatting.fill`: in
    Dutch a decimal comma and a thousands point).

    Parameters
    ----------
    texts : str or mapping of str to mapping of str to str
        A catalogue section, or texts of which every key has every language.
    lang : {"nl", "en"}

    Examples
    --------
    >>> say = Texts("notebooks.thesis_replication", "en")
    >>> say("tally_ok", n=6)
    'All 6 tallies of the study are reproduced exactly.'
    >>> say = Texts({"n": {"nl": "{n:,} antwoorden", "en": "{n:,} responses"}}, "en")
    >>> say("n", n=1200)
    '1,200 responses'
    >>> Texts({"r": {"nl": "{r:.2f} euro", "en": "{r:.2f} euro"}}, "nl")("r", r=1234.5)
    '1.234,50 euro'
    >>> Texts({"n": {"nl": "{n} antwoorden"}}, "en")
    Traceback (most recent call last):
    ...
    kantelmeter.publish.ReportError: texts: key 'n' has no text in 'en'; allowed languages: nl, en
    """

    def __init__(
        self,
        texts: str | Mapping[str, Mapping[str, str]],
        lang: str,
        labels: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    ):
        if lang not in LANGUAGES:
            raise ReportError(f"texts: lang {lang!r} is not allowed; allowed: {', '.join(LANGUAGES)}")
        languages: tuple[str, ...] = LANGUAGES
        if isinstance(texts, str):
            texts = {key: {lang: text} for key, text in section(texts, lang).items()}
            languages = (lang,)
        groups = {"": texts, **{f"labels.{name}.": group for name, group in (labels or {}).items()}}
        for prefix, group in groups.items():
            for key, versions in group.items():
                for language in languages:
                    if language not in versions:
                        raise ReportError(
                            f"texts: key {prefix}{key!r} has no text in {language!r}; allowed "
                            f"languages: {', '.join(LANGUAGES)}"
                        )
        self.texts = dict(texts)
        self.labels = {name: dict(group) for name, group in (labels or {}).items()}
        self.lang = lang

    @classmethod
    def of_notebook(cls, name: str, lang: str) -> Texts:
        """The texts of a shipped notebook, kept beside it in ``notebooks/<name>.texts.yaml``.

        The file holds ``texts`` (key to ``{nl: ..., en: ...}``) and ``labels``
        (group to key to ``{nl: ..., en: ...}``: words for the store's ids).

        Examples
        --------
        >>> say = Texts.of_notebook("nulmeting", "nl")
        >>> say("summary"), say.label("cohort", "regular"), say.label("cohort", "other")
        ('## Samenvatting', 'regulier', 'other')
        """
        from importlib import resources

        import yaml

        source = resources.files("kantelmeter.notebooks") / f"{name}.texts.yaml"
        if not source.is_file():
            raise ReportError(f"texts: notebook {name!r} has no {source.name}")
        content = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        return cls(content.get("texts", {}), lang, labels=content.get("labels", {}))

    def label(self, group: str, key: Any, default: str | None = None) -> str:
        """The word for ``key`` (a store's id) in a label group, in the notebook's language.

        An id without a word is shown as it is (or as ``default``).
        """
        if group not in self.labels:
            raise ReportError(f"texts: label group {group!r} does not exist; allowed: {', '.join(self.labels)}")
        found = self.labels[group].get(key)
        return found[self.lang] if found else (str(key) if default is None else default)

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key`` in the notebook's language, with ``values`` filled in."""
        if key not in self.texts:
            raise ReportError(f"texts: key {key!r} does not exist; allowed: {', '.join(self.texts)}")
        return formatting.fill(self.texts[key][self.lang], self.lang, **values)

    def show(self, key: str, **values: Any) -> None:
        """Display the text as Markdown (a heading when it starts with ``#``)."""
        from IPython.display import Markdown, display

        display(Markdown(self(key, **values)))


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
    source : str
    lang : str
    """

    display: pd.DataFrame
    kind: Kind
    min_cell: int
    count_columns: tuple[str, ...] = ()
    caption: str = ""
    source: str = field(default="", repr=False)
    lang: str = "nl"

    @property
    def withheld(self) -> bool:
        """Whether nothing of the table may be shown: every number is withheld.

        Examples
        --------
        >>> publish(pd.DataFrame({"team": ["a"], "n": [4], "mean": [3.2]}), 10, kind="estimates",
        ...         count_columns=["n"]).withheld
        True
        """
        numbers = self.display.drop(columns=[c for c in self.display if not _shows_numbers(self.display[c])])
        if self.kind == "counts":
            total = TOTAL_LABEL.get(self.lang, "Totaal")
            numbers = numbers.drop(index=total, columns=total, errors="ignore")
        return not numbers.empty and bool((numbers == disclosure.MARKER).all().all())

    def to_html(self) -> str:
        """The table as HTML, with the classes and data attributes that the audit reads."""
        # a frequency table is labelled by its index; other tables carry their labels as columns
        body = self.display.to_html(
            classes=[TABLE_CLASS, f"km-{self.kind}"],
            border=0,
            escape=True,
            na_rep=disclosure.MARKER,
            index=self.kind == "counts",
        )
        if self.kind != "counts":
            body = _mark_text_columns(body, [not _shows_numbers(self.display[column]) for column in self.display])
        attributes = (
            f' data-min-cell="{self.min_cell}" data-lang="{self.lang}"'
            f' data-count-columns="{html.escape(json.dumps(list(self.count_columns)))}"'
        )
        body = body.replace("<table", "<table" + attributes, 1)
        if self.caption:
            body = body.replace(">", f"><caption>{html.escape(self.caption)}</caption>", 1)
        # wide tables scroll inside their own box instead of widening the page
        body = (
            f'<div class="km-scroll" role="region" tabindex="0" aria-label="{html.escape(self.caption)}">{body}</div>'
            if self.caption
            else body
        )
        if self.source:
            body += f'<p class="km-source"><small>{html.escape(self.source)}</small></p>'
        return body

    def to_csv(self, path: str | Path) -> Path:
        """Write the table as published, for Dutch Excel: UTF-8 with BOM, ``;`` between fields."""
        path = Path(path)
        self.display.to_csv(path, sep=";", encoding="utf-8-sig", index=self.kind == "counts")
        return path

    def _repr_html_(self) -> str:
        return self.to_html()


def _shows_numbers(cells: pd.Series) -> bool:
    """Whether every shown cell of a column is a number (in either language's style), withheld or empty."""

    def number(cell: Any) -> bool:
        text = str(cell).strip().removesuffix("%")
        return text in ("", disclosure.MARKER) or bool(re.fullmatch(r"[-+]?\d[\d.,]*", text))

    return all(number(cell) for cell in cells)


def _mark_text_columns(body: str, text_columns: list[bool]) -> str:
    """Class ``km-text`` on the heading and cells of text columns: words read left-aligned, numbers right."""

    def mark(row: re.Match) -> str:
        columns = iter(text_columns)
        return re.sub(
            r"<(t[dh])>", lambda cell: f'<{cell[1]} class="km-text">' if next(columns, False) else cell[0], row[0]
        )

    return re.sub(r"<tr[^>]*>.*?</tr>", mark, body, flags=re.S)


def publish(
    table: pd.DataFrame,
    min_cell: int,
    *,
    kind: Kind = "counts",
    count_columns: Iterable[str] = (),
    caption: str = "",
    source: str = "",
    lang: str = "nl",
    decimals: int | Mapping[str, int] = 1,
    wide: str | None = None,
) -> PublishedTable:
    """Apply disclosure control to a table according to what it holds, for display in a report.

    Three kinds of table:

    ``"counts"``
        A frequency table (people per row and column category). Counts below
        ``min_cell`` are withheld, with optimal secondary suppression so that a
        reader who knows the method cannot bring any of them below
        ``min_cell`` (:func:`kantelmeter.disclosure.suppress`; Hundepool et
        al. 2012, ch. 5). Totals are added.
    ``"estimates"``
        One row per estimate (a mean, a percentage, an effect) with the number
        of people it rests on in ``count_columns``. A row resting on fewer than
        ``min_cell`` people (but more than none) is withheld entirely: its
        numbers and its counts (the rule of
        :func:`kantelmeter.disclosure.suppress_percentages`).
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
        Language of the numbers (decimal comma in Dutch) and the total label.
    decimals : int or mapping of column to int, default 1
        Decimals of numbers in ``"estimates"`` and ``"public"`` tables; a
        column of whole numbers is shown without decimals.
    wide : str, optional
        For ``"estimates"``: a column whose values become column groups (the
        cohorts side by side), after the rows are withheld. The numeric
        columns are then named ``"<column> (<value>)"``.

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
    >>> scores = pd.DataFrame({"scale": ["soc", "soc"], "cohort": ["pilot", "regulier"], "mean": [62.25, 70.0],
    ...                        "n": [8, 1240]})
    >>> publish(scores, 10, kind="estimates", count_columns=["n"], wide="cohort").display
      scale mean (pilot) n (pilot) mean (regulier) n (regulier)
    0   soc            x         x            70,0        1.240
    """
    if isinstance(min_cell, bool) or not isinstance(min_cell, int | np.integer) or min_cell < 1:
        raise ReportError(f"publish: min_cell {min_cell!r} is not allowed; allowed: a whole number >= 1")
    if lang not in TOTAL_LABEL:
        raise ReportError(f"publish: lang {lang!r} is not allowed; allowed: {', '.join(TOTAL_LABEL)}")
    count_columns = tuple(count_columns)
    if kind == "counts":
        suppressed = disclosure.suppress(table, min_cell, margins_name=TOTAL_LABEL[lang])
        display = suppressed.counts.map(
            lambda v: disclosure.MARKER if pd.isna(v) else formatting.number(v, 0, lang)
        ).astype(object)
    elif kind == "estimates":
        display = _withhold_small_rows(_labels_as_columns(table), min_cell, count_columns, decimals, lang)
        if wide is not None:
            display, count_columns = _widen(display, wide, count_columns, _numeric_columns(table))
    elif kind == "public":
        display = _as_text(_labels_as_columns(table), decimals, "", lang)
    else:
        raise ReportError(f"publish: kind {kind!r} is not allowed; allowed: counts, estimates, public")
    return PublishedTable(
        display=display,
        kind=kind,
        min_cell=int(min_cell),
        count_columns=count_columns,
        caption=caption,
        source=source,
        lang=lang,
    )


def _labels_as_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Move a meaningful index into the columns, so that the table can be shown without its index."""
    return table.reset_index(drop=isinstance(table.index, pd.RangeIndex) and table.index.name is None)


def _numeric_columns(table: pd.DataFrame) -> list:
    return [column for column in _labels_as_columns(table) if _is_number(_labels_as_columns(table)[column])]


def _withhold_small_rows(
    table: pd.DataFrame, min_cell: int, count_columns: tuple[str, ...], decimals: int | Mapping[str, int], lang: str
) -> pd.DataFrame:
    missing = [column for column in count_columns if column not in table.columns]
    if missing or not count_columns:
        raise ReportError(
            f"publish: count column(s) {missing or '(none)'} not in the table; allowed: one or more "
            f"of {', '.join(map(str, table.columns))}"
        )
    counts = table[list(count_columns)].apply(pd.to_numeric, errors="raise")
    small = ((counts > 0) & (counts < min_cell)).any(axis=1).to_numpy()
    shown = _as_text(table, decimals, disclosure.MARKER, lang)
    for column in table.columns:
        if column in count_columns or _is_number(table[column]):
            shown[column] = shown[column].where(~small, disclosure.MARKER)
    return shown


def _widen(
    shown: pd.DataFrame, by: str, count_columns: tuple[str, ...], numeric: list
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Groups of ``by`` side by side: one row per remaining label, numeric columns per group."""
    if by not in shown.columns:
        raise ReportError(f"publish: wide column {by!r} not in the table; allowed: {', '.join(map(str, shown))}")
    labels = [column for column in shown.columns if column != by and column not in numeric]
    groups = list(dict.fromkeys(shown[by]))
    measures = [column for column in shown.columns if column in numeric]
    keyed = shown.set_index([*labels, by]) if labels else shown.set_index(by)
    wide = keyed[measures].unstack(by) if labels else keyed[measures].stack().to_frame().T
    wide = wide.reindex(columns=pd.MultiIndex.from_product([measures, groups]))
    ordered = [(measure, group) for group in groups for measure in measures]
    wide = wide[ordered].fillna("")
    wide.columns = [f"{measure} ({group})" for measure, group in ordered]
    # rows in the order they first appear
    wide = wide.reindex(list(dict.fromkeys(keyed.index.droplevel(-1)))) if labels else wide
    wide = wide.reset_index() if labels else wide.reset_index(drop=True)
    counts = tuple(f"{measure} ({group})" for group in groups for measure in measures if measure in count_columns)
    return wide, counts


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _as_text(table: pd.DataFrame, decimals: int | Mapping[str, int], missing: str, lang: str) -> pd.DataFrame:
    """Numbers as text in the language's style: whole-number columns without decimals, others with ``decimals``."""
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
        shown[column] = values.map(lambda v, p=places: missing if pd.isna(v) else formatting.number(v, p, lang)).astype(
            object
        )
    return shown


class Publication:
    """The tables and figures of one report: numbered, titled, described, and exported at the end.

    Parameters
    ----------
    min_cell : int
        Smallest number of people a published figure may rest on.
    lang : {"nl", "en"}

    Examples
    --------
    >>> pub = Publication(10, "nl")
    >>> table = pub.table(pd.DataFrame({"pilot": [40, 12]}, index=["intake", "vervolg"]), caption="Respons",
    ...                   show=False)
    >>> table.caption
    'Tabel 1. Respons'
    >>> pub.table(pd.DataFrame({"team": ["a"], "n": [4], "mean": [3.2]}), caption="Teamscores", kind="estimates",
    ...           count_columns=["n"], show=False) is None
    True
    >>> pub.sentences
    ['Teamscores: niet gepubliceerd, omdat elke groep minder dan 10 personen telt.']
    """

    def __init__(self, min_cell: int, lang: str = "nl"):
        if lang not in TOTAL_LABEL:
            raise ReportError(f"publication: lang {lang!r} is not allowed; allowed: {', '.join(TOTAL_LABEL)}")
        self.min_cell = int(min_cell)
        self.lang = lang
        self.tables: list[PublishedTable] = []
        self.figures: list[str] = []
        self.sentences: list[str] = []

    def table(
        self, table: pd.DataFrame, *, caption: str, withheld: str | None = None, show: bool = True, **options: Any
    ) -> PublishedTable | None:
        """Publish a table with the next number; a table of which nothing may be shown becomes one sentence.

        Parameters
        ----------
        table : pandas.DataFrame
        caption : str
            The title, without number.
        withheld : str, optional
            The sentence shown instead when nothing may be shown (default: the
            caption and the reason).
        show : bool, default True
            Display it in the notebook.
        **options
            Passed to :func:`publish` (``kind``, ``count_columns``, ``source``,
            ``decimals``, ``wide``).

        Returns
        -------
        PublishedTable or None
            None when the table was replaced by its sentence.
        """
        number = len(self.tables) + 1
        numbered = f"{message('report.table', self.lang)} {number}. {caption}"
        published = publish(table, self.min_cell, caption=numbered, lang=self.lang, **options)
        if published.withheld:
            sentence = withheld or message("report.withheld", self.lang, caption=caption, min_cell=self.min_cell)
            self.sentences.append(sentence)
            if show:
                _display_markdown(sentence)
            return None
        self.tables.append(published)
        if show:
            _display(published)
        return published

    def figure(self, figure, *, caption: str, alt: str, show: bool = True) -> str:
        """A matplotlib figure as a numbered ``<figure>`` with its title and an alternative text.

        Parameters
        ----------
        figure : matplotlib.figure.Figure
            Closed after it is drawn.
        caption : str
            The title, without number.
        alt : str
            What the figure shows, for someone who cannot see it: the kind of
            chart, what is compared, and the main finding.

        Returns
        -------
        str
            The HTML of the figure (PNG embedded as base64).
        """
        import matplotlib.pyplot as plt

        if not alt.strip():
            raise ReportError(f"figure {caption!r}: an alternative text is required")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        plt.close(figure)
        number = len(self.figures) + 1
        encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
        markup = (
            f'<figure class="km-figure"><img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'
            f"<figcaption>{message('report.figure', self.lang)} {number}. {html.escape(caption)}</figcaption>"
            f"</figure>"
        )
        self.figures.append(caption)
        if show:
            from IPython.display import HTML, display

            display(HTML(markup))
        return markup

    def write_tables(self, folder: str | Path) -> Path:
        """Every published table as ``tabel_NN.csv`` (``table_NN.csv`` in English) and an index file.

        The files are what Dutch Excel opens without a wizard: UTF-8 with a
        byte-order mark, ``;`` between fields and the numbers as published
        (decimal comma in Dutch, withheld cells as ``x``).

        Returns
        -------
        pathlib.Path
            The index file (``index.csv``): number, title, file, source.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = message("report.csv_stem", self.lang)
        rows = []
        for number, table in enumerate(self.tables, start=1):
            name = f"{stem}_{number:02d}.csv"
            table.to_csv(folder / name)
            rows.append((number, table.caption, name, table.source))
        index = folder / "index.csv"
        pd.DataFrame(rows, columns=list(section("report.index", self.lang).values())).to_csv(
            index, sep=";", encoding="utf-8-sig", index=False
        )
        return index


@dataclass(frozen=True)
class AnalystTable:
    """A statistics table made readable for an analyst's notebook: headers in words, numbers formatted.

    Not a publication: no disclosure control is applied (an analyst's
    notebook is internal); :func:`publish` is for what leaves the project.
    """

    display: pd.DataFrame
    caption: str = ""

    def _repr_html_(self) -> str:
        body = self.display.to_html(index=False, border=0, escape=True, classes=["km-analyst"])
        if self.caption:
            body = body.replace(">", f"><caption>{html.escape(self.caption)}</caption>", 1)
        return body

    def __repr__(self) -> str:
        return (self.caption + "\n" if self.caption else "") + self.display.to_string(index=False)


def analyst_table(
    table: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    lang: str = "nl",
    *,
    decimals: int | Mapping[str, int] = 2,
    caption: str = "",
) -> AnalystTable:
    """A statistics table as an analyst reads it: words for headers and codes, numbers in the language's style.

    Column names, index labels and text cells found in ``labels`` are
    replaced by their text; a meaningful index becomes the first column;
    booleans read ``ja``/``nee``; missing values show as an en dash; numbers
    get ``decimals`` (whole-number columns none), without ``-0,00``.

    Examples
    --------
    >>> fit = pd.DataFrame({"term": ["months", "team[T.team 2]"], "estimate": [0.0312, -0.5], "p": [0.04, None],
    ...                     "significant": [True, False]})
    >>> analyst_table(fit, {"term": "term", "months": "maanden", "estimate": "schatting"}, "nl")
          term schatting    p significant
       maanden      0,03 0,04          ja
    team[T.team 2]     -0,50    –         nee
    """
    labels = dict(labels or {})
    frame = _labels_as_columns(table)
    frame.columns = [labels.get(str(column), str(column)) for column in frame.columns]
    yes, no = message("report.yes", lang), message("report.no", lang)
    shown = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values):
            shown[column] = values.map({True: yes, False: no})
        elif _is_number(values):
            shown[column] = _as_text(frame[[column]], decimals, "\u2013", lang)[column]
        else:
            shown[column] = values.map(lambda v: "\u2013" if pd.isna(v) else labels.get(str(v), str(v)))
    return AnalystTable(display=shown.reset_index(drop=True), caption=caption)


def _display(published: PublishedTable) -> None:
    from IPython.display import display

    display(published)


def _display_markdown(text: str) -> None:
    from IPython.display import Markdown, display

    display(Markdown(text))


def title_page(
    municipality,
    *,
    round_name: str,
    period: tuple[pd.Timestamp, pd.Timestamp] | None,
    date: pd.Timestamp,
    lang: str = "nl",
) -> str:
    """The title page as HTML: logo, title, municipality, round, fieldwork period, date and contact.

    Parameters
    ----------
    municipality : kantelmeter.municipal.Municipality
    round_name : str
        The round as the municipality names it (``2010``, ``voorjaar 2026``).
    period : (Timestamp, Timestamp) or None
        First and last day of fieldwork (None when the store holds no dates).
    date : Timestamp
        The date of the report.
    lang : {"nl", "en"}

    Examples
    --------
    >>> from kantelmeter.municipal import load_municipality
    >>> page = title_page(load_municipality(), round_name="2010", lang="nl",
    ...                   period=(pd.Timestamp("2010-05-28"), pd.Timestamp("2011-03-01")), date=pd.Timestamp("2026-12-02"))
    >>> "28 mei 2010 tot en met 1 maart 2011" in page, 'alt="Logo van de gemeente Haarlemmermeer"' in page
    (True, True)
    """
    words = section("report.title_page", lang)

    def day(value: pd.Timestamp) -> str:
        return formatting.day(value, lang)

    rows = [
        (words["round"], round_name),
        (words["date"], day(date)),
        (words["code"], municipality.cbs_code),
        (words["contact"], f"{municipality.contact['organisation']}, {municipality.contact['email']}"),
    ]
    if period is not None:
        rows.insert(
            1, (words["period"], formatting.fill(words["from_to"], lang, first=day(period[0]), last=day(period[1])))
        )
    logo = ""
    if municipality.logo is not None:
        data = municipality.logo.read_bytes()
        mime = "image/svg+xml" if municipality.logo.suffix.lower() == ".svg" else "image/png"
        alt = words["logo"].format(name=municipality.name)
        logo = (
            f'<img class="km-logo" src="data:{mime};base64,{base64.b64encode(data).decode("ascii")}" '
            f'alt="{html.escape(alt)}">'
        )
    facts = "".join(f"<dt>{html.escape(key)}</dt><dd>{html.escape(value)}</dd>" for key, value in rows)
    return (
        f'<header class="km-title">{logo}<h1>{html.escape(words["kind"])}: '
        f"{html.escape(words['municipality'].format(name=municipality.name))}</h1>"
        f'<dl class="km-facts">{facts}</dl></header>'
    )


# --- fieldwork: the survey round's tidy tables (kantelmeter.survey) -------------------------------

_DISPOSITIONS = ("ineligible", "complete", "partial", "refused", "no_contact")
#: The per-stratum columns: the eligible clients' outcomes; the ineligible are counted in total only.
_PER_STRATUM = ("complete", "partial", "nonresponse")


def fieldwork(
    pub: Publication,
    response: pd.DataFrame,
    *,
    r_indicator: Mapping[str, float] | pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    show: bool = True,
) -> list[str]:
    """The fieldwork section from the survey round's tidy tables: response table, rates, R-indicator, weighting.

    Takes the tables of :func:`kantelmeter.survey.response`: ``response`` has
    one row per stratum (and a row whose ``stratum`` is ``"total"``) with the
    counts ``sampled``, ``ineligible``, ``complete``, ``partial``, ``refused``
    and ``no_contact`` (the dispositions add up to ``sampled``) and the rates
    ``rr1`` and ``rr2`` as fractions (AAPOR 2016 RR1 and RR2); ``r_indicator``
    has ``r``, ``ci_low``, ``ci_high`` (a mapping, or the one-row table of
    ``ResponseAccount.r_indicator``; Schouten, Cobben & Bethlehem 2009);
    ``weights`` has ``min``, ``max``, ``deff`` (Kish 1965) and ``n``.

    Per stratum the eligible clients' outcomes are a frequency table
    (complete, partial, no response; its total the net sample), published
    with cell suppression. The ineligible are counted in total only, in a
    sentence shown when that count is 0 or at least ``min_cell``: per stratum
    they are few, and the stratum's sample beside its net sample would give
    them away. The rates rest on the stratum's net sample; they are withheld
    where a count of their stratum is, since RR1 and RR2 with the net sample
    would give the withheld counts back (and so is the net sample, the
    counts table's own withheld total).

    Returns
    -------
    list of str
        The sentences shown besides the tables.

    Examples
    --------
    >>> response = pd.DataFrame({"stratum": ["65+", "18-64", "total"], "sampled": [120, 200, 320],
    ...                          "ineligible": [4, 16, 20], "complete": [60, 80, 140], "partial": [10, 4, 14],
    ...                          "refused": [30, 50, 80], "no_contact": [16, 50, 66],
    ...                          "rr1": [0.517, 0.435, 0.467], "rr2": [0.603, 0.457, 0.513]})
    >>> pub = Publication(10, "nl")
    >>> fieldwork(pub, response, r_indicator={"r": 0.81, "ci_low": 0.75, "ci_high": 0.87},
    ...           weights={"min": 0.6, "max": 2.4, "deff": 1.3, "n": 140}, show=False)[2]  # doctest: +ELLIPSIS
    'De antwoorden zijn gewogen ... een ongewogen steekproef van ongeveer 108 personen.'
    >>> [table.caption for table in pub.tables]  # doctest: +NORMALIZE_WHITESPACE
    ['Tabel 1. Netto steekproef en respons per stratum',
     'Tabel 2. Responspercentages (AAPOR RR1 en RR2) per stratum']
    >>> pub.tables[0].display.loc["18-64"].tolist()  # 4 partial withheld, with a complement in its row
    ['x', 'x', '100', '184']
    >>> pub.tables[1].display.iloc[:, 2].tolist()  # a stratum's rates would give its withheld counts back
    ['x', 'x', '46,7']
    """
    words = section("report.fieldwork", pub.lang)
    required = ["stratum", "sampled", *_DISPOSITIONS, "rr1", "rr2"]
    missing = [column for column in required if column not in response.columns]
    if missing:
        raise ReportError(
            f"fieldwork: response table lacks column(s) {', '.join(missing)}; allowed: the table "
            f"of kantelmeter.survey.response ({', '.join(required)})"
        )
    table = response.set_index("stratum")
    table = table.assign(
        nonresponse=table["refused"] + table["no_contact"], eligible=table["sampled"] - table["ineligible"]
    )
    strata = table.drop(index="total")
    counts = strata[list(_PER_STRATUM)].rename(columns=words)
    counts.index.name = None
    counts[TOTAL_LABEL[pub.lang]] = strata["eligible"]
    published = pub.table(counts, caption=words["response_caption"], show=show)
    withheld = (
        set()
        if published is None
        else set(published.display.index[(published.display == disclosure.MARKER).any(axis=1)])
    )
    hidden = table.index.to_series().replace({"total": TOTAL_LABEL[pub.lang]}).isin(withheld).to_numpy()
    rates = pd.DataFrame(
        {
            words["stratum"]: table.index.to_series().replace({"total": words["total"]}).to_numpy(),
            words["eligible"]: table["eligible"].mask(hidden).to_numpy(),
            words["rr1"]: (100 * table["rr1"]).mask(hidden).to_numpy(),
            words["rr2"]: (100 * table["rr2"]).mask(hidden).to_numpy(),
        }
    )
    pub.table(rates, caption=words["rates_caption"], kind="estimates", count_columns=[words["eligible"]], show=show)
    sentences = []
    total = table.loc["total"]
    if total["ineligible"] == 0 or total["ineligible"] >= pub.min_cell:
        sentences.append(
            formatting.fill(
                words["sample"],
                pub.lang,
                sampled=int(total["sampled"]),
                ineligible=int(total["ineligible"]),
                eligible=int(total["eligible"]),
            )
        )
    if isinstance(r_indicator, pd.DataFrame):
        r_indicator = r_indicator.iloc[0]
    if r_indicator is not None:
        sentences.append(
            formatting.fill(
                words["r_indicator"],
                pub.lang,
                r=r_indicator["r"],
                low=r_indicator["ci_low"],
                high=r_indicator["ci_high"],
            )
        )
    if weights is not None:
        sentences.append(
            formatting.fill(
                words["weights"],
                pub.lang,
                low=weights["min"],
                high=weights["max"],
                deff=weights["deff"],
                effective=int(round(weights["n"] / weights["deff"])),
            )
        )
    if show:
        for sentence in sentences:
            _display_markdown(sentence)
    return sentences
