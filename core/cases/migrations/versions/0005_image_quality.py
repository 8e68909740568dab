"""Cases record the image-quality problems found when they were saved (blurred, too dark, too bright), so the
queue can mark them instead of listing them as ordinary cases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Existing cases keep an empty list: they were saved before the check existed.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("quality_problems", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ and PostgreSQL): a batch copy of the table would have to drop
    # "cases", which the predictions' and audit events' foreign keys refuse.
    op.execute("ALTER TABLE cases DROP COLUMN quality_problems")
