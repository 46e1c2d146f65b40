"""Benchmark: import 100,000 responses x 40 items into the store and read them back.

Prints rows per second for the import (reading, checking every cell,
pseudonymising nothing, one transaction) and for reading the wide DataFrame
back, on SQLite and, when ``KANTELMETER_PG_URL`` is set, on PostgreSQL. The
import is a ratio to ``pandas.read_csv(dtype=str)`` plus validation alone, the
read to fetching the same wide answer table with the driver into a DataFrame,
both measured in the same run. Two layouts of the answers are compared on
SQLite as well: a wide table per instrument version (the store's) and a JSON
object per response. Beside the wall-clock time it prints the CPU time as a
ratio too, steadier on a shared machine: this process's, plus on a PostgreSQL
server on this machine the CPU of the import's own server processes (read from
``/proc``, found by their ``application_name``).

    python benchmarks/bench_store.py [--rows 100000] [--items 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from kantelmeter import Store
from kantelmeter.instruments import parse_instrument
from kantelmeter.io import import_responses
from kantelmeter.io.validation import validate_responses
from kantelmeter.store import answer_table
from kantelmeter.store.schema import META_COLUMNS


def synthetic_instrument(items: int):
    """A one-section instrument of five-point rating items with two missing codes."""
    lines = [
        "id: bench",
        'version: "1"',
        "title: {nl: Benchmark, en: Benchmark}",
        "description: {nl: Synthetisch, en: Synthetic}",
        "source: {citation: synthetic}",
        "licence: {name: EUPL-1.2}",
        "occasions: [intake]",
        "response_scales:",
        "  agree5:",
        "    codes:",
        *[f"      - {{code: {c}, label: {{nl: '{c}', en: '{c}'}}}}" for c in range(1, 6)],
        "    missing:",
        "      - {code: 8, label: {nl: weet niet, en: don't know}}",
        "sections:",
        "  - id: main",
        "    title: {nl: Vragen, en: Questions}",
        "    items:",
    ]
    for i in range(1, items + 1):
        lines += [
            f"      - id: q{i}",
            "        type: rating",
            "        response_scale: agree5",
            f"        text: {{nl: Vraag {i}, en: Question {i}}}",
        ]
    return parse_instrument("\n".join(lines), "bench.yaml")


def write_data(path: Path, rows: int, items: int, seed: int = 2012) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.choice([1, 2, 3, 4, 5, 8], size=(rows, items), p=[0.1, 0.2, 0.3, 0.2, 0.15, 0.05]).astype(float)
    codes[rng.random((rows, items)) < 0.03] = np.nan  # item non-response
    frame = pd.DataFrame(codes, columns=[f"q{i}" for i in range(1, items + 1)]).astype("Int64")
    frame.insert(0, "respondent", [f"r{i:06d}" for i in range(rows)])
    frame.to_csv(path, index=False)


def timed(function):
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - start, time.process_time() - cpu, result


def backend_cpu(admin, application: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving ``application`` (a server on this machine)."""
    with admin.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %(name)s", {"name": application}
        ).scalars()
        used = {}
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return used


def run(stores: list, key_file: Path, instrument, data: Path, rows: int, baseline: tuple[float, float], label: str):
    """Import and read back once in each new store, printing the best time of each step.

    ``stores`` holds (url, server) pairs, ``server()`` giving the database server's CPU
    seconds so far when it is known (None otherwise).
    """
    best = {}
    table = answer_table(instrument).name
    for url, server in stores:
        store = Store(url, key_file=key_file)
        before = server() if server else {}
        import_seconds, import_cpu, result = timed(partial(import_responses, store, instrument, "intake", data))
        if server:  # the server's work belongs to the import: client and server CPU together
            import_cpu += sum(cpu - before.get(pid, 0.0) for pid, cpu in server().items())
        assert result.added == rows, result
        read_seconds, read_cpu, wide = timed(partial(store.responses, instrument))
        assert wide.shape == (rows, len(META_COLUMNS) + len(instrument.columns))
        with store.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            fetched = timed(lambda cursor=cursor: pd.DataFrame(cursor.execute(f"SELECT * FROM {table}").fetchall()))[:2]
        store.close()
        for step, figures in (
            ("import", (import_seconds, import_cpu)),
            ("read", (read_seconds, read_cpu)),
            ("fetch", fetched),
        ):
            best[step] = tuple(map(min, zip(best.get(step, figures), figures)))
    print(ratio(label, "import", *best["import"], baseline, "read_csv(dtype=str) + validation"))
    print(ratio(label, "read", *best["read"], best["fetch"], "fetching the wide table"))


def ratio(label: str, what: str, seconds: float, cpu: float, baseline: tuple[float, float], of: str) -> str:
    """One line: wall-clock time and CPU time, each as a ratio to the baseline's."""
    return (
        f"{label:<11} {what:<7} {seconds:6.2f} s {seconds / baseline[0]:5.1f} x   cpu {cpu:6.2f} s "
        f"{cpu / baseline[1]:5.1f} x   {of}"
    )


def synchronous_modes(folder: Path, commits: int = 300) -> None:
    """Commits per second under WAL with ``synchronous=FULL`` (the store's) and NORMAL: one small write each,
    as a form page is."""
    import sqlite3

    seconds = {}
    for mode in ("FULL", "NORMAL"):
        connection = sqlite3.connect(folder / f"sync_{mode}.db", isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {mode}")
        connection.execute("CREATE TABLE page (id INTEGER PRIMARY KEY, answers TEXT)")

        def write(connection: sqlite3.Connection = connection) -> None:
            for number in range(commits):
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO page VALUES (?, ?)", (number, "x" * 200))
                connection.execute("COMMIT")

        seconds[mode], _, _ = timed(write)
        connection.close()
    print(
        f"synchronous WAL, {commits} one-page commits: FULL {commits / seconds['FULL']:,.0f}/s, NORMAL "
        f"{commits / seconds['NORMAL']:,.0f}/s ({seconds['FULL'] / seconds['NORMAL']:.1f}x)"
    )


def layouts(folder: Path, instrument, data: Path) -> None:
    """Candidate layouts on SQLite, raw (no checks): a wide table per version against JSON per response."""
    import json
    import sqlite3

    frame = pd.read_csv(data).drop(columns="respondent")
    columns = list(frame.columns)
    connection = sqlite3.connect(folder / "layouts.db")
    connection.execute(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {', '.join(f'{c} REAL' for c in columns)})")
    connection.execute("CREATE TABLE packed (id INTEGER PRIMARY KEY, answers TEXT)")
    rows = frame.to_numpy(dtype=object, copy=True)
    rows[pd.isna(rows)] = None
    wide_in, _, _ = timed(
        lambda: connection.executemany(
            f"INSERT INTO wide VALUES (?{', ?' * len(columns)})", ((i, *r) for i, r in enumerate(rows.tolist()))
        )
    )
    json_in, _, _ = timed(
        lambda: connection.executemany(
            "INSERT INTO packed VALUES (?, ?)",
            ((i, json.dumps({c: v for c, v in zip(columns, r) if v is not None})) for i, r in enumerate(rows.tolist())),
        )
    )
    connection.commit()
    wide_out, _, _ = timed(lambda: pd.DataFrame(connection.execute("SELECT * FROM wide").fetchall()))
    json_out, _, _ = timed(
        lambda: pd.DataFrame.from_records(
            [json.loads(a) for (a,) in connection.execute("SELECT answers FROM packed")], columns=columns
        )
    )
    connection.close()
    print(
        f"layouts     import  wide table {wide_in:6.2f} s, JSON per response {json_in:6.2f} s ({json_in / wide_in:.1f}x)"
    )
    print(
        f"layouts     read    wide table {wide_out:6.2f} s, JSON per response {json_out:6.2f} s "
        f"({json_out / wide_out:.1f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step; the best is reported")
    args = parser.parse_args()
    instrument = synthetic_instrument(args.items)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data = folder / "responses.csv"
        write_data(data, args.rows, args.items)
        attempts = [
            timed(lambda: validate_responses(instrument, pd.read_csv(data, dtype=str), "intake"))[:2]
            for _ in range(args.repeat)
        ]
        baseline, baseline_cpu = map(min, zip(*attempts))
        print(
            f"{args.rows:,} responses x {args.items} items ({data.stat().st_size / 1e6:.1f} MB CSV), best of {args.repeat}"
        )
        print(f"baseline    read_csv(dtype=str) + validation {baseline:6.2f} s (cpu {baseline_cpu:6.2f} s)")
        layouts(folder, instrument, data)
        synchronous_modes(folder)
        sqlite = [(f"sqlite:///{folder / f'bench{k}.db'}", None) for k in range(args.repeat)]
        run(sqlite, folder / "key", instrument, data, args.rows, (baseline, baseline_cpu), "sqlite")
        pg_url = os.environ.get("KANTELMETER_PG_URL")
        if pg_url:
            schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(args.repeat)]
            admin = create_engine(pg_url)
            local = make_url(pg_url).host in ("127.0.0.1", "localhost", None)
            with admin.begin() as conn:
                for schema in schemas:
                    conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            try:
                stores = [
                    (
                        make_url(pg_url)
                        .update_query_dict({"options": f"-csearch_path={schema}", "application_name": schema})
                        .render_as_string(hide_password=False),
                        partial(backend_cpu, admin, schema) if local else None,
                    )
                    for schema in schemas
                ]
                run(stores, folder / "key", instrument, data, args.rows, (baseline, baseline_cpu), "postgresql")
            finally:
                with admin.begin() as conn:
                    for schema in schemas:
                        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
        else:
            print("postgresql  skipped: set KANTELMETER_PG_URL to include it")


if __name__ == "__main__":
    main()
