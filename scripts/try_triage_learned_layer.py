"""Experiment (not shipped): would a learned layer help the red-flag filter generalise?

A logistic regression on all-MiniLM-L6-v2 sentence embeddings (mean and max over the current-problem
sentences of a text, negated phrases removed, as the meaning layer reads them), trained on tuning sets
1-3, may only raise the filter's level. Its thresholds are set on out-of-fold probabilities of the training
texts (routine false alarms at most 1.5 % for emergency, 3 % for urgent). Printed: recall per level before ->
after, out of fold on the training texts, on the dev set and on tuning set 4 (not trained on). The blind set
is not read. Run from the repository root (about 15 minutes on two cores):

    .venv/bin/python scripts/try_triage_learned_layer.py

Result on 2026-12-02 at commit 372e06a (before tuning set 4's rule fixes: `git checkout 372e06a -- core/triage` first): out of fold E 0.984 -> 0.984, U 0.981 -> 0.985,
routine kept 0.956 -> 0.928; dev urgent 1.000 -> 0.956; tuning set 4 E 0.933 -> 0.944, U 0.943 -> 0.957,
routine unchanged. Too little gain for the false alarms and the two dev-set urgent texts lost: not shipped.
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
TRAIN = [ROOT / "tests" / "data" / f"triage_tuning{s}.jsonl" for s in ("", "_2", "_3")]
HELD_OUT = [ROOT.parent / "shared" / "eval" / "triage_dev.jsonl", ROOT / "tests" / "data" / "triage_tuning_4.jsonl"]


def featurise(path: Path):
    import numpy as np

    from core.triage import assess
    from core.triage.context import TextContext, raw_hits
    from core.triage.normalise import normalise
    from core.triage.semantic import default_matcher, segments

    matcher = default_matcher()
    X, y, base, has = [], [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        plain = normalise(item["text"]).text
        context = TextContext(plain, [(s, e) for _, s, e in raw_hits(plain)])
        singles = [p for p in segments(context, None)
                   if not any(p.span[0] < start < p.span[1] for start in context.sentence_starts)]
        if singles:
            vectors = matcher._embed([p.text for p in singles])
            X.append(np.concatenate([vectors.mean(0), vectors.max(0)]))
        else:
            X.append(np.zeros(768, dtype=np.float32))
        has.append(bool(singles))
        y.append(RANK[item["expected"]])
        base.append(RANK[assess(item["text"]).level])
    return np.array(X), np.array(y), np.array(base), np.array(has)


def report(name, y, base, p_emergency, p_urgent, t_emergency, t_urgent, has) -> None:
    import numpy as np

    learned = np.where(has & (p_emergency >= t_emergency), 2, np.where(has & (p_urgent >= t_urgent), 1, 0))
    combined = np.maximum(base, learned)
    parts = [f"{label} {np.mean(base[y == level] == level):.3f} -> {np.mean(combined[y == level] == level):.3f}"
             for level, label in ((2, "emergency"), (1, "urgent"), (0, "routine kept"))]
    print(f"{name}: " + ", ".join(parts))


def main() -> int:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    parts = [featurise(p) for p in TRAIN]
    X, y, base, has = (np.concatenate([p[i] for p in parts]) for i in range(4))
    model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
    oof = cross_val_predict(model, X[has], y[has], cv=StratifiedKFold(5, shuffle=True, random_state=0),
                            method="predict_proba")
    p_emergency, p_urgent = np.zeros(len(y)), np.zeros(len(y))
    p_emergency[has], p_urgent[has] = oof[:, 2], oof[:, 1] + oof[:, 2]
    routine = (y == 0) & has
    t_emergency, t_urgent = np.quantile(p_emergency[routine], 0.985), np.quantile(p_urgent[routine], 0.97)
    report("out of fold, tuning sets 1-3", y, base, p_emergency, p_urgent, t_emergency, t_urgent, has)
    model.fit(X[has], y[has])
    for path in HELD_OUT:
        if path.is_file():
            Xh, yh, bh, hh = featurise(path)
            p = model.predict_proba(Xh)
            report(path.name, yh, bh, p[:, 2], p[:, 1] + p[:, 2], t_emergency, t_urgent, hh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
