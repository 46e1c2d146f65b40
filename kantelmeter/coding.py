"""Coding interviews: fragments, a code book, coders' codes, and the wheel change table.

The source study rests on fifteen citizens' interviews, coded on the
participation wheel. This module links such qualitative work to the numbers:

- :func:`load_codebook` reads a code book (YAML): the wheel domains, read from
  the wheel instrument, with a direction each (``wheel:<domain>:increase``),
  how a change is attributed, the interventions (material or immaterial) and
  the study's frames. The study's own is ``data/thesis/codebook.yaml``.
- :func:`read_fragments` imports transcripts or open answers (plain text,
  DOCX, or a CSV of fragments, optionally with codes) and pseudonymises names
  and BSNs in the text as they come in (:func:`mask_names`).
- :class:`CodingSession` is the notebook helper with which a coder assigns
  codes to fragments, checked against the code book.
- :func:`code_frequencies` counts codes per respondent; :func:`wheel_statements`
  resolves a respondent's wheel codes to one statement per domain, and
  :func:`wheel_changes` turns those into the change table of
  :mod:`kantelmeter.wheel`, the same table that questionnaire data give, so
  :func:`kantelmeter.wheel.summarise` tallies coded interviews and
  questionnaires by the same code.
- :func:`coder_matrix` lays two coders' codes side by side for
  :func:`kantelmeter.agreement.krippendorff_alpha`.

Method: directed content analysis with a code book fixed in advance
(Hsieh & Shannon 2005, *Qualitative Health Research* 15, 1277-1288); counting
fragments per code and respondent as in Miles, Huberman & Saldaña (2014),
*Qualitative Data Analysis*, 3rd ed., ch. 6 (matrix displays).
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import yaml

from kantelmeter import wheel
from kantelmeter.errors import ProblemsError
from kantelmeter.instruments import Instrument, load_instrument
from kantelmeter.privacy import Pseudonymiser, is_valid_bsn

__all__ = [
    "Code",
    "Codebook",
    "CodedFragments",
    "CodingError",
    "CodingSession",
    "code_frequencies",
    "coder_matrix",
    "load_codebook",
    "mask_names",
    "read_fragments",
    "thesis_fragments",
    "wheel_changes",
    "wheel_statements",
]

_FRAGMENT_COLUMNS = ["fragment", "respondent", "source", "position", "text"]
_CODING_COLUMNS = ["fragment", "coder", "code"]
# Dutch forms of address followed by a surname, with its particles (tussenvoegsels).
_HONORIFIC = re.compile(
    r"\b(?P<title>(?i:mevrouw|mevr\.|mw\.|meneer|mijnheer|de heer|dhr\.))\s+"
    r"(?P<name>(?:(?i:van|de|der|den|het|ter|ten|te|in 't|op de)\s+)*[A-Z][\w'-]+(?:-[A-Z][\w'-]+)?)"
)
# Nine digits, possibly grouped by spaces, dots or hyphens (as a BSN is written).
_NUMBER = re.compile(r"(?<![\w.-])\d(?:[ .-]?\d){7,8}(?![\w-])")


class CodingError(ProblemsError):
    """A code book, fragment file or code that cannot be used; lists every problem found."""


@dataclass(frozen=True)
class Code:
    """One code of a code book.

    ``code`` is the full code (``wheel:eigen_inkomen:increase``,
    ``intervention:listening``); ``group`` its group; ``domain`` and
    ``direction`` are set for wheel codes, ``kind`` (material / immaterial)
    for interventions.
    """

    code: str
    group: str
    label: dict
    domain: str | None = None
    direction: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Codebook:
    """A code book: every code, with the wheel instrument its domains come from.

    Examples
    --------
    >>> book = load_codebook()
    >>> book.codes["wheel:sociale_contacten:increase"].label["nl"]
    'Sociale contacten: nam toe'
    >>> book.codes["intervention:listening"].kind
    'immaterial'
    """

    id: str
    codes: dict
    instrument: Instrument
    title: dict

    def table(self, lang: str = "nl") -> pd.DataFrame:
        """The code book as a table: code, group, label, domain, direction, kind.

        Examples
        --------
        >>> load_codebook().table().groupby("group").size().to_dict()
        {'attribution': 4, 'frame': 7, 'intervention': 9, 'wheel': 18}
        """
        return pd.DataFrame(
            [
                {
                    "code": c.code,
                    "group": c.group,
                    "label": c.label.get(lang, ""),
                    "domain": c.domain,
                    "direction": c.direction,
                    "kind": c.kind,
                }
                for c in self.codes.values()
            ]
        )

    def check(self, codes: Iterable[str], where: str = "") -> list[str]:
        """Problems with codes that are not in the code book (empty when all are known)."""
        prefix = f"{where}: " if where else ""
        return [
            f"{prefix}code {code!r} is not in code book {self.id!r}; allowed: a code of "
            f"{', '.join(sorted({c.group for c in self.codes.values()}))}, e.g. {next(iter(self.codes))}"
            for code in codes
            if code not in self.codes
        ]


def load_codebook(path: str | os.PathLike | None = None) -> Codebook:
    """Read a code book; the study's own (``data/thesis/codebook.yaml``) by default.

    The wheel group lists no domains: they are the domains of the named wheel
    instrument (:func:`kantelmeter.wheel.domains`), one code per domain and
    direction. Every problem in the file is reported at once.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "book.yaml"
    >>> _ = path.write_text("id: x\\ngroups:\\n  frame:\\n    codes:\\n      moment: {kind: loud}\\n")
    >>> load_codebook(path)
    Traceback (most recent call last):
    ...
    kantelmeter.coding.CodingError: book.yaml: groups.frame.codes.moment: kind 'loud' is not allowed; allowed: material, immaterial
    """
    if path is None:
        source = resources.files("kantelmeter.data") / "thesis" / "codebook.yaml"
        name, text = "thesis/codebook.yaml", source.read_text(encoding="utf-8")
    else:
        name, text = Path(path).name, Path(path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise CodingError([f"{name}: a code book is a mapping with a text 'id', 'wheel' and 'groups'"])
    codes: dict[str, Code] = {}
    instrument = None
    spec = data.get("wheel")
    if spec is not None:
        instrument = load_instrument(spec.get("instrument", "participation_wheel"))
        titles = {section.id: section.title for section in instrument.sections}
        directions = spec.get("directions", {})
        for direction in directions:
            if direction not in wheel.CHANGES:
                problems.append(
                    f"{name}: wheel.directions: {direction!r} is not allowed; allowed: {', '.join(wheel.CHANGES)}"
                )
        for domain in wheel.domains(instrument):
            for direction, label in directions.items():
                code = f"wheel:{domain}:{direction}"
                codes[code] = Code(
                    code,
                    "wheel",
                    {lang: f"{titles[domain][lang]}: {text}" for lang, text in label.items()},
                    domain=domain,
                    direction=direction,
                )
    for group, body in (data.get("groups") or {}).items():
        for key, entry in (body or {}).get("codes", {}).items():
            entry = entry or {}
            kind = entry.get("kind")
            if kind is not None and kind not in ("material", "immaterial"):
                problems.append(
                    f"{name}: groups.{group}.codes.{key}: kind {kind!r} is not allowed; allowed: material, immaterial"
                )
            codes[f"{group}:{key}"] = Code(f"{group}:{key}", group, entry.get("label", {}), kind=kind)
    if problems:
        raise CodingError(problems)
    return Codebook(data["id"], codes, instrument or load_instrument("participation_wheel"), data.get("title", {}))


def mask_names(text: str, names: Sequence[str] = (), pseudonymiser: Pseudonymiser | None = None) -> str:
    """Replace names and BSNs in a text by pseudonyms, before the text is kept.

    Method: every given name is found as a whole word, whatever its case and
    spacing; every surname after a Dutch form of address (mevrouw, meneer, de
    heer, mw., dhr.) is found too, with its particles (van, de, der, ...).
    Each becomes ``[p-...]``, its pseudonym of kind ``"name"``
    (:class:`kantelmeter.privacy.Pseudonymiser`), so one person keeps one
    token across transcripts and a coder can still follow them. A run of
    nine digits that passes the BSN eleven-test becomes ``[bsn]``. Names
    said without a form of address and not listed are not found: give the
    interviewee's and relatives' names in ``names``, and read before publishing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = Pseudonymiser(pathlib.Path(tempfile.mkdtemp()) / "k")
    >>> masked = mask_names("Ik sprak mevrouw Van der Berg en haar zoon Karim; BSN 111222333.", ["Karim"], p)
    >>> "Berg" in masked or "Karim" in masked or "111222333" in masked
    False
    >>> masked.startswith("Ik sprak mevrouw [p-"), masked.endswith("BSN [bsn].")
    (True, True)
    """
    pseudonymiser = pseudonymiser or Pseudonymiser()

    def token(name: str) -> str:
        return f"[{pseudonymiser.pseudonymise('name', name)}]"

    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, name.split())) + r"(?!\w)"
        text = re.sub(pattern, lambda m: token(m.group(0)), text, flags=re.IGNORECASE)
    text = _HONORIFIC.sub(lambda m: f"{m.group('title')} {token(m.group('name'))}", text)
    return _NUMBER.sub(lambda m: "[bsn]" if is_valid_bsn(re.sub(r"\D", "", m.group(0))) else m.group(0), text)


class CodedFragments(NamedTuple):
    """Fragments and the codes given to them (both tidy DataFrames)."""

    fragments: pd.DataFrame
    """One row per fragment: fragment, respondent, source, position, text (names masked)."""
    codings: pd.DataFrame
    """One row per fragment, coder and code; ``code`` NA when a coder saw a fragment and gave no code."""


def read_fragments(
    path: str | os.PathLike,
    *,
    respondent: str | None = None,
    names: Sequence[str] = (),
    codebook: Codebook | None = None,
    pseudonymiser: Pseudonymiser | None = None,
) -> CodedFragments:
    """Import a transcript or a file of fragments, names pseudonymised on the way in.

    - ``.txt``: one fragment per paragraph (separated by a blank line);
      ``respondent`` (a respondent code, never a name) is required.
    - ``.docx``: one fragment per non-empty paragraph (python-docx); as .txt.
    - ``.csv``: columns ``respondent`` and ``text``, optionally ``fragment``
      (an id; default ``<file>-<row>``), ``name`` (the respondent's name:
      masked in the text and never kept), ``coder`` and ``codes`` (codes
      separated by ``;``, checked against ``codebook``).

    Every problem is reported at once and nothing is returned unless every
    row is usable. See :func:`mask_names` for what is pseudonymised.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> p = Pseudonymiser(folder / "key")
    >>> _ = (folder / "r07.txt").write_text("Meneer Jansen kwam voor de huur.\\n\\nHij belt zijn dochter Eva weer.")
    >>> coded = read_fragments(folder / "r07.txt", respondent="r07", names=["Eva"], pseudonymiser=p)
    >>> coded.fragments[["fragment", "respondent", "position"]].to_numpy().tolist()
    [['r07-1', 'r07', 1], ['r07-2', 'r07', 2]]
    >>> any(name in text for text in coded.fragments["text"] for name in ("Jansen", "Eva"))
    False
    """
    path = Path(path)
    pseudonymiser = pseudonymiser or Pseudonymiser()
    suffix = path.suffix.lower()
    if suffix in (".txt", ".docx"):
        if not respondent:
            raise CodingError(
                [
                    f"{path.name}: respondent is missing; allowed: a respondent code, given as "
                    f"respondent='...' (a transcript holds one interview)"
                ]
            )
        paragraphs = _paragraphs(path, suffix)
        fragments = pd.DataFrame(
            {
                "fragment": [f"{path.stem}-{i}" for i in range(1, len(paragraphs) + 1)],
                "respondent": respondent,
                "source": path.name,
                "position": range(1, len(paragraphs) + 1),
                "text": [mask_names(text, names, pseudonymiser) for text in paragraphs],
            }
        )
        return CodedFragments(fragments[_FRAGMENT_COLUMNS], pd.DataFrame(columns=_CODING_COLUMNS))
    if suffix == ".csv":
        return _read_fragment_table(path, names, codebook, pseudonymiser)
    raise CodingError([f"{path.name}: file type {suffix or '(none)'!r} is not allowed; allowed: .txt, .docx, .csv"])


def _paragraphs(path: Path, suffix: str) -> list[str]:
    if suffix == ".docx":
        import docx  # python-docx, in the io extra

        texts = [paragraph.text for paragraph in docx.Document(str(path)).paragraphs]
    else:
        texts = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
    return [" ".join(text.split()) for text in texts if text.strip()]


def _read_fragment_table(
    path: Path, names: Sequence[str], codebook: Codebook | None, pseudonymiser: Pseudonymiser
) -> CodedFragments:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    problems = [
        f"{path.name}: column {column!r} is missing; allowed: respondent, text, and optionally "
        f"fragment, name, coder, codes"
        for column in ("respondent", "text")
        if column not in raw.columns
    ]
    if problems:
        raise CodingError(problems)
    codebook = codebook or load_codebook()
    ids = (
        raw["fragment"]
        if "fragment" in raw.columns
        else pd.Series([f"{path.stem}-{i}" for i in range(1, len(raw) + 1)])
    )
    rows, codings = [], []
    for i, record in raw.iterrows():
        where = f"{path.name} row {i + 2}"  # a header line, and files count rows from 1
        fragment = ids[i].strip()
        if not fragment:
            problems.append(f"{where}, field 'fragment': an empty id is not allowed; allowed: a unique text")
        if not record["respondent"].strip() and not record.get("name", "").strip():
            problems.append(f"{where}, field 'respondent': empty; allowed: a respondent code (or a 'name')")
        own = [record["name"]] if record.get("name", "").strip() else []
        respondent = record["respondent"].strip() or (pseudonymiser.pseudonymise("name", own[0]) if own else "")
        rows.append(
            {
                "fragment": fragment,
                "respondent": respondent,
                "source": path.name,
                "position": i + 1,
                "text": mask_names(record["text"], [*names, *own], pseudonymiser),
            }
        )
        codes = [code.strip() for code in record.get("codes", "").split(";") if code.strip()]
        problems += codebook.check(codes, f"{where}, field 'codes'")
        coder = record.get("coder", "").strip()
        if codes and not coder:
            problems.append(f"{where}, field 'coder': empty while codes are given; allowed: the coder's code")
        codings += [{"fragment": fragment, "coder": coder, "code": code} for code in codes]
    duplicated = ids[ids.duplicated()].unique().tolist()
    if duplicated:
        problems.append(f"{path.name}, field 'fragment': ids {duplicated} occur more than once; allowed: unique ids")
    if problems:
        raise CodingError(problems)
    return CodedFragments(pd.DataFrame(rows, columns=_FRAGMENT_COLUMNS), pd.DataFrame(codings, columns=_CODING_COLUMNS))


def thesis_fragments() -> CodedFragments:
    """The fifteen interviewed citizens as coded fragments (``data/thesis/fragments.csv``).

    The fragments are kantelmeter's own short paraphrases of what section
    7.4 of the source study reports per person, coded with the study's code
    book; respondents carry the study's own fictitious names.

    Examples
    --------
    >>> coded = thesis_fragments()
    >>> coded.fragments["respondent"].nunique(), len(coded.fragments)
    (15, 20)
    """
    source = resources.files("kantelmeter.data") / "thesis" / "fragments.csv"
    with resources.as_file(source) as path:
        # the shipped texts contain no names; a throw-away key keeps the user's key file untouched
        with tempfile.TemporaryDirectory() as folder:
            return read_fragments(path, pseudonymiser=Pseudonymiser(Path(folder) / "key"))


def code_frequencies(coded: CodedFragments, by: str = "respondent") -> pd.DataFrame:
    """How many fragments carry each code, per respondent (or another fragment column).

    Returns
    -------
    pandas.DataFrame
        ``<by>``, ``coder``, ``code``, ``group``, ``n_fragments``.

    Examples
    --------
    >>> freq = code_frequencies(thesis_fragments())
    >>> freq[freq["code"] == "wheel:zelfstandig_functioneren:increase"]["n_fragments"].sum()
    np.int64(4)
    """
    if by not in coded.fragments.columns:
        raise CodingError([f"by={by!r} is not a fragment column; allowed: {', '.join(coded.fragments.columns)}"])
    merged = coded.codings.dropna(subset=["code"]).merge(coded.fragments[["fragment", by]], on="fragment")
    counts = merged.groupby([by, "coder", "code"], sort=True)["fragment"].nunique().rename("n_fragments")
    table = counts.reset_index()
    table.insert(3, "group", table["code"].str.split(":").str[0])
    return table


def wheel_statements(coded: CodedFragments, codebook: Codebook | None = None, coder: str | None = None) -> pd.DataFrame:
    """One statement per respondent and wheel domain: the change, and how it came about.

    Method: the direction of a respondent's domain is the direction most of
    their fragments with a code of that domain give; its attribution is the
    attribution code most of those fragments carry. A tie between two
    directions or two attributions is a conflict for the coder to resolve
    (re-read, or agree a consensus code): it is reported, never decided by
    order. A no-change statement without an attribution code is
    'not_applicable'.

    Parameters
    ----------
    coded : CodedFragments
    codebook : Codebook, optional
    coder : str, optional
        Whose codes to use; required when several coders coded.

    Returns
    -------
    pandas.DataFrame
        ``respondent``, ``domain``, ``change``, ``attribution``,
        ``n_fragments``: the coded-statement table that
        :func:`kantelmeter.wheel.coded_changes` reads.

    Examples
    --------
    >>> statements = wheel_statements(thesis_fragments())
    >>> statements.query("respondent == 'Specht (mevrouw)'")[["domain", "change", "attribution"]]
                            domain    change   attribution
    18  maatschappelijke_bijdragen  increase  partly_pilot
    19         opdoen_vaardigheden  increase         pilot
    """
    codebook = codebook or load_codebook()
    codings = coded.codings.dropna(subset=["code"])
    coders = sorted(codings["coder"].unique())
    if coder is None and len(coders) > 1:
        raise CodingError(
            [
                f"the fragments were coded by {', '.join(coders)}; allowed: choose one with "
                f"coder='...' (or code a consensus as its own coder)"
            ]
        )
    if coder is not None:
        if coder not in coders:
            raise CodingError([f"coder {coder!r} coded nothing; allowed: {', '.join(coders)}"])
        codings = codings[codings["coder"] == coder]
    problems = codebook.check(codings["code"].unique(), "codings")
    if problems:
        raise CodingError(problems)
    codes = codings.merge(coded.fragments[["fragment", "respondent"]], on="fragment")
    is_wheel = codes["code"].map(lambda c: codebook.codes[c].group == "wheel")
    changes = codes[is_wheel].assign(
        domain=lambda f: f["code"].map(lambda c: codebook.codes[c].domain),
        change=lambda f: f["code"].map(lambda c: codebook.codes[c].direction),
    )
    attributions = codes[codes["code"].str.startswith("attribution:")].assign(
        attribution=lambda f: f["code"].str.split(":").str[1]
    )[["fragment", "attribution"]]
    order = {name: i for i, name in enumerate(wheel.domains(codebook.instrument))}
    rows = []
    for (respondent, domain), group in changes.groupby(["respondent", "domain"], sort=False):
        where = f"respondent {respondent!r}, domain {domain!r}"
        change = _majority(group.drop_duplicates("fragment")["change"], f"{where}: directions", problems)
        given = attributions[attributions["fragment"].isin(group["fragment"])]["attribution"]
        attribution = (
            _majority(given, f"{where}: attributions", problems)
            if len(given)
            else ("not_applicable" if change == "no_change" else None)
        )
        rows.append(
            {
                "respondent": respondent,
                "domain": domain,
                "change": change,
                "attribution": attribution,
                "n_fragments": group["fragment"].nunique(),
                "_order": order[domain],
            }
        )
    if problems:
        raise CodingError(problems)
    first_seen = {name: i for i, name in enumerate(coded.fragments["respondent"].drop_duplicates())}
    table = pd.DataFrame(rows, columns=["respondent", "domain", "change", "attribution", "n_fragments", "_order"])
    table = table.sort_values(
        ["respondent", "_order"], key=lambda s: s.map(first_seen) if s.name == "respondent" else s, kind="stable"
    )
    return table.drop(columns="_order").reset_index(drop=True)


def _majority(values: pd.Series, where: str, problems: list[str]):
    counts = values.value_counts()
    if len(counts) > 1 and counts.iloc[0] == counts.iloc[1]:
        problems.append(f"{where} tie: {counts.to_dict()}; allowed: one most frequent code (resolve the conflict)")
    return counts.index[0]


def wheel_changes(coded: CodedFragments, codebook: Codebook | None = None, coder: str | None = None) -> pd.DataFrame:
    """The wheel change table from coded fragments, as :func:`kantelmeter.wheel.changes` gives it.

    Examples
    --------
    The source study's tallies (section 7.4.2) from the coded fragments:

    >>> summary = wheel.summarise(wheel_changes(thesis_fragments()))
    >>> summary.set_index("domain")["n_increase"].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'maatschappelijke_bijdragen': 2, 'opdoen_vaardigheden': 3, 'eigen_inkomen': 2,
     'zelfstandig_functioneren': 4, 'sociale_contacten': 3, 'maatschappelijk_deelnemen': 0}
    """
    codebook = codebook or load_codebook()
    statements = wheel_statements(coded, codebook, coder)
    return wheel.coded_changes(statements, codebook.instrument, respondents=coded.fragments["respondent"].unique())


def coder_matrix(coded: CodedFragments, group: str = "wheel") -> pd.DataFrame:
    """Each coder's codes of one group per fragment, side by side, for an agreement statistic.

    A fragment's value for a coder is the set of its codes in ``group``
    (``"none"`` when the coder saw the fragment and gave no code of the
    group; NaN when the coder did not code the fragment), numbered so that
    :func:`kantelmeter.agreement.krippendorff_alpha` can take it as nominal data.

    Examples
    --------
    >>> codings = pd.DataFrame({"fragment": ["f1", "f1", "f2", "f2"], "coder": ["a", "b", "a", "b"],
    ...                         "code": ["frame:meaning", "frame:meaning", "frame:meaning", None]})
    >>> coded = CodedFragments(pd.DataFrame({"fragment": ["f1", "f2"]}), codings)
    >>> coder_matrix(coded, "frame")
    coder     a    b
    fragment
    f1        0    0
    f2        0    1
    """
    codings = coded.codings
    seen = codings[["fragment", "coder"]].drop_duplicates()
    own = codings.dropna(subset=["code"])
    own = own[own["code"].str.startswith(f"{group}:")]
    sets = own.groupby(["fragment", "coder"])["code"].agg(lambda c: "|".join(sorted(set(c))))
    values = seen.set_index(["fragment", "coder"]).assign(value=sets).fillna({"value": "none"})["value"]
    labels, _ = pd.factorize(values)
    return pd.Series(labels, index=values.index).unstack("coder").rename_axis(columns="coder")


class CodingSession:
    """The notebook helper with which one coder codes fragments.

    Codes are checked against the code book as they are given; nothing
    unknown is recorded. ``next()`` shows the first fragment this coder has
    not coded; ``code(fragment, *codes)`` records the codes (no codes: seen,
    nothing to code); ``save(path)`` writes the codings atomically (a
    temporary file, then a rename), so a crash never leaves half a file.

    Examples
    --------
    >>> coded = thesis_fragments()
    >>> session = CodingSession(coded.fragments, coder="anna")
    >>> session.next()["fragment"]
    'f01'
    >>> session.code("f01", "wheel:sociale_contacten:increase", "attribution:pilot")
    >>> session.progress()
    (1, 20)
    >>> session.code("f02", "wheel:social:up")
    Traceback (most recent call last):
    ...
    kantelmeter.coding.CodingError: fragment 'f02': code 'wheel:social:up' is not in code book 'kanteling_citizens'; allowed: a code of attribution, frame, intervention, wheel, e.g. wheel:maatschappelijke_bijdragen:decrease
    """

    def __init__(
        self, fragments: pd.DataFrame, coder: str, codebook: Codebook | None = None, codings: pd.DataFrame | None = None
    ):
        if not coder or not str(coder).strip():
            raise CodingError(["coder: empty; allowed: the coder's code"])
        self.fragments = fragments.reset_index(drop=True)
        self.coder = str(coder).strip()
        self.codebook = codebook or load_codebook()
        start = codings if codings is not None else pd.DataFrame(columns=_CODING_COLUMNS)
        self._rows = start[_CODING_COLUMNS].to_dict("records")

    @property
    def codings(self) -> pd.DataFrame:
        """Every recorded code (all coders passed in, and this one's)."""
        return pd.DataFrame(self._rows, columns=_CODING_COLUMNS)

    def coded(self) -> CodedFragments:
        """The fragments with the codings so far."""
        return CodedFragments(self.fragments, self.codings)

    def _done(self) -> set:
        return {row["fragment"] for row in self._rows if row["coder"] == self.coder}

    def next(self) -> pd.Series | None:
        """The first fragment this coder has not coded yet, or None when all are done."""
        todo = self.fragments[~self.fragments["fragment"].isin(self._done())]
        return None if todo.empty else todo.iloc[0]

    def code(self, fragment: str, *codes: str) -> None:
        """Record this coder's codes for a fragment (replacing earlier ones of this coder)."""
        problems = []
        if fragment not in set(self.fragments["fragment"]):
            problems.append(f"fragment {fragment!r} does not exist; allowed: a fragment id of the session")
        problems += self.codebook.check(codes, f"fragment {fragment!r}")
        if problems:
            raise CodingError(problems)
        self._rows = [row for row in self._rows if not (row["fragment"] == fragment and row["coder"] == self.coder)]
        self._rows += [{"fragment": fragment, "coder": self.coder, "code": code} for code in dict.fromkeys(codes)] or [
            {"fragment": fragment, "coder": self.coder, "code": pd.NA}
        ]

    def progress(self) -> tuple[int, int]:
        """(fragments coded by this coder, all fragments)."""
        return len(self._done() & set(self.fragments["fragment"])), len(self.fragments)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the codings to a CSV file, atomically."""
        path = Path(path)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                self.codings.to_csv(out, index=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def _repr_html_(self) -> str:
        done, total = self.progress()
        fragment = self.next()
        if fragment is None:
            return f"<p>{html.escape(self.coder)}: alle {total} fragmenten gecodeerd.</p>"
        return (
            f"<p><b>{html.escape(str(fragment['fragment']))}</b> "
            f"({html.escape(str(fragment['respondent']))}; {done} van {total} gecodeerd)</p>"
            f"<blockquote>{html.escape(str(fragment['text']))}</blockquote>"
        )
