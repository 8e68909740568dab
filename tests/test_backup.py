"""Backup and restore of the case data (real SQLite, real files), including a backup taken while cases are
being saved, and archives that must be refused."""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import threading

import pytest

from core.cases import CaseStore
from core.cases.backup import BackupError, backup, restore
from core.config import Settings
from tests.support import ROOT
from tests.test_cases import backend, sample_case, store  # noqa: F401  (fixtures)


def _store(data_dir) -> CaseStore:
    return CaseStore.open(Settings(data_dir=data_dir))


def test_a_backup_taken_while_cases_are_saved_restores_complete_and_consistent(tmp_path):
    live = _store(tmp_path / "live")
    for seed in range(3):
        live.create_case(sample_case(seed=seed), actor="Dr A")
    stop = threading.Event()

    def keep_saving():
        seed = 100
        while not stop.is_set():
            live.create_case(sample_case(seed=seed), actor="Dr Writer")
            seed += 1

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        report = backup(Settings(data_dir=tmp_path / "live"), tmp_path / "backup.tar.gz")
    finally:
        stop.set()
        writer.join()
    assert report.cases >= 3 and report.image_files >= 6  # an image and a heatmap per case

    restored_settings = Settings(data_dir=tmp_path / "restored")
    restored = restore(restored_settings, tmp_path / "backup.tar.gz")
    assert restored.cases == report.cases
    store = CaseStore.open(restored_settings)
    check = store.check()
    assert check.ok and check.cases == report.cases and not check.missing_files
    first = store.get_case(1)
    assert first.images[0].load().size == (96, 72) and first.prediction.heatmap() is not None
    store.close()
    live.close()


def test_restore_refuses_to_overwrite_cases_unless_asked_and_keeps_the_old_file(tmp_path):
    source = _store(tmp_path / "a")
    source.create_case(sample_case(seed=1), actor="Dr A")
    source.close()
    backup(Settings(data_dir=tmp_path / "a"), tmp_path / "a.tar.gz")
    target = _store(tmp_path / "b")
    for seed in (5, 6):
        target.create_case(sample_case(seed=seed), actor="Dr B")
    target.close()
    with pytest.raises(BackupError, match="already holds 2 case"):
        restore(Settings(data_dir=tmp_path / "b"), tmp_path / "a.tar.gz")
    restore(Settings(data_dir=tmp_path / "b"), tmp_path / "a.tar.gz", replace_existing=True)
    assert list((tmp_path / "b").glob("cases.sqlite3.before-restore-*"))
    reopened = _store(tmp_path / "b")
    assert [c.created_by for c in reopened.list_cases()] == ["Dr A"]
    reopened.close()


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "notes.txt"])
def test_archives_with_unsafe_or_foreign_entries_are_refused(tmp_path, name):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as archive:
        data = b"{}"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError):
        restore(Settings(data_dir=tmp_path / "target"), bad)
    assert not (tmp_path / "evil.txt").exists()


def test_a_file_that_is_not_an_archive_is_refused_with_a_message(tmp_path):
    bogus = tmp_path / "backup.tar.gz"
    bogus.write_text("not a backup")
    with pytest.raises(BackupError, match="not a DermaDesk backup"):
        restore(Settings(data_dir=tmp_path / "t"), bogus)


def test_backup_and_restore_commands(tmp_path):
    source = _store(tmp_path / "src")
    source.create_case(sample_case(seed=2), actor="Dr A")
    source.close()

    def cli(data_dir, *args):
        return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DERMADESK_DATA_DIR": str(data_dir)},
                              timeout=300)

    made = cli(tmp_path / "src", "backup", "--out", str(tmp_path / "b.tar.gz"))
    assert made.returncode == 0 and "backed up 1 case(s)" in made.stdout, made.stderr
    back = cli(tmp_path / "dst", "restore", str(tmp_path / "b.tar.gz"))
    assert back.returncode == 0 and "restored 1 case(s)" in back.stdout, back.stderr
    check = cli(tmp_path / "dst", "cases", "check")
    assert check.returncode == 0 and "cases: 1" in check.stdout
    again = cli(tmp_path / "dst", "restore", str(tmp_path / "b.tar.gz"))
    assert again.returncode == 1 and "already holds 1 case" in again.stderr and "Traceback" not in again.stderr


def test_backup_of_either_database_holds_its_snapshot(store, backend, tmp_path):
    """SQLite: the online-backup copy; PostgreSQL (the CI server): a pg_dump archive that pg_restore can read."""
    store.create_case(sample_case(seed=3), actor="Dr A")
    report = backup(Settings.from_env(), tmp_path / "b.tar.gz")
    assert report.backend == backend and report.cases >= 1
    with tarfile.open(tmp_path / "b.tar.gz") as archive:
        names = archive.getnames()
        assert "manifest.json" in names and any(n.startswith("images/") for n in names)
        member = "cases.sqlite3" if backend == "sqlite" else "cases.pgdump"
        assert member in names
        archive.extract(member, tmp_path, filter="data")
    if backend == "postgresql":
        listing = subprocess.run(["pg_restore", "--list", str(tmp_path / member)], capture_output=True, text=True)
        assert listing.returncode == 0 and "TABLE" in listing.stdout and "cases" in listing.stdout
