"""The ``kantelmeter`` commands of a survey round, in the order an evaluator runs them.

``frame import`` -> ``sample`` -> ``letters`` (and ``letters --reminder``) ->
``disposition`` -> ``response`` -> ``weights`` -> ``ceo table`` / ``ceo export``.
Each is a thin shell around :mod:`kantelmeter.survey`, :mod:`kantelmeter.ceo`
and the store; :func:`add_commands` hangs them on the main command group.
Heavy modules are imported inside the commands, so ``kantelmeter --help``
stays quick.
"""

from __future__ import annotations

from pathlib import Path

import click

from kantelmeter.contract import REGISTER_IDENTIFIERS

__all__ = ["add_commands"]


def add_commands(main: click.Group) -> None:
    """Add the survey round's commands to ``main``."""
    from kantelmeter.cli import DB_HELP, key_file_option

    def store_options(function):
        function = key_file_option(function)
        function = click.option("--db", "db_url", default="sqlite:///kantelmeter.db", show_default=True, help=DB_HELP)(
            function
        )
        return click.option("--round", "round_name", required=True, help="The round, e.g. 2026-ceo.")(function)

    @main.group("frame")
    def frame_group() -> None:
        """The sampling frame of a survey round."""

    @frame_group.command("import")
    @click.argument("register", type=click.Path(exists=True, dir_okay=False))
    @click.option("--id", "id_column", required=True, help="The register's identifier column, e.g. bsn.")
    @click.option(
        "--id-kind", type=click.Choice(REGISTER_IDENTIFIERS), default=REGISTER_IDENTIFIERS[0], show_default=True
    )
    @click.option("--strata", help="The column to stratify by, e.g. district.")
    @click.option("--aux", default="", help="Auxiliary columns, comma-separated, e.g. age_group,sex,provision.")
    @click.option("--instrument", "instrument_id", default="citizen", show_default=True)
    @click.option("--occasion", default="follow_up", show_default=True, help="The occasion the round asks.")
    @store_options
    def frame_import(
        register: str,
        id_column: str,
        id_kind: str,
        strata: str | None,
        aux: str,
        instrument_id: str,
        occasion: str,
        round_name: str,
        db_url: str,
        key_file: str | None,
    ) -> None:
        """Read REGISTER (.csv or .xlsx) and store it as the frame of a new round: pseudonyms, strata, auxiliaries."""
        from kantelmeter.cli import _check_occasion, _load, _store
        from kantelmeter.survey import frame

        instrument = _load(instrument_id)
        _check_occasion(instrument, occasion)
        store = _store(db_url, key_file)
        auxiliaries = [a.strip() for a in aux.split(",") if a.strip()]
        made = frame(
            register,
            id=id_column,
            id_kind=id_kind,
            strata=strata,
            auxiliaries=auxiliaries,
            pseudonymiser=store.pseudonymiser,
        )
        stored = made.to_store(store, round_name, instrument, occasion)
        strata_text = ", ".join(f"{k} {v}" for k, v in made.population.items())
        click.echo(
            f"round {round_name}: {stored} clients in the frame ({strata_text}); names, addresses and "
            f"identifiers were not stored"
        )

    @main.command("sample")
    @click.option("--n", "size", type=click.IntRange(min=1), help="Sample size (total; split over the strata).")
    @click.option(
        "--margin",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        help="Instead of --n: the margin of error wanted (e.g. 0.05) ...",
    )
    @click.option(
        "--response-rate",
        type=click.FloatRange(0, 1, min_open=True),
        default=1.0,
        show_default=True,
        help="... and the response expected, to turn respondents needed into clients to invite.",
    )
    @click.option(
        "--allocation",
        type=click.Choice(["proportional", "equal", "census"]),
        default="proportional",
        show_default=True,
    )
    @click.option("--seed", type=int, help="Seed, for a draw that can be repeated.")
    @store_options
    def sample_command(
        size: int | None,
        margin: float | None,
        response_rate: float,
        allocation: str,
        seed: int | None,
        round_name: str,
        db_url: str,
        key_file: str | None,
    ) -> None:
        """Draw the round's stratified sample and store it with inclusion probabilities and design weights."""
        import math
        import secrets

        from kantelmeter.cli import _store
        from kantelmeter.survey import Frame, draw, sample_size

        store = _store(db_url, key_file, existing=True)
        frame = Frame.from_store(store, round_name)
        if size is None and allocation != "census":
            if margin is None:
                raise click.UsageError("give --n, --margin or --allocation census")
            size = min(len(frame.units), math.ceil(sample_size(margin, population=len(frame.units)) / response_rate))
        seed = secrets.randbelow(2**31) if seed is None else seed
        drawn = draw(frame, n=size or 0, strata=frame.strata is not None, allocation=allocation, seed=seed)
        drawn.to_store(store, round_name)
        allocated = ", ".join(f"{k} {row.sampled}/{row.population}" for k, row in drawn.allocation.iterrows())
        click.echo(f"round {round_name}: {len(drawn.units)} clients sampled (seed {seed}): {allocated}")

    @main.command("letters")
    @click.option(
        "--register",
        type=click.Path(exists=True, dir_okay=False),
        required=True,
        help="The register the frame was made from: names and addresses are read from it again.",
    )
    @click.option("--id", "id_column", required=True, help="The register's identifier column.")
    @click.option("--out", type=click.Path(dir_okay=False), required=True, help="The mail-merge CSV (mode 0600).")
    @click.option(
        "--settings",
        type=click.Path(exists=True, dir_okay=False),
        help="The municipality's letters.yaml (default: the shipped example).",
    )
    @click.option("--reminder", is_flag=True, help="Reminders for those who have not responded yet.")
    @click.option("--no-pdf", is_flag=True, help="Do not print the letters to PDF.")
    @click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
    @store_options
    def letters_command(
        register: str,
        id_column: str,
        out: str,
        settings: str | None,
        reminder: bool,
        no_pdf: bool,
        lang: str,
        round_name: str,
        db_url: str,
        key_file: str | None,
    ) -> None:
        """Write the round's letters (or reminders) for the municipality's mail system: CSV, QR codes, PDF."""
        from kantelmeter.cli import _store
        from kantelmeter.demo import resources_path
        from kantelmeter.survey.letters import load_settings, write_letters

        store = _store(db_url, key_file, existing=True)
        written = write_letters(
            store,
            round_name,
            register,
            out,
            load_settings(settings or resources_path("letters.yaml")),
            id=id_column,
            reminder=reminder,
            lang=lang,
            pdf=not no_pdf,
        )
        kind = "reminders" if reminder else "letters"
        pdf = f", PDF {written.pdf}" if written.pdf else (" (no PDF: Chromium not found)" if not no_pdf else "")
        click.echo(
            f"{written.count} {kind} written to {written.csv} (mode 0600), QR codes in {written.qr_folder}{pdf}; "
            "the file holds names and addresses: delete it after mailing"
        )

    @main.command("disposition")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--id", "id_column", required=True, help="The file's identifier column (as in the register).")
    @click.option(
        "--code",
        "code_column",
        default="code",
        show_default=True,
        help="The column with moved, deceased, not_client, refused or no_contact.",
    )
    @store_options
    def disposition_command(
        file: str, id_column: str, code_column: str, round_name: str, db_url: str, key_file: str | None
    ) -> None:
        """Record the disposition codes in FILE (identifier and code per row) for sampled clients."""
        from kantelmeter.cli import _store
        from kantelmeter.survey.design import FrameError, _problem, read_register

        store = _store(db_url, key_file, existing=True)
        table = read_register(file)
        absent = [c for c in (id_column, code_column) if c not in table.columns]
        if absent:
            raise FrameError(Path(file).name, [_problem(None, c, None, "no such column") for c in absent])
        kind = store.round_info(round_name)["id_kind"]
        codes = {
            store.pseudonymiser.pseudonymise(kind, str(i).strip(), where=f"{Path(file).name} row {n}"): str(c).strip()
            for n, (i, c) in enumerate(zip(table[id_column], table[code_column]), start=1)
        }
        recorded = store.record_dispositions(round_name, codes)
        click.echo(f"round {round_name}: {recorded} disposition codes recorded")

    @main.command("response")
    @click.option("--out", type=click.Path(dir_okay=False), help="Also write the response table to this CSV.")
    @click.option("--figure", type=click.Path(dir_okay=False), help="Draw the response rates by auxiliary (PNG/SVG).")
    @store_options
    def response_command(
        out: str | None, figure: str | None, round_name: str, db_url: str, key_file: str | None
    ) -> None:
        """Print the round's response: per stratum and total, AAPOR RR1/RR2, by mode, and the R-indicator."""
        from kantelmeter.cli import _store
        from kantelmeter.survey import Sample, response

        store = _store(db_url, key_file, existing=True)
        account = response(Sample.from_store(store, round_name), store)
        click.echo(account.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        click.echo("\n" + account.by_mode.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        r = account.r_indicator.iloc[0]
        click.echo(f"\nR-indicator ({r.auxiliaries}): {r.r:.3f} (95% CI {r.ci_low:.3f} to {r.ci_high:.3f})")
        if out:
            account.table.to_csv(out, index=False)
        if figure:
            account.plot().figure.savefig(figure, bbox_inches="tight")

    @main.command("weights")
    @click.option("--margins", help="Auxiliaries to calibrate on, comma-separated (default: all of the frame's).")
    @click.option("--method", type=click.Choice(["raking", "linear"]), default="raking", show_default=True)
    @click.option(
        "--trim", type=click.FloatRange(min=1, min_open=True), help="Cap weights at this many times the mean."
    )
    @store_options
    def weights_command(
        margins: str | None, method: str, trim: float | None, round_name: str, db_url: str, key_file: str | None
    ) -> None:
        """Calibrate the round's design weights to the frame's margins and store them."""
        from kantelmeter.cli import _store
        from kantelmeter.survey import Sample, calibrate, response

        store = _store(db_url, key_file, existing=True)
        sample = Sample.from_store(store, round_name)
        account = response(sample, store, replicates=0)
        chosen = [m.strip() for m in margins.split(",")] if margins else None
        weights = calibrate(sample, account.respondents, margins=chosen, method=method, trim=trim)
        store.save_weights(round_name, weights.weights, method)
        spread = weights.spread
        click.echo(
            f"round {round_name}: {len(weights.weights)} respondents weighted ({method} on "
            f"{', '.join(weights.margins)}); weights {spread['min']:.2f} to {spread['max']:.2f}, "
            f"Kish design effect {weights.kish_deff:.2f}"
        )

    @main.group("ceo")
    def ceo_group() -> None:
        """CEO indicators of a round: the weighted table and the benchmark delivery file."""

    @ceo_group.command("table")
    @click.option("--out", type=click.Path(dir_okay=False), help="Write the table to this CSV.")
    @store_options
    def ceo_table(out: str | None, round_name: str, db_url: str, key_file: str | None) -> None:
        """% (fully) agree per CEO item, weighted when the round has weights, with 95% intervals."""
        from kantelmeter.ceo import round_indicators
        from kantelmeter.cli import _store

        store = _store(db_url, key_file, existing=True)
        table = round_indicators(store, round_name)
        shown = table[["item", "n_valid", "pct_agree", "ci_low", "ci_high", "weighted"]]
        click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
        if out:
            table.to_csv(out, index=False)

    @ceo_group.command("export")
    @click.option("--out", type=click.Path(dir_okay=False), required=True, help="The delivery CSV to write.")
    @store_options
    def ceo_export(out: str, round_name: str, db_url: str, key_file: str | None) -> None:
        """Write the benchmark delivery file: counts per answer per indicator, with the round's figures."""
        from kantelmeter.ceo import delivery
        from kantelmeter.cli import _store

        store = _store(db_url, key_file, existing=True)
        table = delivery(store, round_name)
        table.to_csv(out, index=False)
        click.echo(f"{table['indicator'].nunique()} indicators written to {out}")
