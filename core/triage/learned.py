"""Learned layer: a classifier over a text's sentence meanings, for presentations no rule or description matched.

The rule tables and the presentation bank match what they were written from. This layer learns from every
labelled tuning text instead (`tests/data/triage_tuning*.jsonl`, written blind by people who saw neither the
rules nor the development set): a multinomial logistic regression over the mean and the element-wise maximum
of the all-MiniLM-L6-v2 embeddings of a text's single current-problem sentences (the ones the meaning layer
reads, negated phrases taken out), giving P(routine), P(urgent), P(emergency).

It may only raise the level, only when the rules or the numbers found a corroborating sign (an acute sign for an
emergency, a sign of change or concern for an urgent finding, as for the meaning layer), and only when its
probability passes a threshold set for a routine false-alarm budget: the thresholds are quantiles of out-of-fold probabilities of the routine training texts, and the
budget itself was chosen by leaving each tuning set out in turn (`scripts/train_triage_learned_layer.py`,
which also writes the model file). Its finding is named "learned layer", gives the probability and the
threshold, and quotes the bank description nearest the text so that a clinician can see what it read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.config import PROJECT_ROOT
from core.triage.results import Finding
from core.triage.semantic import PresentationMatcher, Segment

MODEL_DIR = PROJECT_ROOT / "models" / "dermadesk-triage-layer"


@dataclass(frozen=True)
class LearnedLayer:
    """Logistic-regression weights over sentence-embedding features, and the thresholds that let it raise."""

    coef: np.ndarray  # (3, 2 * embedding size): rows routine, urgent, emergency
    intercept: np.ndarray  # (3,)
    emergency_threshold: float  # on P(emergency)
    urgent_threshold: float  # on P(urgent) + P(emergency)
    trained_on: str = ""  # what the model was fitted on, shown in the finding's detail

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(P(routine), P(urgent), P(emergency)) for one text's sentence vectors (at least one row)."""
        logits = self.coef @ features(vectors) + self.intercept
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def level(self, p: np.ndarray, *, emergency_allowed: bool = True, urgent_allowed: bool = True) -> str | None:
        """The level the probabilities reach, among those allowed (None: the layer stays silent)."""
        if emergency_allowed and p[2] >= self.emergency_threshold:
            return "emergency"
        if urgent_allowed and p[1] + p[2] >= self.urgent_threshold:
            return "urgent"
        return None

    def findings(self, parts: list[Segment], vectors: np.ndarray, matcher: PresentationMatcher, *,
                 emergency_allowed: bool = True, urgent_allowed: bool = True) -> list[Finding]:
        """At most one finding: the level the classifier reads (among those allowed), the condition of the bank
        description nearest any of the text's sentences at that level, and that sentence as the span."""
        single = np.array([p.single for p in parts], dtype=bool)
        if not single.any():
            return []
        p = self.probabilities(vectors[single])
        level = self.level(p, emergency_allowed=emergency_allowed, urgent_allowed=urgent_allowed)
        if level is None:
            return []
        rows = np.flatnonzero(matcher.emergency_mask) if level == "emergency" else matcher.urgent_rows
        similarity = vectors[single] @ matcher.bank[rows].T
        i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
        presentation, description = matcher.rows[int(rows[j])]
        segment = [part for part, keep in zip(parts, single) if keep][int(i)]
        probability, threshold = (p[2], self.emergency_threshold) if level == "emergency" else (p[1] + p[2], self.urgent_threshold)
        return [Finding(
            finding=f"learned layer: reads like \u201c{description}\u201d", condition="", level=level,
            spans=(segment.span,), condition_key=presentation.condition,
            detail=(f"learned layer: P({'emergency' if level == 'emergency' else 'urgent or worse'}) {probability:.2f} "
                    f">= threshold {threshold:.2f} (a classifier trained on {self.trained_on}); nearest described "
                    f"presentation shown (similarity {float(similarity[i, j]):.2f})"),
            layer="learned")]

    def save(self, directory: Path, metadata: dict) -> None:
        from safetensors.numpy import save_file

        directory.mkdir(parents=True, exist_ok=True)
        # C order: scikit-learn's coef_ is Fortran-ordered, and safetensors writes the buffer as it lies in memory.
        save_file({"coef": np.ascontiguousarray(self.coef, dtype=np.float32),
                   "intercept": np.ascontiguousarray(self.intercept, dtype=np.float32)}, str(directory / "weights.safetensors"))
        card = {"emergency_threshold": self.emergency_threshold, "urgent_threshold": self.urgent_threshold,
                "trained_on": self.trained_on, **metadata}
        (directory / "model.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path = MODEL_DIR) -> "LearnedLayer":
        from safetensors.numpy import load_file

        weights = load_file(str(directory / "weights.safetensors"))
        card = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        return cls(weights["coef"].astype(np.float64), weights["intercept"].astype(np.float64),
                   float(card["emergency_threshold"]), float(card["urgent_threshold"]), card.get("trained_on", ""))


def features(vectors: np.ndarray) -> np.ndarray:
    """Mean and element-wise maximum of a text's sentence vectors: what the sentences say overall, and the
    strongest of each signal in any one of them."""
    return np.concatenate([vectors.mean(axis=0), vectors.max(axis=0)]).astype(np.float64)


@lru_cache(maxsize=1)
def default_learned_layer() -> LearnedLayer:
    """The shipped model (`models/dermadesk-triage-layer/`), loaded once per process."""
    return LearnedLayer.load(MODEL_DIR)
