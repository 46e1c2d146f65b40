"""Benchmark: form submissions per second and their latency on loopback, SQLite store.

50 clients post the one-page SOC-13 form to a real `kantelmeter serve`
(uvicorn, one process). The forms are opened first, so only the POSTs are
timed: each one reads the page, checks it, saves it in one transaction and
redirects. Three baselines are measured in the same run:

- a bare Starlette endpoint (``bare_starlette.py``, uvicorn, one process)
  storing the same answers in one SQLite transaction, flat out and paced:
  the ceiling (target: the form flat out at least 60% of it);

- the same server answering a trivial GET (the sign-in page: a template, no
  database) with the same 50 clients: what the HTTP stack alone costs;
- ``Store.save_answers`` called in a plain loop in this process: what the
  database write alone costs.

Run: ``.venv/bin/python benchmarks/bench_web.py [--count 1000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from webserver import START, Server, free_port, hidden  # noqa: E402

from kantelmeter import load_instrument  # noqa: E402
from kantelmeter.store import Store  # noqa: E402

CLIENTS = 50


def answers_for(index: int) -> dict[str, str]:
    return {f"soc{k}": str((index + k) % 7 + 1) for k in range(1, 14)}


async def open_forms(url: str, tokens: list[str]) -> list[tuple[httpx.AsyncClient, list[tuple[str, dict]]]]:
    """CLIENTS clients, each with its share of the links opened (its cookie is what the form token is bound to)."""
    shares = [tokens[i::CLIENTS] for i in range(CLIENTS)]
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in shares]

    async def open_share(client, share):
        opened = []
        for token in share:
            welcome = await client.get(f"/r/{token}")  # the welcome page; its button opens the first page
            page = await client.get(html.unescape(START.search(welcome.text).group(1)))
            opened.append((token, {name: hidden(page.text, name) for name in ("csrf", "submission", "page", "shown")}))
        return opened

    return list(zip(clients, await asyncio.gather(*(open_share(c, s) for c, s in zip(clients, shares)))))


async def drive(shares: list[list], post, rate: float | None = None) -> tuple[float, list[float]]:
    """Run ``post(slot, index, job)`` for each client's share of jobs; wall time and per-job latencies.

    Without ``rate`` the clients post as fast as they can (throughput at
    saturation). With ``rate`` (jobs per second over all clients) each job has
    a scheduled time and its latency counts from then, so a queue building up
    in the server is not hidden (no coordinated omission).
    """
    latencies: list[float] = []
    started = time.perf_counter()

    async def run(slot, share):
        for index, job in enumerate(share):
            scheduled = time.perf_counter()
            if rate is not None:
                scheduled = started + (index * CLIENTS + slot) / rate
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            await post(slot, index, job)
            latencies.append(time.perf_counter() - scheduled)

    await asyncio.gather(*(run(slot, share) for slot, share in enumerate(shares)))
    return time.perf_counter() - started, latencies


async def submissions(url: str, tokens: list[str], rate: float | None = None) -> tuple[float, list[float]]:
    """Post every opened form and send its review (a submission is both posts); see :func:`drive`."""
    forms = await open_forms(url, tokens)

    async def submit(slot, index, opened):
        client, (token, fields) = forms[slot][0], opened
        response = await client.post(f"/r/{token}", data={**fields, "action": "next", **answers_for(index)})
        assert response.status_code == 303, response.text[:300]
        sent = await client.post(
            f"/r/{token}",
            data={
                "csrf": fields["csrf"],
                "submission": f"{fields['submission']}-send",
                "page": "review",
                "action": "send",
            },
        )
        assert sent.status_code == 303, sent.text[:300]

    result = await drive([opened for _, opened in forms], submit, rate)
    for client, _ in forms:
        await client.aclose()
    return result


async def bare_submissions(url: str, count: int, first: int, rate: float | None = None) -> tuple[float, list[float]]:
    """``count`` posts of SOC-13 answers to the bare Starlette endpoint; see :func:`drive`."""
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(CLIENTS)]

    async def submit(slot, index, number):
        response = await clients[slot].post("/submit", data={"submission": f"s{number}", **answers_for(index)})
        assert response.status_code == 303, response.text[:300]

    numbers = list(range(first, first + count))
    result = await drive([numbers[i::CLIENTS] for i in range(CLIENTS)], submit, rate)
    for client in clients:
        await client.aclose()
    return result


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


async def trivial_gets(url: str, count: int) -> float:
    """Wall time for ``count`` GETs of the sign-in page with CLIENTS clients."""

    async def fetch(client, n):
        for _ in range(n):
            assert (await client.get("/login")).status_code == 200

    clients = [httpx.AsyncClient(base_url=url, timeout=30) for _ in range(CLIENTS)]
    started = time.perf_counter()
    await asyncio.gather(*(fetch(c, count // CLIENTS) for c in clients))
    wall = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return wall


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


def percentiles(latencies: list[float]) -> str:
    cut = statistics.quantiles(latencies, n=100)
    return f"p50 {cut[49] * 1000:6.1f} ms   p95 {cut[94] * 1000:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="submissions per measurement")
    parser.add_argument("--rate", type=float, default=200.0, help="the paced load, submissions per second")
    args = parser.parse_args()
    count = args.count
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store(f"sqlite:///{folder / 'k.db'}", key_file=folder / "k.key")
        store.register_instrument(load_instrument("soc13"))
        tokens = store.create_invitations("soc13", "intake", 2 * count)
        with Server(store.url, folder / "k.key", folder / "server.log") as server:
            get_wall = asyncio.run(trivial_gets(server.url, count))
            full_wall, full_latencies = asyncio.run(submissions(server.url, tokens[:count]))
            paced_wall, paced_latencies = asyncio.run(submissions(server.url, tokens[count:], rate=args.rate))
        counts = store.completion()
        completed = int(counts.loc[counts["status"] == "complete", "n"].sum())
        store.close()
        with BareServer(folder / "bare.db", folder / "bare.log") as bare:
            asyncio.run(bare_submissions(bare.url, CLIENTS, 2 * count))  # warm up: connections, first writes
            bare_wall, bare_latencies = asyncio.run(bare_submissions(bare.url, count, 0))
            bare_paced_wall, bare_paced_latencies = asyncio.run(
                bare_submissions(bare.url, count, count, rate=args.rate)
            )
        save_wall = raw_saves(folder, count)

    rate, get_rate, save_rate, bare_rate = count / full_wall, count / get_wall, count / save_wall, count / bare_wall
    paced, bare_paced = count / paced_wall, count / bare_paced_wall
    print(
        f"web form submissions on loopback, {CLIENTS} clients, SQLite store ({completed} of {2 * count} stored complete)"
    )
    print(f"  as fast as possible   {rate:7.1f} submissions/s   {percentiles(full_latencies)}")
    print(f"  paced at {args.rate:5.0f}/s       {paced:7.1f} submissions/s   {percentiles(paced_latencies)}")
    print("bare Starlette endpoint, the same answers in one SQLite transaction (the ceiling)")
    print(f"  as fast as possible   {bare_rate:7.1f} submissions/s   {percentiles(bare_latencies)}")
    print(f"  paced at {args.rate:5.0f}/s       {bare_paced:7.1f} submissions/s   {percentiles(bare_paced_latencies)}")
    p95 = statistics.quantiles(paced_latencies, n=100)[94] * 1000
    print(
        f"ratio form/bare flat out {rate / bare_rate:5.2f} (target at least 0.60: {'met' if rate >= 0.6 * bare_rate else 'NOT met'});"
        f" paced {paced:.0f}/s with p95 {p95:.0f} ms (target {args.rate:.0f}/s, p95 < 50 ms: "
        f"{'met' if paced >= 0.98 * args.rate and p95 < 50 else 'NOT met'})"
    )
    print(f"baseline: trivial GET   {get_rate:7.1f} requests/s      ratio submissions/GET   {rate / get_rate:5.2f}")
    print(f"baseline: raw saves     {save_rate:7.1f} saves/s         ratio submissions/saves {rate / save_rate:5.2f}")


if __name__ == "__main__":
    main()
