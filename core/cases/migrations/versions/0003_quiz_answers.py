"""Quiz answers: each trainee's score history, from which the next quiz weights weak topics.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("question_id", sa.String(255), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.CheckConstraint("kind IN ('knowledge', 'image')", name="ck_quiz_answers_kind"),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_answers"),
    )
    op.create_index("ix_quiz_answers_user_name", "quiz_answers", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_quiz_answers_user_name", table_name="quiz_answers")
    op.drop_table("quiz_answers")
