"""The main job end to end on synthetic data: what ``kantelmeter demo`` runs.

A synthetic study (:func:`kantelmeter.synth.study`, with the professional
panel of :func:`kantelmeter.synth.professional_panel`) fills an embedded
SQLite store; every instrument is scored from the store; the baseline report
is written as publishable HTML (:func:`kantelmeter.report.report`); and every
analysis notebook is executed against the same store, kept as an executed
notebook and as HTML. The same steps with ``--db`` pointed at real data give
a municipality its own report (``kantelmeter report``).

Everything written is labelled synthetic: the cohorts are ``synth-pilot`` and
``synth-regular``, the respondents ``synth-...``, and the report says so.
"""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from kantelmeter import synth
from kantelmeter.instruments import list_instruments, load_instrument
from kantelmeter.notebooks import ANALYST_NOTEBOOKS
from kantelmeter.report import report, run_notebook
from kantelmeter.scoring import score
from kantelmeter.store import Store

__all__ = ["DemoResult", "NOTEBOOKS", "fill_store", "run", "score_store", "write_codebooks"]

#: The notebooks the demo executes besides the report, with the parameters each takes from the demo.
NOTEBOOKS = ANALYST_NOTEBOOKS


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run` wrote.

    Attributes
    ----------
    store_url : str
    report : pathlib.Path
        The publishable baseline report (``nulmeting.html``).
    notebooks : dict of str to pathlib.Path
        Executed notebook per name (the HTML sits beside it).
    scores : list of pathlib.Path
        One CSV of scale scores per instrument.
    """

    store_url: str
    report: Path
    notebooks: dict[str, Path]
    scores: list[Path]


def run(out: str | Path = "demo", *, seed: int = 2010, lang: str = "nl", min_cell: int = 10,
        notebooks: tuple[str, ...] | None = None, workers: int = 2, progress: bool = True) -> DemoResult:
    """Run the main job on a synthetic study and write everything under ``out``.

    Writes ``out/codebooks/`` (one codebook per instrument), ``out/kantelmeter.db``
    (the store, rebuilt on every run so the demo is reproducible) with its
    pseudonymisation key beside it, ``out/scores/`` (scale scores per
    instrument), ``out/covariates.csv`` (the synthetic citizens' baseline
    covariates, standing in for the municipality's registration data),
    ``out/nulmeting.html`` (the report) with its tables as CSV in
    ``out/nulmeting_tables/``, and ``out/notebooks/`` (each notebook executed,
    and as HTML).

    Parameters
    ----------
    out : path, default "demo"
    seed : int, default 2010
        Seed of the synthetic study and panel.
    lang : {"nl", "en"}, default "nl"
    min_cell : int, default 10
        Disclosure threshold of the report.
    notebooks : tuple of str, optional
        Which of :data:`NOTEBOOKS` to execute besides the report (default: all
        that are shipped).
    workers : int, default 2
        Notebooks executed at the same time (each runs in its own kernel).
    progress : bool, default True
        A progress bar per step on stderr.

    Returns
    -------
    DemoResult
    """
    from tqdm.auto import tqdm

    # absolute paths: notebooks run side by side and must not depend on the working directory
    out = Path(out).resolve()
    folder = out / "notebooks"
    steps = tqdm(total=5, desc="kantelmeter demo", unit="step", file=sys.stderr, disable=not progress)

    steps.set_postfix_str("codebooks")
    write_codebooks(out / "codebooks")
    steps.update()

    steps.set_postfix_str("synthetic study -> store")
    database = out / "kantelmeter.db"
    for stale in out.glob("kantelmeter.db*"):
        stale.unlink()
    store_url = f"sqlite:///{database.resolve()}"
    store = Store(store_url, key_file=out / "pseudonym.key", actor="kantelmeter demo")
    covariates = out / "covariates.csv"
    fill_store(store, seed=seed, covariates=covariates)
    steps.update()

    steps.set_postfix_str("scoring")
    scores = score_store(store, out / "scores")
    store.close()
    steps.update()

    steps.set_postfix_str("notebooks")
    if folder.exists():
        shutil.rmtree(folder)
    shipped = {name for name in NOTEBOOKS if _is_shipped(name)}
    chosen = [name for name in (notebooks or NOTEBOOKS) if name in shipped]
    values = {"db_url": store_url, "lang": lang, "covariates_csv": str(covariates.resolve())}
    executed: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # the report runs beside the other notebooks: each has its own kernel process
        futures = {pool.submit(report, store_url, out / "nulmeting.html", min_cell=min_cell, lang=lang,
                               workdir=folder, progress=False): "nulmeting"}
        for name in chosen:
            parameters = {key: values[key] for key in NOTEBOOKS[name]}
            futures[pool.submit(run_notebook, name, folder / f"{name}.html", parameters, progress=False)] = name
        for future in tqdm(as_completed(futures), total=len(futures), desc="notebooks", unit="notebook",
                           file=sys.stderr, disable=not progress, leave=False):
            name = futures[future]
            future.result()
            executed[name] = folder / f"{name}.ipynb"
    steps.update()

    steps.set_postfix_str("done")
    steps.update()
    steps.close()
    return DemoResult(store_url=store_url, report=out / "nulmeting.html", notebooks=executed, scores=scores)


def write_codebooks(folder: Path) -> list[Path]:
    """One codebook CSV (Dutch) per shipped instrument."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for instrument_id in list_instruments():
        instrument = load_instrument(instrument_id)
        target = folder / f"codebook_{instrument.id}.csv"
        instrument.codebook("nl").to_csv(target, index=False)
        written.append(target)
    return written


def score_store(store: Store, folder: Path) -> list[Path]:
    """Score every instrument with responses in the store; one CSV per instrument (respondent x occasion)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for instrument_id in sorted(set(store.completion()["instrument"])):
        instrument = store.instrument(instrument_id)
        if not instrument.scales:
            continue
        target = folder / f"{instrument_id}.csv"
        score(instrument, store.responses(instrument)).to_csv(target, index=False)
        written.append(target)
    return written


def fill_store(store: Store, seed: int = 2010, covariates: Path | None = None, **truth) -> synth.SyntheticStudy:
    """Put a synthetic study and its professional panel in a store.

    Parameters
    ----------
    store : Store
    seed : int
        Seed of both the study and the panel.
    covariates : path, optional
        Where to write the citizens' baseline covariates as CSV (respondent,
        cohort as stored, intake date, period, age, sex, household, benefit,
        complexity): the registration data a municipality would hold beside
        the questionnaires.
    **truth
        Overrides of :class:`kantelmeter.synth.StudyTruth` (``n_pilot=40`` for a quick study).

    Returns
    -------
    kantelmeter.synth.SyntheticStudy
    """
    study = synth.study(seed=seed, **truth)
    study.to_store(store)
    synth.professional_panel(seed=seed).to_store(store)
    if covariates is not None:
        citizens = study.citizens.assign(cohort="synth-" + study.citizens["cohort"].astype(str))
        citizens.drop(columns=["follow_up_date", "dropped_out"], errors="ignore").to_csv(covariates, index=False)
    return study


def _is_shipped(name: str) -> bool:
    from importlib import resources

    return (resources.files("kantelmeter.notebooks") / f"{name}.ipynb").is_file()
