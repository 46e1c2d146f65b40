"""The web benchmark's ceiling: a bare Starlette endpoint doing the form's SQLite write, and nothing else.

``POST /submit`` with SOC-13 answers stores one complete response with its
answers in one write transaction, on a SQLite file with the store's settings
(the store's own pragmas: WAL, foreign keys, ``synchronous=NORMAL``, secure
delete), on a lane of as many threads as the form's questionnaire lane on
SQLite. No template, no CSRF check, no session, no validation: what the HTTP
stack plus the database write cost. Run by ``bench_web.py``:
``python bare_starlette.py DB PORT``.
"""

from __future__ import annotations

import sqlite3
import sys
import threading

import uvicorn
from anyio import CapacityLimiter
from anyio.to_thread import run_sync
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Route

from kantelmeter.store.schema import _sqlite_pragmas, questionnaire_threads

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (id INTEGER PRIMARY KEY, submission TEXT UNIQUE, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (response INTEGER NOT NULL REFERENCES responses(id), item TEXT NOT NULL,
                                    value REAL, PRIMARY KEY (response, item));
"""

_local = threading.local()


def connection(path: str) -> sqlite3.Connection:
    """One connection per worker thread, with the store's pragmas (set by the store's own function, so they match)."""
    if not hasattr(_local, "db"):
        db = sqlite3.connect(path, timeout=30)
        _sqlite_pragmas(db, None)
        _local.db = db
    return _local.db


def app(path: str) -> Starlette:
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
    lane = CapacityLimiter(questionnaire_threads("sqlite"))

    async def submit(request):
        form = await request.form()
        answers = [(item, float(value)) for item, value in form.items() if item.startswith("soc")]
        submission = form["submission"]

        def write() -> None:
            db = connection(path)
            db.execute("BEGIN IMMEDIATE")
            response = db.execute(
                "INSERT INTO responses (submission, status) VALUES (?, 'complete')", (submission,)
            ).lastrowid
            db.executemany("INSERT INTO answers VALUES (?, ?, ?)", [(response, item, value) for item, value in answers])
            db.execute("COMMIT")

        await run_sync(write, limiter=lane)
        return RedirectResponse("/done", status_code=303)

    return Starlette(routes=[Route("/submit", submit, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), access_log=False, log_level="warning")
