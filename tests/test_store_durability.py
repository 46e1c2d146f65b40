"""A writer killed with SIGKILL in the middle of an import leaves all of it or none of it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from kantelmeter import Store, load_instrument
from kantelmeter.io import import_responses
from kantelmeter.io.transfer import file_hash
from kantelmeter.store import answer_table

# The writer pauses inside the import's transaction, after the first block of answers went to the
# database (the second frame written in blocks: responses, then answers), and tells the test so; the
# test then kills it. No timing decides where the kill lands.
WRITER = """
import itertools, sys, time, pathlib
import kantelmeter.store.base as store_module
from kantelmeter import Store, load_instrument
from kantelmeter.io import import_responses

url, key_file, data, marker = sys.argv[1:5]
blocks = store_module._frame_blocks
calls = itertools.count()

def pausing(frame, size):
    call = next(calls)
    for number, block in enumerate(blocks(frame, size)):
        yield block
        if call == 1 and number == 0:
            pathlib.Path(marker).write_text("inside the transaction")
            time.sleep(600)

store_module._frame_blocks = pausing
import_responses(Store(url, key_file=key_file), load_instrument("soc13"), "intake", data)
"""


def test_a_killed_import_leaves_nothing_and_can_be_repeated(store_url, key_file, tmp_path):
    soc = load_instrument("soc13")
    rows = 2000
    data = tmp_path / "soc.csv"
    pd.DataFrame(
        {
            "respondent": [f"r{i}" for i in range(rows)],
            **{f"soc{k}": [(i + k) % 7 + 1 for i in range(rows)] for k in range(1, 14)},
        }
    ).to_csv(data, index=False)
    Store(store_url, key_file=key_file).close()  # the schema exists before the writer starts
    marker = tmp_path / "marker"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_url, str(key_file), str(data), str(marker)], stderr=subprocess.PIPE
    )
    while not marker.exists():
        if writer.poll() is not None:
            pytest.fail(f"the writer ended before the kill: {writer.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert writer.returncode == -signal.SIGKILL

    store = Store(store_url, key_file=key_file)
    assert store.responses(soc, include_partial=True).empty
    assert not store.batch_seen(soc, "intake", file_hash(data))
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {answer_table(soc).name}").scalar() == 0
    assert import_responses(store, soc, "intake", data).added == rows
    assert len(store.responses(soc)) == rows
    store.close()
