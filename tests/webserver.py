"""A real `kantelmeter serve` in a subprocess on a free loopback port, for browser and load tests.

Also used by ``benchmarks/bench_web.py``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# The same secret across restarts keeps forms opened before a crash valid after it.
SECRET = "test-secret-that-signs-forms-and-sessions"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The Chromium to drive; a missing one fails under CI (``CI=true``) and skips elsewhere."""
    path = os.environ.get("KANTELMETER_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        message = f"Chromium not found at {path}: install it (apt-get install chromium) or set KANTELMETER_CHROMIUM"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`kantelmeter serve` against a store, started and stopped by the test.

    Parameters
    ----------
    db_url : str
    key_file : path
    instruments : list of path
        Extra instrument files interviewers may use.
    log : path
        Where the server's output goes (read by tests that check the log).
    args : tuple of str
        More options for ``kantelmeter serve`` (``--max-body``, ``--trusted-proxy``).
    env : dict, optional
        The server's own environment variables; by default ``KANTELMETER_SECRET`` is :data:`SECRET`.
    survey : path, optional
        The deployment's ``survey.yaml``.
    """

    program: tuple[str, ...] = ("-c", "from kantelmeter.cli import main; main()")  # what python runs

    def __init__(
        self,
        db_url: str,
        key_file: Path,
        log: Path,
        instruments: tuple[Path, ...] = (),
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        survey: Path | None = None,
    ):
        self.db_url, self.key_file, self.log, self.instruments = db_url, key_file, log, instruments
        self.args, self.env = args, {"KANTELMETER_SECRET": SECRET} if env is None else env
        self.survey = survey
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Server:
        command = [
            sys.executable,
            *self.program,
            "serve",
            "--db",
            self.db_url,
            "--key-file",
            str(self.key_file),
            "--port",
            str(self.port),
        ]
        for instrument in self.instruments:
            command += ["--instrument", str(instrument)]
        if self.survey is not None:
            command += ["--survey", str(self.survey)]
        environment = {name: value for name, value in os.environ.items() if name != "KANTELMETER_SECRET"}
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                command + list(self.args), stdout=log, stderr=subprocess.STDOUT, env=environment | self.env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s: {self.log.read_text()[-2000:]}")

    def peak_rss_mib(self) -> float:
        """The most memory the server process has held so far (VmHWM, Linux), in MiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def kill(self) -> None:
        """End the server abruptly, as a power cut would (SIGKILL: no shutdown handlers run)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def hidden(page: str, name: str) -> str:
    """The value of a hidden form field."""
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


START = re.compile(r'href="([^"]+)" data-start')
"""The button of a welcome or welcome-back page."""


class Submitter:
    """Clients that each open an invitation link, answer its one-page form and send it, many at once.

    A client answers the page and sends the review: that last POST completes the response, and an acknowledged one (the
    server answered 303) is recorded with the time it took. With ``retry`` a
    client whose request failed (a killed server, a refused connection) opens
    the link again and carries on where the store says it is until
    ``deadline``; a link that opens on the closing page is recorded as done
    without an acknowledgement.
    """

    def __init__(self, base_url: str, concurrency: int, retry: bool = False, deadline: float = 60.0):
        self.base_url, self.concurrency, self.retry = base_url, concurrency, retry
        self.deadline = time.monotonic() + deadline
        self.acknowledged: dict[str, float] = {}
        self.done_unacknowledged: set[str] = set()
        self.failures = 0

    async def run(self, jobs: dict[str, dict[str, str]]) -> None:
        """Submit ``jobs`` (token to form fields) with ``concurrency`` clients."""
        import asyncio

        queue: asyncio.Queue = asyncio.Queue()
        for job in jobs.items():
            queue.put_nowait(job)
        await asyncio.gather(*(self._client(queue) for _ in range(self.concurrency)))

    async def _client(self, queue) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, follow_redirects=False) as client:
            while not queue.empty():
                token, fields = queue.get_nowait()
                while not await self._submit(client, token, fields):
                    if not self.retry or time.monotonic() > self.deadline:
                        raise RuntimeError(f"submission for link {token[:6]}... was not acknowledged")
                    self.failures += 1
                    await _sleep(0.25)  # a restarting server needs the CPU more than a retry storm

    async def _submit(self, client: httpx.AsyncClient, token: str, fields: dict[str, str]) -> bool:
        url = f"/r/{token}"
        try:
            # ?page=review opens the review once the page is answered, else the page itself (no welcome)
            page = await client.get(f"{url}?page=review")
            if page.status_code == 200 and "data-closing" in page.text:
                self.done_unacknowledged.add(token)  # sent before a crash, acknowledgement lost
                return True
            if page.status_code != 200:
                return False
            csrf = hidden(page.text, "csrf")
            if 'name="page" value="review"' not in page.text:
                data = {name: hidden(page.text, name) for name in ("csrf", "submission", "page", "shown")}
                answered = await client.post(url, data={**data, "action": "next", **fields})
                if answered.status_code != 303:
                    return False
            started = time.perf_counter()
            answer = await client.post(
                url, data={"csrf": csrf, "submission": f"send-{token}", "page": "review", "action": "send"}
            )
            latency = time.perf_counter() - started
        except httpx.TransportError:
            return False
        if answer.status_code != 303:
            return False
        self.acknowledged[token] = latency
        return True


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
