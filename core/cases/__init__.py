"""Case storage: analyses saved as cases, clinician verdicts, an append-only audit trail.

One code path for both back ends: an SQLite file at `Settings.cases_db` by default (WAL mode, busy
timeout, write transactions taken with BEGIN IMMEDIATE and retried, so "database is locked" never
reaches a user), or PostgreSQL when `Settings.database_url` is set. The schema is owned by the Alembic
migrations in `core/cases/migrations/`, applied when a store is opened.

Images never go into database rows. They are re-encoded from the decoded RGB pixels (so no EXIF or
other metadata survives) and written under `Settings.image_store`, named by the SHA-256 of their
pixels, so the same image saved twice is stored once. A save writes the files first (temp file +
rename, so a file is either complete or absent) and then inserts every row of the case in one
transaction: a process killed half-way leaves at most an unreferenced file, which `check()` reports
and can remove, never half a case.

Edits use optimistic locking: each case has a version number; a change names the version it was
based on, and a change based on an outdated version is refused with `StaleCaseError`.

    store = CaseStore.open(settings)   # the Settings built at the entry point
    summary = store.create_case(NewCase(image=..., prediction=...), actor="Dr Lee")
    store.update_verdict(summary.id, Verdict("mel", "agree", "excise"), summary.version, actor="Dr Lee")

Modules: `vocabulary` (statuses, verdict choices, limits), `errors`, `schema` (ORM tables), `records`
(the values crossing the API), `engine` (database engine, migrations, retries), `store` (CaseStore),
`batch` (many images in, one case each).
"""
from __future__ import annotations

from core.cases.engine import create_case_engine, database_url, downgrade, migrate
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
    LesionRef,
    NewCase,
    QueueCounts,
    QueueFilter,
    StoredPrediction,
    Verdict,
    assessment_from_dict,
)
from core.cases.schema import AuditRow, Base, CaseRow, ImageRow, PredictionRow
from core.cases.store import (
    EXPORT_COLUMNS,
    CaseStore,
    check_actor,
    new_lesion_id,
    summaries_table,
    urgency_sort_key,
)
from core.cases.vocabulary import (
    AGREEMENTS,
    MANAGEMENTS,
    MAX_COMMENT_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    SEXES,
    STATUSES,
)

__all__ = [
    "AGREEMENTS", "EXPORT_COLUMNS", "MANAGEMENTS", "MAX_COMMENT_CHARS", "MAX_NAME_CHARS", "MAX_NOTE_CHARS", "SEXES",
    "STATUSES", "AuditEntry", "AuditRow", "Base", "CaseDetail", "CaseImage", "CaseInputError", "CaseNotFoundError",
    "CaseRow", "CaseStore", "CaseStoreError", "CaseSummary", "ConsistencyReport", "ImageRow", "LesionRef", "NewCase",
    "PredictionRow", "QueueCounts", "QueueFilter", "StaleCaseError", "StorageBusyError", "StoredPrediction", "Verdict",
    "assessment_from_dict", "check_actor", "create_case_engine", "database_url", "downgrade",
    "migrate", "new_lesion_id", "summaries_table", "urgency_sort_key",
]
