"""Experiment (not shipped yet): the learned layer of `try_triage_learned_layer.py`, judged on a set its rules never saw.

Trained on tuning sets 1-4; judged on tuning set 5 with the rule layer as it was when set 5 was frozen (commit
c36ead4, before set 5's rule fixes), so that neither layer has seen set 5's wording. The blind set is not read.
Thresholds are set on out-of-fold probabilities of the training texts, at two routine false-alarm budgets.

    git worktree add /tmp/triage-c36ead4 c36ead4
    .venv/bin/python scripts/try_triage_learned_layer_unseen.py /tmp/triage-c36ead4   (about 10 minutes on two cores)

Result on 2026-12-02 (main at 0ab4248): set 5 before (rules alone) emergency 0.922, urgent 0.914, routine kept 0.938;
with the learned layer at budgets 1.5 % / 3 %: 0.956, 0.971, 0.887; at 0.5 % / 1 %: 0.944, 0.943, 0.925.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RANK = {"routine": 0, "urgent": 1, "emergency": 2}
TRAIN = [ROOT / "tests" / "data" / f"triage_tuning{s}.jsonl" for s in ("", "_2", "_3", "_4")]
UNSEEN = ROOT / "tests" / "data" / "triage_tuning_5.jsonl"
BUDGETS = ((0.985, 0.97), (0.995, 0.99))  # routine quantiles of out-of-fold P(emergency), P(urgent or worse)

OLD_LEVELS = """
import json, sys
sys.path.insert(0, sys.argv[1])
from core.triage import assess
print(json.dumps([assess(json.loads(l)["text"]).level for l in open(sys.argv[2], encoding="utf-8") if l.strip()]))
"""


def recalls(y, levels) -> str:
    import numpy as np

    return ", ".join(f"{label} {np.mean(levels[y == k] >= k) if k else np.mean(levels[y == 0] == 0):.3f}"
                     for k, label in ((2, "emergency"), (1, "urgent"), (0, "routine kept")))


def main(old_tree: str) -> int:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from try_triage_learned_layer import featurise

    env = {**os.environ, "PYTHONPATH": ""}
    old = json.loads(subprocess.run([sys.executable, "-c", OLD_LEVELS, old_tree, str(UNSEEN)], env=env, cwd=old_tree,
                                    capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    base_unseen = np.array([RANK[level] for level in old])
    parts = [featurise(p) for p in TRAIN]
    X, y, _, has = (np.concatenate([p[i] for p in parts]) for i in range(4))
    X_unseen, y_unseen, _, has_unseen = featurise(UNSEEN)
    print(f"{UNSEEN.name}, rules at {old_tree}: {recalls(y_unseen, base_unseen)}")
    for q_emergency, q_urgent in BUDGETS:
        model = LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced")
        oof = cross_val_predict(model, X[has], y[has], cv=StratifiedKFold(5, shuffle=True, random_state=0),
                                method="predict_proba")
        routine = y[has] == 0
        t_emergency = np.quantile(oof[routine, 2], q_emergency)
        t_urgent = np.quantile(oof[routine, 1] + oof[routine, 2], q_urgent)
        p = model.fit(X[has], y[has]).predict_proba(X_unseen)
        learned = np.where(has_unseen & (p[:, 2] >= t_emergency), 2,
                           np.where(has_unseen & (p[:, 1] + p[:, 2] >= t_urgent), 1, 0))
        print(f"  + learned layer, routine budgets {1 - q_emergency:.1%} / {1 - q_urgent:.1%}: "
              f"{recalls(y_unseen, np.maximum(base_unseen, learned))}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1]))
