"""``%mlops job schedule``, ``%mlops schedules`` and ``%mlops schedule ...``: cron schedules.

Thin like the rest of the magic: parse the line, call :mod:`mlops_lab.core.jobs.schedules`,
render with :mod:`mlops_lab.faces.schedule_text` (the CLI's words too). The core is
imported where it is called: ``%load_ext mlops_lab`` must not pay for papermill.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any, Protocol

from mlops_lab.core.config import Settings
from mlops_lab.faces.arguments import parse_job_parameters, schedule_options
from mlops_lab.faces.execution_text import short_id
from mlops_lab.faces.magics.job_commands import add_execution_options
from mlops_lab.faces.schedule_text import (
    FIRES_WHEN,
    paused_line,
    schedule_lines,
    schedules_frame,
    show_lines,
)

RECENT = 10
"""Slots and executions ``%mlops schedule show`` lists."""


class NotebookToRun(Protocol):
    """The job magic's resolution of a line's notebook (this kernel's when none is given)."""

    def __call__(
        self, settings: Settings, given: str | None, started: float, *, announce: bool = True
    ) -> str: ...


def add_schedule_parser(job_sub: Any) -> None:
    """``job schedule``, beside ``job run`` (``job_sub`` is the ``job`` subparsers action)."""
    create = job_sub.add_parser(
        "schedule", help="run a notebook as a job at every slot of a cron expression"
    )
    create.add_argument(
        "notebook", nargs="?", help="path under the Jupyter root (default: this notebook)"
    )
    create.add_argument(
        "--cron",
        required=True,
        metavar="EXPR",
        help="five fields (minute hour day month weekday), six with seconds first, or @daily",
    )
    create.add_argument("--tz", metavar="TZ", help="IANA zone, e.g. Europe/Paris (default: here)")
    create.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the cell tagged 'parameters' (one value each)",
    )
    create.add_argument("--name", metavar="N", help="the schedule's name (default: the notebook's)")
    create.add_argument(
        "--concurrency",
        metavar="skip|queue",
        help="while earlier executions run: skip the slot (default) or queue it",
    )
    create.add_argument(
        "--max-active", type=int, metavar="N", help="executions of it active at once (default 1)"
    )
    create.add_argument(
        "--catch-up",
        metavar="none|last|all",
        help="slots missed while no scheduler ran: fire none, the last (default) or all",
    )
    create.add_argument(
        "--end", metavar="DATE", help="no slot after it fires: 2026-12-31 or '2026-12-31 18:00'"
    )
    add_execution_options(create)


def add_schedules_parsers(sub: Any) -> None:
    """``schedules`` (the table) and ``schedule show|pause|resume|delete ID``."""
    sub.add_parser("schedules", help="every schedule as a DataFrame")
    one = sub.add_parser("schedule", help="show, pause, resume or delete a schedule")
    one_sub = one.add_subparsers(
        dest="schedule_command", parser_class=type(one), metavar="{show,pause,resume,delete}"
    )
    one_sub.required = True
    for name, what in (
        ("show", "a schedule, its next fire times, recent slots and executions"),
        ("pause", "no slot fires until it is resumed"),
        ("resume", "fire again from the next slot"),
        ("delete", "no slot fires any more; its executions stay"),
    ):
        one_sub.add_parser(name, help=what).add_argument(
            "id", metavar="ID", help="schedule id (a unique prefix works)"
        )


class ScheduleCommands:
    """The schedule commands of one kernel's ``%mlops``."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        notebook_to_run: NotebookToRun,
        expanded: Callable[[list[str]], list[str]],
    ) -> None:
        """``notebook_to_run`` and ``expanded`` are the job magic's, so a schedule names
        its notebook and expands ``{expr}`` values exactly as ``job run`` does."""
        self._settings = settings
        self._notebook_to_run = notebook_to_run
        self._expanded = expanded

    def create(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import schedules

        started = time.time()
        settings = self._settings()
        texts = parse_job_parameters(self._expanded(args.parameters))
        options = schedule_options(
            timezone=args.tz,
            kernel=args.kernel,
            timeout=args.timeout,
            retries=args.retries,
            retry_backoff=args.retry_backoff,
            experiment=args.experiment,
            name=args.name,
            concurrency=args.concurrency,
            max_active=args.max_active,
            catch_up=args.catch_up,
            end=args.end,
        )
        # No "as saved at" line: each slot runs the notebook as saved at its time.
        notebook = self._notebook_to_run(settings, args.notebook, started, announce=False)
        made = schedules.create_schedule_text(settings, notebook, texts, cron=args.cron, **options)
        print("\n".join(schedule_lines(made)))
        print(f"mlops: {FIRES_WHEN}; %mlops schedule show {short_id(made.id)} tells what it did")

    def table(self, args: argparse.Namespace) -> Any:
        """The DataFrame, and a line per schedule whose next slot would fail."""
        from mlops_lab.core.jobs import schedules

        found = schedules.list_schedules(self._settings())
        for schedule in found:
            if schedule.problem:
                print(f"mlops: ! schedule {short_id(schedule.id)}: {schedule.problem}")
        return schedules_frame(found)

    def one(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import api, schedules

        settings = self._settings()
        command = args.schedule_command
        if command == "show":
            found = schedules.get_schedule(settings, args.id)
            slots = schedules.schedule_slots(settings, found.id, RECENT)
            page = api.list_executions(settings, schedule_id=found.id, max_results=RECENT)
            print("\n".join(show_lines(found, slots, page.executions)))
        elif command == "pause":
            print(f"mlops: {paused_line(schedules.pause_schedule(settings, args.id))}")
        elif command == "resume":
            print(f"mlops: {paused_line(schedules.resume_schedule(settings, args.id))}")
        else:
            deleted = schedules.delete_schedule(settings, args.id)
            print(f"mlops: deleted schedule {deleted}; its executions stay (%mlops jobs)")
