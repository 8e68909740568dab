"""Alembic environment for the case database.

`core.cases.migrate()` runs the migrations with an open connection passed in
`config.attributes["connection"]` (already inside the transaction that serialises migrators).
Run without one (e.g. `alembic revision --autogenerate` from a developer's shell), it connects to
the database configured by the DERMADESK_* environment variables.
"""
from alembic import context

from core.cases import Base, create_case_engine
from core.config import Settings


def _run(connection) -> None:
    # render_as_batch: SQLite can only change most column properties by copying the table.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_case_engine(Settings.from_env())
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()
