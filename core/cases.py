"""Case storage: analyses saved as cases, clinician verdicts, an append-only audit trail.

One code path for both back ends: an SQLite file at `Settings.cases_db` by default (WAL mode, busy
timeout, write transactions taken with BEGIN IMMEDIATE and retried, so "database is locked" never
reaches a user), or PostgreSQL when `Settings.database_url` is set. The schema is owned by the Alembic
migrations in `core/migrations/`, applied when a store is opened.

Images never go into database rows. They are re-encoded from the decoded RGB pixels (so no EXIF or
other metadata survives) and written under `Settings.image_store`, named by the SHA-256 of their
pixels, so the same image saved twice is stored once. A save writes the files first (temp file +
rename, so a file is either complete or absent) and then inserts every row of the case in one
transaction: a process killed half-way leaves at most an unreferenced file, which `check()` reports
and can remove, never half a case.

Edits use optimistic locking: each case has a version number; a change names the version it was
based on, and a change based on an outdated version is refused with `StaleCaseError`.

    store = CaseStore.open(Settings.from_env())
    summary = store.create_case(NewCase(image=..., prediction=...), actor="Dr Lee")
    store.update_verdict(summary.id, Verdict("mel", "agree", "excise"), summary.version, actor="Dr Lee")
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import numpy as np
from PIL import Image
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    case,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload, sessionmaker

from .checklist import ChecklistResult
from .config import CLASS_NAMES, CLASSES, MALIGNANT, Settings
from .triage import LEVELS, Assessment, Finding, level_rank

if TYPE_CHECKING:
    from .classifier import Prediction

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

STATUSES: tuple[str, ...] = ("open", "reviewed", "closed")
AGREEMENTS: dict[str, str] = {
    "agree": "Agrees with the model",
    "partly": "Partly agrees with the model",
    "disagree": "Disagrees with the model",
}
MANAGEMENTS: dict[str, str] = {
    "reassure": "Reassure and discharge",
    "monitor": "Monitor (follow-up review)",
    "biopsy": "Biopsy",
    "excise": "Excise",
    "refer": "Refer to a specialist",
}
SEXES: tuple[str, ...] = ("female", "male")

BUSY_TIMEOUT_S = 5.0  # SQLite waits this long for a lock before reporting busy; then we retry
WRITE_ATTEMPTS = 8
MIGRATION_LOCK_KEY = 0x44_45_52_4D  # PostgreSQL advisory lock held while migrating ("DERM")
ORPHAN_MIN_AGE_S = 3600.0  # younger unreferenced files may belong to a save in progress
LESION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTE_CHARS = 20_000
MAX_COMMENT_CHARS = 10_000
MAX_NAME_CHARS = 120

T = TypeVar("T")


# ----------------------------------------------------------------------------------------------
# Errors: every message is written for the person using the app
# ----------------------------------------------------------------------------------------------


class CaseStoreError(Exception):
    """The case store cannot do what was asked; the message says why and what to do."""


class CaseInputError(CaseStoreError, ValueError):
    """A value given for a case or verdict is not acceptable."""


class CaseNotFoundError(CaseStoreError, LookupError):
    """No case has that number."""


class StorageBusyError(CaseStoreError):
    """The database stayed locked by other writers through every retry; nothing was saved."""


class StaleCaseError(CaseStoreError):
    """The case changed after the caller read it; the caller's change was not saved."""

    def __init__(self, case_id: int, expected_version: int, current_version: int,
                 changed_by: str | None, changed_at: datetime | None, action: str | None):
        self.case_id = case_id
        self.expected_version = expected_version
        self.current_version = current_version
        who = f" by {changed_by}" if changed_by else ""
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else ""
        what = f" ({action})" if action else ""
        super().__init__(
            f"Case #{case_id} was changed{who}{when}{what} after you opened it (you were editing version "
            f"{expected_version}; it is now version {current_version}). Your change was NOT saved, so nothing "
            "was overwritten. Reload the case to see the current version, then enter your change again.")


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------

# Deterministic constraint names, so the migrations and the models agree on every back end.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes in Python, stored as naive UTC (identical on SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: Iterable[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("urgency", LEVELS), name="urgency"),
        CheckConstraint(f"verdict_agreement IS NULL OR {_in('verdict_agreement', AGREEMENTS)}", name="agreement"),
        CheckConstraint(f"verdict_management IS NULL OR {_in('verdict_management', MANAGEMENTS)}", name="management"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesion_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    status: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[str] = mapped_column(String(16), index=True)
    # The model's top class and its probability at the time of analysis, kept on the case for the queue.
    predicted_class: Mapped[str] = mapped_column(String(16), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    source_name: Mapped[str] = mapped_column(String(255))
    age: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(16))
    site: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    triage: Mapped[dict] = mapped_column(JSON)
    checklist: Mapped[dict | None] = mapped_column(JSON)
    seven_point_score: Mapped[int | None] = mapped_column(Integer)
    verdict_diagnosis: Mapped[str | None] = mapped_column(String(200))
    verdict_agreement: Mapped[str | None] = mapped_column(String(16))
    verdict_management: Mapped[str | None] = mapped_column(String(16))
    verdict_comment: Mapped[str | None] = mapped_column(Text)
    verdict_by: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    verdict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    images: Mapped[list[ImageRow]] = relationship(order_by="ImageRow.position")
    predictions: Mapped[list[PredictionRow]] = relationship(order_by="PredictionRow.id")
    audit: Mapped[list[AuditRow]] = relationship(order_by="AuditRow.id")


class ImageRow(Base):
    """An image of the case's visit; the pixels live in the image store under their hash."""

    __tablename__ = "case_images"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    source_format: Mapped[str] = mapped_column(String(16))


class PredictionRow(Base):
    __tablename__ = "predictions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("case_images.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model_version: Mapped[str] = mapped_column(String(120))
    probabilities: Mapped[dict] = mapped_column(JSON)
    predicted: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    low_confidence: Mapped[bool] = mapped_column(Boolean)
    out_of_distribution: Mapped[bool] = mapped_column(Boolean)
    ood_score: Mapped[float | None] = mapped_column(Float)
    # Path of the heatmap PNG relative to the image store (None when no heatmap was computed).
    heatmap_file: Mapped[str | None] = mapped_column(String(200))
    heatmap_method: Mapped[str | None] = mapped_column(String(32))
    heatmap_target: Mapped[str | None] = mapped_column(String(16))


class AuditRow(Base):
    """One change to a case. Database triggers refuse UPDATE and DELETE on this table."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON)


# ----------------------------------------------------------------------------------------------
# Values crossing the API
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    """Everything an analysis produced, ready to be saved as a case.

    `triage` is the combined red-flag assessment (note, checklist and classifier); `heatmap` is a
    float array in [0, 1] on the image's pixel grid for class `heatmap_target`, made by the method named
    `heatmap_method` (its display name, e.g. "Grad-CAM", as the clinician saw it). `lesion_id` links
    this visit to earlier visits of the same lesion; None starts a new lesion.
    """

    image: Image.Image
    prediction: Prediction
    source_name: str = ""
    source_format: str = ""
    heatmap: np.ndarray | None = None
    heatmap_method: str = "Grad-CAM"  # the method's name as shown to the clinician
    heatmap_target: str | None = None
    triage: Assessment | None = None
    checklist: ChecklistResult | None = None
    age: int | None = None
    sex: str | None = None
    site: str | None = None
    note: str = ""
    lesion_id: str | None = None


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
        object.__setattr__(self, "diagnosis", self.diagnosis.strip())

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


@dataclass(frozen=True)
class CaseImage:
    sha256: str
    path: Path
    width: int
    height: int
    source_format: str


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
        from .classifier import Prediction

        return Prediction(probabilities=dict(self.probabilities), predicted=self.predicted, confidence=self.confidence,
                          low_confidence=self.low_confidence, model_version=self.model_version,
                          out_of_distribution=self.out_of_distribution, ood_score=self.ood_score)

    def heatmap(self) -> np.ndarray | None:
        """The stored heatmap as float32 in [0, 1], or None if none was saved."""
        if self.heatmap_path is None:
            return None
        with Image.open(self.heatmap_path) as img:
            return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


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
        return f"{self.action}: {d}"


def _short(value: Any, limit: int = 60) -> str:
    text_value = "(none)" if value in (None, "") else str(value)
    return text_value if len(text_value) <= limit else text_value[: limit - 1] + "…"


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


# ----------------------------------------------------------------------------------------------
# Engine, migrations, retries
# ----------------------------------------------------------------------------------------------


def database_url(settings: Settings) -> str:
    return settings.database_url or f"sqlite:///{settings.cases_db}"


def create_case_engine(settings: Settings) -> Engine:
    """An engine for the configured database, with SQLite set up for many concurrent writers."""
    try:
        url = make_url(database_url(settings))
    except ArgumentError:
        raise CaseStoreError("DERMADESK_DATABASE_URL is not a valid database URL "
                             "(expected e.g. postgresql+psycopg://user:password@host/dbname).") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # the driver pinned in requirements.txt
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise CaseStoreError(f"Unsupported case database {backend!r}: use SQLite (the default) or PostgreSQL.")
    pool = {"pool_size": 10, "max_overflow": 30, "pool_timeout": 60}
    if backend == "postgresql":
        try:
            return create_engine(url, pool_pre_ping=True, **pool)
        except NoSuchModuleError as exc:
            raise CaseStoreError(f"The database driver is not installed: {exc}.") from None

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **pool)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        # Take over transaction control from the sqlite3 module, so that BEGIN is ours (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor it them
        cursor.execute("PRAGMA synchronous=FULL")  # a committed case survives a power cut
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # A write transaction takes the write lock at BEGIN: a deferred one that read first could not
        # upgrade once another writer had committed, and would fail at once instead of waiting.
        write = connection.get_execution_options().get("dermadesk_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _transient(exc: DBAPIError) -> bool:
    """Lock contention that a retry resolves (SQLite busy/locked, PostgreSQL serialization or deadlock)."""
    if getattr(exc.orig, "sqlstate", None) in ("40001", "40P01", "55P03"):
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message or "database table is locked" in message


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe when several processes open an empty database at once."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    with engine.connect() as connection:
        if revision == "head" and set(MigrationContext.configure(connection).get_current_heads()) == heads:
            return
    # One migrator at a time: SQLite's BEGIN IMMEDIATE or a PostgreSQL advisory lock; both back ends
    # run DDL inside the transaction, so a failed migration leaves the schema as it was.
    with engine.execution_options(dermadesk_write=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Undo migrations down to `revision` (for tests and for rolling back a release)."""
    from alembic import command

    with engine.execution_options(dermadesk_write=True).begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


# ----------------------------------------------------------------------------------------------
# Files: content-addressed, written atomically
# ----------------------------------------------------------------------------------------------


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


class CaseStore:
    """The repository: every read and write of cases goes through here. Thread-safe."""

    def __init__(self, engine: Engine, image_store: Path):
        self.engine = engine
        self.image_store = image_store
        self._reads = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(engine.execution_options(dermadesk_write=True), expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings | None = None) -> "CaseStore":
        """Connect to the configured database and apply any pending migrations."""
        settings = settings or Settings.from_env()
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
                if not _transient(exc):
                    raise
                if attempt == WRITE_ATTEMPTS:
                    raise StorageBusyError("The case database is busy with other users' changes and stayed locked "
                                           "through several retries. Nothing was saved; please try again.") from None
                time.sleep(delay * random.uniform(0.5, 1.5))  # jitter: retries of many writers spread out
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def _run(self, work: Callable[[Session], T], *, write: bool) -> T:
        maker = self._writes if write else self._reads

        def attempt() -> T:
            with maker.begin() as session:
                return work(session)

        try:
            return self._retry(attempt)
        except DBAPIError as exc:
            raise CaseStoreError(f"The case database refused the operation: {str(exc.orig).strip().splitlines()[0]}") from None

    # --- files ---------------------------------------------------------------------------------

    def _write_file(self, relative: str, data: bytes) -> None:
        """Write `data` to image_store/relative unless an identical (same-hash) file is already there."""
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
        # A fresh RGB image built from the pixels alone: no EXIF, ICC profile or text chunks survive.
        pixels = np.asarray(image.convert("RGB"))
        clean = Image.fromarray(pixels, mode="RGB")
        sha = _pixel_digest(pixels)
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
                seven_point_score=checklist["score"] if checklist else None, version=1)
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
                later_visits=tuple(_summary(v) for v in visits if (v.created_at, v.id) > (row.created_at, row.id)))

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
        query = _filtered(select(CaseRow), queue_filter or QueueFilter()).order_by(
            _urgency_order().desc(), CaseRow.created_at.desc(), CaseRow.id.desc())
        if queue_filter and queue_filter.limit:
            query = query.limit(queue_filter.limit)
        return self._run(lambda s: [_summary(r) for r in s.scalars(query)], write=False)

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
        query = _filtered(select(CaseRow), queue_filter or QueueFilter()).order_by(CaseRow.id).options(
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
                    r.source_name, r.images[0].sha256 if r.images else "", r.note, r.version])
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
                  "verdict_at", "source_name", "image_sha256", "note", "version")


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


def _summary(r: CaseRow) -> CaseSummary:
    return CaseSummary(
        id=r.id, lesion_id=r.lesion_id, created_at=r.created_at, updated_at=r.updated_at, created_by=r.created_by,
        status=r.status, urgency=r.urgency, predicted_class=r.predicted_class, confidence=r.confidence,
        source_name=r.source_name, age=r.age, sex=r.sex, site=r.site, seven_point_score=r.seven_point_score,
        verdict_diagnosis=r.verdict_diagnosis, verdict_agreement=r.verdict_agreement,
        verdict_management=r.verdict_management, version=r.version)


def check_actor(actor: str) -> str:
    """The name to record in the audit trail, stripped; refused when empty or too long."""
    if not isinstance(actor, str) or not actor.strip():
        raise CaseInputError("Enter your name first: every change to a case records who made it.")
    if len(actor.strip()) > MAX_NAME_CHARS:
        raise CaseInputError(f"The name is longer than {MAX_NAME_CHARS} characters.")
    return actor.strip()


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
            "note": new.note, "source_name": Path(new.source_name or "").name[:255]}


def malignant_probability(probabilities: dict[str, float]) -> float:
    return sum(p for c, p in probabilities.items() if c in MALIGNANT)


def urgency_sort_key(urgency: str, malignant: float) -> tuple[int, float]:
    """Sort key putting the most urgent, then the most suspicious, first."""
    return (-level_rank(urgency), -malignant)


def summaries_table(summaries: Sequence[CaseSummary]) -> list[dict[str, Any]]:
    """Queue rows as plain dicts (for tables in the UI and the CLI)."""
    return [{"case": s.id, "urgency": s.urgency, "status": s.status, "predicted": s.predicted_class,
             "confidence": round(s.confidence, 3), "7-point": s.seven_point_score, "verdict": s.verdict_diagnosis or "",
             "management": s.verdict_management or "", "lesion": s.lesion_id, "age": s.age, "sex": s.sex or "",
             "site": s.site or "", "created": s.created_at.strftime("%Y-%m-%d %H:%M"), "source": s.source_name}
            for s in summaries]
