"""REST handlers of jobs: submit a notebook, follow its executions, cancel, re-run.

Each verb is a thin call into :mod:`mlops_lab.core.jobs.api`, which validates and
queues; these handlers only read the request, name the user, and render the core's
entities as they are. A POST with a cookie (the browser) must carry the XSRF token:
``APIHandler`` checks it before the verb runs, as for every jupyter_server POST.

Each verb reads the settings before it looks at the request, so a broken configuration
is the same 503 naming the file and key on every route, even for a request that is
also wrong.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from pydantic import TypeAdapter, ValidationError
from tornado import web

from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.jobs import api as jobs
from mlops_lab.core.jobs.entities import (
    Execution,
    ExecutionLog,
    ExecutionPage,
    ExecutionState,
    JobRequest,
    NotebookParameters,
    Submission,
    Sweep,
)
from mlops_lab.faces.server.handlers import MlopsHandler, _int_argument, _page_size
from mlops_lab.faces.server.models import OutputNotebook, RerunRequest
from mlops_lab.faces.server.openapi import Operation, QueryParam

DEFAULT_EXECUTIONS_PAGE_SIZE = 50
T = TypeVar("T")
MAX_LOG_BYTES = 65536


class JobsHandlerBase(MlopsHandler):
    """What the job handlers share: who is asking, and reading a JSON body."""

    @property
    def actor(self) -> str | None:
        """The Jupyter user's name, recorded as who submitted (``created_by``)."""
        user = self.current_user
        return getattr(user, "username", None) or getattr(user, "name", None)

    def json_body(self, *, required: bool = True) -> dict[str, Any]:
        """The request body as a JSON object; a 400 with what was wrong otherwise."""
        raw = self.request.body or b""
        if not raw.strip():
            if required:
                raise InvalidInput("The request body is empty: send a JSON object.")
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"The request body is not JSON: {exc}.") from None
        if not isinstance(body, dict):
            raise InvalidInput(
                f"The request body must be a JSON object, got {type(body).__name__}."
            )
        return body


def parse_request(body: dict[str, Any], kind: type[T]) -> T:
    """A ``kind`` dataclass (a job or schedule request) from a JSON object, or
    :class:`InvalidInput` naming the field.

    Unknown fields are refused rather than ignored: a misspelt ``timout`` that silently
    ran without a time limit would be worse than a 400.
    """
    fields = tuple(f.name for f in dataclasses.fields(kind))  # type: ignore[arg-type]
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise InvalidInput(
            f"Unknown field '{unknown[0]}' in the request; the fields are: {', '.join(fields)}.",
            param=unknown[0],
        )
    try:
        return TypeAdapter(kind).validate_python(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        location = ".".join(str(part) for part in first["loc"])
        value = json.dumps(first.get("input"), default=str)
        raise InvalidInput(
            f"{location or 'body'}: {first['msg']}, got {value}.",
            param=str(first["loc"][0]) if first["loc"] else None,
        ) from None


class JobParametersHandler(JobsHandlerBase):
    """``GET /jobs/parameters?notebook=PATH``: what a Run-as-job form needs."""

    operations = {
        "get": Operation(
            summary="The parameters of a notebook's cell tagged `parameters`, and the kernels.",
            response=NotebookParameters,
            operation_id="getJobParameters",
            query=(
                QueryParam("notebook", "The notebook's path, relative to the root.", required=True),
            ),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        settings = self.app.settings_
        notebook = self.get_query_argument("notebook", None)
        if not notebook:
            raise InvalidInput(
                "Name the notebook: ?notebook=PATH, relative to the root.", param="notebook"
            )
        parameters = await self.call_core(jobs.notebook_parameters, settings, notebook)
        self.finish_model(parameters)


class JobsHandler(JobsHandlerBase):
    """``POST /jobs``: run a notebook now, once or as a sweep; returns its executions."""

    operations = {
        "post": Operation(
            summary="Submit a notebook as a job (once, or a sweep); it is queued at once.",
            response=Submission,
            operation_id="submitJob",
            request=JobRequest,
            status=201,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def post(self) -> None:
        settings = self.app.settings_
        request = parse_request(self.json_body(), JobRequest)
        submission = await self.call_core(jobs.submit, settings, request, actor=self.actor)
        self.finish_model(submission, status=201)


class ExecutionsHandler(JobsHandlerBase):
    """``GET /executions``: one page of executions, the newest first."""

    operations = {
        "get": Operation(
            summary="Executions of jobs, the newest first, one page.",
            response=ExecutionPage,
            operation_id="listExecutions",
            query=(
                QueryParam("job_id", "Only this job's executions."),
                QueryParam("sweep_id", "Only this sweep's executions."),
                QueryParam("schedule_id", "Only this schedule's executions."),
                QueryParam(
                    "state", "Only executions in this state: " + ", ".join(ExecutionState) + "."
                ),
                _page_size(DEFAULT_EXECUTIONS_PAGE_SIZE),
                QueryParam("page_token", "next_page_token of the previous page."),
            ),
            errors=(400,),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        settings = self.app.settings_
        page = await self.call_core(
            jobs.list_executions,
            settings,
            job_id=self.get_query_argument("job_id", None),
            sweep_id=self.get_query_argument("sweep_id", None),
            schedule_id=self.get_query_argument("schedule_id", None),
            state=self.get_query_argument("state", None),
            max_results=_int_argument(self, "max_results", DEFAULT_EXECUTIONS_PAGE_SIZE),
            page_token=self.get_query_argument("page_token", None),
        )
        self.finish_model(page)


class ExecutionHandler(JobsHandlerBase):
    """``GET /executions/{id}``: one execution's state, progress and attempts."""

    operations = {
        "get": Operation(
            summary="One execution: state, cells done, error, attempts (a unique id prefix "
            "works too).",
            response=Execution,
            operation_id="getExecution",
            path_params=("execution_id",),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, execution_id: str) -> None:
        settings = self.app.settings_
        execution = await self.call_core(jobs.get_execution, settings, execution_id)
        self.finish_model(execution)


class ExecutionLogHandler(JobsHandlerBase):
    """``GET /executions/{id}/log?offset=N``: the output log from a byte offset on."""

    operations = {
        "get": Operation(
            summary="A slice of the execution's output log from `offset`; read again from "
            "`next_offset` until `complete`.",
            response=ExecutionLog,
            operation_id="getExecutionLog",
            path_params=("execution_id",),
            query=(
                QueryParam(
                    "offset",
                    "Byte offset to read from (the last answer's next_offset).",
                    type="integer",
                    minimum=0,
                    default=0,
                ),
            ),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, execution_id: str) -> None:
        settings = self.app.settings_
        raw = self.get_query_argument("offset", "0")
        try:
            offset = int(raw)
        except ValueError:
            offset = -1
        if offset < 0:
            raise InvalidInput(f"offset must be an integer >= 0, got '{raw}'.", param="offset")
        log = await self.call_core(jobs.read_log, settings, execution_id, offset, MAX_LOG_BYTES)
        self.finish_model(log)


class ExecutionNotebookHandler(JobsHandlerBase):
    """``GET /executions/{id}/notebook``: the masked output notebook, partial while running."""

    operations = {
        "get": Operation(
            summary="The execution's output notebook (masked nbformat JSON).",
            response=OutputNotebook,
            operation_id="getExecutionNotebook",
            path_params=("execution_id",),
            errors=(400, 404, 413),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, execution_id: str) -> None:
        settings = self.app.settings_
        path, content = await self.call_core(jobs.output_notebook, settings, execution_id)
        self.finish_model(OutputNotebook(path=path, content=content))


class ExecutionCancelHandler(JobsHandlerBase):
    """``POST /executions/{id}/cancel``: interrupt, then stop the kernel."""

    operations = {
        "post": Operation(
            summary="Cancel an execution: a queued one never starts, a running one is "
            "interrupted and its kernel stopped.",
            response=Execution,
            operation_id="cancelExecution",
            path_params=("execution_id",),
            errors=(400, 404, 409),
        )
    }

    @web.authenticated
    @authorized
    async def post(self, execution_id: str) -> None:
        settings = self.app.settings_
        execution = await self.call_core(jobs.cancel, settings, execution_id)
        self.finish_model(execution)


class ExecutionRerunHandler(JobsHandlerBase):
    """``POST /executions/{id}/rerun``: a new execution with the same job and parameters."""

    operations = {
        "post": Operation(
            summary="Run the execution's job again with the same parameters.",
            response=Submission,
            operation_id="rerunExecution",
            path_params=("execution_id",),
            request=RerunRequest,
            request_required=False,
            status=201,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def post(self, execution_id: str) -> None:
        settings = self.app.settings_
        body = self.json_body(required=False)
        try:
            rerun = RerunRequest.model_validate(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            param = str(first["loc"][0]) if first["loc"] else None
            raise InvalidInput(f"{param}: {first['msg']}.", param=param) from None
        submission = await self.call_core(
            jobs.rerun,
            settings,
            execution_id,
            idempotency_key=rerun.idempotency_key,
            actor=self.actor,
        )
        self.finish_model(submission, status=201)


class SweepHandler(JobsHandlerBase):
    """``GET /sweeps/{id}``: a sweep's grid, state and best execution."""

    operations = {
        "get": Operation(
            summary="One sweep: its grid, executions, state and best execution so far.",
            response=Sweep,
            operation_id="getSweep",
            path_params=("sweep_id",),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, sweep_id: str) -> None:
        settings = self.app.settings_
        sweep = await self.call_core(jobs.get_sweep, settings, sweep_id)
        self.finish_model(sweep)


JOB_ROUTES: list[tuple[str, type[MlopsHandler]]] = [
    (r"/mlops-lab/api/jobs/parameters", JobParametersHandler),
    (r"/mlops-lab/api/jobs", JobsHandler),
    (r"/mlops-lab/api/executions", ExecutionsHandler),
    (r"/mlops-lab/api/executions/(?P<execution_id>[^/]+)", ExecutionHandler),
    (r"/mlops-lab/api/executions/(?P<execution_id>[^/]+)/log", ExecutionLogHandler),
    (r"/mlops-lab/api/executions/(?P<execution_id>[^/]+)/notebook", ExecutionNotebookHandler),
    (r"/mlops-lab/api/executions/(?P<execution_id>[^/]+)/cancel", ExecutionCancelHandler),
    (r"/mlops-lab/api/executions/(?P<execution_id>[^/]+)/rerun", ExecutionRerunHandler),
    (r"/mlops-lab/api/sweeps/(?P<sweep_id>[^/]+)", SweepHandler),
]
