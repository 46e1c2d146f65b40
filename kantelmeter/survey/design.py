"""The sampling frame and the sample: from the client register to design weights.

A municipality's client register names every client (BSN or client number)
with a few facts: age group, sex, type of provision, district, start date.
:func:`frame` turns it into a :class:`Frame` keyed by pseudonym at once: the
identifier is replaced by its keyed HMAC (:class:`kantelmeter.privacy.Pseudonymiser`)
and only the stratum and the auxiliary variables are kept, never a name,
an address or a BSN. :func:`draw` takes a stratified simple random sample
without replacement from it, with each unit's inclusion probability and
design weight; :func:`sample_size` says how many to draw.

Sampling and sample-size arithmetic are svy's (``Sample.sampling.srs``,
``SampleSize.estimate_prop``, ``SampleSize.allocate``); see README for why
svy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kantelmeter.contract import REGISTER_IDENTIFIERS
from kantelmeter.errors import KantelmeterError
from kantelmeter.privacy import BSNError, Pseudonymiser, _mask

__all__ = ["SurveyError", "ALLOCATIONS", "ID_KINDS", "Frame", "FrameError", "Sample", "draw", "frame", "sample_size"]

ID_KINDS = REGISTER_IDENTIFIERS
ALLOCATIONS = ("proportional", "equal", "census")
#: The stratum of every unit when a frame has no strata.
WHOLE = "all"
SHOWN = 10  # problems shown in one message; the exception's ``problems`` has them all


class SurveyError(KantelmeterError, ValueError):
    """A survey round's request that cannot be met (a sample size, an estimate, a response account)."""


class FrameError(SurveyError):
    """A register, frame or sample request that cannot be used; ``problems`` lists every problem found.

    ``problems`` is a DataFrame with columns ``row`` (the register row, 1 = the
    first data row; None for the whole file), ``field``, ``value`` (masked for a
    BSN) and ``problem``.
    """

    def __init__(self, source: str, problems: list[dict]):
        self.problems = pd.DataFrame(problems, columns=["row", "field", "value", "problem"])
        shown = "; ".join(_problem_text(p) for p in problems[:SHOWN])
        more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
        super().__init__(f"{source}: {len(problems)} problem(s): {shown}{more}")


def _problem_text(problem: dict) -> str:
    where = f"row {problem['row']}, " if problem["row"] is not None else ""
    value = f" {problem['value']!r}" if problem["value"] is not None else ""
    return f"{where}field {problem['field']!r}{value}: {problem['problem']}"


@dataclass(frozen=True)
class Frame:
    """The sampling frame of a survey round: one row per client, keyed by pseudonym.

    Attributes
    ----------
    units : pandas.DataFrame
        Columns ``pseudonym``, ``stratum`` (``"all"`` without strata) and one
        column per auxiliary variable, as text.
    strata : str or None
        The register column the strata came from.
    auxiliaries : list of str
        The auxiliary variables (used for the R-indicator and calibration).
    id_kind : {"bsn", "client_number"}
    """

    units: pd.DataFrame
    strata: str | None
    auxiliaries: list[str]
    id_kind: str = "bsn"

    @property
    def population(self) -> pd.Series:
        """Clients per stratum (the N_h of the finite-population correction)."""
        return self.units.groupby("stratum", sort=True).size().rename("population")

    @classmethod
    def from_store(cls, store, round: str) -> Frame:
        """The frame of a stored round (see :meth:`kantelmeter.store.Store.create_round`)."""
        info = store.round_info(round)
        return cls(
            units=store.round_frame(round),
            strata=info["strata"],
            auxiliaries=info["auxiliaries"],
            id_kind=info["id_kind"],
        )

    def to_store(self, store, round: str, instrument, occasion: str) -> int:
        """Store this frame as a new round of ``instrument`` at ``occasion``; returns the units stored."""
        return store.create_round(round, instrument, occasion, self.units, self.id_kind, self.strata, self.auxiliaries)

    def margins(self, auxiliaries: list[str] | None = None) -> dict[str, dict[str, int]]:
        """Population count per category of each auxiliary: the calibration targets."""
        chosen = self.auxiliaries if auxiliaries is None else auxiliaries
        return {
            name: {str(k): int(v) for k, v in self.units[name].value_counts(sort=False).sort_index().items()}
            for name in chosen
        }


@dataclass(frozen=True)
class Sample:
    """A stratified simple random sample drawn from a :class:`Frame`.

    Attributes
    ----------
    units : pandas.DataFrame
        The sampled units: the frame's columns plus ``inclusion_probability``
        (n_h / N_h) and ``design_weight`` (its inverse).
    frame : Frame
    seed : int or None
    round : str or None
        The survey round it belongs to, when stored.
    """

    units: pd.DataFrame
    frame: Frame = field(repr=False)
    seed: int | None = None
    round: str | None = None

    @classmethod
    def from_store(cls, store, round: str) -> Sample:
        """The sample of a stored round, ready for :func:`kantelmeter.survey.response`."""
        return cls(
            units=store.round_sample(round),
            frame=Frame.from_store(store, round),
            seed=store.round_info(round)["seed"],
            round=round,
        )

    def to_store(self, store, round: str) -> int:
        """Store this sample as the sample of ``round`` (once); returns the units stored."""
        stored = store.save_sample(round, self.units, seed=self.seed)
        object.__setattr__(self, "round", round)
        return stored

    @property
    def allocation(self) -> pd.DataFrame:
        """Per stratum: ``population`` N_h and ``sampled`` n_h."""
        sampled = self.units.groupby("stratum").size().rename("sampled")
        return pd.concat([self.frame.population, sampled], axis=1).fillna(0).astype(int)


def frame(
    register: pd.DataFrame | str | Path,
    id: str,
    id_kind: str = "bsn",
    strata: str | None = None,
    auxiliaries: list[str] | tuple[str, ...] = (),
    *,
    pseudonymiser: Pseudonymiser | None = None,
    source: str | None = None,
) -> Frame:
    """Read a client register into a :class:`Frame` keyed by pseudonym.

    Every row is checked before anything is kept, and every problem is
    reported at once (:class:`FrameError`): a missing column, an empty or
    duplicate identifier, a BSN failing the eleven-test, an empty stratum or
    auxiliary value, an auxiliary with no values at all. Identifiers become
    pseudonyms (the same HMAC as :meth:`kantelmeter.store.Store.add_respondent`,
    so a sampled client who answers is the same respondent); the identifier
    column and every column not named are dropped.

    Parameters
    ----------
    register : DataFrame or path
        The register; a ``.csv`` (any of , ; tab) or ``.xlsx`` file is read
        with every cell as text, so BSNs keep their leading zeros.
    id : str
        The identifier column.
    id_kind : {"bsn", "client_number"}
    strata : str, optional
        The column to stratify by (for example ``district``).
    auxiliaries : list of str
        Categorical columns known for every client (``age_group``, ``sex``,
        ``provision``): response is checked and weights calibrated on them.
    pseudonymiser : Pseudonymiser, optional
        Default: the key file of :class:`kantelmeter.privacy.Pseudonymiser`.
    source : str, optional
        Name of the register in messages (default: the file name).

    Returns
    -------
    Frame

    Examples
    --------
    >>> import tempfile, pathlib
    >>> key = pathlib.Path(tempfile.mkdtemp()) / "k.key"
    >>> register = pd.DataFrame({"bsn": ["111222333", "123456782"], "district": ["Noord", "Zuid"],
    ...                          "name": ["A. Jansen", "B. de Vries"], "sex": ["v", "m"]})
    >>> f = frame(register, id="bsn", strata="district", auxiliaries=["sex"], pseudonymiser=Pseudonymiser(key))
    >>> list(f.units.columns), f.population.to_dict()
    (['pseudonym', 'stratum', 'sex'], {'Noord': 1, 'Zuid': 1})
    >>> frame(register.assign(bsn=["111222333", "111222333"]), id="bsn", pseudonymiser=Pseudonymiser(key))
    Traceback (most recent call last):
    ...
    kantelmeter.survey.design.FrameError: register: 1 problem(s): row 2, field 'bsn' '*****2333': duplicate identifier: also in row 1; allowed: each client once
    """
    if isinstance(register, (str, Path)):
        source = source or Path(register).name
        register = read_register(register)
    source = source or "register"
    if id_kind not in ID_KINDS:
        raise FrameError(source, [_problem(None, "id_kind", id_kind, f"allowed: {', '.join(ID_KINDS)}")])
    auxiliaries = list(auxiliaries)
    wanted = [id] + ([strata] if strata else []) + auxiliaries
    absent = [c for c in dict.fromkeys(wanted) if c not in register.columns]
    if absent:
        raise FrameError(
            source,
            [
                _problem(None, c, None, f"no such column; columns: {', '.join(map(str, register.columns))}")
                for c in absent
            ],
        )
    if strata in auxiliaries:
        raise FrameError(
            source, [_problem(None, strata, None, "is both the stratum and an auxiliary; allowed: one role")]
        )
    table = register[wanted].astype(object).where(register[wanted].notna(), None)
    table = table.map(lambda v: v.strip() if isinstance(v, str) else v).replace({"": None})
    pseudonymiser = pseudonymiser or Pseudonymiser()
    problems: list[dict] = []
    pseudonyms: list[str | None] = []
    first_row: dict[str, int] = {}
    for position, value in enumerate(table[id], start=1):
        if value is None:
            problems.append(_problem(position, id, None, "empty identifier; allowed: every client has one"))
            pseudonyms.append(None)
            continue
        try:
            pseudonym = pseudonymiser.pseudonymise(id_kind, str(value) if id_kind == "bsn" else value)
        except BSNError as exc:
            problems.append(_problem(position, id, _masked(value), str(exc)))
            pseudonyms.append(None)
            continue
        if pseudonym in first_row:
            problems.append(
                _problem(
                    position,
                    id,
                    _masked(value) if id_kind == "bsn" else str(value),
                    f"duplicate identifier: also in row {first_row[pseudonym]}; allowed: each client once",
                )
            )
        first_row.setdefault(pseudonym, position)
        pseudonyms.append(pseudonym)
    for column in ([strata] if strata else []) + auxiliaries:
        empty = table[column].isna()
        if empty.all():
            problems.append(_problem(None, column, None, "the column is empty; allowed: a value for every client"))
            continue
        problems.extend(
            _problem(position, column, None, "empty; allowed: a value for every client")
            for position in np.flatnonzero(empty.to_numpy()) + 1
        )
    if problems:
        raise FrameError(source, sorted(problems, key=lambda p: p["row"] or 0))
    units = pd.DataFrame(
        {"pseudonym": pseudonyms, "stratum": table[strata].astype(str).to_numpy() if strata else WHOLE}
    )
    for column in auxiliaries:
        units[column] = table[column].astype(str).to_numpy()
    return Frame(units=units, strata=strata, auxiliaries=auxiliaries, id_kind=id_kind)


def read_register(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """A register file with every cell as text (CSV with , ; or tab, or an Excel sheet)."""
    from kantelmeter.io.tabular import read_csv, read_xlsx

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return (
            read_xlsx(path, sheet)
            .astype(object)
            .map(lambda v: None if pd.isna(v) else str(v).removesuffix(".0") if isinstance(v, float) else str(v))
        )
    if path.suffix.lower() not in (".csv", ".txt", ".tsv"):
        raise FrameError(path.name, [_problem(None, "file", path.suffix, "allowed: a .csv or .xlsx register")])
    return read_csv(path)


def sample_size(margin: float = 0.05, population: int | None = None, p: float = 0.5, confidence: float = 0.95) -> int:
    """Respondents needed to estimate a proportion within ``margin``, with the finite-population correction.

    Method: Cochran (1977, *Sampling Techniques*, eq. 4.2 and 4.3):
    n0 = z^2 p (1 - p) / margin^2, then n = n0 / (1 + (n0 - 1) / N), each step
    rounded up (svy's ``SampleSize.estimate_prop``). Divide by the expected
    response rate for the number to invite.

    Examples
    --------
    >>> sample_size(0.05)  # the familiar 385 for +/- 5 points at 95%
    385
    >>> sample_size(0.05, population=5000)
    358
    """
    import svy

    if not 0 < margin < 1 or not 0 < p < 1 or not 0 < confidence < 1:
        raise SurveyError(
            f"sample_size: margin={margin!r}, p={p!r}, confidence={confidence!r}; "
            "allowed: each strictly between 0 and 1"
        )
    if population is not None and (not float(population).is_integer() or population < 1):
        raise SurveyError(f"sample_size: population={population!r}; allowed: a whole number >= 1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        size = svy.SampleSize().estimate_prop(p=p, moe=margin, pop_size=population, alpha=1 - confidence)
    return int(size.n)


def draw(
    frame: Frame,
    n: int | dict[str, int],
    strata: bool = True,
    allocation: str = "proportional",
    seed: int | None = None,
) -> Sample:
    """Draw a stratified simple random sample without replacement.

    Method: within each stratum h, n_h of the N_h units are drawn with equal
    probability (svy ``Sample.sampling.srs``); inclusion probability
    pi = n_h / N_h, design weight 1 / pi (Lumley 2010, *Complex Surveys*, ch. 2).
    A total ``n`` is split over the strata by svy's ``SampleSize.allocate``:
    proportional to N_h (rounded, at least 1 per stratum) or equal;
    ``census`` takes everyone.

    Parameters
    ----------
    frame : Frame
    n : int or dict of stratum to int
        The total sample size, or the size per stratum.
    strata : bool, default True
        Stratify by the frame's strata; False draws one simple random sample.
    allocation : {"proportional", "equal", "census"}
    seed : int, optional
        For a reproducible draw.

    Raises
    ------
    FrameError
        For a stratum not in the frame, a size below 0, or more units asked
        of a stratum than it holds.

    Examples
    --------
    >>> units = pd.DataFrame({"pseudonym": [f"p-{i}" for i in range(100)], "stratum": ["A"] * 80 + ["B"] * 20})
    >>> s = draw(Frame(units, "district", []), n=10, seed=1)
    >>> s.allocation.to_dict("index")
    {'A': {'population': 80, 'sampled': 8}, 'B': {'population': 20, 'sampled': 2}}
    >>> s.units.design_weight.unique().tolist()
    [10.0]
    """
    import polars as pl
    import svy

    if allocation not in ALLOCATIONS:
        raise FrameError("sample", [_problem(None, "allocation", allocation, f"allowed: {', '.join(ALLOCATIONS)}")])
    units = frame.units if strata else frame.units.assign(stratum=WHOLE)
    population = units.groupby("stratum").size()
    sizes = _stratum_sizes(population, n, allocation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = (
            svy.Sample(pl.from_pandas(units), svy.Design(stratum="stratum"))
            .sampling.srs(
                n={k: v for k, v in sizes.items() if v > 0},
                rstate=seed,
                prob_name="inclusion_probability",
                wgt_name="design_weight",
            )
            .data.to_pandas()
        )
    chosen = chosen[list(units.columns) + ["inclusion_probability", "design_weight"]]
    chosen = chosen.sort_values(["stratum", "pseudonym"], ignore_index=True)
    return Sample(
        units=chosen, frame=Frame(units, frame.strata if strata else None, frame.auxiliaries, frame.id_kind), seed=seed
    )


def _stratum_sizes(population: pd.Series, n: int | dict[str, int], allocation: str) -> dict[str, int]:
    import svy

    if allocation == "census":
        return population.to_dict()
    if isinstance(n, dict):
        unknown = [k for k in n if k not in population.index]
        problems = [
            _problem(None, "n", k, f"unknown stratum; strata: {', '.join(map(str, population.index))}") for k in unknown
        ]
        sizes = {str(k): v for k, v in n.items() if k not in unknown}
    else:
        problems = []
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise FrameError("sample", [_problem(None, "n", n, "allowed: a whole number >= 1")])
        if n > population.sum():
            raise FrameError("sample", [_problem(None, "n", n, f"larger than the frame of {population.sum()} clients")])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            allocated = svy.SampleSize().allocate(
                int(n), pop_size=population.to_dict(), method=allocation, cap_at_population=False
            )
        sizes = dict(zip(allocated.to_polars()["stratum"].to_list(), allocated.to_polars()["n"].to_list()))
    for stratum, size in sizes.items():
        if not isinstance(size, (int, np.integer)) or size < 0:
            problems.append(_problem(None, "n", size, f"stratum {stratum!r}: allowed: a whole number >= 0"))
        elif size > population[stratum]:
            problems.append(
                _problem(
                    None,
                    "n",
                    int(size),
                    f"stratum {stratum!r} holds {population[stratum]} "
                    f"clients: a sample cannot be larger than its stratum",
                )
            )
    if problems:
        raise FrameError("sample", problems)
    return {str(k): int(v) for k, v in sizes.items()}


def _problem(row: int | None, field_name: str, value, problem: str) -> dict:
    return {"row": row, "field": field_name, "value": value, "problem": problem}


def _masked(value) -> str:
    return _mask(str(value).strip())
