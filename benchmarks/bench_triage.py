"""Speed of the red-flag triage filter: p50/p95 milliseconds per message, with and without the
presentation (meaning) layer, and the time for long texts up to the engine's limit.

Runs `core.triage.assess` over the development set (when ../shared/eval/triage_dev.jsonl exists), over a
synthetic long clinical note with one red flag buried in it, and over texts of 10,000 characters up to
MAX_TEXT_CHARS built from hostile repetitions (many negation cues far from a finding) and from the dev
texts. Targets: p50 <= 20 ms per message with the presentation layer; time linear in the length.

    .venv/bin/python benchmarks/bench_triage.py [--repeats N] [--threads N]
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


def _time_ms(texts: list[str], repeats: int, semantic: bool = True) -> list[float]:
    from core.triage import assess

    timings: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter()
            assess(text, semantic=semantic)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def _report(name: str, timings: list[float], n_texts: int, chars: float) -> None:
    quantiles = statistics.quantiles(timings, n=100)
    print(f"{name}: {n_texts} text(s), mean {chars:.0f} chars, {len(timings)} calls - "
          f"p50 {statistics.median(timings):.2f} ms, p95 {quantiles[94]:.2f} ms, max {max(timings):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="passes over each set of texts (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the embedding model (default 1)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    import core.triage  # noqa: F401  (regexes compile at import)
    print(f"import (pattern compilation): {(time.perf_counter() - start) * 1000:.0f} ms")

    from core.triage import MAX_TEXT_CHARS, assess
    from core.triage.learned import default_learned_layer
    from core.triage.semantic import default_matcher

    start = time.perf_counter()
    default_matcher()
    default_learned_layer()
    print(f"presentation and learned layers: embedding model, bank and weights loaded in {(time.perf_counter() - start) * 1000:.0f} ms (once per process)")
    texts = ([json.loads(line)["text"] for line in DEV_SET.open(encoding="utf-8") if line.strip()]
             if DEV_SET.is_file() else [_BURIED_FLAG, _ROUTINE_PARAGRAPH])
    _time_ms(texts[:10], 1)  # warm-up
    for semantic in (False, True):
        name = f"{'dev set' if DEV_SET.is_file() else 'built-in texts'}, {'all layers' if semantic else 'rules + physiology'}"
        _report(name, _time_ms(texts, args.repeats, semantic), len(texts), statistics.mean(len(t) for t in texts))
    level = assess(LONG_NOTE).level
    _report(f"synthetic long note (level {level})", _time_ms([LONG_NOTE], max(20, args.repeats * 4)), 1, len(LONG_NOTE))
    hostile = ("no " * 20000 + "fever and a non-blanching rash. ")
    mixed = " ".join(texts * (MAX_TEXT_CHARS // max(sum(map(len, texts)), 1) + 1))
    for name, source in (("hostile negation cues", hostile), ("dev texts concatenated", mixed)):
        for size in (10_000, MAX_TEXT_CHARS // 2, MAX_TEXT_CHARS):
            text = source[:size]
            start = time.perf_counter()
            assess(text)
            print(f"{name}, {size:,} characters: {(time.perf_counter() - start) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
