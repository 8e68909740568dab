"""Local user accounts, their signed-in sessions, and the accounts' audit trail.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

No account exists after the upgrade: single-user mode needs none, and accounts mode asks for the first
administrator (`python -m core users add NAME --role admin`, or the set-up form on 127.0.0.1).
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login", sa.DateTime(), nullable=True),
        sa.CheckConstraint("role IN ('clinician', 'educator', 'trainee', 'admin')", name="ck_users_role"),
        sa.PrimaryKeyConstraint("name", name="pk_users"),
    )
    op.create_table(
        "login_sessions",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_name"], ["users.name"], name="fk_login_sessions_user_name_users"),
        sa.PrimaryKeyConstraint("token_sha256", name="pk_login_sessions"),
    )
    op.create_index("ix_login_sessions_user_name", "login_sessions", ["user_name"])
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_events"),
    )
    op.create_index("ix_account_events_at", "account_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_account_events_at", table_name="account_events")
    op.drop_table("account_events")
    op.drop_index("ix_login_sessions_user_name", table_name="login_sessions")
    op.drop_table("login_sessions")
    op.drop_table("users")
