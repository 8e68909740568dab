"""The case tables (SQLAlchemy ORM). The Alembic migrations in core/cases/migrations/ own the schema."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.accounts.roles import ROLES
from core.triage import LEVELS
from core.cases.vocabulary import AGREEMENTS, MANAGEMENTS, MAX_NAME_CHARS, STATUSES

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
    # Image-quality problems found at saving (core.vision.quality), e.g. ["blurred"]; None before revision 0005.
    quality_problems: Mapped[list | None] = mapped_column(JSON)

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




class LesionRow(Base):
    """A lesion followed across visits (cases share its lesion_id): which patient it belongs to and where it is."""

    __tablename__ = "lesions"

    lesion_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    patient_ref: Mapped[str | None] = mapped_column(String(64), index=True)  # the clinic's own pseudonymous reference
    body_site: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))


class QuizAnswerRow(Base):
    """One answer a trainee gave in the quiz: the per-user score history and its weak topics."""

    __tablename__ = "quiz_answers"
    __table_args__ = (CheckConstraint(_in("kind", ("knowledge", "image")), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(64))  # knowledge-base area, or the HAM10000 class shown
    question_id: Mapped[str] = mapped_column(String(255))
    correct: Mapped[bool] = mapped_column(Boolean)


class UserRow(Base):
    """A local account. Only the Argon2id hash of the password is kept."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, reset by a successful login
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSessionRow(Base):
    """A signed-in browser session. Only a SHA-256 of the session token is stored."""

    __tablename__ = "login_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("users.name"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountEventRow(Base):
    """The accounts' audit trail: sign-ins, refused sign-ins, and every change an administrator makes."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    detail: Mapped[str] = mapped_column(Text, default="")
