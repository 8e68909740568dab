"""Case storage on a real database: SQLite files under tmp_path, and PostgreSQL when
DERMADESK_TEST_DATABASE_URL names a server (each test then gets its own schema, dropped afterwards).

Covers the schema and migrations, the queue, verdicts with the audit trail and optimistic locking,
images by content hash without EXIF, CSV export, 20 concurrent writers, SIGKILL in the middle of a
save, batch analysis and the `python -m core cases` commands."""
from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import LargeBinary, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from core.cases import (
    AuditRow,
    Base,
    CaseInputError,
    CaseNotFoundError,
    CaseRow,
    CaseStore,
    CaseStoreError,
    NewCase,
    PredictionRow,
    QueueFilter,
    StaleCaseError,
    StorageBusyError,
    Verdict,
    downgrade,
    migrate,
)
from core.triage.checklist import ChecklistAnswers, checklist_finding, score_checklist
from core.vision.classifier import Prediction
from core.config import CLASSES, Settings
from core.vision.imaging import decode_image
from core.triage import assess, combine
from tests.support import HAM_DIR, ROOT, image_bytes, requires_ham, requires_model, skin_like

PG_URL = os.environ.get("DERMADESK_TEST_DATABASE_URL", "")
EMERGENCY_NOTE = "Fever of 39 and a purple rash that does not blanch on the legs."


def make_prediction(top: str = "nv", p_top: float = 0.7, version: str = "test-model-1", **kw) -> Prediction:
    """A classifier output with `top` at `p_top` and the rest spread evenly (sums to 1)."""
    rest = (1.0 - p_top) / (len(CLASSES) - 1)
    probabilities = {c: (p_top if c == top else rest) for c in CLASSES}
    return Prediction(probabilities=probabilities, predicted=top, confidence=p_top, low_confidence=p_top < 0.5,
                      model_version=version, **kw)


def sample_case(seed: int = 0, size: tuple[int, int] = (96, 72), **kw) -> NewCase:
    image = skin_like(*size, seed=seed)
    values = {"image": image, "prediction": make_prediction(), "source_name": f"lesion_{seed}.jpg",
              "source_format": "JPEG", "heatmap": np.random.default_rng(seed).random((size[1], size[0]))}
    values.update(kw)
    return NewCase(**values)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_data_dir, monkeypatch):
    """Which database the store uses; PostgreSQL runs in a fresh schema of the test server."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    if not PG_URL:
        pytest.skip("set DERMADESK_TEST_DATABASE_URL to run the storage tests against PostgreSQL")
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    schema = f"dermadesk_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    monkeypatch.setenv("DERMADESK_DATABASE_URL", url.update_query_dict({"options": f"-csearch_path={schema}"})
                       .render_as_string(hide_password=False))
    yield "postgresql"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(backend):
    opened = CaseStore.open(Settings.from_env())
    yield opened
    opened.close()


def _count(store: CaseStore, model) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(model))


# --- schema and migrations ---------------------------------------------------------------------


def test_migrations_from_empty_build_exactly_the_model_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    tables = set(inspect(store.engine).get_table_names())
    assert {"cases", "case_images", "predictions", "audit_events", "quiz_answers", "alembic_version"} <= tables
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_heads() == ("0006",)
        assert compare_metadata(context, Base.metadata) == []
    # Down to nothing and back up again.
    downgrade(store.engine)
    assert not set(inspect(store.engine).get_table_names()) & {"cases", "case_images", "predictions", "audit_events"}
    migrate(store.engine)
    assert store.create_case(sample_case(), actor="Dr A").id == 1


def test_migration_0002_turns_stored_method_labels_into_registry_keys(store):
    """Cases saved before 0002 stored the label ("Grad-CAM"); they read back as keys, and downgrade restores them."""
    from sqlalchemy import text

    saved = store.create_case(sample_case(heatmap_method="gradcam++"), actor="Dr A")
    downgrade(store.engine, "0001")
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT heatmap_method FROM predictions")) == "Grad-CAM++"
    migrate(store.engine)
    assert store.get_case(saved.id).prediction.heatmap_method == "gradcam++"


def test_several_processes_opening_an_empty_database_at_once(backend):
    errors: list[BaseException] = []
    stores: list[CaseStore] = []

    def open_store() -> None:
        try:
            stores.append(CaseStore.open(Settings.from_env()))
        except BaseException as exc:  # any failure must fail the test, not vanish in the thread
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert stores[0].create_case(sample_case(), actor="Dr A").id == 1
    for s in stores:
        s.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_data_dir):
    store = CaseStore.open(Settings.from_env())
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_data_dir / "cases.sqlite3").is_file()
    store.close()


# --- the model: a case round trip ----------------------------------------------------------------


def test_case_keeps_everything_from_the_analysis(store):
    note = EMERGENCY_NOTE
    checklist = score_checklist(ChecklistAnswers(change_in_size=True, irregular_colour=True))
    red_flags = assess(note)
    prediction = make_prediction("mel", 0.62, version="lite0-v7", out_of_distribution=False, ood_score=1.5)
    new = sample_case(seed=3, prediction=prediction, triage=red_flags, checklist=checklist, age=61, sex="female",
                      site="back", note=note, heatmap_target="mel")
    saved = store.create_case(new, actor="Dr A")
    case = store.get_case(saved.id)

    s = case.summary
    assert (s.status, s.urgency, s.predicted_class, s.version) == ("open", "emergency", "mel", 1)
    assert (s.age, s.sex, s.site, s.seven_point_score, s.created_by) == (61, "female", "back", 4, "Dr A")
    assert s.lesion_id.startswith("L-") and s.source_name == "lesion_3.jpg"
    assert case.note == note
    assert case.checklist == {"score": 4, "refer": True, "present": ["change_in_size", "irregular_colour"]}
    assert case.assessment().level == "emergency"
    assert any(f.spans for f in case.assessment().findings)
    stored = case.prediction
    assert stored.model_version == "lite0-v7" and stored.predicted == "mel"
    assert stored.probabilities == pytest.approx(prediction.probabilities)
    assert stored.to_prediction().ood_score == 1.5
    assert stored.heatmap_target == "mel" and stored.heatmap_method == "gradcam"
    np.testing.assert_allclose(stored.heatmap(), new.heatmap, atol=0.5 / 255 + 1e-6)
    with Image.open(case.images[0].path) as img:
        np.testing.assert_array_equal(np.asarray(img), np.asarray(new.image))
    assert [(e.action, e.actor) for e in case.audit] == [("created", "Dr A")]
    assert "predicted mel" in case.audit[0].describe()


def test_images_are_stored_once_by_content_and_without_exif(store):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    raw = image_bytes(skin_like(120, 90, seed=5), "JPEG", exif=exif, quality=95)
    assert b"PhoneMaker" in raw
    decoded = decode_image(raw)
    first = store.create_case(sample_case(image=decoded.image, heatmap=None), actor="Dr A")
    second = store.create_case(sample_case(image=decoded.image, heatmap=None), actor="Dr B")
    a, b = store.get_case(first.id).images[0], store.get_case(second.id).images[0]
    assert a.sha256 == b.sha256 and a.path == b.path
    assert len(list((store.image_store / "lesions").rglob("*.png"))) == 1
    data = a.path.read_bytes()
    assert b"PhoneMaker" not in data and b"Exif" not in data
    with Image.open(a.path) as img:
        assert not img.getexif() and not img.info.get("exif")
        np.testing.assert_array_equal(np.asarray(img), np.asarray(decoded.image))
    # Pixels never go into database rows: no table has a binary column.
    assert not [c for t in Base.metadata.tables.values() for c in t.columns if isinstance(c.type, LargeBinary)]


# --- the queue -----------------------------------------------------------------------------------


def test_queue_filters_and_order(store):
    routine = store.create_case(sample_case(1, prediction=make_prediction("nv")), actor="Dr A")
    checklist = score_checklist(ChecklistAnswers(change_in_size=True, inflammation=True))
    urgent = store.create_case(sample_case(2, prediction=make_prediction("mel", 0.8), checklist=checklist,
                                           triage=combine(checklist_finding(checklist))), actor="Dr A")
    emergency = store.create_case(sample_case(3, prediction=make_prediction("bcc"), note=EMERGENCY_NOTE,
                                              triage=assess(EMERGENCY_NOTE)), actor="Dr A")
    flagged = store.create_case(sample_case(4, prediction=make_prediction("bkl"),
                                            triage=assess("Changing mole, irregular border and several colours, 9 mm.")),
                                actor="Dr A")
    store.update_verdict(routine.id, Verdict("nv", "agree", "reassure"), routine.version, "Dr B")

    ids = [c.id for c in store.list_cases()]
    assert ids[0] == emergency.id  # emergency first, then urgent, then routine; newest first within a level
    assert ids == [emergency.id, flagged.id, urgent.id, routine.id]
    assert [c.id for c in store.list_cases(QueueFilter(statuses=("reviewed",)))] == [routine.id]
    assert {c.id for c in store.list_cases(QueueFilter(statuses=("open",)))} == {urgent.id, emergency.id, flagged.id}
    assert [c.id for c in store.list_cases(QueueFilter(urgencies=("emergency",)))] == [emergency.id]
    assert [c.id for c in store.list_cases(QueueFilter(predicted=("mel", "nv")))] == [urgent.id, routine.id]
    today = date.today()
    assert len(store.list_cases(QueueFilter(created_from=today - timedelta(days=1), created_to=today + timedelta(days=1)))) == 4
    assert store.list_cases(QueueFilter(created_to=today - timedelta(days=2))) == []
    assert store.list_cases(QueueFilter(created_from=today + timedelta(days=2))) == []
    assert len(store.list_cases(QueueFilter(limit=2))) == 2
    assert [c.id for c in store.list_cases(QueueFilter(lesion_id=urgent.lesion_id))] == [urgent.id]

    counts = store.counts()
    assert counts.total == 4
    assert counts.by_status == {"open": 3, "reviewed": 1, "closed": 0}
    assert counts.by_urgency == {"emergency": 1, "urgent": 2, "routine": 1}
    assert counts.open_by_urgency == {"emergency": 1, "urgent": 2, "routine": 0}


def test_urgent_checklist_alone_does_not_escalate_without_a_triage_result(store):
    """Urgency is the stored red-flag assessment; callers combine checklist and note into it."""
    saved = store.create_case(sample_case(checklist=score_checklist(ChecklistAnswers(change_in_size=True,
                                                                                   irregular_shape=True))),
                              actor="Dr A")
    assert saved.urgency == "routine" and saved.seven_point_score == 4


def test_queue_filter_rejects_unknown_values():
    with pytest.raises(CaseInputError, match="Unknown status"):
        QueueFilter(statuses=("pending",))
    with pytest.raises(CaseInputError, match="Unknown predicted class"):
        QueueFilter(predicted=("scc",))
    with pytest.raises(CaseInputError, match="start date is after"):
        QueueFilter(created_from=date(2026, 5, 2), created_to=date(2026, 5, 1))


# --- verdicts, audit trail, locking --------------------------------------------------------------


def test_verdict_status_and_audit_trail(store):
    saved = store.create_case(sample_case(), actor="Dr A")
    after_verdict = store.update_verdict(saved.id, Verdict("mel", "disagree", "biopsy", "asymmetric"), 1, "Dr B")
    assert (after_verdict.status, after_verdict.version, after_verdict.verdict_diagnosis) == ("reviewed", 2, "mel")
    changed = store.update_verdict(saved.id, Verdict("mel", "disagree", "excise", "asymmetric"), 2, "Dr C")
    closed = store.set_status(saved.id, "closed", changed.version, "Dr C")
    with pytest.raises(CaseInputError, match="closed; reopen"):
        store.update_verdict(saved.id, Verdict("nv", "agree", "reassure"), closed.version, "Dr D")
    reopened = store.set_status(saved.id, "open", closed.version, "Dr D")
    assert (reopened.status, reopened.version) == ("open", 5)

    case = store.get_case(saved.id)
    assert case.verdict == Verdict("mel", "disagree", "excise", "asymmetric")
    assert case.verdict_by == "Dr C"
    trail = [(e.action, e.actor) for e in case.audit]
    assert trail == [("created", "Dr A"), ("verdict", "Dr B"), ("verdict", "Dr C"), ("status", "Dr C"),
                     ("status", "Dr D")]
    assert case.audit[1].details["changes"]["status"] == ["open", "reviewed"]
    assert case.audit[2].details["changes"] == {"management": ["biopsy", "excise"]}
    assert "management biopsy → excise" in case.audit[2].describe()
    assert case.audit[4].describe() == "status closed → open"
    times = [e.at for e in case.audit]
    assert times == sorted(times)


def test_audit_trail_is_append_only_in_the_database(store):
    store.create_case(sample_case(), actor="Dr A")
    for statement in ("UPDATE audit_events SET actor = 'someone else'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            with store.engine.begin() as connection:
                connection.execute(text(statement))
    assert _count(store, AuditRow) == 1


def test_two_editors_of_one_case_get_a_clear_conflict(store):
    saved = store.create_case(sample_case(), actor="Dr A")
    opened_by_a = store.get_case(saved.id).summary.version
    opened_by_b = store.get_case(saved.id).summary.version
    store.update_verdict(saved.id, Verdict("bcc", "partly", "excise", "from A"), opened_by_a, "Dr A")
    with pytest.raises(StaleCaseError) as conflict:
        store.update_verdict(saved.id, Verdict("nv", "agree", "reassure", "from B"), opened_by_b, "Dr B")
    message = str(conflict.value)
    assert "changed by Dr A" in message and "NOT saved" in message and "Reload" in message
    assert (conflict.value.expected_version, conflict.value.current_version) == (1, 2)
    with pytest.raises(StaleCaseError):
        store.set_status(saved.id, "closed", opened_by_b, "Dr B")
    case = store.get_case(saved.id)
    assert case.verdict.comment == "from A" and case.summary.version == 2
    assert [e.actor for e in case.audit] == ["Dr A", "Dr A"]


@pytest.mark.parametrize("make, message", [
    (lambda: Verdict("", "agree", "monitor"), "needs a diagnosis"),
    (lambda: Verdict("nv", "maybe", "monitor"), "Agreement must be"),
    (lambda: Verdict("nv", "agree", "laser"), "Management must be"),
    (lambda: Verdict("nv", "agree", "monitor", "x" * 20_000), "at most"),
])
def test_bad_verdicts_are_refused_with_a_message(make, message):
    with pytest.raises(CaseInputError, match=message):
        make()


def test_bad_case_input_is_refused_and_nothing_is_saved(store):
    with pytest.raises(CaseInputError, match="Enter your name"):
        store.create_case(sample_case(), actor="  ")
    with pytest.raises(CaseInputError, match="lesion identifier"):
        store.create_case(sample_case(lesion_id="../../etc"), actor="Dr A")
    with pytest.raises(CaseInputError, match="Age must be"):
        store.create_case(sample_case(age=130), actor="Dr A")
    with pytest.raises(CaseInputError, match="Sex must be"):
        store.create_case(sample_case(sex="x"), actor="Dr A")
    with pytest.raises(CaseInputError, match="heatmap is"):
        store.create_case(sample_case(heatmap=np.zeros((5, 5))), actor="Dr A")
    with pytest.raises(CaseNotFoundError, match="no case #42"):
        store.get_case(42)
    with pytest.raises(CaseNotFoundError):
        store.update_verdict(42, Verdict("nv", "agree", "monitor"), 1, "Dr A")
    assert _count(store, CaseRow) == 0


def test_unusable_database_settings_give_a_message(tmp_data_dir):
    with pytest.raises(CaseStoreError, match="not a valid database URL"):
        CaseStore.open(Settings(data_dir=tmp_data_dir, database_url="::not a url::"))
    with pytest.raises(CaseStoreError, match="Unsupported case database"):
        CaseStore.open(Settings(data_dir=tmp_data_dir, database_url="mysql://u@localhost/db"))
    with pytest.raises(CaseStoreError, match="Cannot open the case database"):
        CaseStore.open(Settings(data_dir=tmp_data_dir,
                                database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"))


# --- other visits, lesions, export ----------------------------------------------------------------


def test_visits_of_the_same_lesion_are_linked(store):
    first = store.create_case(sample_case(1, lesion_id="back-mole-1"), actor="Dr A")
    other = store.create_case(sample_case(2), actor="Dr A")
    second = store.create_case(sample_case(3, lesion_id="back-mole-1"), actor="Dr A")
    third = store.create_case(sample_case(4, lesion_id="back-mole-1"), actor="Dr A")
    middle = store.get_case(second.id)
    assert [v.id for v in middle.previous_visits] == [first.id]
    assert [v.id for v in middle.later_visits] == [third.id]
    assert store.get_case(other.id).previous_visits == ()
    lesions = store.list_lesions()
    assert [(ref.lesion_id, ref.visits) for ref in lesions] == [("back-mole-1", 3), (other.lesion_id, 1)]


def test_csv_export_has_every_case_and_defuses_formulas(store):
    saved = store.create_case(sample_case(note="=HYPERLINK(\"http://x\")", age=40), actor="Dr A")
    store.update_verdict(saved.id, Verdict("df", "agree", "reassure", "+1 benign"), 1, "Dr B")
    store.create_case(sample_case(2, prediction=make_prediction("mel", 0.9)), actor="Dr A")
    out = io.StringIO()
    assert store.export_csv(out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["case_id"] for r in rows] == ["1", "2"]
    first = rows[0]
    assert first["note"].startswith("'=") and first["verdict_comment"] == "'+1 benign"
    assert (first["verdict_diagnosis"], first["verdict_management"], first["age"]) == ("df", "reassure", "40")
    assert sum(float(first[f"p_{c}"]) for c in CLASSES) == pytest.approx(1.0, abs=1e-3)
    filtered = io.StringIO()
    assert store.export_csv(filtered, QueueFilter(predicted=("mel",))) == 1


# --- reliability -----------------------------------------------------------------------------------


def test_twenty_concurrent_writers_lose_no_update(store):
    shared = store.create_case(sample_case(0), actor="setup")
    writers, creates_each, edits_each = 20, 3, 5
    errors: list[BaseException] = []
    conflicts = [0] * writers
    start = threading.Barrier(writers)

    def writer(index: int) -> None:
        try:
            start.wait()
            for k in range(creates_each):
                store.create_case(sample_case(1000 + index * 10 + k, size=(64, 48)), actor=f"writer {index}")
            for k in range(edits_each):
                while True:  # read-modify-write, retried on conflict as a user would after "reload"
                    case = store.get_case(shared.id)
                    comment = (case.verdict.comment if case.verdict else "") + f"[{index}:{k}]"
                    try:
                        store.update_verdict(shared.id, Verdict("nv", "agree", "monitor", comment),
                                             case.summary.version, f"writer {index}")
                        break
                    except StaleCaseError:
                        conflicts[index] += 1
        except BaseException as exc:  # a "database is locked" or anything else fails the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[:3]
    final = store.get_case(shared.id)
    tokens = final.verdict.comment.replace("]", "]\n").split()
    assert sorted(tokens) == sorted(f"[{i}:{k}]" for i in range(writers) for k in range(edits_each))
    assert final.summary.version == 1 + writers * edits_each
    assert sum(e.action == "verdict" for e in final.audit) == writers * edits_each
    assert _count(store, CaseRow) == 1 + writers * creates_each
    assert sum(conflicts) > 0  # the writers really did collide
    assert store.check().ok


def test_a_writer_waits_out_a_short_lock_and_gets_a_clear_message_after_a_long_one(tmp_data_dir, monkeypatch):
    import sqlite3

    import core.cases.engine
    import core.cases.store

    monkeypatch.setattr(core.cases.engine, "BUSY_TIMEOUT_S", 0.05)  # make "long" short enough for a test
    store = CaseStore.open(Settings.from_env())
    blocker = sqlite3.connect(tmp_data_dir / "cases.sqlite3", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    monkeypatch.setattr(core.cases.store, "WRITE_ATTEMPTS", 3)
    with pytest.raises(StorageBusyError) as busy:
        store.create_case(sample_case(1), actor="Dr A")
    assert "Nothing was saved" in str(busy.value) and "database is locked" not in str(busy.value)

    monkeypatch.setattr(core.cases.store, "WRITE_ATTEMPTS", 8)
    release = threading.Timer(0.3, lambda: blocker.execute("ROLLBACK"))
    release.start()
    saved = store.create_case(sample_case(2), actor="Dr A")  # retried until the lock went away
    release.join()
    assert saved.id == 1 and _count(store, CaseRow) == 1
    blocker.close()
    store.close()


# Saves cases in a loop and dies by SIGKILL: at a chosen SQL statement of the N-th save, or whenever the
# parent kills it. The analysis result is a plain value with the fields a case stores, so the child
# does not need to import torch.
CHILD = r"""
import itertools, os, signal, sys
from dataclasses import dataclass
import numpy as np
from PIL import Image
from sqlalchemy import event
from core.cases import CaseStore, NewCase
from core.config import CLASSES, Settings

@dataclass(frozen=True)
class Output:
    probabilities: dict
    predicted: str = "nv"
    confidence: float = 0.7
    low_confidence: bool = False
    model_version: str = "kill-test"
    out_of_distribution: bool = False
    ood_score: float | None = None

kill_at, kill_on_save, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
store = CaseStore.open(Settings.from_env())
saves = itertools.count()
current = [0]

def die(statement: str) -> None:
    if current[0] == kill_on_save and statement.startswith(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)

event.listen(store.engine, "before_cursor_execute", lambda conn, cur, statement, *rest: die(statement))
event.listen(store.engine, "commit", lambda conn: die("COMMIT"))
rng = np.random.default_rng(seed)
print("ready", flush=True)
for i in saves:
    current[0] = i
    pixels = rng.integers(0, 256, (160, 200, 3), dtype=np.uint8)
    probs = {c: 0.3 / 6 for c in CLASSES} | {"nv": 0.7}
    summary = store.create_case(NewCase(image=Image.fromarray(pixels), prediction=Output(probs),
                                        heatmap=rng.random((160, 200))), actor="killed writer")
    print(summary.id, flush=True)
"""


def _run_child_until_killed(kill_at: str, kill_on_save: int, seed: int, delay: float | None = None) -> list[int]:
    """Run the child; returns the case ids it reported as saved before it died."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, kill_at, str(kill_on_save), str(seed)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    if delay is not None:
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, (child.returncode, err)
    return [int(line) for line in out.split()]


def test_sigkill_in_the_middle_of_a_save_leaves_no_partial_case(store, backend):
    store.close()  # the children write; this process only inspects afterwards
    reported: list[int] = []
    # Deterministic kill points through a save: files written, rows half inserted, just before COMMIT.
    points = ["INSERT INTO cases", "INSERT INTO predictions", "INSERT INTO audit_events", "COMMIT"]
    for seed, point in enumerate(points):
        reported += _run_child_until_killed(point, kill_on_save=1, seed=seed)
    # And at arbitrary moments.
    random_kills = [0.15, 0.4, 0.8]
    for seed, delay in enumerate(random_kills, start=len(points)):
        reported += _run_child_until_killed("never", kill_on_save=-1, seed=seed, delay=delay)

    reopened = CaseStore.open(Settings.from_env())
    cases = _count(reopened, CaseRow)
    # Each deterministic run committed exactly one case; a random kill may land after a COMMIT but
    # before the child printed the id.
    assert len(points) <= len(reported) <= cases <= len(reported) + len(random_kills)
    with reopened.engine.connect() as connection:
        complete = connection.scalar(select(func.count()).select_from(CaseRow).where(
            CaseRow.id.in_(select(PredictionRow.case_id)), CaseRow.id.in_(select(AuditRow.case_id))))
    assert complete == cases  # no case without its prediction and audit entry
    report = reopened.check()
    assert report.ok, report
    assert report.cases == cases
    # The kills at the INSERTs and COMMIT left written files that no case refers to: reported, not counted.
    assert len(report.orphan_files) >= len(points)
    cleaned = reopened.check(remove_orphans=True, min_age_s=0)
    assert cleaned.removed >= len(points)
    after = reopened.check()
    assert after.ok and not after.orphan_files and not after.temp_files and after.cases == cases
    reopened.close()


def test_check_keeps_recent_orphans_for_saves_in_progress(store):
    store.create_case(sample_case(), actor="Dr A")
    stray = store.image_store / "lesions" / "ab" / ("ab" + "0" * 62 + ".png")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"not referenced")
    report = store.check(remove_orphans=True)  # default: only files older than an hour go
    assert report.orphan_files == (stray.relative_to(store.image_store).as_posix(),)
    assert report.removed == 0 and stray.exists() and report.cases == 1
    referenced = store.get_case(1).images[0].path
    referenced.unlink()
    missing = store.check()
    assert not missing.ok and missing.missing_files == (referenced.relative_to(store.image_store).as_posix(),)


# --- batch analysis and the command line (real model, real images) --------------------------------


@requires_model
@requires_ham
def test_batch_from_a_zip_puts_urgent_first_and_skips_bad_files(tmp_data_dir):
    import zipfile

    from core.cases.batch import analyse_batch, files_from_zip
    from core.vision.classifier import Classifier

    names = ["ISIC_0024306.jpg", "ISIC_0024307.jpg"]
    data = {n: (HAM_DIR / "images" / n).read_bytes() for n in names}
    settings = Settings.from_env()
    classifier = Classifier.load(settings.model_dir)
    # An escalation threshold between the two images' probabilities of one malignant class, so that
    # exactly the second image is urgent (whatever this checkpoint's own thresholds are).
    probs = [classifier.predict(decode_image(data[n]).image).probabilities for n in names]
    cls = max(("mel", "bcc", "akiec"), key=lambda c: abs(probs[1][c] - probs[0][c]))
    assert probs[1][cls] != probs[0][cls]
    if probs[1][cls] < probs[0][cls]:
        names.reverse()
        probs.reverse()
    classifier.meta = replace(classifier.meta, escalation_thresholds={cls: (probs[0][cls] + probs[1][cls]) / 2})

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in names:
            archive.writestr(f"visit/{n}", data[n])
        archive.writestr("visit/notes.txt", b"referral letter, not an image")
        archive.writestr("visit/broken.jpg", data[names[0]][:400])
        archive.writestr("__MACOSX/visit/._x.jpg", b"mac metadata")
    files = files_from_zip(buffer.getvalue(), "clinic.zip")
    assert [f.name for f in files] == [f"clinic.zip/visit/{n}" for n in names] + [
        "clinic.zip/visit/notes.txt", "clinic.zip/visit/broken.jpg"]

    store = CaseStore.open(settings)
    progress: list[tuple[int, int]] = []
    result = analyse_batch(files, classifier, store, "Dr Batch", settings, heatmaps=True,
                           progress=lambda done, total, name: progress.append((done, total)))
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.urgency for r in result.rows] == ["urgent", "routine"]
    assert result.rows[0].name.endswith(names[1])  # the urgent one first, though it came second
    assert {s.name.rsplit("/", 1)[1] for s in result.skipped} == {"notes.txt", "broken.jpg"}
    assert all(s.reason for s in result.skipped)
    case = store.get_case(result.rows[0].case_id)
    assert case.summary.urgency == "urgent" and case.prediction.heatmap_method == "gradcam"
    assert case.prediction.heatmap().shape == (case.images[0].height, case.images[0].width)
    assert case.summary.source_name == names[1]
    summary_rows = list(csv.DictReader(io.StringIO(result.to_csv())))
    assert [r["status"] for r in summary_rows] == ["saved", "saved", "skipped", "skipped"]
    store.close()


def test_zip_members_with_paths_outside_the_archive_are_listed_as_skipped():
    """Found by the hostile-input campaign: members named '../x.jpg' vanished without a word."""
    import zipfile

    from core.cases.batch import files_from_zip
    from core.vision.imaging import ImageError

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("../escape.jpg", "visit/../../up.jpg", "/etc/abs.jpg", "visit/ok.jpg", ".hidden/x.jpg"):
            archive.writestr(name, image_bytes(skin_like(64, 48), "JPEG"))
    files = {f.name.split("/", 1)[1]: f for f in files_from_zip(buffer.getvalue(), "c.zip")}
    assert set(files) == {"../escape.jpg", "visit/../../up.jpg", "/etc/abs.jpg", "visit/ok.jpg"}
    assert files["visit/ok.jpg"].read()[:2] == b"\xff\xd8"
    for name in ("../escape.jpg", "visit/../../up.jpg", "/etc/abs.jpg"):
        with pytest.raises(ImageError, match="points outside the archive"):
            files[name].read()


def test_batch_rejects_a_corrupt_zip_with_a_message():
    from core.cases.batch import BatchInputError, files_from_zip

    with pytest.raises(BatchInputError, match="not a readable zip"):
        files_from_zip(b"PK\x03\x04 definitely not a zip", "upload.zip")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "cases", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


@requires_model
@requires_ham
def test_cli_import_folder_then_export(tmp_data_dir, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name in ("ISIC_0024306.jpg", "ISIC_0024307.jpg"):
        (folder / name).write_bytes((HAM_DIR / "images" / name).read_bytes())
    (folder / "empty.jpg").write_bytes(b"")
    (folder / ".DS_Store").write_bytes(b"hidden")
    env = {**os.environ, "DERMADESK_DATA_DIR": str(tmp_data_dir), "DERMADESK_USER": "Dr Cli", "HF_HUB_OFFLINE": "1"}

    imported = _cli("import-folder", str(folder), "--no-heatmaps", "--summary", str(tmp_path / "batch.csv"), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "skipped empty.jpg: The file is empty" in imported.stderr
    assert "import" in imported.stderr and "3/3" in imported.stderr  # the progress bar
    assert "ISIC_0024306.jpg" in imported.stdout and "ISIC_0024307.jpg" in imported.stdout
    assert "saved 2 case(s), skipped 1 file(s)" in imported.stderr

    out = tmp_path / "cases.csv"
    exported = _cli("export", "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open()))
    assert sorted(r["source_name"] for r in rows) == ["ISIC_0024306.jpg", "ISIC_0024307.jpg"]
    assert {r["created_by"] for r in rows} == {"Dr Cli"}

    checked = _cli("check", env=env)
    assert checked.returncode == 0 and "cases: 2" in checked.stdout
    bad = _cli("export", "--out", str(out), "--status", "pending", env=env)
    assert bad.returncode == 2 and "Unknown status pending" in bad.stderr and "Traceback" not in bad.stderr
    missing = _cli("import-folder", str(tmp_path / "nowhere"), env=env)
    assert missing.returncode == 2 and "is not a folder" in missing.stderr


def test_lone_surrogates_in_note_comment_and_name_are_stored_not_fatal(store):
    """Hostile-input finding 2: a lone surrogate raised a bare UnicodeEncodeError from the store."""
    broken = "itchy \ud83d mole"  # half of an emoji pair, as a broken copy-paste leaves it
    saved = store.create_case(sample_case(note=broken), actor="Dr \udce9 Lee")
    case = store.get_case(saved.id)
    assert case.note == "itchy \ufffd mole" and case.summary.created_by == "Dr \ufffd Lee"
    updated = store.update_verdict(saved.id, Verdict("nv", "agree", "reassure", comment="ok \udcff"), saved.version,
                                   actor="Dr A")
    assert store.get_case(updated.id).verdict.comment == "ok \ufffd"


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_while_running_refuses_writes(tmp_data_dir, how):
    """SQLite would keep writing into the unlinked file and the cases would vanish at the next start."""
    settings = Settings.from_env()
    store = CaseStore.open(settings)
    try:
        first = store.create_case(sample_case(1), actor="Dr A")
        db = settings.cases_db
        if how == "deleted":
            db.unlink()
        else:
            db.rename(db.with_suffix(".old"))
            db.write_bytes(b"")
        with pytest.raises(CaseStoreError, match="deleted, moved or replaced.*Nothing was saved"):
            store.create_case(sample_case(2), actor="Dr A")
        with pytest.raises(CaseStoreError, match="Nothing was saved"):
            store.update_verdict(first.id, Verdict("nv", "agree", "reassure"), first.version, "Dr A")
    finally:
        store.close()
    # A fresh start opens a new (empty, or restored) database and saving works again.
    reopened = CaseStore.open(settings)
    try:
        assert reopened.create_case(sample_case(3), actor="Dr A").id >= 1
    finally:
        reopened.close()


def test_an_unwritable_image_store_refuses_the_save_with_a_message_and_saves_nothing(tmp_data_dir):
    """Found by the hostile-input campaign: a bare PermissionError reached the save panel and batch code.
    (Tests run as root here, where permission bits do not stop writes; a file where the folder should be
    fails the same way, with an OSError from the file system.)"""
    settings = Settings.from_env()
    store = CaseStore.open(settings)
    try:
        images = settings.image_store
        if images.exists():
            import shutil

            shutil.rmtree(images)
        images.write_bytes(b"not a folder")
        with pytest.raises(CaseStoreError, match="Cannot write the case's image files.*Nothing was saved"):
            store.create_case(sample_case(9), actor="Dr A")
        assert _count(store, CaseRow) == 0
    finally:
        store.close()


def test_an_uncreatable_data_folder_gives_a_message_not_a_traceback(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {**os.environ, "DERMADESK_DATA_DIR": str(blocker / "data"), "HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "core", "cases", "check"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "Cannot create the data folder" in run.stderr and "Traceback" not in run.stderr


def test_quiz_history_keeps_each_trainees_scores_and_weak_topics(store):
    from core.cases.quiz_history import QuizAnswer, QuizHistory

    history = QuizHistory(store)
    history.record("Trainee A", [QuizAnswer("knowledge", "lesions", f"q{i}", i == 0) for i in range(4)]
                   + [QuizAnswer("knowledge", "rules", "r1", True), QuizAnswer("image", "mel", "ISIC_1", False)])
    history.record("Trainee B", [QuizAnswer("knowledge", "lesions", "q9", True)])
    scores = {t.topic: t for t in history.scores("Trainee A")}
    assert (scores["lesions"].asked, scores["lesions"].right) == (4, 1) and scores["lesions"].weak
    assert (scores["rules"].asked, scores["rules"].right) == (1, 1) and not scores["rules"].weak  # too few answers
    assert scores["mel"].asked == 1
    weights = history.topic_weights("Trainee A")
    assert set(weights) == {"lesions", "rules"}  # the image answers do not weigh knowledge topics
    assert weights["lesions"] > 1.0 > weights["rules"]
    assert [t.topic for t in history.scores("Trainee B")] == ["lesions"]
    with pytest.raises(CaseInputError):
        history.record("", [QuizAnswer("knowledge", "lesions", "q1", True)])
    with pytest.raises(CaseInputError, match="Unknown quiz kind"):
        history.record("Trainee A", [QuizAnswer("essay", "lesions", "q1", True)])


def test_an_image_the_model_found_unlike_a_lesion_is_marked_in_the_queue(store):
    """Found in the real-browser walk: a landscape photo was saved as 'routine, nv 56 %' with no marker."""
    from core.cases import summaries_table

    ordinary = store.create_case(sample_case(1), actor="Dr A")
    odd = store.create_case(sample_case(2, prediction=make_prediction(out_of_distribution=True, ood_score=99.0)),
                            actor="Dr A")
    listed = {s.id: s for s in store.list_cases()}
    assert not listed[ordinary.id].not_a_lesion_image and listed[odd.id].not_a_lesion_image
    rows = {r["case"]: r for r in summaries_table(list(listed.values()))}
    assert rows[odd.id]["predicted"] == "not a lesion image?"
    assert rows[ordinary.id]["predicted"] == listed[ordinary.id].predicted_class
    assert (rows[odd.id]["image check"], rows[ordinary.id]["image check"]) == ("not a lesion image?", "passed")
    out = io.StringIO()
    store.export_csv(out)
    exported = {int(r["case_id"]): r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert (exported[odd.id]["image_check"], exported[ordinary.id]["image_check"]) == ("not a lesion image?", "passed")


# --- lesions across visits ----------------------------------------------------------------------


def test_a_lesion_links_to_a_patient_and_a_site_for_all_its_visits(store):
    first = store.create_case(sample_case(site="back"), actor="Dr A")
    lesion_id = store.get_case(first.id).summary.lesion_id
    second = store.create_case(sample_case(lesion_id=lesion_id), actor="Dr B")
    assert store.get_case(second.id).lesion.body_site == "back"  # from the first visit that gave one
    link = store.link_lesion(second.id, " H123456 ", "Upper Extremity", actor="Dr B")
    assert (link.patient_ref, link.body_site, link.updated_by) == ("H123456", "upper extremity", "Dr B")
    assert store.get_case(first.id).lesion.patient_ref == "H123456"  # one lesion, every visit
    assert [lesion.lesion_id for lesion in store.lesions_of_patient("H123456")] == [lesion_id]
    assert store.get_case(second.id).audit[-1].describe() == \
        "lesion linked to patient H123456, body site upper extremity"
    with pytest.raises(CaseInputError):
        store.link_lesion(second.id, "x" * 65, None, actor="Dr B")


def test_migration_0004_keeps_existing_cases_and_gives_each_lesion_its_latest_site(tmp_path):
    from core.cases.engine import create_case_engine, migrate
    from core.config import Settings

    engine = create_case_engine(Settings(data_dir=tmp_path))
    migrate(engine, "0003")
    with engine.begin() as connection:
        for case_id, lesion, site, when in ((1, "L1", "back", "2026-01-01"), (2, "L1", None, "2026-02-01"),
                                            (3, "L1", "chest", "2026-03-01"), (4, "L2", None, "2026-01-05")):
            connection.execute(text(
                "INSERT INTO cases (id, lesion_id, created_at, updated_at, created_by, status, urgency, "
                "predicted_class, confidence, source_name, site, note, triage, version) VALUES "
                f"({case_id}, '{lesion}', '{when}', '{when}', 'Dr A', 'open', 'routine', 'nv', 0.9, 'x.jpg', "
                f"{repr(site) if site else 'NULL'}, '', '{{}}', 1)"))
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT lesion_id, body_site, patient_ref FROM lesions ORDER BY lesion_id")).all()
        assert [tuple(r) for r in rows] == [("L1", "chest", None), ("L2", None, None)]
        assert connection.scalar(text("SELECT count(*) FROM cases")) == 4
    engine.dispose()
