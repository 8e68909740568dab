"""CaseStore: saving analyses as cases, verdicts, the audit trail, the queue, export and checks."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import secrets
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TextIO, TypeVar

import numpy as np
from PIL import Image
from sqlalchemy import (
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from core.config import CLASSES, Settings
from core.text import storable
from core.vision.imaging import without_metadata
from core.triage import LEVELS, Assessment, level_rank
from core.cases.engine import create_case_engine, migrate, transient_error
from core.cases.errors import (
    CaseInputError,
    CaseNotFoundError,
    CaseStoreError,
    StaleCaseError,
    StorageBusyError,
)
from core.cases.records import (
    AuditEntry,
    CaseDetail,
    CaseImage,
    CaseSummary,
    ConsistencyReport,
    LesionLink,
    LesionRef,
    NewCase,
    QueueCounts,
    QueueFilter,
    StoredPrediction,
    Verdict,
)
from core.cases.schema import AuditRow, CaseRow, ImageRow, LesionRow, PredictionRow
from core.cases.vocabulary import (
    LESION_ID_PATTERN,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_PATIENT_REF_CHARS,
    SEXES,
    STATUSES,
)


def _pixel_digest(array: np.ndarray) -> str:
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


WRITE_ATTEMPTS = 8  # a busy write is retried this many times (with jittered back-off) before StorageBusyError
ORPHAN_MIN_AGE_S = 3600.0  # younger unreferenced files may belong to a save in progress
T = TypeVar("T")


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of an on-disk SQLite engine; None for PostgreSQL or an in-memory database."""
    if engine.url.get_backend_name() != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database).resolve()


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


class CaseStore:
    """The repository: every read and write of cases goes through here. Thread-safe."""

    def __init__(self, engine: Engine, image_store: Path):
        self.engine = engine
        self.image_store = image_store
        self._sqlite_file = sqlite_file(engine)
        self._sqlite_identity = _file_identity(self._sqlite_file) if self._sqlite_file else None
        self._reads = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(engine.execution_options(dermadesk_write=True), expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings) -> "CaseStore":
        """Connect to the configured database and apply any pending migrations."""
        engine = create_case_engine(settings)
        try:
            cls._retry(lambda: migrate(engine))
        except DBAPIError as exc:
            engine.dispose()
            raise CaseStoreError(f"Cannot open the case database ({engine.url.render_as_string(hide_password=True)}): "
                                 f"{str(exc.orig).strip().splitlines()[0]}") from None
        except CaseStoreError:
            engine.dispose()
            raise
        return cls(engine, settings.image_store)

    def close(self) -> None:
        self.engine.dispose()

    # --- transactions --------------------------------------------------------------------------

    @staticmethod
    def _retry(work: Callable[[], T]) -> T:
        delay = 0.01
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return work()
            except DBAPIError as exc:
                if not transient_error(exc):
                    raise
                if attempt == WRITE_ATTEMPTS:
                    raise StorageBusyError("The case database is busy with other users' changes and stayed locked "
                                           "through several retries. Nothing was saved; please try again.") from None
                time.sleep(delay * random.uniform(0.5, 1.5))  # jitter: retries of many writers spread out
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def _check_database_file(self) -> None:
        """SQLite keeps writing to a database file that was deleted or replaced while it was open, and
        everything written there is lost when the app stops: refuse instead, before anything is 'saved'."""
        if self._sqlite_file is None:
            return
        if _file_identity(self._sqlite_file) != self._sqlite_identity:
            raise CaseStoreError(
                f"The case database file {self._sqlite_file} was deleted, moved or replaced while DermaDesk was "
                "running. Nothing was saved, so that it cannot vanish with the old file. Restore the file (for "
                "example from a backup) or restart DermaDesk to start a new, empty database.")

    def run(self, work: Callable[[Session], T], *, write: bool) -> T:
        """`work(session)` in one transaction with this store's retries and checks, for the repositories of
        other tables that share the database (the quiz history)."""
        return self._run(work, write=write)

    def _run(self, work: Callable[[Session], T], *, write: bool) -> T:
        maker = self._writes if write else self._reads
        if write:
            self._check_database_file()

        def attempt() -> T:
            with maker.begin() as session:
                return work(session)

        try:
            return self._retry(attempt)
        except DBAPIError as exc:
            raise CaseStoreError(f"The case database refused the operation: {str(exc.orig).strip().splitlines()[0]}") from None

    # --- files ---------------------------------------------------------------------------------

    def _write_file(self, relative: str, data: bytes) -> None:
        """Write `data` to image_store/relative unless an identical (same-hash) file is already there.
        A folder that cannot be written (permissions, full disk) is reported as a CaseStoreError before
        anything reaches the database, so nothing half-saved is left behind."""
        try:
            self._write_file_unchecked(relative, data)
        except OSError as exc:
            raise CaseStoreError(
                f"Cannot write the case's image files to {self.image_store} ({exc.strerror or exc}). Nothing was "
                "saved. Check that the folder exists and is writable and that the disk has space "
                "(DERMADESK_DATA_DIR sets where it lives).") from None

    def _write_file_unchecked(self, relative: str, data: bytes) -> None:
        target = self.image_store / relative
        if target.exists():
            # Refresh the time stamp so an orphan sweep cannot take a file a new case is about to use.
            os.utime(target)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = self.image_store / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, target)  # atomic: the file is complete or absent
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def _store_image(self, image: Image.Image) -> tuple[str, int, int]:
        clean = without_metadata(image)
        sha = _pixel_digest(np.asarray(clean))
        self._write_file(self.image_relpath(sha), _png_bytes(clean))
        return sha, clean.width, clean.height

    def _store_heatmap(self, heatmap: np.ndarray, size: tuple[int, int]) -> str:
        heatmap = np.asarray(heatmap, dtype=np.float32)
        if heatmap.ndim != 2 or heatmap.shape[::-1] != size:
            raise CaseInputError(f"The heatmap is {heatmap.shape[::-1]} but the image is {size}; they must match.")
        if not np.isfinite(heatmap).all():
            raise CaseInputError("The heatmap contains non-finite values.")
        quantised = np.rint(np.clip(heatmap, 0.0, 1.0) * 255).astype(np.uint8)
        relative = f"heatmaps/{(sha := _pixel_digest(quantised))[:2]}/{sha}.png"
        self._write_file(relative, _png_bytes(Image.fromarray(quantised, mode="L")))
        return relative

    @staticmethod
    def image_relpath(sha256: str) -> str:
        return f"lesions/{sha256[:2]}/{sha256}.png"

    # --- writes --------------------------------------------------------------------------------

    def create_case(self, new: NewCase, actor: str) -> CaseSummary:
        """Save an analysis as a new case (status "open") and record who created it."""
        actor = check_actor(actor)
        fields_ = _validated_case_fields(new)
        prediction = new.prediction
        image_sha, width, height = self._store_image(new.image)
        heatmap_file = self._store_heatmap(new.heatmap, (width, height)) if new.heatmap is not None else None
        triage = (new.triage or Assessment("routine")).to_dict()
        checklist = None
        if new.checklist is not None:
            checklist = {"score": new.checklist.score, "refer": new.checklist.refer,
                         "present": [item.key for item in new.checklist.present]}

        def work(session: Session) -> CaseSummary:
            now = _utcnow()
            row = CaseRow(
                lesion_id=fields_["lesion_id"], created_at=now, updated_at=now, created_by=actor, status="open",
                urgency=triage["level"], predicted_class=prediction.predicted, confidence=float(prediction.confidence),
                source_name=fields_["source_name"], age=fields_["age"], sex=fields_["sex"], site=fields_["site"],
                note=fields_["note"], triage=triage, checklist=checklist,
                seven_point_score=checklist["score"] if checklist else None, version=1,
                quality_problems=list(new.quality_problems))
            image_row = ImageRow(position=0, sha256=image_sha, width=width, height=height,
                                 source_format=(new.source_format or "")[:16])
            row.images.append(image_row)
            session.add(row)
            session.flush()  # assigns the ids the prediction and audit rows refer to
            session.add(PredictionRow(
                case_id=row.id, image_id=image_row.id, created_at=now, model_version=prediction.model_version,
                probabilities={c: float(p) for c, p in prediction.probabilities.items()},
                predicted=prediction.predicted, confidence=float(prediction.confidence),
                low_confidence=bool(prediction.low_confidence),
                out_of_distribution=bool(prediction.out_of_distribution), ood_score=prediction.ood_score,
                heatmap_file=heatmap_file, heatmap_method=new.heatmap_method if heatmap_file else None,
                heatmap_target=(new.heatmap_target or prediction.predicted) if heatmap_file else None))
            if session.get(LesionRow, fields_["lesion_id"]) is None:
                session.add(LesionRow(lesion_id=fields_["lesion_id"], body_site=fields_["site"]))
            session.add(AuditRow(case_id=row.id, at=now, actor=actor, action="created", details={
                "source": fields_["source_name"], "predicted": prediction.predicted, "urgency": triage["level"],
                "model_version": prediction.model_version, "lesion_id": fields_["lesion_id"]}))
            return _summary(row)

        return self._run(work, write=True)

    def update_verdict(self, case_id: int, verdict: Verdict, expected_version: int, actor: str) -> CaseSummary:
        """Record the clinician's verdict; an open case becomes "reviewed". Refused on a stale version."""
        actor = check_actor(actor)

        def work(session: Session) -> CaseSummary:
            row = self._locked_row(session, case_id, expected_version)
            if row.status == "closed":
                raise CaseInputError(f"Case #{case_id} is closed; reopen it before changing the verdict.")
            new_values = {"verdict_diagnosis": verdict.diagnosis, "verdict_agreement": verdict.agreement,
                          "verdict_management": verdict.management, "verdict_comment": verdict.comment}
            changes = {name.removeprefix("verdict_"): [getattr(row, name), value]
                       for name, value in new_values.items() if getattr(row, name) != value}
            now = _utcnow()
            status = "reviewed" if row.status == "open" else row.status
            if status != row.status:
                changes["status"] = [row.status, status]
            self._bump(session, row, expected_version, now, **new_values, verdict_by=actor, verdict_at=now,
                       status=status)
            session.add(AuditRow(case_id=case_id, at=now, actor=actor, action="verdict", details={"changes": changes}))
            session.refresh(row)
            return _summary(row)

        return self._run(work, write=True)

    def set_status(self, case_id: int, status: str, expected_version: int, actor: str) -> CaseSummary:
        """Move a case between open, reviewed and closed (reopening is setting "open")."""
        actor = check_actor(actor)
        if status not in STATUSES:
            raise CaseInputError(f"Status must be one of {', '.join(STATUSES)}, not {status!r}.")

        def work(session: Session) -> CaseSummary:
            row = self._locked_row(session, case_id, expected_version)
            if row.status == status:
                return _summary(row)
            now = _utcnow()
            old = row.status
            self._bump(session, row, expected_version, now, status=status)
            session.add(AuditRow(case_id=case_id, at=now, actor=actor, action="status",
                                 details={"from": old, "to": status}))
            session.refresh(row)
            return _summary(row)

        return self._run(work, write=True)

    def acknowledge_red_flags(self, case_id: int, actor: str, level: str, findings: Sequence[str]) -> None:
        """Record in the audit trail that `actor` read the case's red flags. It changes nothing in the case
        (no version bump): an acknowledgement never conflicts with an edit."""
        actor = check_actor(actor)
        if level not in LEVELS:
            raise CaseInputError(f"Unknown red-flag level {level!r}.")

        def work(session: Session) -> None:
            if session.get(CaseRow, case_id) is None:
                raise CaseNotFoundError(f"There is no case #{case_id}.")
            session.add(AuditRow(case_id=case_id, at=_utcnow(), actor=actor, action="red_flag_acknowledged",
                                 details={"level": level, "findings": [storable(f) for f in findings]}))

        self._run(work, write=True)

    def _locked_row(self, session: Session, case_id: int, expected_version: int) -> CaseRow:
        row = session.get(CaseRow, case_id)
        if row is None:
            raise CaseNotFoundError(f"There is no case #{case_id}.")
        if row.version != expected_version:
            raise self._stale(session, case_id, expected_version, row.version)
        return row

    def _bump(self, session: Session, row: CaseRow, expected_version: int, now: datetime, **values: Any) -> None:
        # The version check is part of the UPDATE itself, so it holds even between two PostgreSQL
        # sessions that both read the old version (the second one's UPDATE matches no row).
        result = session.execute(
            update(CaseRow).where(CaseRow.id == row.id, CaseRow.version == expected_version)
            .values(**values, updated_at=now, version=expected_version + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            current = session.scalar(select(CaseRow.version).where(CaseRow.id == row.id))
            raise self._stale(session, row.id, expected_version, current or expected_version)

    @staticmethod
    def _stale(session: Session, case_id: int, expected: int, current: int) -> StaleCaseError:
        last = session.scalars(select(AuditRow).where(AuditRow.case_id == case_id)
                               .order_by(AuditRow.id.desc()).limit(1)).first()
        return StaleCaseError(case_id, expected, current, last.actor if last else None, last.at if last else None,
                              last.action if last else None)

    # --- reads ---------------------------------------------------------------------------------

    def get_case(self, case_id: int) -> CaseDetail:
        def work(session: Session) -> CaseDetail:
            row = session.scalars(select(CaseRow).where(CaseRow.id == case_id).options(
                selectinload(CaseRow.images), selectinload(CaseRow.predictions), selectinload(CaseRow.audit))).first()
            if row is None:
                raise CaseNotFoundError(f"There is no case #{case_id}.")
            visits = session.scalars(select(CaseRow).where(CaseRow.lesion_id == row.lesion_id, CaseRow.id != row.id)
                                     .order_by(CaseRow.created_at, CaseRow.id)).all()
            lesion = session.get(LesionRow, row.lesion_id)
            verdict = None
            if row.verdict_diagnosis:
                verdict = Verdict(row.verdict_diagnosis, row.verdict_agreement or "", row.verdict_management or "",
                                  row.verdict_comment or "")
            return CaseDetail(
                summary=_summary(row), note=row.note, triage=row.triage, checklist=row.checklist, verdict=verdict,
                verdict_by=row.verdict_by, verdict_at=row.verdict_at,
                images=tuple(CaseImage(i.sha256, self.image_store / self.image_relpath(i.sha256), i.width, i.height,
                                       i.source_format) for i in row.images),
                predictions=tuple(self._prediction(p) for p in row.predictions),
                audit=tuple(AuditEntry(a.at, a.actor, a.action, a.details) for a in row.audit),
                previous_visits=tuple(_summary(v) for v in visits if (v.created_at, v.id) < (row.created_at, row.id)),
                later_visits=tuple(_summary(v) for v in visits if (v.created_at, v.id) > (row.created_at, row.id)),
                lesion=_lesion_link(lesion) if lesion is not None else LesionLink(row.lesion_id, body_site=row.site))

        return self._run(work, write=False)

    def link_lesion(self, case_id: int, patient_ref: str | None, body_site: str | None, actor: str) -> LesionLink:
        """Link the lesion of case `case_id` (and so all its visits) to a patient reference and a body site; the
        change is recorded in that case's audit trail."""
        actor = check_actor(actor)
        patient_ref = (patient_ref or "").strip() or None
        body_site = (body_site or "").strip().lower() or None
        if patient_ref is not None and len(patient_ref) > MAX_PATIENT_REF_CHARS:
            raise CaseInputError(f"A patient reference has at most {MAX_PATIENT_REF_CHARS} characters.")
        if body_site is not None and len(body_site) > 32:
            raise CaseInputError("A body site has at most 32 characters.")

        def work(session: Session) -> LesionLink:
            row = session.get(CaseRow, case_id)
            if row is None:
                raise CaseNotFoundError(f"There is no case #{case_id}.")
            lesion = session.get(LesionRow, row.lesion_id)
            if lesion is None:
                lesion = LesionRow(lesion_id=row.lesion_id)
                session.add(lesion)
            now = _utcnow()
            lesion.patient_ref, lesion.body_site, lesion.updated_at, lesion.updated_by = patient_ref, body_site, now, actor
            session.add(AuditRow(case_id=case_id, at=now, actor=actor, action="lesion_linked",
                                 details={"lesion_id": row.lesion_id, "patient_ref": patient_ref, "body_site": body_site}))
            session.flush()
            return _lesion_link(lesion)

        return self._run(work, write=True)

    def lesions_of_patient(self, patient_ref: str) -> list[LesionLink]:
        """Every lesion linked to `patient_ref`, by lesion id."""
        def work(session: Session) -> list[LesionLink]:
            rows = session.scalars(select(LesionRow).where(LesionRow.patient_ref == patient_ref.strip())
                                   .order_by(LesionRow.lesion_id)).all()
            return [_lesion_link(r) for r in rows]

        return self._run(work, write=False)

    def _prediction(self, p: PredictionRow) -> StoredPrediction:
        return StoredPrediction(
            created_at=p.created_at, model_version=p.model_version, probabilities=dict(p.probabilities),
            predicted=p.predicted, confidence=p.confidence, low_confidence=p.low_confidence,
            out_of_distribution=p.out_of_distribution, ood_score=p.ood_score,
            heatmap_path=self.image_store / p.heatmap_file if p.heatmap_file else None,
            heatmap_method=p.heatmap_method, heatmap_target=p.heatmap_target)

    def list_cases(self, queue_filter: QueueFilter | None = None) -> list[CaseSummary]:
        """The queue: most urgent first, then newest first."""
        query = _filtered(select(CaseRow).options(selectinload(CaseRow.predictions)), queue_filter or QueueFilter()).order_by(
            _urgency_order().desc(), CaseRow.created_at.desc(), CaseRow.id.desc())
        if queue_filter and queue_filter.limit:
            query = query.limit(queue_filter.limit)
        return self._run(lambda s: [_summary(r) for r in s.scalars(query)], write=False)

    def image_paths(self, case_ids: Sequence[int]) -> dict[int, Path]:
        """Where the first image of each case lies in the image store (for thumbnails), in one query."""
        def work(session: Session) -> dict[int, Path]:
            rows = session.execute(select(ImageRow.case_id, ImageRow.sha256)
                                   .where(ImageRow.case_id.in_(list(case_ids)), ImageRow.position == 0)).all()
            return {case_id: self.image_store / self.image_relpath(sha) for case_id, sha in rows}

        return self._run(work, write=False) if case_ids else {}

    def counts(self) -> QueueCounts:
        """Cases in the whole queue by status and by red-flag level."""
        def work(session: Session) -> QueueCounts:
            cells = session.execute(select(CaseRow.status, CaseRow.urgency, func.count())
                                    .group_by(CaseRow.status, CaseRow.urgency)).all()
            by_status = {status: 0 for status in STATUSES}
            by_urgency = {level: 0 for level in reversed(LEVELS)}
            open_by_urgency = dict(by_urgency)
            for status, urgency, count in cells:
                by_status[status] += count
                by_urgency[urgency] += count
                if status == "open":
                    open_by_urgency[urgency] += count
            return QueueCounts(sum(by_status.values()), by_status, by_urgency, open_by_urgency)

        return self._run(work, write=False)

    def list_lesions(self, limit: int = 500) -> list[LesionRef]:
        """Lesions seen so far, most recently seen first (to link a new visit to an earlier one)."""
        def work(session: Session) -> list[LesionRef]:
            last = (select(CaseRow.lesion_id, func.count().label("visits"), func.max(CaseRow.id).label("last_id"))
                    .group_by(CaseRow.lesion_id).subquery())
            rows = session.execute(select(last.c.lesion_id, last.c.visits, CaseRow.created_at, CaseRow.predicted_class)
                                   .join(CaseRow, CaseRow.id == last.c.last_id)
                                   .order_by(CaseRow.created_at.desc()).limit(limit)).all()
            return [LesionRef(r[0], int(r[1]), r[2], r[3]) for r in rows]

        return self._run(work, write=False)

    def export_csv(self, out: TextIO, queue_filter: QueueFilter | None = None) -> int:
        """Write the (filtered) queue as CSV, one row per case with its probabilities. Returns the row count."""
        query = _filtered(select(CaseRow).options(selectinload(CaseRow.predictions)), queue_filter or QueueFilter()).order_by(CaseRow.id).options(
            selectinload(CaseRow.predictions), selectinload(CaseRow.images))

        def work(session: Session) -> list[list[Any]]:
            rows = []
            for r in session.scalars(query):
                first = r.predictions[0] if r.predictions else None
                probabilities = first.probabilities if first else {}
                rows.append([
                    r.id, r.lesion_id, r.created_at.isoformat(timespec="seconds"), r.created_by, r.status, r.urgency,
                    r.predicted_class, f"{r.confidence:.4f}", *(f"{probabilities.get(c, 0.0):.4f}" for c in CLASSES),
                    first.model_version if first else "", r.age if r.age is not None else "", r.sex or "",
                    r.site or "", r.seven_point_score if r.seven_point_score is not None else "",
                    r.verdict_diagnosis or "", r.verdict_agreement or "", r.verdict_management or "",
                    r.verdict_comment or "", r.verdict_by or "",
                    r.verdict_at.isoformat(timespec="seconds") if r.verdict_at else "",
                    r.source_name, r.images[0].sha256 if r.images else "", r.note, r.version,
                    _summary(r).image_check])
            return rows

        rows = self._run(work, write=False)
        writer = csv.writer(out)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow([_spreadsheet_safe(v) for v in row])
        return len(rows)

    # --- maintenance ---------------------------------------------------------------------------

    def check(self, remove_orphans: bool = False, min_age_s: float = ORPHAN_MIN_AGE_S) -> ConsistencyReport:
        """Verify the database and the image store agree.

        Missing files (referenced but absent) are errors. Orphan files (present but referenced by no
        case, e.g. left by a process killed between writing the file and committing) are harmless;
        with `remove_orphans` those older than `min_age_s` are deleted, as are stale temp files.
        """
        def work(session: Session) -> tuple[str, int, set[str]]:
            if session.bind.dialect.name == "sqlite":
                integrity = "; ".join(r[0] for r in session.execute(text("PRAGMA integrity_check")))
                bad_refs = session.execute(text("PRAGMA foreign_key_check")).all()
                if bad_refs:
                    integrity += f"; {len(bad_refs)} broken reference(s)"
            else:
                integrity = "ok"
            cases = session.scalar(select(func.count()).select_from(CaseRow)) or 0
            referenced = {self.image_relpath(sha) for sha in session.scalars(select(ImageRow.sha256))}
            referenced |= set(session.scalars(select(PredictionRow.heatmap_file)
                                              .where(PredictionRow.heatmap_file.is_not(None))))
            return integrity, cases, referenced

        integrity, cases, referenced = self._run(work, write=False)
        on_disk = {p.relative_to(self.image_store).as_posix()
                   for folder in ("lesions", "heatmaps") if (self.image_store / folder).is_dir()
                   for p in (self.image_store / folder).rglob("*.png")}
        temp = sorted(p.relative_to(self.image_store).as_posix() for p in (self.image_store / "tmp").glob("*.part")) \
            if (self.image_store / "tmp").is_dir() else []
        orphans = sorted(on_disk - referenced)
        removed = 0
        if remove_orphans:
            cutoff = time.time() - min_age_s
            for relative in [*orphans, *temp]:
                path = self.image_store / relative
                if path.stat().st_mtime <= cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return ConsistencyReport(integrity=integrity, cases=int(cases), missing_files=tuple(sorted(referenced - on_disk)),
                                 orphan_files=tuple(orphans), temp_files=tuple(temp), removed=removed)


EXPORT_COLUMNS = ("case_id", "lesion_id", "created_at", "created_by", "status", "urgency", "predicted", "confidence",
                  *(f"p_{c}" for c in CLASSES), "model_version", "age", "sex", "site", "seven_point_score",
                  "verdict_diagnosis", "verdict_agreement", "verdict_management", "verdict_comment", "verdict_by",
                  "verdict_at", "source_name", "image_sha256", "note", "version", "image_check")


def _spreadsheet_safe(value: Any) -> Any:
    # Free text starting with = + - @ would run as a formula when the CSV is opened in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _urgency_order():
    return case({level: rank for rank, level in enumerate(LEVELS)}, value=CaseRow.urgency, else_=-1)


def _filtered(query, f: QueueFilter):
    if f.statuses:
        query = query.where(CaseRow.status.in_(f.statuses))
    if f.urgencies:
        query = query.where(CaseRow.urgency.in_(f.urgencies))
    if f.predicted:
        query = query.where(CaseRow.predicted_class.in_(f.predicted))
    if f.created_from:
        query = query.where(CaseRow.created_at >= datetime.combine(f.created_from, datetime.min.time(), timezone.utc))
    if f.created_to:
        end = datetime.combine(f.created_to + timedelta(days=1), datetime.min.time(), timezone.utc)
        query = query.where(CaseRow.created_at < end)
    if f.lesion_id:
        query = query.where(CaseRow.lesion_id == f.lesion_id.strip())
    return query


def _lesion_link(r: LesionRow) -> LesionLink:
    return LesionLink(r.lesion_id, r.patient_ref, r.body_site, r.updated_by, r.updated_at)


def _summary(r: CaseRow) -> CaseSummary:
    return CaseSummary(
        id=r.id, lesion_id=r.lesion_id, created_at=r.created_at, updated_at=r.updated_at, created_by=r.created_by,
        status=r.status, urgency=r.urgency, predicted_class=r.predicted_class, confidence=r.confidence,
        source_name=r.source_name, age=r.age, sex=r.sex, site=r.site, seven_point_score=r.seven_point_score,
        verdict_diagnosis=r.verdict_diagnosis, verdict_agreement=r.verdict_agreement,
        verdict_management=r.verdict_management, version=r.version,
        not_a_lesion_image=any(p.out_of_distribution for p in r.predictions),
        quality_problems=tuple(r.quality_problems or ()))


def check_actor(actor: str) -> str:
    """The name to record in the audit trail, stripped; refused when empty or too long."""
    if not isinstance(actor, str) or not actor.strip():
        raise CaseInputError("Enter your name first: every change to a case records who made it.")
    if len(actor.strip()) > MAX_NAME_CHARS:
        raise CaseInputError(f"The name is longer than {MAX_NAME_CHARS} characters.")
    return storable(actor.strip())


def new_lesion_id() -> str:
    return f"L-{secrets.token_hex(4).upper()}"


def _validated_case_fields(new: NewCase) -> dict[str, Any]:
    prediction = new.prediction
    if set(prediction.probabilities) != set(CLASSES):
        raise CaseInputError(f"The prediction must give a probability for each of {', '.join(CLASSES)}.")
    if prediction.predicted not in CLASSES:
        raise CaseInputError(f"Unknown predicted class {prediction.predicted!r}.")
    if new.age is not None and (isinstance(new.age, bool) or not isinstance(new.age, (int, np.integer))
                                or not 0 <= int(new.age) <= 120):
        raise CaseInputError(f"Age must be a whole number of years from 0 to 120, not {new.age!r}.")
    sex = None if new.sex in (None, "", "unknown") else new.sex
    if sex is not None and sex not in SEXES:
        raise CaseInputError(f"Sex must be one of {', '.join(SEXES)} or unknown, not {new.sex!r}.")
    site = None if new.site in (None, "", "unknown") else str(new.site).strip()[:32]
    if not isinstance(new.note, str) or len(new.note) > MAX_NOTE_CHARS:
        raise CaseInputError(f"The clinical note must be text of at most {MAX_NOTE_CHARS} characters.")
    lesion_id = (new.lesion_id or "").strip() or new_lesion_id()
    if not LESION_ID_PATTERN.match(lesion_id):
        raise CaseInputError("A lesion identifier is 1 to 64 letters, digits, dots, dashes or underscores "
                             f"(got {lesion_id!r}).")
    return {"lesion_id": lesion_id, "age": None if new.age is None else int(new.age), "sex": sex, "site": site,
            "note": storable(new.note), "source_name": storable(Path(new.source_name or "").name[:255])}


def urgency_sort_key(urgency: str, malignant: float) -> tuple[int, float]:
    """Sort key putting the most urgent, then the most suspicious, first."""
    return (-level_rank(urgency), -malignant)


def summaries_table(summaries: Sequence[CaseSummary]) -> list[dict[str, Any]]:
    """Queue rows as plain dicts (for tables in the UI and the CLI)."""
    return [{"case": s.id, "urgency": s.urgency, "status": s.status, "image check": s.image_check,
             "predicted": "not a lesion image?" if s.not_a_lesion_image else
                          f"{s.predicted_class} (poor image)" if s.quality_problems else s.predicted_class,
             "confidence": round(s.confidence, 3), "7-point": s.seven_point_score, "verdict": s.verdict_diagnosis or "",
             "management": s.verdict_management or "", "lesion": s.lesion_id, "age": s.age, "sex": s.sex or "",
             "site": s.site or "", "created": s.created_at.strftime("%Y-%m-%d %H:%M"), "source": s.source_name}
            for s in summaries]
