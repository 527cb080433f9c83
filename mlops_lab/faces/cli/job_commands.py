"""``mlops-lab job ...``: run notebooks as papermill jobs from a shell, cron or CI.

Thin like every command: parse, call :mod:`mlops_lab.core.jobs.api`, print with the
words the magic uses (:mod:`mlops_lab.faces.execution_text`). ``job run --wait`` exits
with a status that tells how the execution ended (see :data:`EXIT_CODES`), so a script
can branch on it without parsing the output. The API is imported where it is called,
so ``mlops-lab info`` does not load papermill.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from mlops_lab.core.config import Settings, resolve_settings
from mlops_lab.core.jobs.entities import Execution, ExecutionState, Submission
from mlops_lab.faces.arguments import notebook_argument, parse_job_parameters
from mlops_lab.faces.execution_text import (
    detail_lines,
    execution_record,
    executions_table,
    final_line,
    progress_line,
    queued_line,
    short_id,
)
from mlops_lab.faces.sweep_summary import best_line, summarised_sweep

Command = TypeVar("Command", bound=Callable[..., Any])

EXIT_CODES: dict[ExecutionState, int] = {
    ExecutionState.SUCCEEDED: 0,
    ExecutionState.FAILED: 3,
    ExecutionState.TIMED_OUT: 4,
    ExecutionState.CANCELLED: 5,
}
"""``job run --wait``'s exit status per final state. 1 stays what it is for every
command (the request was refused: nothing ran) and 2 is click's usage error, so an
execution's own outcome starts at 3. A sweep exits with the lowest code among its
executions that did not succeed (any failure outranks a timeout, which outranks a
cancel)."""
INTERRUPTED = 130
"""Ctrl-C while waiting: the execution goes on, only the waiting stopped."""

FOLLOW_POLL_S = 0.5
METER_LINE_S = 10.0
"""Without a terminal (a CI log) the meter prints a line per change of state, or at
most this often while cells progress, instead of rewriting one line."""


def _settings(ctx: click.Context) -> Settings:
    return resolve_settings(ctx.find_root().obj)


def exit_code(executions: Sequence[Execution]) -> int:
    """0 when every execution succeeded, else the lowest code of those that did not."""
    codes = [EXIT_CODES.get(e.state, EXIT_CODES[ExecutionState.FAILED]) for e in executions]
    failed = [code for code in codes if code]
    return min(failed) if failed else 0


def execution_options(command: Command) -> Command:
    """``--timeout``, ``--retries``, ``--retry-backoff``, ``--kernel``, ``--experiment``:
    how each execution runs, for ``job run`` and ``schedule create`` alike."""
    options = (
        click.option("--timeout", type=float, default=None, help="Seconds an execution may take."),
        click.option(
            "--retries", type=int, default=None, help="Attempts after a failed one (default 0)."
        ),
        click.option(
            "--retry-backoff", type=float, default=None, help="Seconds before the first retry."
        ),
        click.option("--kernel", default=None, help="Kernel name (default: the notebook's)."),
        click.option(
            "--experiment", default=None, help="MLflow experiment (default: the notebook's path)."
        ),
    )
    for option in reversed(options):  # the first listed is the first in --help
        command = option(command)
    return command


@click.group("job")
def job() -> None:
    """Run notebooks as parameterised papermill jobs; list, show, follow and cancel them."""


@job.command("run")
@click.argument("notebook")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    multiple=True,
    metavar="NAME=VALUE",
    help="A parameter of the cell tagged 'parameters' (repeatable); commas make a sweep: "
    "-p alpha=0.1,0.5,1.",
)
@click.option(
    "--wait", is_flag=True, help="Show progress on stderr until it ends; exit 3-5 if it fails."
)
@execution_options
@click.option("--name", default=None, help="The job's name (default: the notebook's).")
@click.option(
    "--metric", default=None, help="The MLflow metric that picks a sweep's best execution."
)
@click.option(
    "--goal",
    type=click.Choice(["max", "min"]),
    default=None,
    help="Whether the best is its highest (max, the default) or lowest value.",
)
@click.option("--concurrency", type=int, default=None, help="A sweep's executions at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the executions as JSON.")
@click.pass_context
def run(
    ctx: click.Context,
    notebook: str,
    parameters: tuple[str, ...],
    wait: bool,
    timeout: float | None,
    retries: int | None,
    retry_backoff: float | None,
    kernel: str | None,
    experiment: str | None,
    name: str | None,
    metric: str | None,
    goal: str | None,
    concurrency: int | None,
    as_json: bool,
) -> None:
    """Run NOTEBOOK as a job: once, or as a sweep.

    NOTEBOOK is a path from here or from the root, and must lie under the root.
    Parameter values are read as the types the notebook's parameters cell declares.
    """
    from mlops_lab.core.jobs import api

    settings = _settings(ctx)
    options: dict[str, Any] = {
        "timeout": timeout,
        "retries": retries,
        "retry_backoff": retry_backoff,
        "kernel_name": kernel,
        "experiment": experiment,
        "name": name,
        "sweep_metric": metric,
        "sweep_goal": goal,
        "concurrency": concurrency,
    }
    submission = api.submit_text(
        settings,
        notebook_argument(notebook, Path.cwd()),
        parse_job_parameters(parameters),
        **{key: value for key, value in options.items() if value is not None},
    )
    if not as_json:
        _echo_submission(submission, waiting=wait)
    if not wait:
        if as_json:
            click.echo(json.dumps([execution_record(e) for e in submission.executions], indent=2))
        return
    final = _wait(settings, [e.id for e in submission.executions])
    if as_json:
        click.echo(json.dumps([execution_record(e) for e in final], indent=2))
    else:
        for execution in final:
            click.echo(final_line(execution))
        if submission.sweep is not None:
            _echo_best(settings, submission.sweep.id)
    ctx.exit(exit_code(final))


def _echo_submission(submission: Submission, waiting: bool) -> None:
    sweep = submission.sweep
    if submission.reused:
        click.echo("this submit was already made (same idempotency key): nothing new queued")
    if sweep is not None:
        best = f", best by {sweep.goal.value} {sweep.metric}" if sweep.metric else ""
        click.echo(
            f"sweep {sweep.id}: {len(sweep.execution_ids)} executions, "
            f"at most {sweep.concurrency} at once{best}"
        )
    for execution in submission.executions:
        click.echo(queued_line(execution))
    if not waiting and submission.executions:
        first = short_id(submission.executions[0].id)
        click.echo(f"follow it with: mlops-lab job logs {first} --follow")


def _wait(settings: Settings, ids: list[str]) -> list[Execution]:
    from mlops_lab.core.jobs import api

    meter = StderrMeter(sys.stderr)
    began = time.monotonic()
    try:
        final = api.wait(
            settings,
            ids,
            on_progress=lambda executions: meter.update(executions, time.monotonic() - began),
        )
    except KeyboardInterrupt:
        meter.close()
        first = short_id(ids[0])
        click.echo(
            f"Stopped waiting; the execution goes on (mlops-lab job show {first}, "
            f"mlops-lab job cancel {first}).",
            err=True,
        )
        sys.exit(INTERRUPTED)
    meter.close()
    return final


def _echo_best(settings: Settings, sweep_id: str) -> None:
    line = best_line(settings, summarised_sweep(settings, sweep_id))
    if line is not None:
        click.echo(line)


class StderrMeter:
    """``--wait``'s progress: one line rewritten in place on a terminal; on a pipe or a
    CI log, a line per change of state and at most one per :data:`METER_LINE_S` else."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._width = 0
        self._last_states: tuple[str, ...] = ()
        self._last_line = -METER_LINE_S

    def update(self, executions: Sequence[Execution], elapsed: float) -> None:
        line = progress_line(executions, elapsed)
        if self._tty:
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            states = tuple(e.state.value for e in executions)
            now = time.monotonic()
            if states == self._last_states and now - self._last_line < METER_LINE_S:
                return
            self._last_states, self._last_line = states, now
            self._stream.write(line + "\n")
        self._stream.flush()

    def close(self) -> None:
        if self._tty and self._width:
            self._stream.write("\n")
            self._stream.flush()


@job.command("list")
@click.option("--limit", default=20, show_default=True, help="How many executions to show.")
@click.option("--state", default=None, help="Only executions in this state (e.g. RUNNING, FAILED).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of a table.")
@click.pass_context
def list_(ctx: click.Context, limit: int, state: str | None, as_json: bool) -> None:
    """List recent executions, newest first."""
    from mlops_lab.core.jobs import api

    page = api.list_executions(_settings(ctx), state=state, max_results=limit)
    if as_json:
        click.echo(json.dumps([execution_record(e) for e in page.executions], indent=2))
        return
    if not page.executions:
        click.echo("No executions.")
        return
    click.echo(executions_table(page.executions))


@job.command("show")
@click.argument("execution_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def show(ctx: click.Context, execution_id: str, as_json: bool) -> None:
    """Show an execution: state, progress, attempts, error, results.

    ID may be a unique prefix of the execution's id.
    """
    from mlops_lab.core.jobs import api

    execution = api.get_execution(_settings(ctx), execution_id)
    if as_json:
        click.echo(json.dumps(execution_record(execution), indent=2))
        return
    click.echo("\n".join(detail_lines(execution)))


@job.command("logs")
@click.argument("execution_id", metavar="ID")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the execution ends.")
@click.pass_context
def logs(ctx: click.Context, execution_id: str, follow: bool) -> None:
    """Print an execution's output log (every attempt's, masked)."""
    from mlops_lab.core.jobs import api

    settings = _settings(ctx)
    offset = 0
    try:
        while True:
            piece = api.read_log(settings, execution_id, offset=offset)
            if piece.text:
                click.echo(piece.text, nl=False)
            if piece.next_offset > offset:
                offset = piece.next_offset
                continue  # more may be there already
            if not follow or piece.complete:
                return
            time.sleep(FOLLOW_POLL_S)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)


@job.command("cancel")
@click.argument("execution_id", metavar="ID")
@click.pass_context
def cancel(ctx: click.Context, execution_id: str) -> None:
    """Cancel a queued or running execution.

    A running execution's kernel is interrupted, then stopped; the execution ends
    CANCELLED with the output it had.
    """
    from mlops_lab.core.jobs import api

    execution = api.cancel(_settings(ctx), execution_id)
    if execution.state.finished:
        click.echo(final_line(execution))
    else:
        click.echo(
            f"cancelling {execution.id} ({execution.state.value}); "
            f"`mlops-lab job show {short_id(execution.id)}` tells when it has stopped"
        )
