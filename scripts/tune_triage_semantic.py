"""How the presentation layer's thresholds were chosen: a sweep over the tuning texts and the dev set.

Every text is assessed once without the presentation layer; its sentences' best similarity to any
emergency and any urgent presentation is recorded for each margin over the routine look-alikes. The
grid of (emergency threshold, urgent threshold, margin) is then applied to those numbers, printing
recall per level and routine kept routine for tests/data/triage_tuning.jsonl and
../shared/eval/triage_dev.jsonl (when present). The blind set (tests/data/blind/) is not read.

    .venv/bin/python scripts/tune_triage_semantic.py
"""
from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SETS = [ROOT / "tests" / "data" / "triage_tuning.jsonl", ROOT.parent / "shared" / "eval" / "triage_dev.jsonl"]
RANK = {"routine": 0, "urgent": 1, "emergency": 2}
MARGINS = (0.0, 0.03, 0.05, 0.08)


def main() -> int:
    import numpy as np

    from core.triage import _current_hits, assess
    from core.triage.context import TextContext, raw_hits
    from core.triage.normalise import normalise
    from core.triage.semantic import default_matcher, segments

    matcher = default_matcher()
    levels = np.array([RANK[p.level] for p, _ in matcher.rows])
    table = {}
    for path in SETS:
        if not path.is_file():
            continue
        rows = []
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            base = RANK[assess(item["text"], semantic=False).level]
            plain = normalise(item["text"]).text
            raw = raw_hits(plain)
            context = TextContext(plain, [(s, e) for _, s, e in raw])
            kept, _ = _current_hits(plain, raw, context)
            parts = segments(context, {h.sentence for h in kept})
            best = {}
            if parts:
                vectors = matcher.embed(parts)
                for m in MARGINS:
                    ok = matcher.gated_similarity(vectors, m)
                    best[m] = {lv: float(ok[:, levels == lv].max()) for lv in (1, 2)}
            rows.append((RANK[item["expected"]], base, best))
        table[path.name] = rows
    print("emergency urgent margin | " + " | ".join(f"{n}: E-recall U-recall routine-kept" for n in table))
    for e, u, m in itertools.product((0.56, 0.58, 0.60, 0.62, 0.64), (0.60, 0.62, 0.64, 0.66, 0.68), MARGINS):
        cells = []
        for rows in table.values():
            got = []
            for expected, base, best in rows:
                level = base
                if best:
                    if best[m][2] >= e:
                        level = max(level, 2)
                    if best[m][1] >= u:
                        level = max(level, 1)
                got.append((expected, level))
            def recall(lv):
                hits = [g >= lv for x, g in got if x == lv]
                return sum(hits) / max(len(hits), 1)
            kept = [g == 0 for x, g in got if x == 0]
            cells.append(f"{recall(2):.3f} {recall(1):.3f} {sum(kept) / max(len(kept), 1):.3f}")
        print(f"{e:.2f} {u:.2f} {m:.2f} | " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
