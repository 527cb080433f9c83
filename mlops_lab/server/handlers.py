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
from pydantic import BaseModel
from tornado import web

from mlops_lab.errors import ErrorCode, MlopsError, NotFound
from mlops_lab.health import check_health
from mlops_lab.server.models import ErrorBody, HealthResponse
from mlops_lab.server.openapi import Operation
from mlops_lab.version import __version__

T = TypeVar("T")

AUTH_RESOURCE = "mlops-lab"


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every handler: one auth resource, one error mapping, core calls off-loop."""

    auth_resource = AUTH_RESOURCE

    @property
    def app(self) -> Any:
        return self.extensionapp

    async def call_core(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core call in a worker thread so the server stays responsive."""
        self.app.raise_config_error()
        return await asyncio.to_thread(fn, *args, **kwargs)

    def finish_model(self, model: BaseModel, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(model.model_dump_json())

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, MlopsError):
            status_code, body = exc.http_status, ErrorBody(message=exc.message, code=exc.code)
        elif isinstance(exc, web.HTTPError):
            message = exc.log_message or self._reason
            code = ErrorCode.FORBIDDEN if exc.status_code in (401, 403) else ErrorCode.INVALID
            if exc.status_code == 404:
                code = ErrorCode.NOT_FOUND
            body = ErrorBody(message=message, code=code)
        else:
            body = ErrorBody(
                message="Internal error in mlops-lab; the server log has the traceback.",
                code=ErrorCode.UNAVAILABLE,
            )
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body.model_dump(mode="json")))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MlopsError):  # a user's mistake: one line, no traceback
            self.log.info("mlops-lab %s %s: %s", self.request.method, self.request.uri, value)
            return
        super().log_exception(typ, value, tb)


class HealthHandler(MlopsHandler):
    """``GET /health``: version, masked settings, and whether each store answers (<= 5 s)."""

    operations = {
        "get": Operation(
            summary="Version, settings (masked) and whether each store answers.",
            response=HealthResponse,
            operation_id="getHealth",
            errors=(403,),
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
        report = await self.call_core(check_health, self.app.settings_, self.app.lab_store)
        self.finish_model(HealthResponse.from_report(report))


class UnknownRouteHandler(MlopsHandler):
    """Anything else under ``/mlops-lab/api/``: a JSON 404, so the client can show it."""

    @web.authenticated
    @authorized
    async def get(self, path: str) -> None:
        raise NotFound(
            f"No mlops-lab API route '/mlops-lab/api/{path}'. The server and the sidebar "
            "may be different versions: reinstall mlops_lab and restart JupyterLab."
        )


ROUTES: list[tuple[str, type[MlopsHandler]]] = [
    (r"/mlops-lab/api/health", HealthHandler),
    (r"/mlops-lab/api/(?P<path>.*)", UnknownRouteHandler),
]
