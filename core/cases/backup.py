"""Backup and restore of the case data: the database and the image store in one archive, consistent while the
app runs.

The database is copied first, as one consistent snapshot: SQLite's online backup API (readers and writers carry
on; the copy is of one committed state), or `pg_dump --format=custom` for PostgreSQL. The image store is copied
after it: a case's files are written before its rows are committed and are never changed afterwards (they are
named by the hash of their content), so every file the snapshot refers to already exists when it is copied.
Files added later are unreferenced extras, which `python -m core cases check` reports. The knowledge-base index
(Chroma) is not backed up: it is rebuilt from `knowledge_base/` at start.

Archive layout (tar, gzip): manifest.json, cases.sqlite3 or cases.pgdump, images/...
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.cases.engine import database_url
from core.cases.errors import CaseStoreError
from core.config import Settings

FORMAT = "dermadesk-backup-1"
SQLITE_MEMBER = "cases.sqlite3"
PG_MEMBER = "cases.pgdump"


class BackupError(CaseStoreError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    backend: str
    cases: int
    image_files: int
    bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_url(url) -> str:
    """A libpq URL for pg_dump / pg_restore (SQLAlchemy's driver suffix removed)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _count_cases(settings: Settings) -> int:
    from core.cases.engine import create_case_engine
    from core.cases.schema import CaseRow

    engine = create_case_engine(settings)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(CaseRow)) or 0)
    finally:
        engine.dispose()


def backup(settings: Settings, out: Path) -> BackupReport:
    url = make_url(database_url(settings))
    backend = url.get_backend_name()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        tmp_dir = Path(tmp)
        if backend == "sqlite":
            source = Path(url.database or "")
            if not source.is_file():
                raise BackupError(f"There is no case database at {source} to back up.")
            snapshot = tmp_dir / SQLITE_MEMBER
            live, copy = sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(snapshot)
            try:
                live.backup(copy)  # one consistent committed state, while others keep writing
            finally:
                copy.close()
                live.close()
            member = SQLITE_MEMBER
            with sqlite3.connect(snapshot) as counted:
                cases = counted.execute("SELECT count(*) FROM cases").fetchone()[0]
            counted.close()
        elif backend == "postgresql":
            if shutil.which("pg_dump") is None:
                raise BackupError("pg_dump is not installed: install the PostgreSQL client tools "
                                  "(Debian: postgresql-client) to back up a PostgreSQL case database.")
            snapshot = tmp_dir / PG_MEMBER
            result = subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(snapshot),
                                     _pg_url(url)], capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1] if result.stderr else 'no output'}")
            member = PG_MEMBER
            cases = None  # counted on restore: a count taken beside the dump could differ from it
        else:
            raise BackupError(f"Cannot back up a {backend!r} database.")
        images = sorted(p for p in settings.image_store.rglob("*")
                        if p.is_file() and p.relative_to(settings.image_store).parts[0] != "tmp") \
            if settings.image_store.is_dir() else []  # tmp/: files still being written by a save
        manifest = {"format": FORMAT, "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "backend": backend, "database": member, "database_sha256": _sha256(snapshot),
                    "cases": cases, "image_files": len(images)}
        (tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(tmp_dir / "manifest.json", arcname="manifest.json")
            archive.add(snapshot, arcname=member)
            copied = 0
            for path in images:
                try:
                    archive.add(path, arcname=str(PurePosixPath("images") / path.relative_to(settings.image_store).as_posix()))
                except FileNotFoundError:  # an unreferenced file removed by `cases check --remove-orphans`
                    continue
                copied += 1
        partial.replace(out)  # a finished archive or none, never half of one under the real name
    return BackupReport(out, backend, cases if cases is not None else _count_cases(settings), copied,
                        out.stat().st_size)


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Only regular files under known names; absolute paths, '..', links and devices are refused."""
    members = []
    for info in archive.getmembers():
        name = PurePosixPath(info.name)
        if info.isdir():
            continue
        if not info.isfile() or name.is_absolute() or ".." in name.parts:
            raise BackupError(f"The archive holds an unsafe entry ({info.name!r}); it was not made by DermaDesk backup.")
        if not (name.parts[0] == "images" or info.name in ("manifest.json", SQLITE_MEMBER, PG_MEMBER)):
            raise BackupError(f"The archive holds an unexpected entry ({info.name!r}).")
        members.append(info)
    return members


def restore(settings: Settings, archive_path: Path, *, replace_existing: bool = False) -> BackupReport:
    """Restore a backup into the configured data directory / database. Refuses to overwrite a database that
    already holds cases unless `replace_existing` (the old SQLite file is then kept beside it, renamed)."""
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"{archive_path} does not exist.")
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive_path} is not a DermaDesk backup ({exc}).") from None
    with archive, tempfile.TemporaryDirectory() as tmp:
        members = _safe_members(archive)
        try:
            manifest = json.loads(archive.extractfile("manifest.json").read())
        except (KeyError, AttributeError, json.JSONDecodeError):
            raise BackupError(f"{archive_path} has no readable manifest: it is not a DermaDesk backup.") from None
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive_path} is in an unknown backup format ({manifest.get('format')!r}).")
        archive.extractall(tmp, members=members, filter="data")
        tmp_dir = Path(tmp)
        snapshot = tmp_dir / manifest["database"]
        if _sha256(snapshot) != manifest["database_sha256"]:
            raise BackupError("The database in the archive does not match its checksum: the archive is damaged.")
        url = make_url(database_url(settings))
        backend = url.get_backend_name()
        if backend != manifest["backend"]:
            raise BackupError(f"The backup is of a {manifest['backend']} database; the configured database is "
                              f"{backend}. Restore into the same kind of database.")
        existing = _count_cases(settings) if backend == "postgresql" or Path(url.database or "").is_file() else 0
        if existing and not replace_existing:
            raise BackupError(f"The configured database already holds {existing} case(s); restoring would replace "
                              "them. Use a fresh data directory, or pass --replace to keep the old database beside "
                              "the restored one.")
        # Images first, as in a save: once the database is in place, every file it names is there.
        image_root = tmp_dir / "images"
        count = 0
        if image_root.is_dir():
            for path in image_root.rglob("*"):
                if path.is_file():
                    target = settings.image_store / path.relative_to(image_root)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.exists():
                        shutil.copy2(path, target)
                    count += 1
        if backend == "sqlite":
            target = Path(url.database)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
                target.replace(target.with_name(f"{target.name}.before-restore-{stamp}"))
                for suffix in ("-wal", "-shm"):
                    side = target.with_name(target.name + suffix)
                    if side.exists():
                        side.unlink()
            partial = target.with_name(target.name + ".restoring")
            shutil.copyfile(snapshot, partial)
            partial.replace(target)
        else:
            if shutil.which("pg_restore") is None:
                raise BackupError("pg_restore is not installed: install the PostgreSQL client tools.")
            result = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                                     "--dbname", _pg_url(url), str(snapshot)], capture_output=True, text=True)
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip().splitlines()[-1] if result.stderr else 'no output'}")
    return BackupReport(archive_path, backend, _count_cases(settings), count, archive_path.stat().st_size)
