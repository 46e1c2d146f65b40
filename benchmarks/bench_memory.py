"""Benchmark: peak memory of importing and reading back 100,000 and 1,000,000 responses x 40 items.

Each step runs in a fresh process, which reports its resident memory just before the
call and its peak (``VmHWM``; not ``ru_maxrss``, which a child started from this
process inherits from it) after it; the difference is the memory the call needed. It is printed as a ratio to the size of the DataFrame the read returns
(``memory_usage(deep=True)``), measured in the same run: the issue's bound is 2x.

    python benchmarks/bench_memory.py [--rows 100000 1000000] [--items 40]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from bench_store import synthetic_instrument

STEP = r"""
import json, resource, sys
sys.path.insert(0, {here!r})
from bench_store import synthetic_instrument
from kantelmeter import Store
from kantelmeter.io import import_responses

def resident():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()

instrument = synthetic_instrument({items})
store = Store("sqlite:///{database}", key_file={key!r})
before = resident()
if {step!r} == "import":
    import_responses(store, instrument, "intake", {csv!r})
    size = None
else:
    frame = store.responses(instrument)
    size = int(frame.memory_usage(deep=True).sum())
with open("/proc/self/status") as handle:  # this process's own peak: ru_maxrss starts at the parent's
    peak = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmHWM:"))
print(json.dumps({{"needed": peak - before, "frame": size}}))
"""


def write_csv(path: Path, rows: int, items: int) -> None:
    """Codes 1-5 and the missing code 8, about one blank in twenty, written a block at a time."""
    rng = np.random.default_rng(11)
    columns = [f"q{i + 1}" for i in range(items)]
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        codes = rng.choice(
            np.array(["1", "2", "3", "4", "5", "8", ""], dtype=object),
            (n, items),
            p=[0.18, 0.18, 0.18, 0.18, 0.18, 0.05, 0.05],
        )
        block = pd.DataFrame(codes, columns=columns)
        block.insert(0, "respondent", [f"r-{i:09d}" for i in range(start, start + n)])
        block.to_csv(path, mode="a", header=start == 0, index=False)


def step(name: str, folder: Path, items: int) -> dict:
    code = STEP.format(
        here=str(Path(__file__).parent),
        items=items,
        database=folder / "bench.db",
        key=str(folder / "bench.key"),
        step=name,
        csv=str(folder / "responses.csv"),
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--items", type=int, default=40)
    arguments = parser.parse_args()
    synthetic_instrument(arguments.items)  # fails early on a bad item count
    for rows in arguments.rows:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            write_csv(folder / "responses.csv", rows, arguments.items)
            imported = step("import", folder, arguments.items)
            read = step("read", folder, arguments.items)
        frame = read["frame"]
        print(
            f"{rows:>9,} responses x {arguments.items} items: returned frame {frame / 2**20:,.0f} MiB; "
            f"import needs {imported['needed'] / frame:.2f}x, read back {read['needed'] / frame:.2f}x the frame"
        )


if __name__ == "__main__":
    main()
