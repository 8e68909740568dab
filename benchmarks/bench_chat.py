"""Speed of the knowledge base and the chatbot: whole-KB ingestion time, then p50/p95 of `ask`.

Ingests knowledge_base/ into a fresh temporary Chroma directory (a cold build, as on the app's first
start), re-runs ingestion to time the no-change path, then times `core.knowledge.chat.ask` over the questions
of the development set (../shared/eval/chat_dev.jsonl, or a few built-in questions when it is absent).
Target: p50 <= 300 ms per ask (extractive composer).

    .venv/bin/python benchmarks/bench_chat.py [--repeats N] [--threads N]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from core.config import Settings  # noqa: E402
from core.knowledge.chat import ask  # noqa: E402
from core.knowledge.chat_eval import percentile  # noqa: E402
from core.knowledge.index import KnowledgeIndex, ingest, load_embeddings  # noqa: E402
from core.runtime import configure_torch  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "eval" / "chat_dev.jsonl"
FALLBACK_QUESTIONS = [
    "Spoke-wheel areas are typical of which tumour?",
    "What does Breslow thickness measure?",
    "How often should sunscreen be reapplied?",
    "What are the features of DRESS?",
    "Write me a poem about moles.",
]


def questions() -> tuple[list[str], str]:
    if DEV_SET.is_file():
        lines = DEV_SET.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["question"] for line in lines if line.strip()], str(DEV_SET)
    return FALLBACK_QUESTIONS, "built-in questions"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="passes over the questions")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (0 = torch default)")
    args = parser.parse_args()
    settings = replace(Settings.from_env(), torch_threads=args.threads)
    configure_torch(settings)

    started = time.perf_counter()
    embeddings = load_embeddings()
    load_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        chroma = Path(tmp) / "chroma"
        cold = ingest(settings.kb_dir, chroma, embeddings=embeddings, show_progress=False)
        warm = ingest(settings.kb_dir, chroma, embeddings=embeddings, show_progress=False)
        started = time.perf_counter()
        index = KnowledgeIndex.open(chroma, embeddings=embeddings)
        open_seconds = time.perf_counter() - started

        texts, source = questions()
        ask(texts[0], index=index)  # warm-up: first call pays for lazy initialisation
        latencies = []
        refused = 0
        for _ in range(args.repeats):
            for text in texts:
                t0 = time.perf_counter()
                answer = ask(text, index=index)
                latencies.append((time.perf_counter() - t0) * 1000)
                refused += answer.refused
    latencies.sort()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}")
    print(f"embedder load: {load_seconds:.1f} s")
    print(f"ingest (cold, whole KB): {cold.added} documents, {cold.chunks} passages, {cold.sentences} sentences "
          f"in {cold.seconds:.1f} s")
    print(f"ingest (nothing changed): {warm.unchanged} unchanged in {warm.seconds:.2f} s")
    print(f"open index: {open_seconds:.2f} s")
    print(f"ask over {len(texts)} questions x {args.repeats} ({source}): "
          f"p50 {statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
          f"max {latencies[-1]:.0f} ms ({refused // args.repeats} refused per pass)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
