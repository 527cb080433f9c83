"""``mlops-lab schedule ...`` and ``mlops-lab scheduler``: notebooks run on a cron schedule.

Thin like every command: parse, call :mod:`mlops_lab.core.jobs.schedules`, print with the
words the magic uses (:mod:`mlops_lab.faces.schedule_text`). A refused request exits 1
with one line (the group's handler), as every command does. ``scheduler`` runs the
core's scheduler in the foreground, for a service manager (systemd) to keep alive; the
core is imported where it is called, so ``mlops-lab info`` does not load papermill.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.faces.arguments import notebook_argument, parse_job_parameters, schedule_options
from mlops_lab.faces.cli.job_commands import execution_options
from mlops_lab.faces.execution_text import execution_record, keep_end, keep_start, short_id
from mlops_lab.faces.schedule_text import (
    FIRES_WHEN,
    paused_line,
    schedule_lines,
    schedule_record,
    schedules_frame,
    show_lines,
    slot_record,
)

RECENT = 10
"""Slots and executions ``schedule show`` lists by default."""
NOTEBOOK_WIDTH = 32
"""A longer notebook path in ``schedule list`` keeps its end."""
WHEN_WIDTH = 36
"""A longer cron description in ``schedule list`` keeps its start."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def _settings(ctx: click.Context) -> Settings:
    return resolve_settings(ctx.find_root().obj)


@click.group("schedule")
def schedule() -> None:
    """Run a notebook as a job at every slot of a cron expression in a time zone."""


@schedule.command("create")
@click.argument("notebook")
@click.option(
    "--cron",
    required=True,
    metavar="EXPR",
    help="Five fields (minute hour day month weekday), six with seconds first, or @daily.",
)
@click.option(
    "--tz", default=None, help="IANA time zone, e.g. Europe/Paris (default: this machine's)."
)
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the cell tagged 'parameters' (repeatable; one value each).",
)
@click.option("--name", default=None, help="The schedule's name (default: the notebook's).")
@click.option(
    "--concurrency",
    default=None,
    metavar="skip|queue",
    help="While earlier executions still run: skip the slot (default) or queue it.",
)
@click.option(
    "--max-active", type=int, default=None, help="Executions of it active at once (default 1)."
)
@click.option(
    "--catch-up",
    default=None,
    metavar="none|last|all",
    help="Slots missed while no scheduler ran: fire none, the last (default) or all.",
)
@click.option(
    "--end",
    default=None,
    metavar="DATE",
    help="No slot after it fires: 2026-12-31 or '2026-12-31 18:00' (in the schedule's zone).",
)
@execution_options
@click.option("--json", "as_json", is_flag=True, help="Print the schedule as JSON.")
@click.pass_context
def create(
    ctx: click.Context,
    notebook: str,
    cron: str,
    tz: str | None,
    parameters: tuple[str, ...],
    name: str | None,
    concurrency: str | None,
    max_active: int | None,
    catch_up: str | None,
    end: str | None,
    timeout: float | None,
    retries: int | None,
    retry_backoff: float | None,
    kernel: str | None,
    experiment: str | None,
    as_json: bool,
) -> None:
    """Schedule NOTEBOOK: a job at every slot of --cron in --tz.

    NOTEBOOK is a path from here or from the root, and must lie under the root. Every
    value is checked as `job run` checks it before anything is stored.
    """
    from mlops_lab.core.jobs import schedules

    options = schedule_options(
        timezone=tz,
        kernel=kernel,
        timeout=timeout,
        retries=retries,
        retry_backoff=retry_backoff,
        experiment=experiment,
        name=name,
        concurrency=concurrency,
        max_active=max_active,
        catch_up=catch_up,
        end=end,
    )
    made = schedules.create_schedule_text(
        _settings(ctx),
        notebook_argument(notebook, Path.cwd()),
        parse_job_parameters(parameters),
        cron=cron,
        **options,
    )
    if as_json:
        click.echo(json.dumps(schedule_record(made), indent=2))
        return
    click.echo("\n".join(schedule_lines(made)))
    click.echo(f"{FIRES_WHEN}; `mlops-lab schedule show {short_id(made.id)}` tells what it did")


@schedule.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List every schedule, newest first; '!' marks one whose next slot would fail."""
    from mlops_lab.core.jobs import schedules

    found = schedules.list_schedules(_settings(ctx))
    if as_json:
        click.echo(json.dumps([schedule_record(s) for s in found], indent=2))
        return
    if not found:
        click.echo("No schedules: `mlops-lab schedule create NOTEBOOK --cron EXPR` makes one.")
        return
    frame = schedules_frame(found)
    problems = [(row["id"], row["problem"]) for _, row in frame.iterrows() if row["problem"]]
    frame.insert(0, "!", frame.pop("problem").map(lambda text: "!" if text else ""))
    frame["id"] = frame["id"].map(short_id)
    frame["notebook"] = frame["notebook"].map(lambda text: keep_end(text, NOTEBOOK_WIDTH))
    frame["when"] = frame["when"].map(lambda text: keep_start(text, WHEN_WIDTH))
    click.echo(frame.to_string(index=False))
    for schedule_id, problem in problems:
        click.echo(f"! {short_id(schedule_id)}: {problem}")


@schedule.command("show")
@click.argument("schedule_id", metavar="ID")
@click.option("--limit", default=RECENT, show_default=True, help="Slots and executions to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def show(ctx: click.Context, schedule_id: str, limit: int, as_json: bool) -> None:
    """Show a schedule, its next fire times, its recent slots and executions.

    A slot fired (its execution), was skipped (earlier executions still ran) or was
    missed (no scheduler ran then), with the reason. ID may be a unique prefix.
    """
    from mlops_lab.core.jobs import api, schedules

    settings = _settings(ctx)
    found = schedules.get_schedule(settings, schedule_id)
    slots = schedules.schedule_slots(settings, found.id, limit)
    executions = api.list_executions(settings, schedule_id=found.id, max_results=limit).executions
    if as_json:
        body = {
            "schedule": schedule_record(found),
            "slots": [slot_record(s) for s in slots],
            "executions": [execution_record(e) for e in executions],
        }
        click.echo(json.dumps(body, indent=2))
        return
    click.echo("\n".join(show_lines(found, slots, executions)))


@schedule.command("pause")
@click.argument("schedule_id", metavar="ID")
@click.pass_context
def pause(ctx: click.Context, schedule_id: str) -> None:
    """Pause a schedule: no slot fires until it is resumed (its executions go on)."""
    from mlops_lab.core.jobs import schedules

    click.echo(paused_line(schedules.pause_schedule(_settings(ctx), schedule_id)))


@schedule.command("resume")
@click.argument("schedule_id", metavar="ID")
@click.pass_context
def resume(ctx: click.Context, schedule_id: str) -> None:
    """Resume a schedule from its next slot; the slots passed while paused do not fire."""
    from mlops_lab.core.jobs import schedules

    click.echo(paused_line(schedules.resume_schedule(_settings(ctx), schedule_id)))


@schedule.command("delete")
@click.argument("schedule_id", metavar="ID")
@click.option("--yes", "-y", is_flag=True, help="Do not ask to confirm.")
@click.pass_context
def delete(ctx: click.Context, schedule_id: str, yes: bool) -> None:
    """Delete a schedule: no slot fires any more; its executions stay."""
    from mlops_lab.core.jobs import schedules

    settings = _settings(ctx)
    found = schedules.get_schedule(settings, schedule_id)  # a wrong id fails before asking
    if not yes:
        click.confirm(
            f"Delete schedule {found.id} ({found.name}: {found.notebook}, {found.cron})?",
            abort=True,
        )
    deleted = schedules.delete_schedule(settings, found.id)
    click.echo(f"deleted schedule {deleted}; its executions stay (mlops-lab job list)")


@click.command("scheduler")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder, as `mlops-lab --root DIR` gives it (a service's command line "
    "often names it after the command).",
)
@click.pass_context
def scheduler(ctx: click.Context, root: Path | None) -> None:
    """Fire the project's schedules, in the foreground, until SIGTERM or Ctrl-C.

    Logs to stderr. Any number may run against one store (in JupyterLab too): each slot
    fires once. Exits 0 when stopped.
    """
    from mlops_lab.core.jobs.scheduler import run_scheduler

    settings = resolve_settings(root) if root is not None else _settings(ctx)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)
    ctx.exit(run_scheduler(settings))
