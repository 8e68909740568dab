"""Database engine, migrations and retries for SQLite (WAL) and PostgreSQL."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from core.config import Settings
from core.cases.errors import CaseStoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 5.0  # SQLite waits this long for a lock before reporting busy; then we retry
MIGRATION_LOCK_KEY = 0x44_45_52_4D  # PostgreSQL advisory lock held while migrating ("DERM")


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
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CaseStoreError(f"Cannot create the data folder {folder} ({exc.strerror or exc}). Set "
                                 "DERMADESK_DATA_DIR to a folder you can write to.") from None
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


def transient_error(exc: DBAPIError) -> bool:
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


