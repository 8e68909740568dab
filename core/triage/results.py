"""Triage levels and the result types: Finding, SetAside, Assessment."""
from __future__ import annotations

from dataclasses import dataclass

LEVELS: tuple[str, ...] = ("routine", "urgent", "emergency")
_RANK = {level: i for i, level in enumerate(LEVELS)}
# A safety filter must read all of a text, so beyond this size it refuses rather than truncates. 50,000
# characters is some 8,000 words, far more than a clinical note or a chat message; the note and chat boxes
# stop at the same length.
MAX_TEXT_CHARS = 50_000


def level_rank(level: str) -> int:
    """0 for routine, 1 for urgent, 2 for emergency."""
    return _RANK[level]


class TriageInputError(ValueError):
    """The text cannot be triaged (not a string, empty, or too long); the message says why."""


@dataclass(frozen=True)
class Finding:
    """One reason to escalate.

    `spans` are (start, end) character offsets into the assessed text (empty for findings that do
    not come from text, such as the 7-point checklist or the classifier); `evidence` holds the
    matching words in the same order.
    """

    finding: str
    condition: str
    level: str
    spans: tuple[tuple[int, int], ...] = ()
    evidence: tuple[str, ...] = ()
    condition_key: str = ""
    detail: str = ""
    sources: tuple[str, ...] = ()
    # Which layer raised it: "rules" (the wording tables), "physiology" (numbers against NICE criteria and
    # NEWS2), "presentation" (meaning matched against described presentations), "learned" (a classifier over
    # sentence meanings, `core.triage.learned`), "checklist", "classifier".
    layer: str = "rules"

    def to_dict(self) -> dict:
        return {
            "finding": self.finding,
            "condition": self.condition,
            "level": self.level,
            "spans": [list(span) for span in self.spans],
            "evidence": list(self.evidence),
            "detail": self.detail,
            "layer": self.layer,
        }


@dataclass(frozen=True)
class SetAside:
    """A red-flag mention that did not count, and why (negated, past history, educational...)."""

    feature: str
    span: tuple[int, int]
    text: str
    reason: str

    def to_dict(self) -> dict:
        return {"feature": self.feature, "span": list(self.span), "text": self.text, "reason": self.reason}


@dataclass(frozen=True)
class Assessment:
    """The triage result: the highest level among the findings ("routine" when there are none)."""

    level: str
    findings: tuple[Finding, ...] = ()
    advice: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    set_aside: tuple[SetAside, ...] = ()

    @property
    def escalated(self) -> bool:
        return self.level != "routine"

    def to_dict(self) -> dict:
        return {
            "level": self.level,
            "findings": [f.to_dict() for f in self.findings],
            "advice": list(self.advice),
            "sources": list(self.sources),
            "set_aside": [s.to_dict() for s in self.set_aside],
        }


