"""Alembic environment: runs on the connection handed over by ``upgrade_schema``."""

from alembic import context

from mlops_lab.core.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
)
with context.begin_transaction():
    context.run_migrations()
