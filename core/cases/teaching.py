"""Teaching cases: reviewed cases with a clinician's verdict, stripped of everything that could identify the
patient or the clinicians, for educators (who may not open patient cases).

Kept: the image (stored without EXIF, GPS or ICC data), the model's probabilities, the verdict's diagnosis,
agreement and management, sex, body site, and age in ten-year bands. Dropped: case number, lesion id,
patient reference, dates, file name, clinical note, verdict comment, names, audit trail and red-flag text."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.cases.schema import CaseRow, ImageRow
from core.cases.store import CaseStore

TEACHING_STATUSES = ("reviewed", "closed")


@dataclass(frozen=True)
class TeachingCase:
    reference: str  # e.g. "T-3F9A1C": stable for one salt, and without the salt it does not give the case number
    image_path: Path
    probabilities: dict[str, float]
    predicted: str
    diagnosis: str  # the clinician's verdict
    agreement: str
    management: str
    sex: str | None
    age_band: str | None  # "40-49"; ages of 90 and over are one band ("90+")
    site: str | None
    not_a_lesion_image: bool
    quality_problems: tuple[str, ...]


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    if age >= 90:
        return "90+"
    low = (age // 10) * 10
    return f"{low}-{low + 9}"


def _reference(salt: str, case_id: int) -> str:
    return "T-" + hashlib.sha256(f"{salt}:{case_id}".encode()).hexdigest()[:6].upper()


def teaching_cases(store: CaseStore, salt: str, limit: int = 200) -> list[TeachingCase]:
    """Reviewed or closed cases with a verdict, newest first, de-identified. `salt` is a secret (e.g. random per
    server process) that keeps the references from being matched back to case numbers."""
    def work(session) -> list[TeachingCase]:
        rows = session.scalars(
            select(CaseRow).where(CaseRow.status.in_(TEACHING_STATUSES), CaseRow.verdict_diagnosis.is_not(None))
            .options(selectinload(CaseRow.predictions), selectinload(CaseRow.images))
            .order_by(CaseRow.updated_at.desc(), CaseRow.id.desc()).limit(limit)).all()
        out = []
        for row in rows:
            first_image: ImageRow | None = min(row.images, key=lambda i: i.position, default=None)
            if first_image is None or not row.predictions:
                continue
            prediction = row.predictions[0]
            out.append(TeachingCase(
                reference=_reference(salt, row.id),
                image_path=store.image_store / store.image_relpath(first_image.sha256),
                probabilities=dict(prediction.probabilities), predicted=prediction.predicted,
                diagnosis=row.verdict_diagnosis, agreement=row.verdict_agreement or "",
                management=row.verdict_management or "", sex=row.sex, age_band=age_band(row.age), site=row.site,
                not_a_lesion_image=any(p.out_of_distribution for p in row.predictions),
                quality_problems=tuple(row.quality_problems or ())))
        return out

    return store.run(work, write=False)
