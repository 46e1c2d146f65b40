"""Item analysis of 100,000 x 13 answers against pingouin's cronbach_alpha alone.

The data are SOC-13 answers simulated from a higher-order model (a general
factor behind the three components; seven-point answers, reverse-keyed items
answered as given). ``item_analysis`` computes the whole
psych-style table: the alpha family, lambda 6, item statistics, alpha if
dropped, response frequencies, a one-factor ML fit for omega total and, with
the instrument's three components, a grouped fit for omega hierarchical.
Timings are the best of seven runs, measured in the same process, as wall
time and as CPU time of this process (on a busy machine wall time mostly
measures the wait for a core; CPU time is the steadier figure).

Run: ``python benchmarks/bench_reliability.py [rows]``
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pingouin as pg
from timing import best

from kantelmeter import item_analysis
from kantelmeter.instruments import load_instrument


def soc13_answers(n: int, seed: int = 1) -> pd.DataFrame:
    """Answers from a higher-order model: a general sense of coherence behind three correlated components."""
    soc = load_instrument("soc13")
    rng = np.random.default_rng(seed)
    general = rng.normal(size=n)
    components = {}
    for name, weight in (("comprehensibility", 0.85), ("manageability", 0.8), ("meaningfulness", 0.75)):
        component = weight * general + np.sqrt(1 - weight**2) * rng.normal(size=n)
        components.update({member.item: component for member in soc.scale(name).items})
    frame = pd.DataFrame(
        {
            member.item: np.clip(np.round(4 + components[member.item] + 1.2 * rng.normal(size=n)), 1, 7)
            for member in soc.scale("soc_total").items
        }
    )
    for member in soc.scale("soc_total").items:  # reverse-keyed items as a respondent answers them
        if member.key < 0:
            frame[member.item] = 8 - frame[member.item]
    return frame[[f"soc{i}" for i in range(1, 14)]]


def main(rows: int = 100_000) -> None:
    soc = load_instrument("soc13")
    data = soc13_answers(rows)
    keys = soc.scale("soc_total").keys
    (wall, cpu) = best(lambda: pg.cronbach_alpha(data), repeat=7, warm_up=True)
    print(f"{rows:,} x 13 answers; best of 7, wall and CPU time")
    print(f"{'pingouin.cronbach_alpha':<40} {wall * 1e3:7.1f} ms wall {cpu * 1e3:7.1f} ms CPU  (baseline)")
    for label, call, note in (
        (
            "item_analysis(soc13, scale='soc_total')",
            lambda: item_analysis(soc, data, scale="soc_total"),
            "codes checked, frequencies, omega total and hierarchical",
        ),
        ("item_analysis(frame, keys=...)", lambda: item_analysis(data, keys=keys), "no code checks, no groups"),
    ):
        took_wall, took_cpu = best(call, repeat=7, warm_up=True)
        print(
            f"{label:<40} {took_wall * 1e3:7.1f} ms wall {took_cpu * 1e3:7.1f} ms CPU  "
            f"{took_wall / wall:4.1f}x wall {took_cpu / cpu:4.1f}x CPU  ({note})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
