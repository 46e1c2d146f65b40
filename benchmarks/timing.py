"""Timing shared by the benchmarks: best wall and CPU time over repeated calls.

The best of several runs is the least disturbed by other work on a shared
machine; CPU time beside wall time shows how much of a wall figure was waiting.
"""

import time


def best(call, repeat: int = 3, warm_up: bool = False) -> tuple[float, float]:
    """Best wall and best CPU time of ``repeat`` calls, optionally after one warm-up call."""
    if warm_up:
        call()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)
