"""Item analysis of 100,000 x 13 answers against pingouin's cronbach_alpha alone.

The data are SOC-13 answers simulated from a higher-order model (a general
factor behind the three components; seven-point answers, reverse-keyed items
answered as given). ``item_analysis`` computes the whole
psych-style table: the alpha family, lambda 6, item statistics, alpha if
dropped, response frequencies, a one-factor ML fit for omega total and, with
the instrument's three components, a grouped fit for omega hierarchical.
Timings are the best of seven runs, measured in the same process.

Run: ``python benchmarks/bench_reliability.py [rows]``
"""

from __future__ import annotations

import sys
import timeit

import numpy as np
import pandas as pd
import pingouin as pg

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
    frame = pd.DataFrame({member.item: np.clip(np.round(4 + components[member.item] + 1.2 * rng.normal(size=n)), 1, 7)
                          for member in soc.scale("soc_total").items})
    for member in soc.scale("soc_total").items:      # reverse-keyed items as a respondent answers them
        if member.key < 0:
            frame[member.item] = 8 - frame[member.item]
    return frame[[f"soc{i}" for i in range(1, 14)]]


def best(call, repeat: int = 7) -> float:
    call()
    return min(timeit.repeat(call, number=1, repeat=repeat))


def main(rows: int = 100_000) -> None:
    soc = load_instrument("soc13")
    data = soc13_answers(rows)
    keys = soc.scale("soc_total").keys
    baseline = best(lambda: pg.cronbach_alpha(data))
    full = best(lambda: item_analysis(soc, data, scale="soc_total"))
    bare = best(lambda: item_analysis(data, keys=keys))
    print(f"{rows:,} x 13 answers")
    print(f"pingouin.cronbach_alpha                  {baseline * 1e3:7.1f} ms  (baseline)")
    print(f"item_analysis(soc13, scale='soc_total')   {full * 1e3:7.1f} ms  {full / baseline:5.1f}x  "
          "(codes checked, frequencies, omega total and hierarchical)")
    print(f"item_analysis(frame, keys=...)           {bare * 1e3:7.1f} ms  {bare / baseline:5.1f}x  "
          "(no code checks, no groups)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
