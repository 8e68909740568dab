"""Case tables: cases, case_images, predictions and the append-only audit_events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Values are written out here rather than imported from core.cases: a migration describes the schema
as it was at this revision, whatever the code later becomes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY_MESSAGE = "the audit trail is append-only"


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesion_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("predicted_class", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source_name", sa.String(255), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("sex", sa.String(16), nullable=True),
        sa.Column("site", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("triage", sa.JSON(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=True),
        sa.Column("seven_point_score", sa.Integer(), nullable=True),
        sa.Column("verdict_diagnosis", sa.String(200), nullable=True),
        sa.Column("verdict_agreement", sa.String(16), nullable=True),
        sa.Column("verdict_management", sa.String(16), nullable=True),
        sa.Column("verdict_comment", sa.Text(), nullable=True),
        sa.Column("verdict_by", sa.String(120), nullable=True),
        sa.Column("verdict_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.CheckConstraint("status IN ('open', 'reviewed', 'closed')", name="ck_cases_status"),
        sa.CheckConstraint("urgency IN ('routine', 'urgent', 'emergency')", name="ck_cases_urgency"),
        sa.CheckConstraint("verdict_agreement IS NULL OR verdict_agreement IN ('agree', 'partly', 'disagree')",
                           name="ck_cases_agreement"),
        sa.CheckConstraint("verdict_management IS NULL OR verdict_management IN "
                           "('reassure', 'monitor', 'biopsy', 'excise', 'refer')", name="ck_cases_management"),
        sa.CheckConstraint("version >= 1", name="ck_cases_version"),
    )
    for column in ("lesion_id", "created_at", "status", "urgency", "predicted_class"):
        op.create_index(f"ix_cases_{column}", "cases", [column])

    op.create_table(
        "case_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_images"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_images_case_id_cases"),
        sa.UniqueConstraint("case_id", "position", name="uq_case_images_case_id_position"),
    )
    op.create_index("ix_case_images_case_id", "case_images", ["case_id"])
    op.create_index("ix_case_images_sha256", "case_images", ["sha256"])

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("model_version", sa.String(120), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("predicted", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("low_confidence", sa.Boolean(), nullable=False),
        sa.Column("out_of_distribution", sa.Boolean(), nullable=False),
        sa.Column("ood_score", sa.Float(), nullable=True),
        sa.Column("heatmap_file", sa.String(200), nullable=True),
        sa.Column("heatmap_method", sa.String(32), nullable=True),
        sa.Column("heatmap_target", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_predictions_case_id_cases"),
        sa.ForeignKeyConstraint(["image_id"], ["case_images.id"], name="fk_predictions_image_id_case_images"),
    )
    op.create_index("ix_predictions_case_id", "predictions", ["case_id"])
    op.create_index("ix_predictions_image_id", "predictions", ["image_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_audit_events_case_id_cases"),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])

    # The audit trail is enforced by the database itself, whatever code talks to it.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$""")
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{operation.lower()} BEFORE {operation} ON audit_events
                BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    for table in ("audit_events", "predictions", "case_images", "cases"):
        op.drop_table(table)
