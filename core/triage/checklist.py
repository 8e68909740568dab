"""The NICE weighted 7-point checklist for a pigmented skin lesion, as a structured calculator.

Major features score 2 points each (change in size, irregular shape, irregular colour); minor features
score 1 point each (largest diameter 7 mm or more, inflammation, oozing, change in
sensation). A total of 3 or more meets the NICE NG12 threshold for a suspected-cancer pathway referral
(Walter et al., Br J Gen Pract 2013, validated the weighted version in primary care).

    answers = ChecklistAnswers(change_in_size=True, diameter_7mm_or_more=True)
    result = score_checklist(answers)        # score 3, refer True
    finding = checklist_finding(result)     # an urgent triage Finding, or None below 3
    combine(assess(note), finding)           # joins the text triage; the level is the highest
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from core.triage import CONDITIONS, NG12, SEVEN_POINT, Finding

REFERRAL_THRESHOLD = 3


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    points: int
    kind: str  # "major" or "minor"


ITEMS: tuple[ChecklistItem, ...] = (
    ChecklistItem("change_in_size", "Change in size", 2, "major"),
    ChecklistItem("irregular_shape", "Irregular shape", 2, "major"),
    ChecklistItem("irregular_colour", "Irregular colour", 2, "major"),
    ChecklistItem("diameter_7mm_or_more", "Largest diameter 7 mm or more", 1, "minor"),
    ChecklistItem("inflammation", "Inflammation", 1, "minor"),
    ChecklistItem("oozing_or_crusting", "Oozing", 1, "minor"),  # NG12 says "oozing"; the key is kept for stored cases
    ChecklistItem("change_in_sensation", "Change in sensation (itch, altered feeling)", 1, "minor"),
)


@dataclass(frozen=True)
class ChecklistAnswers:
    """Which of the seven features the lesion shows (all False by default)."""

    change_in_size: bool = False
    irregular_shape: bool = False
    irregular_colour: bool = False
    diameter_7mm_or_more: bool = False
    inflammation: bool = False
    oozing_or_crusting: bool = False
    change_in_sensation: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), bool):
                raise ValueError(f"{f.name} must be true or false, got {getattr(self, f.name)!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, object]) -> "ChecklistAnswers":
        """Build from a dict such as a form's state; unknown keys are an error so that typos are not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown checklist item(s): {', '.join(unknown)}; expected some of {', '.join(sorted(known))}")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChecklistResult:
    score: int
    present: tuple[ChecklistItem, ...]  # the items answered yes, in checklist order
    refer: bool  # score >= 3: suspected-cancer pathway referral

    @property
    def summary(self) -> str:
        parts = ", ".join(f"{item.label.lower()} {item.points}" for item in self.present) or "no features"
        return f"weighted 7-point checklist score {self.score} ({parts})"


def score_checklist(answers: ChecklistAnswers) -> ChecklistResult:
    present = tuple(item for item in ITEMS if getattr(answers, item.key))
    score = sum(item.points for item in present)
    return ChecklistResult(score=score, present=present, refer=score >= REFERRAL_THRESHOLD)


def checklist_finding(result: ChecklistResult) -> Finding | None:
    """An urgent triage Finding when the score reaches 3, else None (a lower score escalates nothing by itself)."""
    if not result.refer:
        return None
    return Finding(
        finding=f"weighted 7-point checklist score {result.score} (3 or more)",
        condition=CONDITIONS["skin_cancer"].name, level="urgent", condition_key="skin_cancer",
        detail=result.summary, sources=(NG12, SEVEN_POINT), layer="checklist")
