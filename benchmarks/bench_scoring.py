"""Scoring 1,000,000 responses against two baselines measured in the same run.

Three workloads: SOC-13 (13 seven-point items, 4 scales), the participation
wheel at two occasions (500,000 respondents x 2, 6 one-item scales, plus the
change table) and the citizen questionnaire's scales (with missing codes).

- ``two_pass_score`` is the scorer before the single cache-blocked pass
  (kept here as it was): every item column parsed whole by its answer domain
  into a full answer matrix, then the scales combined from that matrix. Its
  scores must be identical to ``score()``'s (checked with
  ``assert_frame_equal``); the target is at least 2.5x on 1M SOC-13.
- A straightforward row-by-row scorer, run on a subsample and extrapolated
  linearly (it is linear in the rows).

Peak memory is measured with tracemalloc while scoring and divided by the
input frame's own size (``memory_usage(deep=True)``).

Wall time depends on how busy the machine is; CPU time of this process is
printed beside it. Run: ``python benchmarks/bench_scoring.py [rows]``
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from timing import best

from kantelmeter import score, wheel
from kantelmeter.answers import domains
from kantelmeter.instruments import load_instrument
from kantelmeter.scoring import ID_COLUMNS

BASELINE_ROWS = 20_000


def two_pass_score(instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """The scorer as it was: a full answer matrix first, then the scales from it in blocks of 65,536 rows."""
    scales = list(instrument.scales)
    items = list(dict.fromkeys(member.item for scale in scales for member in scale.items))
    values = np.full((len(responses), len(items)), np.nan, order="F")
    allowed_values = domains(instrument)
    for j, item_id in enumerate(items):
        domain = allowed_values[item_id]
        parsed = domain.parse_column(responses[item_id])
        column = parsed.values.to_numpy()
        values[:, j] = np.where(np.isin(column, domain.codes), column, np.nan)
        if parsed.refused.to_numpy().any():
            raise ValueError(f"{item_id}: a value that is not a code")
    position = {item_id: j for j, item_id in enumerate(items)}
    keys, offsets = np.zeros((len(items), len(scales))), np.zeros((len(items), len(scales)))
    for s, scale in enumerate(scales):
        for member in scale.items:
            keys[position[member.item], s] = member.key
            if member.key < 0:
                codes = instrument.valid_codes(member.item)
                offsets[position[member.item], s] = min(codes) + max(codes)
    members = np.abs(keys)
    counting = np.hstack([offsets, members])
    required = np.array([scale.required_answers for scale in scales])
    multiplier = np.where([scale.method == "sum" for scale in scales], members.sum(axis=0), 1.0)
    out = np.empty((len(values), len(scales)))
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(values), 1 << 16):
            block = values[start : start + (1 << 16)]
            answered = ~np.isnan(block)
            weights = answered.astype(float) @ counting
            keyed = np.where(answered, block, 0.0) @ keys + weights[:, : len(scales)]
            count = weights[:, len(scales) :]
            out[start : start + (1 << 16)] = np.divide(
                keyed * multiplier, count, out=np.full_like(keyed, np.nan), where=count >= required
            )
    result = responses.loc[:, [column for column in ID_COLUMNS if column in responses.columns]]
    for scale, column in zip(scales, out.T):
        result[scale.id] = column
    return result


def naive_score(instrument, responses: pd.DataFrame) -> pd.DataFrame:
    """The straightforward scorer: one row at a time, one item at a time."""
    rules = {
        item.id: (
            set(instrument.valid_codes(item) or []),
            set(instrument.missing_codes(item)),
            min(instrument.valid_codes(item) or [0]) + max(instrument.valid_codes(item) or [0]),
        )
        for item in instrument.items
    }
    rows = []
    for row in responses.to_dict("records"):
        scores = {}
        for scale in instrument.scales:
            answered = []
            for member in scale.items:
                value = row.get(member.item)
                valid, missing, reverse_sum = rules[member.item]
                if value is None or (isinstance(value, float) and math.isnan(value)) or value in missing:
                    continue
                if value not in valid:
                    raise ValueError(f"respondent {row.get('respondent')}: {member.item} = {value}")
                answered.append(value if member.key > 0 else reverse_sum - value)
            if len(answered) < scale.required_answers:
                scores[scale.id] = float("nan")
            else:
                mean = sum(answered) / len(answered)
                scores[scale.id] = mean * len(scale.items) if scale.method == "sum" else mean
        rows.append(scores)
    return pd.DataFrame(rows)


def responses(instrument, n_respondents: int, occasions: list[str], seed: int) -> pd.DataFrame:
    """Random valid answers (5% missing codes where an item has them, 2% blank)."""
    rng = np.random.default_rng(seed)
    n = n_respondents * len(occasions)
    frame = pd.DataFrame(
        {
            "respondent": np.repeat([f"p{i:07d}" for i in range(n_respondents)], len(occasions)),
            "occasion": np.tile(occasions, n_respondents),
            "cohort": np.repeat(rng.choice(["pilot", "regular"], n_respondents), len(occasions)),
        }
    )
    items = sorted(
        {member.item for scale in instrument.scales for member in scale.items}
        | {item.id for item in instrument.items if item.id.endswith("_attribution")}
    )
    for item in items:
        values = rng.choice(instrument.valid_codes(item), n).astype(float)
        missing = instrument.missing_codes(item)
        if missing:
            values[rng.random(n) < 0.05] = missing[0]
        values[rng.random(n) < 0.02] = np.nan
        frame[item] = values
    return frame


def measure(label: str, instrument, frame: pd.DataFrame) -> tuple[float, float]:
    score(instrument, frame.head(1000))  # warm up imports and caches
    fast, cpu = best(lambda: score(instrument, frame))
    before, before_cpu = best(lambda: two_pass_score(instrument, frame))
    # same results before a speed is compared: identical floats, not merely close
    pd.testing.assert_frame_equal(score(instrument, frame), two_pass_score(instrument, frame), check_exact=True)
    tracemalloc.start()
    score(instrument, frame)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    frame_bytes = frame.memory_usage(deep=True).sum()

    sample = frame.sample(BASELINE_ROWS, random_state=1)
    start = time.perf_counter()
    slow = naive_score(instrument, sample)
    naive = (time.perf_counter() - start) * len(frame) / len(sample)
    # the two scorers must agree before their speed is compared
    np.testing.assert_allclose(slow.to_numpy(), score(instrument, sample).iloc[:, -len(slow.columns) :].to_numpy())

    print(
        f"{label:<34} rows {len(frame):>9,}  score() {fast:6.3f} s wall ({cpu:5.3f} s CPU)  two-pass "
        f"{before:6.3f} s ({before_cpu:5.3f} s CPU): {before / fast:4.1f}x wall {before_cpu / cpu:4.1f}x CPU  "
        f"row-by-row {naive:7.1f} s (extrapolated from {BASELINE_ROWS:,}): {naive / fast:5.0f}x  "
        f"peak memory {peak / frame_bytes:4.2f}x input ({frame_bytes / 1e6:.0f} MB)"
    )
    return fast, cpu


def main(rows: int = 1_000_000) -> None:
    soc13 = load_instrument("soc13")
    measure("SOC-13", soc13, responses(soc13, rows, ["intake"], seed=1))

    participation = load_instrument("participation_wheel")
    wheel_frame = responses(participation, rows // 2, ["intake", "follow_up"], seed=2)
    scored, scored_cpu = measure("participation wheel, two occasions", participation, wheel_frame)
    # the change table scores the same answers and aligns the occasions: score() is its baseline
    wall, cpu = best(lambda: wheel.changes(participation, wheel_frame))
    table = wheel.changes(participation, wheel_frame)
    summary_wall, summary_cpu = best(lambda: wheel.summarise(table, by="cohort"))
    print(
        f"{'wheel.changes':<34} rows {len(wheel_frame):>9,}  {wall:6.3f} s wall ({cpu:5.3f} s CPU)  "
        f"{wall / scored:4.1f}x wall {cpu / scored_cpu:4.1f}x CPU of score() on the same responses  "
        f"({len(table):,} respondent-domain rows)"
    )
    print(
        f"{'wheel.summarise(by=cohort)':<34} rows {len(table):>9,}  {summary_wall:6.3f} s wall "
        f"({summary_cpu:5.3f} s CPU)"
    )

    citizen = load_instrument("citizen")
    measure("citizen questionnaire scales", citizen, responses(citizen, rows, ["follow_up"], seed=3))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
