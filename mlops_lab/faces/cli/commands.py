"""The ``mlops-lab`` command: a thin click face over the core.

Every command resolves :class:`~mlops_lab.core.config.Settings` for the current directory
(or ``--root``), calls one core function, and prints its result. A
:class:`~mlops_lab.core.errors.MlopsError` becomes one line on stderr and exit status 1;
so does any other exception (a bug of ours), whose traceback ``--debug`` shows.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.errors import MlopsError
from mlops_lab.core.health import HealthReport, check_health
from mlops_lab.core.masking import MASK
from mlops_lab.core.probes import StoreState
from mlops_lab.core.version import __version__
from mlops_lab.faces.cli.job_commands import job
from mlops_lab.faces.cli.schedule_commands import schedule, scheduler
from mlops_lab.faces.schedule_text import scheduling_line


class MlopsGroup(click.Group):
    """Renders every failure once for every command: one line on stderr, exit status 1.

    A :class:`MlopsError` is the user's to act on and prints its message. Anything else is
    a bug of ours: one line names the exception and points at ``--debug``, which lets the
    traceback through. click's own exceptions (usage errors, ``ctx.exit``) pass untouched.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MlopsError as exc:
            click.echo(f"Error: {_one_line(exc.message)}", err=True)
            ctx.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            detail = _one_line(str(exc))
            click.echo(
                f"Error: unexpected {type(exc).__name__} in mlops-lab"
                f"{f' ({detail})' if detail else ''}. This is a bug: run the command again "
                "with `mlops-lab --debug ...` to see the traceback, and report it.",
                err=True,
            )
            ctx.exit(1)


_PASSWORD_IN_URI = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def _one_line(text: str, limit: int = 200) -> str:
    """The first line of a message (SQLAlchemy puts the SQL on the next), short, with any
    password inside a URI masked."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = _PASSWORD_IN_URI.sub(rf"\1{MASK}@", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


@click.group(cls=MlopsGroup)
@click.version_option(__version__, prog_name="mlops-lab")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Project folder: where .mlops/ and pyproject.toml are looked for (default: here).",
)
@click.option(
    "--debug", is_flag=True, help="Show the traceback of an unexpected error (a bug) instead."
)
@click.pass_context
def cli(ctx: click.Context, root: Path | None, debug: bool) -> None:
    """Track notebook experiments in MLflow, run them as jobs, promote and monitor models."""
    ctx.obj = root


def settings_from(ctx: click.Context) -> Settings:
    return resolve_settings(ctx.find_root().obj)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--timeout", default=5.0, show_default=True, help="Seconds to wait for each store.")
@click.pass_context
def info(ctx: click.Context, as_json: bool, timeout: float) -> None:
    """Print every setting, where it came from, what each store answered, and where job
    executions run (for a Dask scheduler: whether it answers, with how many workers).

    Exits 2 when a store or the Dask scheduler is down or broken (with or without --json),
    1 when the configuration cannot be read.
    """
    from mlops_lab.core.jobs.schedules import scheduling_status

    settings = settings_from(ctx)
    report = check_health(settings, timeout=timeout, executor=True)
    scheduling = scheduling_status(settings) if report.ok else None
    if as_json:
        body = {
            "version": report.version,
            "root": str(settings.root),
            "settings": [
                {
                    "name": s.name,
                    "value": s.masked_value,
                    "source": s.source.value,
                    "origin": s.origin,
                }
                for s in report.settings
            ],
            "stores": [vars(s) for s in report.stores],
            "executor": vars(report.executor) if report.executor else None,
            "scheduling": vars(scheduling) if scheduling else None,
        }
        click.echo(json.dumps(body, indent=2))
    else:
        _print_info(settings, report)
        if scheduling is not None:
            click.echo(scheduling_line(scheduling))
    if not report.ok:
        sys.exit(2)


def _print_info(settings: Settings, report: HealthReport) -> None:
    click.echo(f"mlops-lab {report.version}   root: {settings.root}")
    width = max(len(s.name) for s in report.settings)
    for s in report.settings:
        origin = f" ({s.origin})" if s.origin and s.source.value != "default" else ""
        value = s.masked_value if s.masked_value is not None else "-"
        click.echo(f"  {s.name:<{width}}  {value}   [{s.source.value}{origin}]")
    click.echo("stores:")
    state_width = max(len(state) for state in StoreState)
    for st in report.stores:
        state = st.state.value if st.ok else st.state.value.upper()
        click.echo(f"  {state:<{state_width}}  {st.name:<8} {st.uri}: {st.message}")
    if report.executor is not None:
        ex = report.executor
        state = ex.state.value if ex.ok else ex.state.value.upper()
        click.echo("jobs run on:")
        click.echo(f"  {state:<{state_width}}  {ex.uri}: {ex.message}")


COLUMN_WIDTH = 24


def _shorten(value: Any, width: int = COLUMN_WIDTH) -> Any:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@cli.command()
@click.option("--experiment", "-e", default=None, help="Experiment name or id (default: latest).")
@click.option(
    "--filter", "filter_string", default=None, help="MLflow filter, e.g. 'metrics.acc > 0.9'."
)
@click.option("--sort", default=None, help="MLflow order clause, e.g. 'metrics.acc DESC'.")
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
@click.pass_context
def runs(
    ctx: click.Context,
    experiment: str | None,
    filter_string: str | None,
    sort: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List an experiment's runs, newest first: params and latest metrics.

    Runs left RUNNING by a kernel that died on this machine are closed (KILLED) first,
    so the list shows what really happened.
    """
    from mlops_lab.core.runs.search import runs_frame

    settings = settings_from(ctx)
    _close_runs_of_dead_kernels(settings)
    frame = runs_frame(settings, experiment, filter_string, sort, limit)
    if as_json:
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        click.echo(json.dumps(records, indent=2))
        return
    if frame.empty:
        click.echo("No runs match.")
        return
    shown = frame.assign(
        run_id=frame["run_id"].str[:8],
        start_time=frame["start_time"].dt.strftime("%Y-%m-%d %H:%M"),
    )
    click.echo(shown.map(_shorten).to_string(index=False))


def _close_runs_of_dead_kernels(settings: Settings) -> None:
    """Best effort, on stderr (``--json`` output stays parseable): listing must not fail
    because our own store is unreachable."""
    from mlops_lab.core.tracking.orphans import existing_store, reap_orphaned_runs

    try:
        store = existing_store(settings)
        reaped = (
            [] if store is None else reap_orphaned_runs(settings, store, reaper="mlops-lab runs")
        )
    except Exception as exc:  # the listing is what was asked for
        click.echo(f"mlops-lab: could not look for runs of dead kernels: {exc}", err=True)
        return
    for run in reaped:
        click.echo(
            f"mlops-lab: run {run.run_id} of {run.notebook or run.experiment} closed as "
            f"{run.status}: its kernel is gone",
            err=True,
        )


@cli.command()
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def compare(ctx: click.Context, run_ids: tuple[str, ...], as_json: bool) -> None:
    """Params and metrics of two or more runs side by side; '*' marks rows that differ."""
    from mlops_lab.core.runs.compare import compare_runs

    result = compare_runs(settings_from(ctx), list(run_ids))
    if as_json:  # the same document as GET /mlops-lab/api/compare
        click.echo(json.dumps(asdict(result), indent=2))
        return
    differing = set(result.differing)
    table = result.table().map(_shorten)
    table.index = [f"{'*' if label in differing else ' '} {label}" for label in table.index]
    click.echo(table.to_string())


cli.add_command(job)
cli.add_command(schedule)
cli.add_command(scheduler)


def main() -> None:
    cli(prog_name="mlops-lab")
