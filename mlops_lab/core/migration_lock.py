"""One lock for every alembic migration in this process, ours and MLflow's.

alembic keeps the running migration's ``op`` and ``context`` in module globals, so two
migrations at once in one process (our store's and MLflow's, on two threads of a
Jupyter server: its scheduler and a request) break each other half-way (``KeyError:
'script'``, ``'NoneType' object has no attribute 'add_column'``). File locks order
processes; this orders the threads of one.
"""

from __future__ import annotations

import threading

MIGRATION_LOCK = threading.RLock()
