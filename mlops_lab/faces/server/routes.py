"""Every REST route of the server extension, in the order tornado tries them.

Its own module because the route tables live beside their handlers (runs in
``handlers``, jobs in ``job_handlers``, schedules in ``schedule_handlers``) and
the catch-all must come after all of them.
"""

from __future__ import annotations

from mlops_lab.faces.server.handlers import RUN_ROUTES, MlopsHandler, UnknownRouteHandler
from mlops_lab.faces.server.job_handlers import JOB_ROUTES
from mlops_lab.faces.server.schedule_handlers import SCHEDULE_ROUTES

ROUTES: list[tuple[str, type[MlopsHandler]]] = [
    *RUN_ROUTES,
    *JOB_ROUTES,
    *SCHEDULE_ROUTES,
    (r"/mlops-lab/api/(?P<path>.*)", UnknownRouteHandler),
]
