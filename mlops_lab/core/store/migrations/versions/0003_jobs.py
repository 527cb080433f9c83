"""jobs: jobs, sweeps, executions, their attempts and the runners that claim them

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("notebook", sa.String(4096), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("kernel_name", sa.String(255), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        sa.Column("experiment", sa.String(512), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "sweeps",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("grid", sa.JSON(), nullable=False),
        sa.Column("metric", sa.String(255), nullable=True),
        sa.Column("goal", sa.String(8), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("best_execution_id", sa.String(32), nullable=True),
        sa.Column("best_value", sa.Float(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True, unique=True),
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("sweep_id", sa.String(32), sa.ForeignKey("sweeps.id"), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", _WHEN, nullable=True),
        sa.Column("experiment_id", sa.String(64), nullable=True),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("cells_done", sa.Integer(), nullable=False),
        sa.Column("cells_total", sa.Integer(), nullable=False),
        sa.Column("current_cell", sa.Integer(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("output_path", sa.String(4096), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True, unique=True),
    )
    with op.batch_alter_table("executions") as batch:
        batch.create_index("ix_executions_state_created", ["state", "created_at"])
        batch.create_index("ix_executions_job", ["job_id"])
        batch.create_index("ix_executions_sweep", ["sweep_id"])
    op.create_table(
        "execution_attempts",
        sa.Column("execution_id", sa.String(32), sa.ForeignKey("executions.id"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
    )
    op.create_table(
        "job_runners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("heartbeat_at", _WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_runners")
    op.drop_table("execution_attempts")
    with op.batch_alter_table("executions") as batch:
        batch.drop_index("ix_executions_sweep")
        batch.drop_index("ix_executions_job")
        batch.drop_index("ix_executions_state_created")
    op.drop_table("executions")
    op.drop_table("sweeps")
    op.drop_table("jobs")
