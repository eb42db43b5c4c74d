"""Shared by the bench scripts: median wall time of repeated calls."""
from __future__ import annotations

import statistics
import time


def timed(fn, runs: int) -> tuple[float, object]:
    """Median wall time of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
