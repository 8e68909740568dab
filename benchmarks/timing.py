"""Shared by the benchmark scripts: per-call timing and one printed row of percentiles."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np


def timed(fn: Callable, items: Sequence, warm_up: bool = True) -> np.ndarray:
    """Milliseconds per call of `fn(item)`, after one warm-up call (lazy initialisation is not per-item cost)."""
    if warm_up:
        fn(items[0])
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return np.array(out)


def row(name: str, ms: np.ndarray, width: int = 52) -> None:
    """`name  p50  p95  n`, milliseconds."""
    print(f"{name:{width}s} {np.percentile(ms, 50):9.1f} {np.percentile(ms, 95):9.1f} {len(ms):4d}")
