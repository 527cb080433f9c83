"""The entry functions of jobs: every face (REST, magic, CLI) calls these and only these.

A submit checks everything first (the notebook, each value against the parameters cell,
the kernel, the options, the sweep's size) and writes nothing until all of it passed;
then it queues the executions in one transaction and makes sure a runner will claim
them (:mod:`~mlops_lab.core.jobs.service`). It returns at once: executions run in the
runner's warm worker processes, never in the caller's.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.errors import InvalidInput, NotFound, TooLarge, Unavailable
from mlops_lab.core.jobs import runs, spec
from mlops_lab.core.jobs.entities import (
    Execution,
    ExecutionLog,
    ExecutionPage,
    ExecutionState,
    JobRequest,
    NotebookParameters,
    Submission,
    Sweep,
    SweepGoal,
)
from mlops_lab.core.jobs.outputs import log_path, masked_parameters
from mlops_lab.core.jobs.store import Job, JobStore, NewExecution, new_id, now
from mlops_lab.core.masking import MASK, is_secret_name
from mlops_lab.core.store import store_for

MAX_LOG_READ = 1_000_000

log = logging.getLogger("mlops_lab.jobs")


def job_store(settings: Settings) -> JobStore:
    """The jobs tables of the process's one store for the settings' URL."""
    return JobStore(store_for(settings))


def notebook_parameters(settings: Settings, notebook: str) -> NotebookParameters:
    """The notebook's parameters, types and defaults, for a form or a ``-p`` check.

    Whoever asks is about to submit: the runner is started now, so its kernels are warm
    by the time the form is sent.
    """
    declared = spec.inspect_parameters(settings.root, notebook, spec.installed_kernels())
    try:
        _ensure_runner(settings)
    except Unavailable as exc:  # the submit will say it again; the form must still open
        log.warning("mlops-lab: %s", exc)
    return declared


def submit(settings: Settings, request: JobRequest, *, actor: str | None = None) -> Submission:
    """Check ``request`` whole, then queue its execution (or its sweep's grid)."""
    declared = spec.inspect_parameters(
        settings.root, request.notebook, kernels := spec.installed_kernels()
    )
    return _submit(settings, request, declared, kernels, actor)


def submit_text(
    settings: Settings,
    notebook: str,
    texts: Mapping[str, str],
    *,
    actor: str | None = None,
    **options: Any,
) -> Submission:
    """A submit from a command line: ``texts`` are ``-p name=value`` strings, read as each
    parameter's declared type; a comma-separated value makes a sweep."""
    declared = spec.inspect_parameters(settings.root, notebook, kernels := spec.installed_kernels())
    values, sweep = spec.parse_text_values(texts, declared)
    if "sweep_goal" in options and isinstance(options["sweep_goal"], str):
        options["sweep_goal"] = _goal(options["sweep_goal"])
    request = JobRequest(notebook=notebook, parameters=values, sweep=sweep, **options)
    return _submit(settings, request, declared, kernels, actor)


def checked_job(
    settings: Settings, request: JobRequest, declared: NotebookParameters, actor: str | None
) -> tuple[Job, dict[str, Any], dict[str, list[Any]]]:
    """The job ``request`` describes, its values in clear and its sweep, all checked; a
    schedule is made of the same job."""
    kernel = spec.check_options(
        request.timeout,
        request.retries,
        request.retry_backoff,
        request.kernel_name,
        declared,
        request.concurrency,
    )
    values = spec.check_values(request.parameters, declared)
    both = sorted(set(values) & set(request.sweep))
    if both:
        raise InvalidInput(
            f"Parameter '{both[0]}' is given both a value and a sweep: give one of them.",
            param=both[0],
        )
    sweep = spec.check_sweep(request.sweep, declared, settings.sweep_limit) if request.sweep else {}
    if request.sweep_metric is not None and not request.sweep_metric.strip():
        raise InvalidInput("sweep_metric must name a metric, got ''.", param="sweep_metric")
    moment = now()
    notebook = declared.notebook
    job = Job(
        id=new_id(),
        name=(request.name or Path(notebook).stem).strip()[:512],
        notebook=notebook,
        parameters=masked_parameters(values),
        kernel_name=kernel,
        timeout=request.timeout,
        retries=request.retries,
        retry_backoff=request.retry_backoff,
        experiment=request.experiment or notebook,
        created_at=moment,
        created_by=actor or getpass.getuser(),
    )
    return job, values, sweep


def _submit(
    settings: Settings,
    request: JobRequest,
    declared: NotebookParameters,
    kernels: list[str],
    actor: str | None,
) -> Submission:
    job, values, sweep = checked_job(settings, request, declared, actor)
    moment = job.created_at
    points = spec.sweep_grid(sweep) if sweep else [{}]
    executions = [
        NewExecution(parameters=masked_parameters({**values, **p}), values={**values, **p})
        for p in points
    ]
    sweep_entity = None
    if sweep:
        sweep_entity = Sweep(
            id=new_id(),
            job_id=job.id,
            run_id=None,
            grid={k: list(masked_parameters({k: v})[k] for v in vs) for k, vs in sweep.items()},
            metric=request.sweep_metric,
            goal=request.sweep_goal,
            concurrency=request.concurrency or settings.job_concurrency,
            state=ExecutionState.QUEUED,
            execution_ids=[],
            created_at=moment,
        )
    store = job_store(settings)
    key = request.idempotency_key
    earlier = store.by_idempotency_key(key) if key else None
    if earlier is not None:
        return earlier
    _ensure_runner(settings)  # before queueing: a runner that cannot start leaves nothing queued
    if sweep_entity is not None:
        # The parent run exists before any execution can be claimed and look for it.
        sweep_entity = replace(
            sweep_entity, run_id=runs.open_sweep_run(settings, job, sweep_entity)
        )
    try:
        submission = store.add(job, executions, sweep_entity, key)
    except BaseException:
        if sweep_entity is not None and sweep_entity.run_id:
            runs.discard_run(settings, sweep_entity.run_id)  # no half-written sweep
        raise
    if submission.reused and sweep_entity is not None and sweep_entity.run_id:
        runs.discard_run(settings, sweep_entity.run_id)  # the same key won meanwhile
    return submission


def _goal(text: str) -> SweepGoal:
    try:
        return SweepGoal(text.lower())
    except ValueError:
        raise InvalidInput(
            f"goal must be 'max' or 'min', got '{text}'.", param="sweep_goal"
        ) from None


def _ensure_runner(settings: Settings) -> None:
    from mlops_lab.core.jobs.service import ensure_runner

    ensure_runner(settings)


def list_executions(
    settings: Settings,
    *,
    job_id: str | None = None,
    sweep_id: str | None = None,
    schedule_id: str | None = None,
    state: str | None = None,
    max_results: int = 50,
    page_token: str | None = None,
) -> ExecutionPage:
    if not 1 <= max_results <= 1000:
        raise InvalidInput(f"max_results must be 1..1000, got {max_results}.", param="max_results")
    return job_store(settings).page(
        job_id=job_id,
        sweep_id=sweep_id,
        schedule_id=schedule_id,
        state=state,
        max_results=max_results,
        page_token=page_token,
    )


def get_execution(settings: Settings, execution_id: str) -> Execution:
    return job_store(settings).get(execution_id)


def get_sweep(settings: Settings, sweep_id: str) -> Sweep:
    return job_store(settings).get_sweep(sweep_id)


def read_log(
    settings: Settings, execution_id: str, offset: int = 0, max_bytes: int = 65536
) -> ExecutionLog:
    """The output log from byte ``offset``: call again with ``next_offset`` to follow it."""
    if offset < 0:
        raise InvalidInput(f"offset must be 0 or more, got {offset}.", param="offset")
    execution = get_execution(settings, execution_id)
    path = log_path(settings, execution.id)
    data = b""
    if path.is_file():
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read(min(max(max_bytes, 1), MAX_LOG_READ))
    text = data.decode("utf-8", errors="replace")
    return ExecutionLog(
        execution_id=execution.id,
        text=text,
        offset=offset,
        next_offset=offset + len(data),
        complete=execution.state.finished and len(data) < max_bytes,
    )


def output_notebook(settings: Settings, execution_id: str) -> tuple[str, dict[str, Any]]:
    """The (masked) output notebook of the execution's latest attempt, partial while it runs."""
    execution = get_execution(settings, execution_id)
    if not execution.output_path or not Path(execution.output_path).is_file():
        raise NotFound(
            f"Execution {execution.id} has no output notebook yet ({execution.state.value}): "
            "it is written when its first cell starts."
        )
    path = Path(execution.output_path)
    size = path.stat().st_size
    if size > settings.max_served_artifact_bytes:
        raise TooLarge(
            f"The output notebook of {execution.id} is {size / 1e6:.0f} MB, over the "
            f"max-served-artifact-mb limit; open {path} instead."
        )
    return path.name, json.loads(path.read_text(encoding="utf-8"))


def cancel(settings: Settings, execution_id: str) -> Execution:
    """A queued execution is cancelled at once; a running one is interrupted by its worker."""
    return job_store(settings).request_cancel(execution_id)


def rerun(
    settings: Settings,
    execution_id: str,
    *,
    idempotency_key: str | None = None,
    actor: str | None = None,
) -> Submission:
    """Run an execution's job again with the same parameters, as a new execution."""
    store = job_store(settings)
    execution = store.get(execution_id)
    job = store.job(execution.job_id)
    values = store.values(execution.id) or dict(execution.parameters)
    hidden = sorted(k for k, v in values.items() if is_secret_name(k) and v == MASK)
    if hidden:
        raise InvalidInput(
            f"Execution {execution.id} ran with a secret parameter '{hidden[0]}' whose value "
            "is not kept once an execution ends: submit the notebook again with that value.",
            param=hidden[0],
        )
    request = JobRequest(
        notebook=job.notebook,
        parameters=values,
        kernel_name=job.kernel_name,
        timeout=job.timeout,
        retries=job.retries,
        retry_backoff=job.retry_backoff,
        experiment=job.experiment,
        name=job.name,
        idempotency_key=idempotency_key,
    )
    return submit(settings, request, actor=actor)


def wait(
    settings: Settings,
    execution_ids: list[str],
    on_progress: Callable[[list[Execution]], None] | None = None,
    timeout: float | None = None,
    poll: float = 0.2,
) -> list[Execution]:
    """Block until every execution ended (or ``timeout`` passed); report each poll."""
    store = job_store(settings)
    ids = [store.get(i).id for i in execution_ids]  # prefixes to ids, unknown ones refused
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        executions = store.many(ids)
        if on_progress is not None:
            on_progress(executions)
        if all(e.state.finished for e in executions):
            return executions
        if deadline is not None and time.monotonic() >= deadline:
            return executions
        time.sleep(poll)
