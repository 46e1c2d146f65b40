"""The ``kantelmeter`` command.

Each subcommand is a thin shell around a public function; it parses
arguments, calls the function and prints or writes its result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kantelmeter.instruments import LANGUAGES, InstrumentError, list_instruments, load_instrument


class _Commands(click.Group):
    """The command group; a file that cannot be read or written ends a command with one line, not a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except OSError as exc:
            # a missing folder, no permission, a full disk: the user's to fix, so name the file and the reason
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


# Every text kantelmeter shows exists in these languages; Dutch first.
language_option = click.option("--lang", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True)


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
@click.argument("notebook", default="nulmeting")
@click.option("--db", "db_url", required=True, help="SQLAlchemy URL of the store, e.g. sqlite:///kantelmeter.db.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file to write.")
@click.option("--min-cell", type=click.IntRange(min=1), default=10, show_default=True,
              help="Smallest number of people a published figure may rest on.")
@language_option
@click.option("--workdir", type=click.Path(file_okay=False),
              help="Keep the executed notebook here (default: a temporary folder).")
def report_command(notebook: str, db_url: str, out: str, min_cell: int, lang: str, workdir: str | None) -> None:
    """Run NOTEBOOK (default: nulmeting) against a store and write a publishable HTML report."""
    from kantelmeter.report import ReportError, report

    _store(db_url, None, existing=True).close()
    try:
        path = report(db_url, out, notebook=notebook, min_cell=min_cell, lang=lang, workdir=workdir)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"report written to {path}")


@main.command("score")
@click.option("--instrument", "instrument_id", required=True, help="A shipped instrument id or a YAML file.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the scores to this CSV or XLSX file.")
def score_command(instrument_id: str, file: str, out: str | None) -> None:
    """Score the responses in FILE (CSV, XLSX or SAV) on every scale of the instrument."""
    import pandas as pd

    from kantelmeter.io import read_csv, read_sav, read_xlsx
    from kantelmeter.scoring import ScoringError, score

    readers = {".csv": read_csv, ".txt": read_csv, ".xlsx": read_xlsx, ".sav": read_sav}
    suffix = Path(file).suffix.lower()
    if suffix not in readers:
        raise click.ClickException(f"{file}: cannot read a {suffix or 'extensionless'} file; "
                                   f"allowed: {', '.join(readers)}")
    responses = readers[suffix](file)
    # number the rows as the user sees them: spreadsheet rows after the header, SPSS cases from 1
    first_row = 1 if suffix == ".sav" else 2
    responses.index = pd.RangeIndex(first_row, first_row + len(responses))
    # "report" also lists columns that are not the instrument's, which import refuses as well
    scores, problems = score(_load(instrument_id), responses, errors="report")
    if len(problems):
        raise click.ClickException(f"{file}: {ScoringError(problems)}")
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


def _store(db_url: str, key_file: str | None, *, existing: bool = False):
    """The store at ``db_url``; with ``existing``, a SQLite file that is not there is an error, not a new store.

    Commands that only read or remove (export, erase, report, serve) would otherwise create an empty
    store for a mistyped file name and report nothing found.
    """
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError
    from sqlalchemy.engine import make_url

    from kantelmeter.store import Store, StoreError

    try:
        url = make_url(db_url)
    except ArgumentError:
        raise click.BadParameter(f"{db_url!r} is not a database URL; allowed: {DB_HELP.split(': ', 1)[1]}",
                                 param_hint="--db") from None
    if existing and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).is_file():
        raise click.ClickException(f"{db_url}: no store in {url.database}; allowed: an existing store file "
                                   "(import, invite and user add create one)")
    try:
        return Store(db_url, key_file=key_file)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        # the first line of the driver's message says what is wrong ("file is not a database", ...)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(f"{db_url}: cannot open the store: {reason}") from None


def _check_occasion(instrument, occasion: str | None) -> None:
    if occasion is not None and occasion not in instrument.occasions:
        raise click.BadParameter(f"{occasion!r}; {instrument.id} has {', '.join(instrument.occasions)}",
                                 param_hint="--occasion")


SURVEY_HELP = "The deployment's survey.yaml: organisation, logo, colours, contact, privacy statement."


@main.command("serve")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--instrument", "extra", multiple=True, help="An instrument YAML file interviewers may also use.")
@click.option("--survey", type=click.Path(exists=True, dir_okay=False), help=SURVEY_HELP)
def serve_command(db_url: str, key_file: str | None, host: str, port: int, extra: tuple[str, ...],
                  survey: str | None) -> None:
    """Serve the web form: invitation links (/r/TOKEN) and interviewer mode (/interviewer)."""
    from kantelmeter.web.app import serve

    serve(_store(db_url, key_file, existing=True), host=host, port=port,
          instruments=[_load(source) for source in extra], survey=_survey(survey))


def _survey(path: str | None):
    from kantelmeter.web.settings import load_survey_settings

    return load_survey_settings(path) if path else None


@main.command("invite")
@click.option("--instrument", "instrument_id", required=True, help="A shipped instrument id or a YAML file.")
@click.option("--occasion", required=True, help="One of the instrument's occasions, e.g. intake or follow_up.")
@click.option("--count", type=click.IntRange(min=1), required=True)
@click.option("--cohort", help="For example pilot or regular.")
@click.option("--base-url", default="http://127.0.0.1:8000", show_default=True, help="Where the form is served.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the links to this CSV file.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")
def invite_command(instrument_id: str, occasion: str, count: int, cohort: str | None, base_url: str,
                   out: str | None, db_url: str, key_file: str | None) -> None:
    """Create COUNT invitation links, each for a new respondent, and print them or write a CSV."""
    import contextlib
    import csv

    from kantelmeter.web.app import invitation_links

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    if not base_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{base_url!r}; allowed: an address starting with http:// or https://",
                                 param_hint="--base-url")
    # opened before the links are made: a bad path must not leave invitations that no one received
    with open(out, "w", newline="", encoding="utf-8") if out else contextlib.nullcontext() as handle:
        links = invitation_links(_store(db_url, key_file), instrument, occasion, count, cohort, base_url)
        if handle is None:
            click.echo("\n".join(links))
            return
        writer = csv.writer(handle)
        writer.writerow(["link", "instrument", "occasion", "cohort"])
        writer.writerows([link, instrument.id, occasion, cohort or ""] for link in links)
    click.echo(f"{count} links written to {out}; each opens one respondent's form: keep the file safe")


@main.group("user")
def user_group() -> None:
    """Manage interviewer accounts."""


@user_group.command("add")
@click.argument("username")
@click.password_option(prompt="Password (at least 12 characters)")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
def user_add(username: str, password: str, db_url: str) -> None:
    """Add an interviewer USERNAME; the password is asked for and stored as an argon2 hash."""
    from kantelmeter.store import StoreError

    try:
        _store(db_url, None).add_user(username, password)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"user {username} added")


@main.command("paper")
@click.argument("instrument_id")
@click.option("--occasion", required=True, help="One of the instrument's occasions, e.g. intake or follow_up.")
@language_option
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The HTML file; a PDF is written beside it.")
@click.option("--survey", type=click.Path(exists=True, dir_okay=False), help=SURVEY_HELP)
@click.option("--code", help="The respondent's login code, printed in the footer of every page (else a line to fill in).")
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
@click.option("--occasion", required=True, help="The occasion every row belongs to.")
@click.option("--respondent", default="respondent", show_default=True, help="The column naming the respondent.")
@click.option("--respondent-kind", type=click.Choice(["bsn", "client_number", "name"]),
              help="The respondent column holds this identifier: it is checked and pseudonymised.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False),
              help="CSV (source,target) or YAML mapping file columns to item ids.")
@click.option("--cohort", help="The cohort of every row when the file has no cohort column.")
@click.option("--sheet", default="0", show_default=True, help="Excel sheet name or number.")
@click.option("--odk", is_flag=True, help="The file is an ODK Central or KoboToolbox CSV export.")
@click.option("--problems", type=click.Path(dir_okay=False), help="Also write the problems to this CSV file.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")
def import_command(file: str, instrument_id: str, occasion: str, respondent: str, respondent_kind: str | None,
                   mapping: str | None, cohort: str | None, sheet: str, odk: bool, problems: str | None,
                   db_url: str, key_file: str | None) -> None:
    """Import the responses in FILE (.csv, .xlsx, .sav): every row, or none and a list of every problem."""
    from kantelmeter.io import ImportRejected, import_responses
    from kantelmeter.store import StoreError

    store = _store(db_url, key_file)
    instrument = _store_instrument(store, instrument_id)
    _check_occasion(instrument, occasion)
    try:
        result = import_responses(store, instrument, occasion, file,
                                  respondent=respondent, respondent_kind=respondent_kind, mapping=mapping,
                                  cohort=cohort, sheet=int(sheet) if sheet.isdigit() else sheet, odk=odk)
    except ImportRejected as exc:
        if problems:
            exc.report.problems.to_csv(problems, index=False)
        rest = f"all are in {problems}" if problems else "write them all as CSV with --problems FILE"
        click.echo(exc.report.summary(limit=SHOWN_PROBLEMS, rest=rest), err=True)
        sys.exit(1)
    except (StoreError, ValueError, KeyError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(str(result))


@main.command("export")
@click.option("--instrument", "instrument_id", required=True, help="A registered or shipped instrument id.")
@click.option("--out", type=click.Path(dir_okay=False), required=True,
              help="The file to write: .sav (SPSS with labels), .csv (plus codebook) or .xlsx.")
@click.option("--occasion", help="Only this occasion.")
@click.option("--cohort", help="Only this cohort.")
@language_option
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")
def export_command(instrument_id: str, out: str, occasion: str | None, cohort: str | None, lang: str,
                   db_url: str, key_file: str | None) -> None:
    """Export the complete responses to an instrument; respondents appear as pseudonyms only."""
    from kantelmeter.io import export_responses
    from kantelmeter.store import StoreError

    store = _store(db_url, key_file, existing=True)
    instrument = _store_instrument(store, instrument_id)
    _check_occasion(instrument, occasion)
    try:
        written = export_responses(store, instrument, out, occasion=occasion,
                                   cohort=cohort, lang=lang)
    except (StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"written {path}")
    counts = store.completion(instrument)
    exported = int(counts.loc[(counts["status"] == "complete")
                              & ((counts["occasion"] == occasion) if occasion is not None else True)
                              & ((counts["cohort"] == cohort) if cohort is not None else True), "n"].sum())
    # an empty file looks like a finished export: say so in words, not only by a count
    click.echo(f"{exported} responses exported" if exported else
               "0 responses exported: no complete response matches; the file holds the column names only")


@main.command("xlsform")
@click.argument("instrument_id")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The .xlsx XLSForm to write.")
@click.option("--occasion", help="Only the items asked at this occasion.")
def xlsform_command(instrument_id: str, out: str, occasion: str | None) -> None:
    """Write INSTRUMENT_ID as an XLSForm for ODK or KoboToolbox."""
    from kantelmeter.io import write_xlsform

    instrument = _load(instrument_id)
    _check_occasion(instrument, occasion)
    try:
        written = write_xlsform(instrument, out, occasion)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"written {path}")


@main.command("redcap")
@click.argument("instrument_id")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The data dictionary CSV to write.")
@language_option
def redcap_command(instrument_id: str, out: str, lang: str) -> None:
    """Write INSTRUMENT_ID as a REDCap data dictionary."""
    from kantelmeter.io import write_redcap_dictionary

    try:
        written = write_redcap_dictionary(_load(instrument_id), out, lang)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for path in written:
        click.echo(f"written {path}")


@main.command("erase")
@click.argument("respondent", required=False)
@click.option("--bsn", is_flag=True, help="Ask for the respondent's BSN (hidden input) instead of a pseudonym.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)
@click.option("--key-file", type=click.Path(dir_okay=False), help="The pseudonymisation key file.")
def erase_command(respondent: str | None, bsn: bool, yes: bool, db_url: str, key_file: str | None) -> None:
    """Remove everything stored about RESPONDENT (a pseudonym), or about the citizen with a BSN (--bsn)."""
    from kantelmeter.privacy import BSNError
    from kantelmeter.store import StoreError

    if bool(respondent) == bsn:
        raise click.UsageError("give either a RESPONDENT pseudonym or --bsn")
    store = _store(db_url, key_file, existing=True)
    if bsn:
        # Asked for, not passed as an argument, so the number stays out of the shell history.
        try:
            respondent = store.pseudonym("bsn", click.prompt("BSN", hide_input=True))
        except BSNError as exc:
            raise click.ClickException(str(exc)) from None
    if not yes:
        click.confirm(f"Erase every response of respondent {respondent}? This cannot be undone", abort=True)
    try:
        removed = store.erase(respondent)
    except (KeyError, StoreError) as exc:
        raise click.ClickException(str(exc).strip('"')) from None
    click.echo(f"respondent {respondent} erased with {removed} responses")


def _load(source: str):
    try:
        return load_instrument(source)
    except (InstrumentError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
