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

The demo also runs a whole survey round (:func:`survey_round`): a synthetic
register of 5,000 clients, a stratified sample, letters and reminders,
answers on the web and on paper with response depending on age and
provision, dispositions, the response table, raked weights and the weighted
CEO table, in the same store (round ``synth-2026-ceo``), so that the report
shows the round's fieldwork and its weighted CEO indicators. The analysts'
notebooks run before the round is added: they compare the study's two
cohorts, and the round's clients belong to neither.
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

__all__ = [
    "DemoResult",
    "FIELDWORK_DAYS",
    "FIELDWORK_START",
    "NOTEBOOKS",
    "ROUND",
    "RoundResult",
    "fill_store",
    "run",
    "score_store",
    "survey_round",
    "write_codebooks",
]

#: The name of the demo's survey round.
ROUND = "synth-2026-ceo"

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
    survey_round : RoundResult or None
        The demo's survey round.
    """

    store_url: str
    report: Path
    notebooks: dict[str, Path]
    scores: list[Path]
    survey_round: RoundResult | None = None


@dataclass(frozen=True)
class RoundResult:
    """What :func:`survey_round` wrote: the round's name (in the demo's store) and its files by name."""

    round: str
    files: dict[str, Path]


def run(
    out: str | Path = "demo",
    *,
    seed: int = 2010,
    lang: str = "nl",
    min_cell: int = 10,
    notebooks: tuple[str, ...] | None = None,
    workers: int = 2,
    progress: bool = True,
) -> DemoResult:
    """Run the main job on a synthetic study and write everything under ``out``.

    Writes ``out/codebooks/`` (one codebook per instrument), ``out/kantelmeter.db``
    (the store, rebuilt on every run so the demo is reproducible) with its
    pseudonymisation key beside it, ``out/scores/`` (scale scores per
    instrument), ``out/covariates.csv`` (the synthetic citizens' baseline
    covariates, standing in for the municipality's registration data),
    ``out/true_effects.csv`` (the synthetic study's known effects, shown beside
    its estimates), ``out/nulmeting.html`` (the report) with its tables as CSV in
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
    steps = tqdm(total=6, desc="kantelmeter demo", unit="step", file=sys.stderr, disable=not progress)

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
    truth = out / "true_effects.csv"
    fill_store(store, seed=seed, covariates=covariates, true_effects=truth)
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
    values = {
        "db_url": store_url,
        "lang": lang,
        "covariates_csv": str(covariates.resolve()),
        "truth_csv": str(truth.resolve()),
    }
    executed: dict[str, Path] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # each notebook has its own kernel process
        futures = {
            pool.submit(
                run_notebook,
                name,
                folder / f"{name}.html",
                {key: values[key] for key in NOTEBOOKS[name]},
                progress=False,
            ): name
            for name in chosen
        }
        for future in tqdm(
            as_completed(futures),
            total=len(futures),
            desc="notebooks",
            unit="notebook",
            file=sys.stderr,
            disable=not progress,
            leave=False,
        ):
            name = futures[future]
            future.result()
            executed[name] = folder / f"{name}.ipynb"
    steps.update()

    steps.set_postfix_str("survey round")
    store = Store(store_url, key_file=out / "pseudonym.key", actor="kantelmeter demo")
    round_result = survey_round(store, out / "round", seed=seed)
    store.close()
    steps.update()

    steps.set_postfix_str("report")
    report(
        store_url,
        out / "nulmeting.html",
        min_cell=min_cell,
        lang=lang,
        survey_round=ROUND,
        key_file=out / "pseudonym.key",
        workdir=folder,
        progress=False,
    )
    executed["nulmeting"] = folder / "nulmeting.ipynb"
    steps.update()
    steps.close()
    return DemoResult(
        store_url=store_url, report=out / "nulmeting.html", notebooks=executed, scores=scores, survey_round=round_result
    )


#: The demo round's fieldwork: answers come in over these weeks, most in the first, the rest after the reminder.
FIELDWORK_START = "2026-09-07"
FIELDWORK_DAYS = 35


def survey_round(
    store: Store, folder: str | Path, *, seed: int = 2010, clients: int = 5000, n: int = 1200
) -> RoundResult:
    """A whole survey round on a synthetic register, in ``store``; its files written under ``folder``.

    Steps, as an evaluator takes them with the commands in README: the
    register (``register.csv``, invented names and valid BSNs) becomes the
    frame (stratified by district; auxiliaries age group, sex, provision);
    ``n`` clients are sampled; letters are written (``letters.csv``, QR codes;
    no PDF, to keep the demo quick); about half answer, on the web or on
    paper, with a probability that depends on age and provision
    (:class:`kantelmeter.survey.register.RoundTruth`), between
    :data:`FIELDWORK_START` and :data:`FIELDWORK_DAYS` days later; a few are
    recorded as moved, deceased or refusing; reminders go to the rest
    (``reminders.csv``); then the response table (``response.csv``,
    ``response.png``), raked weights (stored with the round), the weighted
    CEO table (``ceo_table.csv``) and the delivery file
    (``ceo_delivery.csv``).

    Returns
    -------
    RoundResult
    """
    import numpy as np
    import pandas as pd

    from kantelmeter import ceo, survey
    from kantelmeter.survey.letters import load_settings, write_letters
    from kantelmeter.survey.register import synthetic_answers, synthetic_register, synthetic_round

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    register = synthetic_register(clients, seed=seed)
    register.to_csv(folder / "register.csv", index=False)
    citizen = load_instrument("citizen")
    frame = survey.frame(
        folder / "register.csv",
        id="bsn",
        strata="district",
        auxiliaries=["age_group", "sex", "provision"],
        pseudonymiser=store.pseudonymiser,
    )
    frame.to_store(store, ROUND, citizen, "follow_up")
    survey.draw(frame, n=n, seed=seed).to_store(store, ROUND)
    settings = load_settings(resources_path("letters.yaml"))
    write_letters(store, ROUND, register, folder / "letters.csv", settings, id="bsn", pdf=False)

    sampled = store.round_sample(ROUND)["pseudonym"]
    register = register.assign(pseudonym=frame.units["pseudonym"].to_numpy()).set_index("pseudonym")
    truth = synthetic_round(register, seed=seed)
    chosen = register.loc[sampled]
    rng = np.random.default_rng(seed)
    responds = truth.loc[sampled, "responds"].to_numpy()
    answers = synthetic_answers(citizen, chosen, truth.loc[sampled], seed=seed)
    on_paper = rng.random(len(sampled)) < 0.25
    day = np.minimum(rng.exponential(FIELDWORK_DAYS / 4, len(sampled)), FIELDWORK_DAYS - 1).astype(int)
    answers["collected_at"] = (
        pd.Timestamp(FIELDWORK_START, tz="Europe/Amsterdam") + pd.to_timedelta(day, unit="D") + pd.Timedelta(hours=10)
    ).to_numpy()
    for source, mask in (("web", responds & ~on_paper), ("import", responds & on_paper)):
        wide = answers[mask].reset_index(names="respondent")
        store.add_responses(citizen, "follow_up", wide, source=source)
    silent = sampled[~responds].to_numpy()
    codes = rng.choice(
        ["moved", "deceased", "not_client", "refused", None], size=len(silent), p=[0.02, 0.02, 0.01, 0.08, 0.87]
    )
    store.record_dispositions(ROUND, {p: c for p, c in zip(silent, codes) if c is not None})
    write_letters(
        store,
        ROUND,
        register.reset_index(drop=True),
        folder / "reminders.csv",
        settings,
        id="bsn",
        reminder=True,
        pdf=False,
    )

    sample = survey.Sample.from_store(store, ROUND)
    account = survey.response(sample, store, seed=seed)
    account.table.to_csv(folder / "response.csv", index=False)
    account.plot().figure.savefig(folder / "response.png", bbox_inches="tight")
    weights = survey.calibrate(sample, account.respondents, margins=["age_group", "provision"], trim=3.5)
    store.save_weights(ROUND, weights.weights, weights.method)
    ceo.round_indicators(store, ROUND).to_csv(folder / "ceo_table.csv", index=False)
    ceo.delivery(store, ROUND).to_csv(folder / "ceo_delivery.csv", index=False)
    files = {
        name: folder / name
        for name in (
            "register.csv",
            "letters.csv",
            "reminders.csv",
            "response.csv",
            "response.png",
            "ceo_table.csv",
            "ceo_delivery.csv",
        )
    }
    return RoundResult(round=ROUND, files=files)


def resources_path(name: str) -> Path:
    """A file of the shipped example municipality (data/haarlemmermeer)."""
    from importlib import resources

    return Path(str(resources.files("kantelmeter.data") / "haarlemmermeer" / name))


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


def fill_store(
    store: Store, seed: int = 2010, covariates: Path | None = None, true_effects: Path | None = None, **truth
) -> synth.SyntheticStudy:
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
    true_effects : path, optional
        Where to write the study's known true effects per outcome as CSV
        (outcome, parameter, ate, att), so that a notebook can set the truth
        beside each synthetic estimate.
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
    if true_effects is not None:
        study.true_effects.to_csv(true_effects)
    return study


def _is_shipped(name: str) -> bool:
    from importlib import resources

    return (resources.files("kantelmeter.notebooks") / f"{name}.ipynb").is_file()
