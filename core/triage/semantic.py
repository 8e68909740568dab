"""Presentation layer: red flags recognised by meaning, for wording the rule tables were not written from.

Each sentence of a text in which the rules found a current clinical word (and each pair of
neighbouring such sentences, since a presentation is often told over two) is compared with every description in `core.triage.presentations` by cosine similarity of
all-MiniLM-L6-v2 embeddings. Before embedding, what the context module sets aside is taken out: negated
phrases ("no fever", "rash blanches" stays, "not bleeding" goes), sentences that only teach or ask in
general, and sentences about the past with nothing current in them. A presentation whose best match
reaches its level's threshold becomes a finding that quotes the description it matched.

The thresholds favour recall (a missed emergency is the worst failure) and were set on the project's
tuning texts (`tests/data/triage_tuning.jsonl`) with the development set kept clean, by
`scripts/tune_triage_semantic.py`; the blind set was not used. The bank's vectors are computed once per
process.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.triage.context import TextContext
from core.triage.presentations import PRESENTATIONS, ROUTINE_LOOKALIKES, Presentation
from core.triage.results import Finding

THRESHOLDS = {"emergency": 0.56, "urgent": 0.66}
# ... and the sentence must be at least this much nearer the presentation than any routine look-alike.
MARGIN = 0.05
MIN_SEGMENT_WORDS = 4  # shorter fragments ("Obs stable.") carry too little meaning to match on
MAX_SEGMENTS = 400  # a long note is read in full by the rules; by meaning, its first 400 sentence windows


# A rash reported to blanch is the reassuring answer to the glass test; its words ("rash", "glass", "pressed") read
# by meaning like the non-blanching rash they rule out, so a segment saying so does not match those descriptions.
_PRESSED = r"\s+(?:when|if|with|under)\s+(?:\w+\s+){0,3}?(?:press\w*|glass|tumbler|finger)\b"
_BLANCHES = re.compile(
    r"\b(?:it|rash|spots?|they|which|that)\s+(?:all\s+|still\s+)?blanch(?:es|ed)?\b"
    # fading or going white counts only under pressure ("the rash fades" alone may be its course)
    r"|\b(?:it|rash|spots?|they|which|that)\s+(?:all\s+|still\s+)?(?:fades?|faded|goes\s+(?:completely\s+|all\s+)?white|"
    r"go(?:es)?\s+(?:completely\s+)?pale|disappears?|vanish(?:es)?)(?:\s+(?:completely|fully|totally|right away))?" + _PRESSED +
    r"|\b(?:blanching|blanchable)\s+(?:\w+\s+)?rash\b|\bglass\s+test\s+(?:was\s+|is\s+)?(?:fine|negative|ok|normal)\b",
    re.IGNORECASE)

_DOES_NOT_BLANCH = re.compile(r"\bnot\s+(?:fade|blanch)", re.IGNORECASE)


@dataclass(frozen=True)
class Segment:
    text: str  # what is embedded: the sentence(s) with negated phrases taken out
    span: tuple[int, int]  # the sentence(s) in the assessed text
    single: bool = True  # one sentence, not a pair of neighbours
    blanches: bool = False  # says the rash blanches (`_BLANCHES`)


def segments(context: TextContext, clinical: set[int] | None = None) -> list[Segment]:
    """Current-problem sentences and pairs of neighbouring sentences, negated phrases removed. With
    `clinical` (indexes of the sentences in which the rules found a current clinical word), only those
    sentences are read by meaning: a long note's administrative sentences cost nothing."""
    text = context.text
    starts = context.sentence_starts
    ends = starts[1:] + [len(text)]
    keep: list[tuple[str, tuple[int, int]] | None] = []
    for i, (start, end) in enumerate(zip(starts, ends)):
        if (clinical is not None and i not in clinical) or context.educational[i] or context.only_past(start, end):
            keep.append(None)
            continue
        pieces, cursor = [], start
        for s, e in context.negated_spans(start, end):
            pieces.append(text[cursor:s])
            cursor = max(cursor, e)
        pieces.append(text[cursor:end])
        positive = " ".join(" ".join(pieces).split())
        keep.append((positive, (start, end)) if len(positive.split()) >= MIN_SEGMENT_WORDS else None)
    def blanches(span: tuple[int, int]) -> bool:
        return bool(_BLANCHES.search(text, span[0], span[1]))

    out = [Segment(t, span, blanches=blanches(span)) for item in keep if item for t, span in [item]]
    for a, b in zip(keep, keep[1:]):
        if a and b:
            span = (a[1][0], b[1][1])
            out.append(Segment(f"{a[0]} {b[0]}", span, single=False, blanches=blanches(span)))
    return out[:MAX_SEGMENTS]


class PresentationMatcher:
    """The bank's description vectors and the model that embeds a text's segments the same way."""

    def __init__(self, model, presentations: tuple[Presentation, ...] = PRESENTATIONS,
                 lookalikes: tuple[str, ...] = ROUTINE_LOOKALIKES):
        self.model = model
        self.rows = [(p, d) for p in presentations for d in p.descriptions]
        self.bank = self._embed([d for _, d in self.rows])
        self.lookalikes = self._embed(list(lookalikes))
        self.urgent_rows = np.array([j for j, (p, _) in enumerate(self.rows) if p.level == "urgent"], dtype=int)
        self.emergency_mask = np.array([p.level == "emergency" for p, _ in self.rows])
        self.non_blanching_rows = np.array([bool(_DOES_NOT_BLANCH.search(d)) for _, d in self.rows])

    def embed(self, parts: list[Segment]) -> np.ndarray:
        """Unit-length vectors of the segments, one row each (embedded once, read by every meaning-based layer)."""
        return self._embed([p.text for p in parts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.encode(texts, batch_size=32, normalize_embeddings=True,
                                            show_progress_bar=False, convert_to_numpy=True), dtype=np.float32)

    def gated_similarity(self, vectors: np.ndarray, margin: float) -> np.ndarray:
        """(segments, descriptions) similarities, -1 where a match is not allowed: the segment must be at
        least `margin` nearer the description than any routine look-alike, and for an emergency also nearer
        it than any urgent presentation (shingles near the eye is urgent, not a blistering drug reaction)."""
        similarity = vectors @ self.bank.T
        floor = ((vectors @ self.lookalikes.T).max(axis=1) + margin)[:, None]
        urgent = similarity[:, self.urgent_rows].max(axis=1, keepdims=True) if self.urgent_rows.size else floor
        floors = np.where(self.emergency_mask[None, :], np.maximum(floor, urgent), floor)
        return np.where(similarity >= floors, similarity, -1.0)

    def findings(self, parts: list[Segment], vectors: np.ndarray) -> list[Finding]:
        """Findings for the segments (`segments()`) whose vectors (`embed()`) match a presentation."""
        if not parts:
            return []
        similarity = self.gated_similarity(vectors, MARGIN)
        blanching = np.array([p.blanches for p in parts])
        similarity[np.ix_(blanching, self.non_blanching_rows)] = -1.0
        best: dict[str, tuple[float, int, int]] = {}
        for j, (presentation, _) in enumerate(self.rows):
            i = int(np.argmax(similarity[:, j]))
            score = float(similarity[i, j])
            key = presentation.condition
            if score >= THRESHOLDS[presentation.level] and score > best.get(key, (-1.0,))[0]:
                best[key] = (score, i, j)
        out = []
        for score, i, j in best.values():
            presentation, description = self.rows[j]
            out.append(Finding(
                finding=f"described like: \u201c{description}\u201d", condition="", level=presentation.level,
                spans=(parts[i].span,), condition_key=presentation.condition,
                detail=f"presentation: meaning matched a described presentation (similarity {score:.2f})",
                layer="presentation"))
        return out


@lru_cache(maxsize=1)
def default_matcher() -> PresentationMatcher:
    """The matcher over the packaged embedding model, built once per process (a few seconds)."""
    from sentence_transformers import SentenceTransformer

    from core.embedding import embedding_model_path

    return PresentationMatcher(SentenceTransformer(str(embedding_model_path()), device="cpu"))
