"""Speed of the red-flag triage filter: p50/p95 milliseconds per message.

Runs `core.triage.assess` over the development set (when ../shared/eval/triage_dev.jsonl exists) and over a
synthetic long clinical note with one red flag buried in it. Target: p50 <= 5 ms per message.

    .venv/bin/python benchmarks/bench_triage.py [--repeats N]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEV_SET = ROOT.parent / "shared" / "eval" / "triage_dev.jsonl"

# Written for this benchmark: a routine follow-up letter with a single emergency sentence in the middle.
_ROUTINE_PARAGRAPH = (
    "Reviewed in the dermatology clinic for chronic plaque psoriasis affecting the elbows, knees and scalp. "
    "She uses a vitamin D analogue with a potent steroid at weekends and an emollient twice daily. "
    "The plaques are thinner than at the last visit and the scalp is much less scaly. Nails show mild pitting. "
    "There is no joint pain or morning stiffness. Bloods from last month were unremarkable. "
)
_BURIED_FLAG = ("Her husband adds that since this morning she has had a high temperature and a purple rash on both "
                "legs that does not fade when a glass is pressed on it. ")
LONG_NOTE = _ROUTINE_PARAGRAPH * 6 + _BURIED_FLAG + _ROUTINE_PARAGRAPH * 6


def _time_ms(texts: list[str], repeats: int) -> list[float]:
    from core.triage import assess

    timings: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            assess(text)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def _report(name: str, timings: list[float], n_texts: int, chars: float) -> None:
    quantiles = statistics.quantiles(timings, n=100)
    print(f"{name}: {n_texts} text(s), mean {chars:.0f} chars, {len(timings)} calls - "
          f"p50 {statistics.median(timings):.2f} ms, p95 {quantiles[94]:.2f} ms, max {max(timings):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="passes over each set of texts (default 5)")
    args = parser.parse_args()

    start = time.perf_counter()
    import core.triage  # noqa: F401  (regexes compile at import)
    print(f"import (pattern compilation): {(time.perf_counter() - start) * 1000:.0f} ms")

    if DEV_SET.is_file():
        texts = [json.loads(line)["text"] for line in DEV_SET.open(encoding="utf-8") if line.strip()]
        _time_ms(texts[:10], 1)  # warm-up
        _report("dev set", _time_ms(texts, args.repeats), len(texts), statistics.mean(len(t) for t in texts))
    else:
        print(f"dev set not found at {DEV_SET}: skipped")

    from core.triage import assess

    level = assess(LONG_NOTE).level
    _report(f"synthetic long note (level {level})", _time_ms([LONG_NOTE], max(20, args.repeats * 4)), 1, len(LONG_NOTE))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
