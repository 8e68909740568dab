"""Sweep the chat's refusal rule (core.knowledge.retrieval.confident) over a TUNING question set and print
the best settings: in-scope questions answered vs out-of-scope ones refused. Never run it on the blind set.

    .venv/bin/python scripts/tune_chat_refusal.py [tests/data/chat_tuning.jsonl ...]

Several sets are pooled. The fifth setting is the similarity to the documents' own questions that is enough on its
own (`ASKED_CONFIDENT_SIMILARITY`).
"""
from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from core.knowledge import retrieval  # noqa: E402
from core.knowledge.chat import scope_violation  # noqa: E402
from core.knowledge.index import KnowledgeIndex, ensure_index  # noqa: E402


def main(*paths: str) -> int:
    settings = Settings.from_env()
    ensure_index(settings.kb_dir, settings.chroma_location)
    index = KnowledgeIndex.open(settings.chroma_location)
    rows = [json.loads(line) for path in (paths or ("tests/data/chat_tuning.jsonl",))
            for line in Path(path).read_text().splitlines() if line.strip()]
    rows = [r for r in rows if not scope_violation(r["question"])]  # refused before retrieval anyway
    features = []
    for row in rows:
        passages = index.search(row["question"]).passages
        features.append((row["kind"], ([(max(p.dense, p.best_sentence), p.coverage) for p in passages[:3]],
                                       max(p.asked for p in passages))))

    def decide(top, confident_sim, weight, threshold, min_sim, asked_sim):
        top3, asked = top
        return asked >= asked_sim or any(s >= confident_sim or (s >= min_sim and s + weight * c >= threshold)
                                         for s, c in top3)

    answer_n = sum(k == "answer" for k, _ in features)
    refuse_n = len(features) - answer_n
    results = []
    for params in itertools.product(
            (0.58, 0.62, 0.66, 0.70, 0.75), (0.1, 0.2, 0.3, 0.4, 0.5), (0.5, 0.55, 0.6, 0.65, 0.7), (0.25, 0.3, 0.35, 0.4),
            (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1.01)):
        answered = sum(decide(top, *params) for k, top in features if k == "answer")
        refused = sum(not decide(top, *params) for k, top in features if k == "refuse")
        # A wrong answer to an out-of-scope question costs twice a wrongly refused in-scope one.
        results.append((answered + 2 * refused, answered, refused, params))
    current = (retrieval.CONFIDENT_SIMILARITY, retrieval.COVERAGE_WEIGHT, retrieval.RELEVANCE_THRESHOLD,
               retrieval.MIN_SIMILARITY, retrieval.ASKED_CONFIDENT_SIMILARITY)
    now = next(r for r in results if r[3] == current) if any(r[3] == current for r in results) else None
    print(f"{len(features)} questions reach retrieval ({answer_n} in scope, {refuse_n} out of scope)")
    if now:
        print(f"current {current}: answered {now[1]}/{answer_n}, refused {now[2]}/{refuse_n}")
    print("Pareto front (most in-scope questions answered for each number of refusals kept):")
    best: dict[int, tuple] = {}
    for score, answered, refused, params in results:
        if refused not in best or answered > best[refused][0]:
            best[refused] = (answered, params)
    for refused in sorted(best, reverse=True):
        answered, params = best[refused]
        if all(best[r][0] < answered for r in best if r > refused):
            print(f"  refused {refused}/{refuse_n}, answered {answered}/{answer_n}: "
                  f"(confident, weight, threshold, min, asked) = {params}")
    print("The other four settings as now, each setting of `asked`:")
    for score, answered, refused, params in results:
        if params[:4] == current[:4]:
            print(f"  asked {params[4]}: refused {refused}/{refuse_n}, answered {answered}/{answer_n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
