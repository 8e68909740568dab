"""Scoring the chat on a JSONL question set (format: `../shared/eval/README.md`): every must-group present,
refusals where expected, citations on every answer, and latency."""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.knowledge.chat import Answer, ask
from core.knowledge.index import KnowledgeIndex
from core.knowledge.selection import PASSAGES_CONSIDERED
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    kind: str  # "answer" or "refuse"
    must: list[list[str]]
    topic: str = ""


@dataclass(frozen=True)
class EvalResult:
    item: EvalItem
    answer: Answer
    passed: bool
    cited: bool
    retrieval_hit: bool | None  # answer items: every must-group occurs somewhere in the retrieved passages
    missing_groups: list[list[str]]
    seconds: float


@dataclass(frozen=True)
class EvalReport:
    results: list[EvalResult]

    def _share(self, values: list[bool]) -> float:
        return sum(values) / len(values) if values else float("nan")

    def summary(self) -> dict[str, Any]:
        answers = [r for r in self.results if r.item.kind == "answer"]
        refusals = [r for r in self.results if r.item.kind == "refuse"]
        answered = [r for r in self.results if not r.answer.refused]
        latencies = sorted(r.seconds * 1000 for r in self.results)
        return {
            "questions": len(self.results),
            "answer_pass_rate": self._share([r.passed for r in answers]),
            "refuse_pass_rate": self._share([r.passed for r in refusals]),
            "cited_rate": self._share([r.cited for r in answered]),
            "retrieval_hit_rate": self._share([bool(r.retrieval_hit) for r in answers]),
            "latency_ms_p50": statistics.median(latencies) if latencies else float("nan"),
            "latency_ms_p95": percentile(latencies, 95),
        }

    @property
    def failures(self) -> list[EvalResult]:
        return [r for r in self.results if not r.passed or (not r.answer.refused and not r.cited)]


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def load_eval_items(path: Path) -> list[EvalItem]:
    """Read a JSONL question set; raises ValueError naming the line for malformed input."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"question file not found: {path}")
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            item = EvalItem(str(row["id"]), str(row["question"]), str(row.get("kind", "answer")),
                            [list(map(str, g)) for g in row.get("must", [])], str(row.get("topic", "")))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{number}: not a question line with 'id' and 'question' ({exc})") from exc
        if not item.question.strip():
            raise ValueError(f"{path}:{number}: the question is empty")
        items.append(item)
    return items


def missing_must_groups(text: str, must: Sequence[Sequence[str]]) -> list[list[str]]:
    """The groups none of whose alternatives occurs in `text` (case-insensitive substrings)."""
    lowered = text.lower()
    return [list(group) for group in must if not any(alt.lower() in lowered for alt in group)]


def evaluate(items: Sequence[EvalItem], index: KnowledgeIndex) -> EvalReport:
    """Ask every question and score it as shared/eval/README.md describes, plus citations and retrieval."""
    results = []
    for item in items:
        started = time.perf_counter()
        answer = ask(item.question, index=index)
        seconds = time.perf_counter() - started
        if item.kind == "refuse":
            results.append(EvalResult(item, answer, answer.refused, bool(answer.citations), None, [], seconds))
            continue
        missing = missing_must_groups(answer.answer, item.must) if not answer.refused else item.must
        retrieved_text = " ".join(p.text for p in answer.retrieved[:PASSAGES_CONSIDERED])
        hit = not missing_must_groups(retrieved_text, item.must)
        passed = not answer.refused and not missing
        results.append(EvalResult(item, answer, passed, bool(answer.citations), hit, missing, seconds))
    return EvalReport(results)
