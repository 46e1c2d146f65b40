"""The ``kantelmeter`` command.

Each subcommand is a thin shell around a public function; it parses
arguments, calls the function and prints or writes its result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kantelmeter.contract import PASSWORD_MIN, RESPONDENT_IDENTIFIERS
from kantelmeter.errors import KantelmeterError
from kantelmeter.languages import LANGUAGES
from kantelmeter.notebooks import ANALYST_NOTEBOOKS, PUBLISHABLE


class _Commands(click.Group):
    """The command group; input kantelmeter refuses, or a file that cannot be read or written, ends a command
    with one line, not a traceback.

    This is the one place where errors become messages: every command of the group and its subgroups runs
    inside :meth:`invoke`.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KantelmeterError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            # a missing folder, no permission, a full disk: the user's to fix, so name the file and the reason
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


# Every text kantelmeter shows exists in these languages; Dutch first.
language_option = click.option("--lang", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True)
# Every command that opens a store takes the key its pseudonyms were made with (else KANTELMETER_KEY_FILE).
key_file_option = click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kantelmeter")
def main() -> None:
    """Measure the effects of 'de Kanteling' of the Wmo."""


@main.group()
def instruments() -> None:
    """List, show and validate questionnaires."""


@instruments.command("list")
def instruments_list() -> None:
    """List the shipped instruments."""
    from kantelmeter.instruments import list_instruments, load_instrument

    for instrument_id in list_instruments():
        instrument = load_instrument(instrument_id)
        click.echo(f"{instrument.id:<22} {instrument.version:<6} {instrument.title.en}")


@instruments.command("show")
@click.argument("instrument_id")
@language_option
def instruments_show(instrument_id: str, lang: str) -> None:
    """Print the codebook of INSTRUMENT_ID (a shipped id or a YAML file)."""
    instrument = _load(instrument_id)
    click.echo(f"{instrument.title[lang]} ({instrument.id} {instrument.version})\n")
    codebook = instrument.codebook(lang)[["question", "item", "type", "text", "codes", "scales"]]
    click.echo(codebook.to_string(index=False, max_colwidth=60))


@instruments.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def instruments_validate(files: tuple[str, ...]) -> None:
    """Check instrument FILES; list every problem and exit 1 if any."""
    from kantelmeter.instruments import InstrumentError, load_instrument

    failed = False
    for file in files:
        try:
            instrument = load_instrument(Path(file))
        except InstrumentError as exc:
            failed = True
            click.echo(f"{file}: {exc}", err=True)
        else:
            click.echo(f"{file}: ok ({instrument.id}, {len(instrument.items)} items, {len(instrument.scales)} scales)")
    if failed:
        sys.exit(1)


@main.command()
@click.argument("instrument_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "md"]), default="csv", show_default=True)
@language_option
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of the terminal.")
def codebook(instrument_id: str, fmt: str, lang: str, out: str | None) -> None:
    """Write the codebook of INSTRUMENT_ID as CSV or Markdown."""
    table = _load(instrument_id).codebook(lang)
    text = table.to_csv(index=False) if fmt == "csv" else table.to_markdown(index=False)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text)


@main.command("report")
@click.argument("notebook", default=PUBLISHABLE[0], type=click.Choice(PUBLISHABLE))
@click.option("--db", "db_url", required=True, help="SQLAlchemy URL of the store, e.g. sqlite:///kantelmeter.db.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write (PDF beside it).")
@click.option(
    "--municipality",
    type=click.Path(exists=True, file_okay=False),
    help="Folder with municipality.yaml and the context figures (default: the shipped example).",
)
@click.option("--previous-db", help="Store of an earlier round, for the trend.")
@click.option(
    "--benchmark",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of national or peer figures (indicator;group;value;source).",
)
@click.option(
    "--round", "survey_round", help="A survey round in the store: fieldwork, response and weighted CEO indicators."
)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The store's pseudonymisation key file.")
@click.option(
    "--min-cell",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Smallest number of people a published figure may rest on.",
)
@language_option
@click.option("--pdf/--no-pdf", default=True, show_default=True, help="Also print a PDF with Chromium.")
@click.option(
    "--workdir", type=click.Path(file_okay=False), help="Keep the executed notebook here (default: a temporary folder)."
)
def report_command(
    notebook: str,
    db_url: str,
    out: str,
    municipality: str | None,
    previous_db: str | None,
    benchmark: str | None,
    survey_round: str | None,
    key_file: str | None,
    min_cell: int,
    lang: str,
    pdf: bool,
    workdir: str | None,
) -> None:
    """Write the publishable NOTEBOOK (nulmeting) of a store: audited HTML, PDF and CSV tables.

    The analysts' notebooks are run with `kantelmeter notebook NAME`.
    """
    from kantelmeter.municipal import load_municipality
    from kantelmeter.report import report

    _store(db_url, key_file, existing=True).close()
    if previous_db:
        _store(previous_db, None, existing=True).close()
    load_municipality(municipality)
    path = report(
        db_url,
        out,
        notebook=notebook,
        min_cell=min_cell,
        lang=lang,
        municipality=municipality,
        previous_db=previous_db,
        benchmark=benchmark,
        survey_round=survey_round,
        key_file=key_file,
        workdir=workdir,
        pdf=pdf,
    )
    click.echo(f"report written to {path}")
    if path.with_suffix(".pdf").exists():
        click.echo(f"PDF written to {path.with_suffix('.pdf')}")
    click.echo(f"tables written to {path.resolve().with_name(path.stem + '_tables')}")


@main.command("notebook")
@click.argument("name", type=click.Choice(list(ANALYST_NOTEBOOKS)))
@click.option("--db", "db_url", help="SQLAlchemy URL of the store (the notebooks that read one).")
@click.option(
    "--covariates", type=click.Path(exists=True, dir_okay=False), help="CSV of registration data (pilot_vs_regular)."
)
@click.option(
    "--truth",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of a synthetic study's known effects, shown beside the estimates (pilot_vs_regular).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="The HTML file to write; the executed .ipynb goes beside it.",
)
@language_option
def notebook_command(
    name: str, db_url: str | None, covariates: str | None, truth: str | None, out: str, lang: str
) -> None:
    """Run an analyst's notebook NAME and write it as HTML, for internal use (not audited for publication)."""
    from kantelmeter.report import run_notebook

    needed = ANALYST_NOTEBOOKS[name]
    if "db_url" in needed and not db_url:
        raise click.ClickException(f"notebook {name} reads a store: give --db")
    if "db_url" in needed:
        _store(db_url, None, existing=True).close()
    values = {"db_url": db_url, "lang": lang, "covariates_csv": covariates, "truth_csv": truth}
    path = run_notebook(name, out, {key: values[key] for key in needed if values.get(key) is not None})
    click.echo(f"notebook written to {path} (and {path.with_suffix('.ipynb')})")


@main.command("score")
@click.option("--instrument", "instrument_id", required=True, help="A shipped instrument id or a YAML file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the scores to this CSV or XLSX file.")
def score_command(instrument_id: str, file: str, out: str | None) -> None:
    """Score the responses in FILE (CSV, XLSX or SAV) on every scale of the instrument."""
    import pandas as pd

    from kantelmeter.io import read_csv, read_sav, read_xlsx
    from kantelmeter.scoring import ScoringError, problems, score

    readers = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".sav": read_sav}
    suffix = Path(file).suffix.lower()
    if suffix not in readers:
        raise click.ClickException(
            f"{file}: cannot read a {suffix or 'extensionless'} file; allowed: {', '.join(readers)}"
        )
    responses = readers[suffix](file)
    # number the rows as the user sees them: spreadsheet rows after the header, SPSS cases from 1
    first_row = 1 if suffix == ".sav" else 2
    responses.index = pd.RangeIndex(first_row, first_row + len(responses))
    instrument = _load(instrument_id)
    # problems() also lists columns that are not the instrument's, which import refuses as well
    found = problems(instrument, responses)
    if len(found):
        raise click.ClickException(f"{file}: {ScoringError(found)}")
    scores = score(instrument, responses)
    if out is None:
        click.echo(scores.to_csv(index=False))
    elif Path(out).suffix.lower() == ".xlsx":
        scores.to_excel(out, index=False)
    else:
        scores.to_csv(out, index=False)


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="demo", show_default=True)
@click.option("--seed", type=int, default=2010, show_default=True, help="Seed of the synthetic study.")
@language_option
def demo(out: str, seed: int, lang: str) -> None:
    """Run the main job on synthetic data in an embedded store under OUT."""
    import time

    from kantelmeter.demo import run

    started = time.perf_counter()
    result = run(out, seed=seed, lang=lang)
    click.echo(f"synthetic store:  {result.store_url}")
    click.echo(f"scores:           {', '.join(str(path) for path in result.scores)}")
    click.echo(f"notebooks:        {', '.join(str(path) for path in result.notebooks.values())} (and .html)")
    click.echo(f"baseline report:  {result.report}")
    click.echo(f"done in {time.perf_counter() - started:.0f} s")


DB_HELP = "SQLAlchemy URL of the store: sqlite:///FILE or postgresql+psycopg://user@host/db."
# A rejected file can have a problem in every row: the terminal shows the first ones, --problems has them all.
SHOWN_PROBLEMS = 20


def _store(db_url: str, key_file: str | None, *, existing: bool = False, adopt_new_key: bool = False):
    """The store at ``db_url``; with ``existing``, a SQLite file that is not there is an error, not a new store.

    Commands that only read or remove (export, erase, report, serve) would otherwise create an empty
    store for a mistyped file name and report nothing found.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from kantelmeter.store import Store

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise click.BadParameter(
            f"{db_url!r} is not a database URL; allowed: {DB_HELP.split(': ', 1)[1]}", param_hint="--db"
        ) from None
    if (
        existing
        and url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).is_file()
    ):
        raise click.ClickException(
            f"{db_url}: no store in {url.database}; allowed: an existing store file "
            "(import, invite and user add create one)"
        )
    try:
        return Store(db_url, key_file=key_file, adopt_new_key=adopt_new_key)
    except SQLAlchemyError as exc:
        # the first line of the driver's message says what is wrong ("file is not a database", ...)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(f"{db_url}: cannot open the store: {reason}") from None


def _check_occasion(instrument, occasion: str | None) -> None:
    """An occasion the instrument is not asked at is a bad --occasion (exit code 2)."""
    from kantelmeter.errors import NotFoundError

    if occasion is not None:
        try:
            instrument.check_occasion(occasion)
        except NotFoundError as exc:
            raise click.BadParameter(str(exc), param_hint="--occasion") from None


SURVEY_HELP = "The deployment's survey.yaml: organisation, logo, colours, contact, privacy statement."


@main.command("serve")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--instrument", "extra", multiple=True, help="An instrument YAML file interviewers may also use.")
@click.option(
    "--trusted-proxy",
    "trusted",
    multiple=True,
    help="Address or network of a reverse proxy whose X-Forwarded-For/-Proto headers are honoured "
    "(repeatable); from anyone else they are ignored.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1024),
    default=64 * 1024,
    show_default=True,
    help="The largest request body accepted, in bytes.",
)
@click.option("--survey", type=click.Path(exists=True, dir_okay=False), help=SURVEY_HELP)
def serve_command(
    db_url: str,
    key_file: str | None,
    host: str,
    port: int,
    extra: tuple[str, ...],
    trusted: tuple[str, ...],
    max_body: int,
    survey: str | None,
) -> None:
    """Serve the web form: invitation links (/r/TOKEN) and interviewer mode (/interviewer).

    Forms are signed with KANTELMETER_SECRET (at least 32 bytes) or, when it is not set, with a secret file
    beside the key file, made on first start and kept, so a restart leaves open forms valid.
    """
    from kantelmeter.web.app import serve

    serve(
        _store(db_url, key_file, existing=True),
        host=host,
        port=port,
        instruments=[_load(source) for source in extra],
        trusted_proxies=trusted,
        max_body=max_body,
        survey=_survey(survey),
    )


def _survey(path: str | None):
    from kantelmeter.web.settings import load_survey_settings

    return load_survey_settings(path) if path else None


@main.command("invite")
@click.option("--instrument", "instrument_id", required=True, help="A shipped instrument id or a YAML file.")
@click.option("--occasion", required=True, help="One of the instrument's occasions, e.g. intake or follow_up.")
@click.option("--count", type=click.IntRange(min=1), help="Invite this many new respondents.")
@click.option(
    "--respondents",
    type=click.Path(exists=True, dir_okay=False),
    help="Invite existing respondents instead: a CSV with a 'respondent' column of pseudonyms "
    "(for example the links file of the intake), for a follow-up under the same pseudonym.",
)
@click.option("--cohort", help="For example pilot or regular.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the form is served.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the links to this CSV file.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def invite_command(
    instrument_id: str,
    occasion: str,
    count: int | None,
    respondents: str | None,
    cohort: str | None,
    base_url: str,
    out: str | None,
    db_url: str,
    key_file: str | None,
) -> None:
    """Create invitation links, for COUNT new respondents or for existing --respondents; print them or write a CSV.

    The CSV names each link's respondent by pseudonym, so a later occasion can invite the same people.
    """
    import contextlib
    import csv

    from kantelmeter.files import private_file
    from kantelmeter.web.app import invitation_links

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    if (count is None) == (respondents is None):
        raise click.UsageError("give either --count (new respondents) or --respondents FILE (existing ones)")
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter(
            f"{base_url!r}; allowed: an address starting with http:// or https://", param_hint="--base-url"
        )
    pseudonyms = _respondents_file(respondents) if respondents else None
    # opened before the links are made: a bad path must not leave invitations that no one received
    with private_file(out, newline="", encoding="utf-8") if out else contextlib.nullcontext() as handle:
        store = _store(db_url, key_file, existing=pseudonyms is not None)
        if pseudonyms is None:
            links = invitation_links(store, instrument, occasion, count, cohort, base_url)
            pseudonyms = [store.invitation(link.rsplit("/", 1)[1]).respondent for link in links]
        else:
            tokens = store.invite_respondents(instrument, occasion, pseudonyms)
            links = [f"{base_url.rstrip('/')}/r/{token}" for token in tokens]
        if handle is None:
            click.echo("\n".join(links))
            return
        writer = csv.writer(handle)
        writer.writerow(["link", "respondent", "instrument", "occasion", "cohort"])
        writer.writerows([link, p, instrument.id, occasion, cohort or ""] for link, p in zip(links, pseudonyms))
    click.echo(f"{len(links)} links written to {out}; each opens one respondent's form: keep the file safe")


def _respondents_file(path: str) -> list[str]:
    """The pseudonyms in the 'respondent' column of a CSV file, each once, in file order."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if "respondent" not in (reader.fieldnames or []):
            raise click.BadParameter(
                f"{path}: no 'respondent' column; columns: {', '.join(reader.fieldnames or [])}",
                param_hint="--respondents",
            )
        pseudonyms = list(dict.fromkeys(row["respondent"].strip() for row in reader if row["respondent"].strip()))
    if not pseudonyms:
        raise click.BadParameter(f"{path}: the 'respondent' column is empty", param_hint="--respondents")
    return pseudonyms


@main.group("db")
def db_group() -> None:
    """Look after the store's database."""


@db_group.command("upgrade")
@click.option("--db", "db_url", required=True, help=DB_HELP)
def db_upgrade(db_url: str) -> None:
    """Bring the store to the schema this kantelmeter uses (back up the database first)."""
    from sqlalchemy.exc import SQLAlchemyError

    from kantelmeter.store import StoreError, upgrade

    try:
        before, after = upgrade(db_url)
    except (StoreError, SQLAlchemyError) as exc:
        raise click.ClickException(f"{db_url}: {str(getattr(exc, 'orig', None) or exc).splitlines()[0]}") from None
    if before == after:
        click.echo(f"the store is at schema version {after} already; nothing to do")
    else:
        click.echo(f"the store is now at schema version {after} (was {before or 'empty'})")


@main.group("user")
def user_group() -> None:
    """Manage the accounts of interviewers and evaluators."""


@user_group.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["interviewer", "evaluator"]),
    required=True,
    help="interviewer: administers questionnaires; evaluator: sees completion counts only.",
)
@click.password_option(prompt=f"Password (at least {PASSWORD_MIN} characters)")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def user_add(username: str, role: str, password: str, db_url: str, key_file: str | None) -> None:
    """Add USERNAME with a role; the password is asked for and stored as an argon2 hash."""
    _store(db_url, key_file).add_user(username, password, role=role)
    click.echo(f"user {username} added as {role}")


@user_group.command("passwd")
@click.argument("username")
@click.password_option(prompt=f"New password (at least {PASSWORD_MIN} characters)")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def user_passwd(username: str, password: str, db_url: str, key_file: str | None) -> None:
    """Give USERNAME a new password; their open sessions end."""
    _store(db_url, key_file, existing=True).set_password(username, password)
    click.echo(f"password of {username} changed; their sessions have ended")


@user_group.command("remove")
@click.argument("username")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def user_remove(username: str, db_url: str, key_file: str | None) -> None:
    """Remove USERNAME; their open sessions end at once."""
    _store(db_url, key_file, existing=True).remove_user(username)
    click.echo(f"user {username} removed")


@main.command("paper")
@click.argument("instrument_id")
@click.option("--occasion", required=True, help="One of the instrument's occasions, e.g. intake or follow_up.")
@language_option
@click.option(
    "--out", type=click.Path(dir_okay=False), required=True, help="The HTML file; a PDF is written beside it."
)
@click.option("--survey", type=click.Path(exists=True, dir_okay=False), help=SURVEY_HELP)
@click.option(
    "--code", help="The respondent's login code, printed in the footer of every page (else a line to fill in)."
)
def paper_command(instrument_id: str, occasion: str, lang: str, out: str, survey: str | None, code: str | None) -> None:
    """Write a printable form of INSTRUMENT_ID with a cover letter and codes for data entry (HTML, and PDF)."""
    from kantelmeter.web.paper import write_paper

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    for path in write_paper(instrument, occasion, lang, out, survey=_survey(survey), code=code):
        click.echo(f"written {path}")


def _store_instrument(store, source: str):
    """The instrument as the store registered it, else a shipped id or a YAML file."""
    try:
        return store.instrument(source)
    except KeyError:
        return _load(source)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--instrument", "instrument_id", required=True, help="A shipped instrument id or a YAML file.")
@click.option(
    "--occasion",
    help="The occasion every row belongs to; leave it out to take each row's occasion "
    "from the file's occasion column (a whole-instrument export).",
)
@click.option("--respondent", default="respondent", show_default=True, help="The column naming the respondent.")
@click.option(
    "--respondent-kind",
    type=click.Choice(RESPONDENT_IDENTIFIERS),
    help="The respondent column holds this identifier: it is checked and pseudonymised.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV (source,target) or YAML mapping file columns to item ids.",
)
@click.option("--cohort", help="The cohort of every row when the file has no cohort column.")
@click.option("--sheet", default="0", show_default=True, help="Excel sheet name or number.")
@click.option("--odk", is_flag=True, help="The file is an ODK Central or KoboToolbox CSV export.")
@click.option(
    "--repeat",
    "repeats",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="With --odk: a repeat table of the same export (ODK Central's <form>-<repeat>.csv); repeatable.",
)
@click.option(
    "--redcap",
    is_flag=True,
    help="The file is a REDCap CSV (raw) export; only the rows of the occasion's event are imported.",
)
@click.option("--problems", type=click.Path(dir_okay=False), help="Also write the problems to this CSV file.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
@click.option(
    "--adopt-new-key",
    is_flag=True,
    help="Use this key although the store was pseudonymised with another one (the original is lost): "
    "respondents stored before will not link to new responses.",
)
def import_command(
    file: str,
    instrument_id: str,
    occasion: str | None,
    respondent: str,
    respondent_kind: str | None,
    mapping: str | None,
    cohort: str | None,
    sheet: str,
    odk: bool,
    repeats: tuple[str, ...],
    redcap: bool,
    problems: str | None,
    db_url: str,
    key_file: str | None,
    adopt_new_key: bool,
) -> None:
    """Import the responses in FILE (.csv, .xlsx, .sav): every row, or none and a list of every problem."""
    from kantelmeter.files import private_file
    from kantelmeter.io import ImportRejected, import_responses
    from kantelmeter.io.redcap_import import import_redcap

    if redcap and (odk or mapping):
        raise click.UsageError("--redcap reads REDCap's own column names; it takes neither --odk nor --mapping")
    if repeats and not odk:
        raise click.UsageError("--repeat is a table of an ODK or KoboToolbox export: give --odk too")
    if redcap and occasion is None:
        raise click.UsageError("--redcap imports one occasion at a time: give --occasion")
    store = _store(db_url, key_file, adopt_new_key=adopt_new_key)
    instrument = _store_instrument(store, instrument_id)
    if occasion is not None:
        _check_occasion(instrument, occasion)
    try:
        if redcap:
            result = import_redcap(store, instrument, occasion, file, cohort=cohort)
        else:
            result = import_responses(
                store,
                instrument,
                occasion,
                file,
                respondent=respondent,
                respondent_kind=respondent_kind,
                mapping=mapping,
                cohort=cohort,
                sheet=int(sheet) if sheet.isdigit() else sheet,
                odk=odk,
                repeats=repeats,
            )
    except ImportRejected as exc:
        if problems:
            with private_file(problems, newline="", encoding="utf-8") as handle:  # rows may quote answers
                exc.report.problems.to_csv(handle, index=False)
        rest = f"all are in {problems}" if problems else "write them all as CSV with --problems FILE"
        click.echo(exc.report.summary(limit=SHOWN_PROBLEMS, rest=rest), err=True)
        sys.exit(1)
    click.echo(str(result))


@main.command("export")
@click.option("--instrument", "instrument_id", required=True, help="A registered or shipped instrument id.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="The file to write: .sav (SPSS with labels), .csv (plus codebook) or .xlsx.",
)
@click.option("--occasion", help="Only this occasion.")
@click.option("--cohort", help="Only this cohort.")
@language_option
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def export_command(
    instrument_id: str, out: str, occasion: str | None, cohort: str | None, lang: str, db_url: str, key_file: str | None
) -> None:
    """Export the complete responses to an instrument; respondents appear as pseudonyms only."""
    from kantelmeter.io import export_responses

    store = _store(db_url, key_file, existing=True)
    instrument = _store_instrument(store, instrument_id)
    _check_occasion(instrument, occasion)
    written = export_responses(store, instrument, out, occasion=occasion, cohort=cohort, lang=lang)
    for path in written:
        click.echo(f"written {path}")
    counts = store.completion(instrument)
    exported = int(
        counts.loc[
            (counts["status"] == "complete")
            & ((counts["occasion"] == occasion) if occasion is not None else True)
            & ((counts["cohort"] == cohort) if cohort is not None else True),
            "n",
        ].sum()
    )
    # an empty file looks like a finished export: say so in words, not only by a count
    click.echo(
        f"{exported} responses exported"
        if exported
        else "0 responses exported: no complete response matches; the file holds the column names only"
    )


@main.command("xlsform")
@click.argument("instrument_id")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The .xlsx XLSForm to write.")
@click.option("--occasion", help="Only the items asked at this occasion.")
def xlsform_command(instrument_id: str, out: str, occasion: str | None) -> None:
    """Write INSTRUMENT_ID as an XLSForm for ODK or KoboToolbox."""
    from kantelmeter.io import write_xlsform

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    written = write_xlsform(instrument, out, occasion)
    for path in written:
        click.echo(f"written {path}")


@main.command("redcap")
@click.argument("instrument_id")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The data dictionary CSV to write.")
@click.option(
    "--occasion",
    help="One form with this occasion's items; without it, a longitudinal project with one event per occasion.",
)
@language_option
def redcap_command(instrument_id: str, out: str, occasion: str | None, lang: str) -> None:
    """Write INSTRUMENT_ID as a REDCap data dictionary, with its field codebook (and events)."""
    from kantelmeter.io import write_redcap_dictionary
    from kantelmeter.io.redcap import missing_data_codes

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    written = write_redcap_dictionary(instrument, out, lang, occasion)
    codes = missing_data_codes(instrument, lang)
    for path in written:
        click.echo(f"written {path}")
    if codes:
        click.echo(f"In REDCap, set Project Setup -> Additional customizations -> Missing Data Codes to: {codes}")


@main.command("erase")
@click.argument("respondent", required=False)
@click.option("--bsn", is_flag=True, help="Ask for the respondent's BSN (hidden input) instead of a pseudonym.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@key_file_option
def erase_command(respondent: str | None, bsn: bool, yes: bool, db_url: str, key_file: str | None) -> None:
    """Remove everything stored about RESPONDENT (a pseudonym), or about the citizen with a BSN (--bsn)."""
    if bool(respondent) == bsn:
        raise click.UsageError("give either a RESPONDENT pseudonym or --bsn")
    store = _store(db_url, key_file, existing=True)
    if bsn:
        # Asked for, not passed as an argument, so the number stays out of the shell history.
        respondent = store.pseudonym("bsn", click.prompt("BSN", hide_input=True))
    if not yes:
        click.confirm(f"Erase every response of respondent {respondent}? This cannot be undone", abort=True)
    removed = store.erase(respondent)
    click.echo(f"respondent {respondent} erased with {removed} responses")


def _load(source: str):
    """The instrument of a shipped id or a YAML file; a refusal ends the command in one line (see ``_Commands``)."""
    from kantelmeter.instruments import load_instrument

    return load_instrument(source)


# --- the survey round (issue 13): frame import, sample, letters, response, weights, ceo ----------
from kantelmeter.rounds import add_commands as _add_round_commands  # noqa: E402 (the group must exist first)

_add_round_commands(main)
