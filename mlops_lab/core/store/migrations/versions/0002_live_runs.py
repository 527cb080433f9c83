"""live runs: the MLflow runs kernels have open, so a dead kernel's run can be closed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("tracking_uri", sa.String(2048), nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=False),
        sa.Column("experiment", sa.String(512), nullable=False),
        sa.Column("notebook", sa.String(4096), nullable=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("process_started", sa.Float(), nullable=False),
        sa.Column("kernel_id", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history_file", sa.String(4096), nullable=True),
        sa.Column("history_session", sa.Integer(), nullable=True),
        sa.Column("first_cell", sa.Integer(), nullable=True),
    )
    with op.batch_alter_table("live_runs") as batch:
        batch.create_index("ix_live_runs_host", ["host"])


def downgrade() -> None:
    with op.batch_alter_table("live_runs") as batch:
        batch.drop_index("ix_live_runs_host")
    op.drop_table("live_runs")
