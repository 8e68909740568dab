"""Values crossing the case-store API: what callers pass in and get back (no ORM objects)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from core.triage.checklist import ChecklistResult
from core.config import CLASS_NAMES, CLASSES
from core.triage import LEVELS, Assessment, Finding
from core.cases.errors import CaseInputError, CaseStoreError
from core.text import storable
from core.cases.vocabulary import AGREEMENTS, MANAGEMENTS, MAX_COMMENT_CHARS, STATUSES

if TYPE_CHECKING:
    from core.vision.classifier import Prediction


@dataclass(frozen=True)
class NewCase:
    """Everything an analysis produced, ready to be saved as a case.

    `triage` is the combined red-flag assessment (note, checklist and classifier); `heatmap` is a
    float array in [0, 1] on the image's pixel grid for class `heatmap_target`, made by the method named
    `heatmap_method` (its registry key in `core.explain.methods`, e.g. "gradcam"). `lesion_id` links
    this visit to earlier visits of the same lesion; None starts a new lesion.
    """

    image: Image.Image
    prediction: Prediction
    source_name: str = ""
    source_format: str = ""
    heatmap: np.ndarray | None = None
    heatmap_method: str = "gradcam"
    heatmap_target: str | None = None
    triage: Assessment | None = None
    checklist: ChecklistResult | None = None
    age: int | None = None
    sex: str | None = None
    site: str | None = None
    note: str = ""
    lesion_id: str | None = None
    quality_problems: tuple[str, ...] = ()  # from core.vision.quality: the image may be too poor to read


@dataclass(frozen=True)
class Verdict:
    """The clinician's conclusion. `diagnosis` is a class code (e.g. "mel") or free text."""

    diagnosis: str
    agreement: str
    management: str
    comment: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.diagnosis, str) or not self.diagnosis.strip():
            raise CaseInputError("The verdict needs a diagnosis.")
        if len(self.diagnosis.strip()) > 200:
            raise CaseInputError("The diagnosis is longer than 200 characters; put the detail in the comment.")
        if self.agreement not in AGREEMENTS:
            raise CaseInputError(f"Agreement must be one of {', '.join(AGREEMENTS)}, not {self.agreement!r}.")
        if self.management not in MANAGEMENTS:
            raise CaseInputError(f"Management must be one of {', '.join(MANAGEMENTS)}, not {self.management!r}.")
        if not isinstance(self.comment, str) or len(self.comment) > MAX_COMMENT_CHARS:
            raise CaseInputError(f"The comment must be text of at most {MAX_COMMENT_CHARS} characters.")
        object.__setattr__(self, "diagnosis", storable(self.diagnosis.strip()))
        object.__setattr__(self, "comment", storable(self.comment))

    @property
    def diagnosis_label(self) -> str:
        return f"{self.diagnosis} — {CLASS_NAMES[self.diagnosis]}" if self.diagnosis in CLASS_NAMES else self.diagnosis


@dataclass(frozen=True)
class QueueFilter:
    """Which cases to list. Empty tuples mean "any"; dates are inclusive, in UTC."""

    statuses: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    predicted: tuple[str, ...] = ()
    created_from: date | None = None
    created_to: date | None = None
    lesion_id: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        for name, values, allowed in (("status", self.statuses, STATUSES), ("urgency", self.urgencies, LEVELS),
                                      ("predicted class", self.predicted, CLASSES)):
            unknown = sorted(set(values) - set(allowed))
            if unknown:
                raise CaseInputError(f"Unknown {name} {', '.join(unknown)}; choose from {', '.join(allowed)}.")
        if self.created_from and self.created_to and self.created_from > self.created_to:
            raise CaseInputError("The start date is after the end date.")


@dataclass(frozen=True)
class CaseSummary:
    """A case as listed in the queue."""

    id: int
    lesion_id: str
    created_at: datetime
    updated_at: datetime
    created_by: str
    status: str
    urgency: str
    predicted_class: str
    confidence: float
    source_name: str
    age: int | None
    sex: str | None
    site: str | None
    seven_point_score: int | None
    verdict_diagnosis: str | None
    verdict_agreement: str | None
    verdict_management: str | None
    version: int
    # The model found the image unlike dermoscopy of a skin lesion: its class and confidence mean nothing.
    not_a_lesion_image: bool = False
    # Blurred, too dark or too bright when it was saved: the result may not be readable.
    quality_problems: tuple[str, ...] = ()

    @property
    def image_check(self) -> str:
        """The image's standing in words, for the queue: such a case is not an ordinary case."""
        if self.not_a_lesion_image:
            return "not a lesion image?"
        if self.quality_problems:
            return "poor image: " + ", ".join(self.quality_problems)
        return "passed"


@dataclass(frozen=True)
class CaseImage:
    sha256: str
    path: Path
    width: int
    height: int
    source_format: str

    def load(self) -> Image.Image:
        """The stored image in RGB. Raises CaseStoreError when its file is missing or unreadable."""
        try:
            with Image.open(self.path) as stored:
                return stored.convert("RGB")
        except OSError:
            raise CaseStoreError("The image file is missing from the image store or unreadable; run "
                                 "`python -m core cases check` to list missing files.") from None


@dataclass(frozen=True)
class StoredPrediction:
    """The model's output as it was when the case was analysed."""

    created_at: datetime
    model_version: str
    probabilities: dict[str, float]
    predicted: str
    confidence: float
    low_confidence: bool
    out_of_distribution: bool
    ood_score: float | None
    heatmap_path: Path | None
    heatmap_method: str | None
    heatmap_target: str | None

    def to_prediction(self) -> Prediction:
        from core.vision.classifier import Prediction

        return Prediction(probabilities=dict(self.probabilities), predicted=self.predicted, confidence=self.confidence,
                          low_confidence=self.low_confidence, model_version=self.model_version,
                          out_of_distribution=self.out_of_distribution, ood_score=self.ood_score)

    def heatmap(self) -> np.ndarray | None:
        """The stored heatmap as float32 in [0, 1], or None if none was saved. Raises CaseStoreError
        when one was saved but its file is missing or unreadable."""
        if self.heatmap_path is None:
            return None
        try:
            with Image.open(self.heatmap_path) as img:
                return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
        except OSError:
            raise CaseStoreError("The saved heatmap file is missing from the image store or unreadable; run "
                                 "`python -m core cases check` to list missing files.") from None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    details: dict

    def describe(self) -> str:
        """One line saying what changed, for the history table and the report."""
        d = self.details
        if self.action == "created":
            return (f"case created from {d.get('source') or 'an upload'}: model {d.get('model_version')} predicted "
                    f"{d.get('predicted')}; red-flag level {d.get('urgency')}")
        if self.action == "verdict":
            changes = d.get("changes", {})
            parts = [f"{name} {_short(old)} → {_short(new)}" for name, (old, new) in changes.items()]
            return "verdict: " + ("; ".join(parts) if parts else "saved unchanged")
        if self.action == "status":
            return f"status {d.get('from')} → {d.get('to')}"
        if self.action == "lesion_linked":
            return (f"lesion linked to patient {d.get('patient_ref') or '(none)'}, body site "
                    f"{d.get('body_site') or '(none)'}")
        if self.action == "red_flag_acknowledged":
            return f"read and acknowledged the {d.get('level')} red flag: {'; '.join(d.get('findings', []))}"
        return f"{self.action}: {d}"


def _short(value: Any, limit: int = 60) -> str:
    text_value = "(none)" if value in (None, "") else str(value)
    return text_value if len(text_value) <= limit else text_value[: limit - 1] + "…"


@dataclass(frozen=True)
class LesionLink:
    """Who a lesion belongs to and where it is, shared by all its visits."""

    lesion_id: str
    patient_ref: str | None = None
    body_site: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CaseDetail:
    """A case with everything needed to review it: images, predictions, audit trail, other visits."""

    summary: CaseSummary
    note: str
    triage: dict
    checklist: dict | None
    verdict: Verdict | None
    verdict_by: str | None
    verdict_at: datetime | None
    images: tuple[CaseImage, ...]
    predictions: tuple[StoredPrediction, ...]
    audit: tuple[AuditEntry, ...]
    previous_visits: tuple[CaseSummary, ...]  # same lesion, earlier, oldest first
    later_visits: tuple[CaseSummary, ...]  # same lesion, later, oldest first
    lesion: LesionLink | None = None

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def prediction(self) -> StoredPrediction:
        """The prediction made when the case was created."""
        return self.predictions[0]

    def assessment(self) -> Assessment:
        """The stored red-flag assessment as a triage `Assessment` (for banners and highlights)."""
        return assessment_from_dict(self.triage)

    @property
    def red_flag_acknowledgement(self) -> AuditEntry | None:
        """The first time someone recorded reading this case's red flags, if anyone has."""
        return next((e for e in self.audit if e.action == "red_flag_acknowledged"), None)


@dataclass(frozen=True)
class QueueCounts:
    total: int
    by_status: dict[str, int]
    by_urgency: dict[str, int]
    open_by_urgency: dict[str, int]  # cases still awaiting a verdict, by red-flag level


@dataclass(frozen=True)
class LesionRef:
    lesion_id: str
    visits: int
    last_seen: datetime
    last_predicted: str


@dataclass(frozen=True)
class ConsistencyReport:
    """What `check()` found. `ok` means the database is intact and every referenced file exists."""

    integrity: str
    cases: int
    missing_files: tuple[str, ...]
    orphan_files: tuple[str, ...]
    temp_files: tuple[str, ...]
    removed: int = 0

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and not self.missing_files


def assessment_from_dict(data: dict) -> Assessment:
    """Rebuild an `Assessment` from `Assessment.to_dict()` output."""
    findings = tuple(
        Finding(finding=f["finding"], condition=f["condition"], level=f["level"],
                spans=tuple(tuple(span) for span in f.get("spans", ())), evidence=tuple(f.get("evidence", ())),
                detail=f.get("detail", ""))
        for f in data.get("findings", ()))
    return Assessment(level=data.get("level", "routine"), findings=findings, advice=tuple(data.get("advice", ())),
                      sources=tuple(data.get("sources", ())))


