"""Benchmark: web form posts per second, their latency and their server CPU on loopback, SQLite store.

50 keep-alive connections post the one-page SOC-13 form to a real
`kantelmeter serve` (uvicorn, one process). The forms are opened first, so
only the POSTs are timed: each one reads the page, checks it, saves it in one
transaction and redirects. The clients are the raw HTTP/1.1 client of
``loadgen.py``, not httpx: they share the two cores with the server, and
httpx cost more CPU per POST than the bare endpoint itself. Each server's CPU
per POST is read from ``/proc``, a figure the clients do not disturb as
much as the rates.

The ceiling is a bare Starlette endpoint (``bare_starlette.py``, uvicorn, one
process) storing the same answers in one SQLite transaction, with the store's
pragmas, driven by the same client in the same run. The form is compared with
it twice (target: at least 60% flat out):

- **per POST**: page saves per second (the page's POST alone: the same
  answers stored in one transaction) against bare POSTs per second;
- **per submission**: a submission is two POSTs (the page, then "send" on the
  review page, which completes the response), against bare POSTs, each of
  which stores a complete response.

The floor is the form served with a store that costs nothing on the POST
(``floor_serve.py``: the invitation look-up remembered, the save dropped):
what the form's own work costs, and so how close to the ceiling a faster
database could bring it at most.

Flat-out runs alternate form, floor and bare for ``--rounds`` rounds and keep each
one's best, so a burst of other work on the machine does not land on one
side only. Then both are paced at ``--rate`` submissions per second (target:
the form keeps the pace with p95 under 50 ms). Two more baselines:

- the same server answering a trivial GET (the sign-in page: a template, no
  database): what the HTTP stack alone costs;
- ``Store.save_answers`` called in a plain loop in this process: what the
  database write alone costs.

Run: ``.venv/bin/python benchmarks/bench_web.py [--count 1000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from loadgen import Connection, process_cpu  # noqa: E402
from webserver import Server, free_port, hidden  # noqa: E402

from kantelmeter import load_instrument  # noqa: E402
from kantelmeter.store import Store  # noqa: E402
from kantelmeter.web.app import CSRF_COOKIE  # noqa: E402

CLIENTS = 50
TARGET_RATIO = 0.60
TARGET_P95 = 0.050

Job = tuple[bytes, ...]  # the prepared requests of one job, sent in order on one connection


def answers_for(index: int) -> dict[str, str]:
    return {f"soc{k}": str((index + k) % 7 + 1) for k in range(1, 14)}


@dataclass(frozen=True)
class Run:
    """One timed run: jobs done, their latencies, and the CPU the server and this process used."""

    jobs: int
    posts_per_job: int
    wall: float
    latencies: list[float]
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.jobs / self.wall

    def cpu_per_post(self, cpu: float) -> float:
        return cpu / (self.jobs * self.posts_per_job)

    def percentile(self, cut: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[cut - 1]


def connections(url: str, cookies: bool) -> list[Connection]:
    """CLIENTS connections, each with a CSRF cookie of its own when ``cookies`` (the form binds its token to it)."""
    return [Connection(url, f"{CSRF_COOKIE}={secrets.token_urlsafe(32)}" if cookies else "") for _ in range(CLIENTS)]


@asynccontextmanager
async def opened(clients: list[Connection]) -> AsyncIterator[list[Connection]]:
    """The connections open for one run: uvicorn closes a connection idle for 5 s, as one is while the other server runs."""
    async with AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(client)
        yield clients


async def form_jobs(clients: list[Connection], tokens: list[str], send: bool) -> list[list[Job]]:
    """Each connection's share of the links, opened, as prepared posts: the page, and with ``send`` its send."""

    async def open_share(client: Connection, share: list[str]) -> list[Job]:
        jobs = []
        for index, token in enumerate(share):
            path = f"/r/{token}"
            # ?page=review opens the first page of a response not begun yet, without the welcome page
            page = (await client.get(f"{path}?page=review")).text
            fields = {name: hidden(page, name) for name in ("csrf", "submission", "page", "shown")}
            posts = [client.request_bytes("POST", path, {**fields, "action": "next", **answers_for(index)})]
            if send:
                sent = {"csrf": fields["csrf"], "submission": f"{fields['submission']}-send", "page": "review"}
                posts.append(client.request_bytes("POST", path, sent | {"action": "send"}))
            jobs.append(tuple(posts))
        return jobs

    async with opened(clients):
        return list(await asyncio.gather(*(open_share(c, tokens[i::CLIENTS]) for i, c in enumerate(clients))))


def bare_jobs(clients: list[Connection], numbers: range) -> list[list[Job]]:
    """Each connection's share of bare posts, one complete response each (submission keys from ``numbers``)."""
    return [
        [
            (client.request_bytes("POST", "/submit", {"submission": f"s{number}", **answers_for(number)}),)
            for number in numbers[i::CLIENTS]
        ]
        for i, client in enumerate(clients)
    ]


async def drive(
    pid: int, clients: list[Connection], shares: list[list[Job]], rate: float | None = None, expect: int = 303
) -> Run:
    """Send every connection's jobs; wall time, per-job latencies and CPU.

    Without ``rate`` the connections post as fast as they can (throughput at
    saturation). With ``rate`` (jobs per second over all connections) each job
    has a scheduled time and its latency counts from then, so a queue building
    up in the server is not hidden (no coordinated omission).
    """
    latencies: list[float] = []

    async def run(slot: int, client: Connection, share: list[Job]) -> None:
        for index, job in enumerate(share):
            scheduled = time.perf_counter()
            if rate is not None:
                scheduled = started + (index * CLIENTS + slot) / rate
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            for request in job:
                reply = await client.send(request)
                assert reply.status == expect, reply.text[:300]
            latencies.append(time.perf_counter() - scheduled)

    async with opened(clients):
        server_cpu, client_cpu, started = process_cpu(pid), process_cpu(), time.perf_counter()
        await asyncio.gather(*(run(slot, c, share) for slot, (c, share) in enumerate(zip(clients, shares))))
        wall = time.perf_counter() - started
    return Run(
        sum(map(len, shares)),
        len(shares[0][0]),
        wall,
        latencies,
        process_cpu(pid) - server_cpu,
        process_cpu() - client_cpu,
    )


class FloorServer(Server):
    """The form app with a store that costs nothing on a page's POST (``floor_serve.py``)."""

    program = (str(Path(__file__).with_name("floor_serve.py")),)


class BareServer:
    """``bare_starlette.py`` under uvicorn in a subprocess, on a free port."""

    def __init__(self, db: Path, log: Path):
        self.db, self.log, self.port = db, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BareServer:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name("bare_starlette.py")), str(self.db), str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/submit", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the bare Starlette server did not start; see {self.log}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def raw_saves(folder: Path, count: int) -> float:
    """Wall time for ``count`` complete responses saved with Store.save_answers in a loop."""
    store = Store(f"sqlite:///{folder / 'raw.db'}", key_file=folder / "k.key")
    soc = load_instrument("soc13")
    people = [store.add_respondent() for _ in range(count)]
    responses = [store.start_response(p, soc, "intake") for p in people]
    started = time.perf_counter()
    for index, response in enumerate(responses):
        store.save_answers(
            response, {k: int(v) for k, v in answers_for(index).items()}, complete=True, submission=f"s{index}"
        )
    wall = time.perf_counter() - started
    store.close()
    return wall


@dataclass(frozen=True)
class Results:
    pages: Run
    submissions: Run
    bare: Run
    floor: Run
    paced: Run
    bare_paced: Run
    gets: Run


async def measure(
    form: Server, floor: FloorServer, bare: BareServer, tokens: list[str], count: int, rounds: int, rate: float
) -> Results:
    """Every timed run of the benchmark, flat out in alternating rounds, then paced.

    The floor reuses one block of links in every round (it saves nothing), the last one.
    """
    form_pid, floor_pid, bare_pid = form.process.pid, floor.process.pid, bare.process.pid
    clients, bare_clients = connections(form.url, cookies=True), connections(bare.url, cookies=False)
    floor_clients, floor_links = connections(floor.url, cookies=True), tokens[-count:]
    gets = await drive(
        form_pid, clients, [[(c.request_bytes("GET", "/login"),)] * (count // CLIENTS) for c in clients], expect=200
    )
    links = iter(tokens[i : i + count] for i in range(0, len(tokens), count))
    numbers = iter(range(start, start + count) for start in range(0, (2 * rounds + 3) * count, count))
    await drive(bare_pid, bare_clients, bare_jobs(bare_clients, range(-CLIENTS, 0)))  # warm up: first writes
    best: dict[str, Run] = {}

    def keep(name: str, run: Run) -> None:
        if name not in best or run.rate > best[name].rate:
            best[name] = run

    for _ in range(rounds):
        keep("pages", await drive(form_pid, clients, await form_jobs(clients, next(links), send=False)))
        keep("bare", await drive(bare_pid, bare_clients, bare_jobs(bare_clients, next(numbers))))
        keep("floor", await drive(floor_pid, floor_clients, await form_jobs(floor_clients, floor_links, send=False)))
        keep("submissions", await drive(form_pid, clients, await form_jobs(clients, next(links), send=True)))
        keep("bare", await drive(bare_pid, bare_clients, bare_jobs(bare_clients, next(numbers))))
    paced = await drive(form_pid, clients, await form_jobs(clients, next(links), send=True), rate=rate)
    bare_paced = await drive(bare_pid, bare_clients, bare_jobs(bare_clients, next(numbers)), rate=rate)
    return Results(best["pages"], best["submissions"], best["bare"], best["floor"], paced, bare_paced, gets)


def line(label: str, run: Run, unit: str) -> str:
    return (
        f"  {label:<27} {run.rate:7.1f} {unit:<14} p50 {run.percentile(50) * 1000:6.1f} ms  "
        f"p95 {run.percentile(95) * 1000:6.1f} ms   server CPU {run.cpu_per_post(run.server_cpu) * 1000:5.2f} ms/POST"
        f"   client CPU {run.cpu_per_post(run.client_cpu) * 1000:5.2f} ms/POST"
    )


def verdict(ratio: float) -> str:
    return f"{ratio:5.2f} ({'met' if ratio >= TARGET_RATIO else 'NOT met'})"


def report(results: Results, rounds: int, rate: float, completed: int, save_rate: float) -> None:
    r = results
    print(f"web form on loopback, {CLIENTS} keep-alive connections (loadgen.py), SQLite store, best of {rounds} rounds")
    print(line("form: page saves (1 POST)", r.pages, "saves/s"))
    print(line("form: submissions (2 POSTs)", r.submissions, "submissions/s"))
    print(line("bare Starlette (1 POST)", r.bare, "posts/s"))
    print(line("floor: a store for free", r.floor, "saves/s"))
    print(f"paced at {rate:.0f} submissions/s ({completed} form submissions stored complete in all)")
    print(line("form: submissions", r.paced, "submissions/s"))
    print(line("bare Starlette", r.bare_paced, "posts/s"))
    paced_met = r.paced.rate >= 0.98 * rate and r.paced.percentile(95) < TARGET_P95
    print(
        f"flat out, form against bare (target at least {TARGET_RATIO:.2f}): per POST {verdict(r.pages.rate / r.bare.rate)},"
        f" per submission {verdict(r.submissions.rate / r.bare.rate)};"
        f" server CPU per POST, bare/form page save {r.bare.cpu_per_post(r.bare.server_cpu) / r.pages.cpu_per_post(r.pages.server_cpu):4.2f}"
    )
    print(
        f"floor against bare: {r.floor.rate / r.bare.rate:4.2f} per POST, the most a faster store could give;"
        f" the store's part of a page save's server CPU"
        f" {1 - r.floor.cpu_per_post(r.floor.server_cpu) / r.pages.cpu_per_post(r.pages.server_cpu):4.2f}"
    )
    print(
        f"paced: {r.paced.rate:.0f}/s with p95 {r.paced.percentile(95) * 1000:.0f} ms"
        f" (target {rate:.0f}/s with p95 < {TARGET_P95 * 1000:.0f} ms: {'met' if paced_met else 'NOT met'})"
    )
    print(
        f"baseline: trivial GET   {r.gets.rate:7.1f} requests/s   ratio page saves/GET    {r.pages.rate / r.gets.rate:5.2f}"
    )
    print(
        f"baseline: raw saves     {save_rate:7.1f} saves/s      ratio page saves/saves  {r.pages.rate / save_rate:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="jobs per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="flat-out rounds, form and bare alternating")
    parser.add_argument("--rate", type=float, default=200.0, help="the paced load, submissions per second")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
        store.register_instrument(load_instrument("soc13"))
        tokens = store.create_invitations("soc13", "intake", (2 * args.rounds + 2) * args.count)
        with (
            Server(store.url, folder / "k.key", folder / "server.log") as form,
            FloorServer(store.url, folder / "k.key", folder / "floor.log") as floor,
            BareServer(folder / "bare.db", folder / "bare.log") as bare,
        ):
            results = uvloop.run(measure(form, floor, bare, tokens, args.count, args.rounds, args.rate))
        counts = store.completion()
        completed = int(counts.loc[counts["status"] == "complete", "n"].sum())
        store.close()
        save_rate = args.count / raw_saves(folder, args.count)
    report(results, args.rounds, args.rate, completed, save_rate)


if __name__ == "__main__":
    main()
