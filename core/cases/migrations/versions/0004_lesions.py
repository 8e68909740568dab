"""Lesions: each lesion (the visits that share a lesion_id) linked to a patient reference and a body site.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Existing data is kept: one row per lesion already in the case table, its body site taken from its latest visit
that recorded one; the patient reference starts empty.
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesions",
        sa.Column("lesion_id", sa.String(64), nullable=False),
        sa.Column("patient_ref", sa.String(64), nullable=True),
        sa.Column("body_site", sa.String(32), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("lesion_id", name="pk_lesions"),
    )
    op.create_index("ix_lesions_patient_ref", "lesions", ["patient_ref"])
    op.execute(
        "INSERT INTO lesions (lesion_id, body_site) "
        "SELECT c.lesion_id, (SELECT s.site FROM cases s WHERE s.lesion_id = c.lesion_id AND s.site IS NOT NULL "
        "ORDER BY s.created_at DESC, s.id DESC LIMIT 1) FROM cases c GROUP BY c.lesion_id"
    )


def downgrade() -> None:
    op.drop_index("ix_lesions_patient_ref", table_name="lesions")
    op.drop_table("lesions")
