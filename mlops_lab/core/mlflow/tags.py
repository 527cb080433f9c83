"""The tag keys a tracked run carries: written by :mod:`tracking`, read by :mod:`runs`
and :mod:`run_detail`. MLflow's own keys make its UI show the notebook as the source."""

RUN_NAME = "mlflow.runName"
USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"

GIT_DIRTY = "mlops.git.dirty"
"""``"true"`` when the working tree had uncommitted changes as the run started."""

NOTEBOOK_ARTIFACT = "mlops.notebook.artifact"
"""The artifact path of the notebook snapshot logged when the run ended."""

PYTHON_VERSION = "mlops.python.version"
PARENT_RUN_ID = "mlflow.parentRunId"
"""Set by MLflow on a nested run: the id of the run it sits under."""

END_REASON = "mlops.end.reason"
"""Why a run was closed by someone other than its kernel (the kernel died)."""

JOB_ID = "mlops.job.id"
EXECUTION_ID = "mlops.job.execution_id"
ATTEMPT = "mlops.job.attempt"
SWEEP_ID = "mlops.job.sweep_id"
"""A job execution's run (one per attempt) and a sweep's parent run carry these."""
SCHEDULE_ID = "mlops.job.schedule_id"
SLOT = "mlops.job.slot"
"""The slot an execution of a schedule fired for (ISO 8601, UTC), beside its schedule."""
ERROR = "mlops.error"
"""One line saying why a run failed (a fit's exception, a job's failing cell)."""
SWEEP_BEST_EXECUTION = "mlops.sweep.best_execution_id"
SWEEP_BEST_RUN = "mlops.sweep.best_run_id"
