"""schedules: cron schedules, their claimed slots, the schedulers, executions' slot

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("cron", sa.String(255), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("concurrency", sa.String(8), nullable=False),
        sa.Column("max_active", sa.Integer(), nullable=False),
        sa.Column("catch_up", sa.String(8), nullable=False),
        sa.Column("end_at", _WHEN, nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("active_since", _WHEN, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("deleted_at", _WHEN, nullable=True),
    )
    op.create_table(
        "schedule_slots",
        sa.Column("schedule_id", sa.String(32), sa.ForeignKey("schedules.id"), primary_key=True),
        sa.Column("slot_at", _WHEN, primary_key=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("fired_at", _WHEN, nullable=False),
        sa.Column("fired_by", sa.String(64), nullable=False),
        sa.Column("execution_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(1024), nullable=True),
    )
    op.create_table(
        "schedulers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("wake_port", sa.Integer(), nullable=True),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("heartbeat_at", _WHEN, nullable=False),
    )
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("schedule_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("slot_at", _WHEN, nullable=True))
        batch.create_foreign_key("fk_executions_schedule", "schedules", ["schedule_id"], ["id"])
        batch.create_index("ix_executions_schedule_state", ["schedule_id", "state"])


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_index("ix_executions_schedule_state")
        batch.drop_constraint("fk_executions_schedule", type_="foreignkey")
        batch.drop_column("slot_at")
        batch.drop_column("schedule_id")
    op.drop_table("schedulers")
    op.drop_table("schedule_slots")
    op.drop_table("schedules")
