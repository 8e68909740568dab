"""The red-flag filter with and without its learned layer, on labelled JSONL sets (`{"text", "expected"}` per line).

Meant for sets written after the layer was fitted (tuning sets 6 and 7), which neither the rules nor the layer saw:

    .venv/bin/python scripts/compare_triage_learned_layer.py tests/data/triage_tuning_6.jsonl tests/data/triage_tuning_7.jsonl

Prints, per set and per variant, emergencies called emergency, urgent texts called urgent or above, and routine
texts kept routine (`python -m core eval-triage` gives the full confusion matrix of the shipped filter).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RANK = {"routine": 0, "urgent": 1, "emergency": 2}


def main(paths: list[str]) -> int:
    from core.triage import assess

    for path in paths:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        expected = [RANK[r["expected"]] for r in rows]
        for name, learned in (("rules, physiology and meaning", False), ("with the learned layer", True)):
            got = [RANK[assess(r["text"], learned=learned).level] for r in rows]

            def count(level: int) -> str:
                pairs = [(e, g) for e, g in zip(expected, got) if e == level]
                ok = sum((g >= e) if level else (g == 0) for e, g in pairs)
                return f"{ok}/{len(pairs)}"

            print(f"{Path(path).name}, {name}: emergency {count(2)}, urgent or above {count(1)}, "
                  f"routine kept {count(0)}", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1:]))
