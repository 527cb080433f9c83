"""REST handlers. Each verb: authenticate, authorize, call the core, render a model.

Errors are mapped once, in :class:`MlopsHandler.write_error`: a :class:`MlopsError`
becomes its HTTP status with ``{"message", "code"}``; anything else is a 500 with the
same shape, logged with its traceback on the server (never sent to the browser).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from pydantic import TypeAdapter
from tornado import web

from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError, NotFound
from mlops_lab.core.health import check_health
from mlops_lab.core.mlflow.entities import ExperimentPage, RunPage
from mlops_lab.core.runs import detail as run_detail
from mlops_lab.core.runs import search as runs
from mlops_lab.core.runs.compare import Comparison, compare_runs
from mlops_lab.core.runs.detail import RunDetail
from mlops_lab.core.version import __version__
from mlops_lab.faces.server.models import (
    ErrorBody,
    HealthResponse,
    RunNotebook,
)
from mlops_lab.faces.server.openapi import Operation, QueryParam

T = TypeVar("T")

AUTH_RESOURCE = "mlops-lab"

DEFAULT_PAGE_SIZE = 50
DEFAULT_EXPERIMENTS_PAGE_SIZE = 100
MAX_PAGE_SIZE = runs.MAX_RESULTS_LIMIT


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every handler: one auth resource, one error mapping, core calls off-loop."""

    auth_resource = AUTH_RESOURCE

    @property
    def app(self) -> Any:
        return self.extensionapp

    async def call_core(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core call in a worker thread so the server stays responsive."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    def finish_model(self, body: Any, status: int = 200) -> None:
        """Write a response body: a pydantic model or a core entity (a dataclass)."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(_adapter(type(body)).dump_json(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsError):
            status_code = exc.http_status
            body = ErrorBody(message=exc.message, code=exc.code, param=getattr(exc, "param", None))
        elif isinstance(exc, web.HTTPError):
            body = ErrorBody(message=exc.log_message or self._reason, code=_code_of(status_code))
            if status_code == 405:
                self.set_header("Allow", ", ".join(self.allowed_methods()))
        else:
            body = ErrorBody(
                message="Internal error in mlops-lab; the server log has the traceback.",
                code=ErrorCode.INTERNAL,
            )
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body.model_dump(mode="json")))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The verbs this route answers (for a 405's ``Allow`` header)."""
        own = [m for m in cls.SUPPORTED_METHODS if m.lower() in vars(cls)]
        return sorted({*own, "OPTIONS"})

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsError):  # a user's mistake: one line, no traceback
            self.log.info("mlops-lab %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


_adapters: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(body_type: type[Any]) -> TypeAdapter[Any]:
    """Building an adapter compiles a serializer: once per body type, not per request."""
    adapter = _adapters.get(body_type)
    if adapter is None:
        adapter = _adapters[body_type] = TypeAdapter(body_type)
    return adapter


def _page_size(default: int) -> QueryParam:
    """``max_results`` as every paged route documents it (schemathesis holds us to it)."""
    return QueryParam(
        "max_results",
        "Page size.",
        type="integer",
        minimum=1,
        maximum=MAX_PAGE_SIZE,
        default=default,
    )


def _int_argument(handler: MlopsHandler, name: str, default: int) -> int:
    raw = handler.get_query_argument(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            f"{name} must be an integer 1..{MAX_PAGE_SIZE}, got '{raw}'.", param=name
        ) from None


def _code_of(status: int) -> ErrorCode:
    """Our code for an HTTP error tornado or jupyter_server raised before our code ran."""
    if status in (401, 403):
        return ErrorCode.FORBIDDEN
    if status == 404:
        return ErrorCode.NOT_FOUND
    return ErrorCode.INTERNAL if status >= 500 else ErrorCode.INVALID


class HealthHandler(MlopsHandler):
    """``GET /health``: version, masked settings, and whether each store answers (<= 5 s)."""

    operations = {
        "get": Operation(
            summary="Version, settings (masked) and whether each store answers.",
            response=HealthResponse,
            operation_id="getHealth",
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        if self.app.config_error is not None:
            self.finish_model(
                HealthResponse(
                    version=__version__,
                    tracking_uri=None,
                    mlflow_ui_url=None,
                    settings=[],
                    stores=[],
                    config_error=str(self.app.config_error),
                )
            )
            return
        report = await self.call_core(check_health, self.app.settings_, self.app.store)
        self.finish_model(HealthResponse.from_report(report))


class ExperimentsHandler(MlopsHandler):
    """``GET /experiments``: one page of active experiments, the most recently updated first."""

    operations = {
        "get": Operation(
            summary="Active MLflow experiments, the most recently updated first, one page.",
            response=ExperimentPage,
            operation_id="listExperiments",
            query=(
                QueryParam("name", "Only experiments whose name contains this (any case)."),
                _page_size(DEFAULT_EXPERIMENTS_PAGE_SIZE),
                QueryParam("page_token", "next_page_token of the previous page."),
            ),
            errors=(400,),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        page = await self.call_core(
            runs.list_experiments,
            self.app.settings_,
            max_results=_int_argument(self, "max_results", DEFAULT_EXPERIMENTS_PAGE_SIZE),
            page_token=self.get_query_argument("page_token", None),
            name=self.get_query_argument("name", None),
        )
        self.finish_model(page)


class RunsHandler(MlopsHandler):
    """``GET /runs``: one page of an experiment's runs (MLflow filter and order syntax)."""

    operations = {
        "get": Operation(
            summary="One page of an experiment's runs, newest first unless order_by says.",
            response=RunPage,
            operation_id="searchRuns",
            query=(
                QueryParam("experiment", "Experiment id or name.", required=True),
                QueryParam("filter", "MLflow search filter, e.g. metrics.acc > 0.9."),
                QueryParam("order_by", "MLflow order clauses, comma separated."),
                _page_size(DEFAULT_PAGE_SIZE),
                QueryParam("page_token", "next_page_token of the previous page."),
            ),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        max_results = _int_argument(self, "max_results", DEFAULT_PAGE_SIZE)
        page = await self.call_core(
            runs.search_runs,
            self.app.settings_,
            experiment=self.get_query_argument("experiment", None),
            filter_string=self.get_query_argument("filter", None),
            order_by=self.get_query_argument("order_by", None),
            max_results=max_results,
            page_token=self.get_query_argument("page_token", None),
        )
        self.finish_model(page)


class RunHandler(MlopsHandler):
    """``GET /runs/{run_id}``: one run's summary and lineage."""

    operations = {
        "get": Operation(
            summary="One run: params, metrics, tags, datasets, notebook, git, artifacts.",
            response=RunDetail,
            operation_id="getRun",
            path_params=("run_id",),
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        detail = await self.call_core(run_detail.get_run, self.app.settings_, run_id)
        self.finish_model(detail)


class RunNotebookHandler(MlopsHandler):
    """``GET /runs/{run_id}/notebook``: the notebook snapshot logged with the run."""

    operations = {
        "get": Operation(
            summary="The run's notebook snapshot (nbformat JSON).",
            response=RunNotebook,
            operation_id="getRunNotebook",
            path_params=("run_id",),
            errors=(400, 404, 413),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        path, content = await self.call_core(run_detail.get_notebook, self.app.settings_, run_id)
        self.finish_model(RunNotebook(path=path, content=content))


class CompareHandler(MlopsHandler):
    """``GET /compare?run_id=A&run_id=B``: the runs side by side, as every face shows them."""

    operations = {
        "get": Operation(
            summary="Params and metrics of 2..50 runs side by side, with metric histories.",
            response=Comparison,
            operation_id="compareRuns",
            errors=(400, 404),
            query=(
                QueryParam(
                    "run_id", "A run id; repeat for each run (2..50).", required=True, array=True
                ),
            ),
        )
    }

    @web.authenticated
    @authorized
    async def get(self) -> None:
        comparison = await self.call_core(
            compare_runs, self.app.settings_, self.get_query_arguments("run_id")
        )
        self.finish_model(comparison)


class UnknownRouteHandler(MlopsHandler):
    """Anything else under ``/mlops-lab/api/``: a JSON 404, so the client can show it."""

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        raise NotFound(
            f"No mlops-lab API route '/mlops-lab/api/{path}'. The server and the sidebar "
            "may be different versions: reinstall mlops_lab and restart JupyterLab."
        )


RUN_ROUTES: list[tuple[str, type[MlopsHandler]]] = [
    (r"/mlops-lab/api/health", HealthHandler),
    (r"/mlops-lab/api/experiments", ExperimentsHandler),
    (r"/mlops-lab/api/runs", RunsHandler),
    (r"/mlops-lab/api/runs/(?P<run_id>[^/]+)", RunHandler),
    (r"/mlops-lab/api/runs/(?P<run_id>[^/]+)/notebook", RunNotebookHandler),
    (r"/mlops-lab/api/compare", CompareHandler),
]
"""Health and the runs' routes; :mod:`routes` puts every route together, the catch-all
last."""
