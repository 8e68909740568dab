"""Saved predictions name their heatmap method by registry key ("gradcam"), not by display label ("Grad-CAM").

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

The pairs are written out here (not imported from core.explain.methods): they are what revision 0001
stored, whatever the registry later becomes.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LABEL_TO_KEY = {
    "Grad-CAM": "gradcam", "Grad-CAM++": "gradcam++", "HiResCAM": "hirescam", "XGrad-CAM": "xgradcam",
    "LayerCAM": "layercam", "EigenCAM": "eigencam", "Score-CAM": "scorecam", "Ablation-CAM": "ablationcam",
}

predictions = sa.table("predictions", sa.column("heatmap_method", sa.String(32)))


def upgrade() -> None:
    for label, key in LABEL_TO_KEY.items():
        op.execute(predictions.update().where(predictions.c.heatmap_method == label).values(heatmap_method=key))


def downgrade() -> None:
    for label, key in LABEL_TO_KEY.items():
        op.execute(predictions.update().where(predictions.c.heatmap_method == key).values(heatmap_method=label))
