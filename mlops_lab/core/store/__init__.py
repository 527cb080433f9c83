"""mlops-lab's own store: what MLflow lacks (audit events now; jobs, schedules, alerts later).

SQLite under ``.mlops/lab.db`` by default, PostgreSQL in team mode; the schema is always
created and upgraded by the alembic migrations in ``migrations/``.
"""

from mlops_lab.core.store.entities import AuditEvent, LiveRun
from mlops_lab.core.store.lab_store import LabStore, store_exists, store_for

__all__ = ["AuditEvent", "LabStore", "LiveRun", "store_exists", "store_for"]
