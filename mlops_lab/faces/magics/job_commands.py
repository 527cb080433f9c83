"""``%mlops job ...`` and ``%mlops jobs``: run notebooks as papermill jobs from a notebook.

Thin like the rest of the magic: parse the line, call :mod:`mlops_lab.core.jobs.api`,
render with :mod:`mlops_lab.faces.execution_text` (the CLI's words too). Every check of
a notebook, a parameter or an option is the core's, so the messages match the CLI's and
the sidebar's. The API is imported where it is called: it brings papermill and the
store, which ``%load_ext mlops_lab`` must not pay for.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display

from mlops_lab.core.config import EXECUTION_ENV, Settings
from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.jobs.entities import Execution, ExecutionState, Submission
from mlops_lab.core.tracking.session import SESSION_ENV, notebook_path
from mlops_lab.faces.arguments import notebook_argument, parse_job_parameters
from mlops_lab.faces.execution_text import (
    detail_lines,
    executions_frame,
    final_line,
    progress_line,
    queued_line,
    short_id,
)
from mlops_lab.faces.sweep_summary import best_line, summarised_sweep

SAVE_WAIT_S = 3.0
"""How long ``job run`` (of the current notebook, in JupyterLab) waits for the save the
frontend starts when the cell is run: the kernel cannot save the document itself."""
SAVE_SLACK_S = 1.0
"""A save finished this long before the cell started still counts as "the save of this
run": the frontend starts it as it sends the cell, so it may land first."""


def add_job_parsers(sub: Any, add_schedule_parser: Callable[[Any], None]) -> None:
    """Add ``job`` (run, schedule, show, logs, cancel) and ``jobs`` to the magic's subcommands.

    ``sub`` is the magic parser's subparsers action; nested parsers take the class of the
    parser it makes, so they raise instead of exiting the kernel like the others.
    ``add_schedule_parser`` adds ``job schedule`` (:mod:`.schedule_commands`, which builds
    on this module) to the ``job`` subparsers.
    """
    job = sub.add_parser("job", help="run this or another notebook as a papermill job")
    job_sub = job.add_subparsers(
        dest="job_command", parser_class=type(job), metavar="{run,schedule,show,logs,cancel}"
    )
    job_sub.required = True
    run = job_sub.add_parser("run", help="queue an execution (or a sweep) of a notebook")
    run.add_argument(
        "notebook", nargs="?", help="path under the Jupyter root (default: this notebook)"
    )
    run.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter of the cell tagged 'parameters'; commas make a sweep: -p alpha=0.1,1",
    )
    run.add_argument("--wait", action="store_true", help="show progress until it ends")
    add_execution_options(run)
    run.add_argument("--name", metavar="N", help="the job's name (default: the notebook's)")
    run.add_argument(
        "--metric", metavar="M", help="the MLflow metric that picks a sweep's best execution"
    )
    run.add_argument(
        "--goal",
        choices=("max", "min"),
        help="whether the best is its highest (max, the default) or lowest value",
    )
    run.add_argument("--concurrency", type=int, metavar="C", help="a sweep's executions at once")
    add_schedule_parser(job_sub)
    for name, what in (
        ("show", "state, progress, attempts, error and results of an execution"),
        ("logs", "the output log of an execution so far"),
        ("cancel", "cancel a queued or running execution"),
    ):
        job_sub.add_parser(name, help=what).add_argument(
            "id", metavar="ID", help="execution id (a unique prefix works)"
        )
    jobs = sub.add_parser("jobs", help="recent job executions as a DataFrame")
    jobs.add_argument("--limit", type=int, default=20, metavar="N")
    jobs.add_argument(
        "--state", metavar="S", help="only executions in this state (e.g. RUNNING, FAILED)"
    )


def add_execution_options(parser: argparse.ArgumentParser) -> None:
    """How each execution runs, for ``job run`` and ``job schedule`` alike."""
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds an execution may take")
    parser.add_argument(
        "--retries", type=int, metavar="N", help="attempts after a failed one (default 0)"
    )
    parser.add_argument(
        "--retry-backoff", type=float, metavar="S", help="seconds before the first retry"
    )
    parser.add_argument("--kernel", metavar="K", help="kernel name (default: the notebook's)")
    parser.add_argument(
        "--experiment", metavar="E", help="MLflow experiment (default: the notebook's path)"
    )


def submit_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options the user gave, under :class:`JobRequest`'s field names; the rest keep
    the core's defaults."""
    given = {
        "timeout": args.timeout,
        "retries": args.retries,
        "retry_backoff": args.retry_backoff,
        "kernel_name": args.kernel,
        "experiment": args.experiment,
        "name": args.name,
        "sweep_metric": args.metric,
        "sweep_goal": args.goal,
        "concurrency": args.concurrency,
    }
    return {key: value for key, value in given.items() if value is not None}


class JobCommands:
    """The ``job`` and ``jobs`` commands of one kernel's ``%mlops``."""

    def __init__(
        self,
        shell: InteractiveShell,
        settings: Callable[[], Settings],
        environ: Mapping[str, str],
        expanded: Callable[[list[str]], list[str]],
    ) -> None:
        """``expanded`` refuses a ``{expr}`` IPython could not evaluate (the magic's own
        check for ``param``/``metric``/``tag``), so ``-p alpha={a}`` behaves the same."""
        self._shell = shell
        self._settings = settings
        self._environ = environ
        self._expanded = expanded

    def job(self, args: argparse.Namespace) -> Any:
        handler = getattr(self, f"_{args.job_command}")
        return handler(args)

    def jobs(self, args: argparse.Namespace) -> Any:
        from mlops_lab.core.jobs import api

        page = api.list_executions(self._settings(), state=args.state, max_results=args.limit)
        return executions_frame(page.executions)

    # --- job run --------------------------------------------------------------------

    def _run(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import api

        started = time.time()
        settings = self._settings()
        texts = parse_job_parameters(self._expanded(args.parameters))
        notebook = self.notebook_to_run(settings, args.notebook, started)
        submission = api.submit_text(settings, notebook, texts, **submit_options(args))
        _print_submission(submission, waiting=args.wait)
        if args.wait:
            self._wait(settings, submission)

    def notebook_to_run(
        self, settings: Settings, given: str | None, started: float, *, announce: bool = True
    ) -> str:
        """The notebook a ``job run`` or ``job schedule`` line names, from the kernel's
        folder or the root; without one, this kernel's notebook as last saved (``announce``
        says which save runs: a schedule runs the notebook as saved at each slot instead).
        Never the notebook of the job execution this kernel runs
        (see :meth:`_refuse_running_itself`).
        """
        if given:
            notebook = notebook_argument(given, Path.cwd())  # the kernel's folder
            self._refuse_running_itself(settings, notebook)
            return notebook
        return self._current_notebook(settings, started, announce)

    def _current_notebook(self, settings: Settings, started: float, announce: bool) -> str:
        """This kernel's notebook, as last saved (the version a job can run)."""
        path = notebook_path(settings.root, self._environ, self._shell.user_ns)
        if path is None:
            raise InvalidInput(
                "This kernel does not know its notebook: give the notebook to run, e.g. "
                "%mlops job run path/to/notebook.ipynb.",
                param="notebook",
            )
        self._refuse_running_itself(settings, str(path))
        if path.is_file() and self._environ.get(SESSION_ENV):  # JupyterLab saves it now
            saved = saved_since(path, started - SAVE_SLACK_S, SAVE_WAIT_S)
            if announce:
                print(f"mlops: {saved_version_line(path, saved, started - SAVE_SLACK_S)}")
        return str(path)  # a missing file is the core's to report, in its words

    def _refuse_running_itself(self, settings: Settings, notebook: str) -> None:
        """A job's notebook that runs (or schedules) itself as a job would queue a new
        execution (or schedule) at each execution, without end: refused, in the kernel of
        an execution only."""
        execution_id = self._environ.get(EXECUTION_ENV)
        own = notebook_path(settings.root, self._environ, self._shell.user_ns)
        if not execution_id or own is None:
            return
        target = Path(notebook).expanduser()
        if (target if target.is_absolute() else settings.root / target).resolve() != own:
            return
        raise InvalidInput(
            f"This kernel runs {own.name} as the job execution {execution_id}: running or "
            f"scheduling {own.name} as a job from it would start another one at every "
            "execution, without end. Run another notebook, or keep this cell out of the job's "
            "notebook.",
            param="notebook",
        )

    def _wait(self, settings: Settings, submission: Submission) -> None:
        from mlops_lab.core.jobs import api

        ids = [e.id for e in submission.executions]
        meter = make_meter(self._shell, len(ids))
        began = time.monotonic()
        try:
            final = api.wait(
                settings,
                ids,
                on_progress=lambda executions: meter.update(executions, time.monotonic() - began),
            )
        except KeyboardInterrupt:
            meter.close(None)
            first = short_id(ids[0])
            print(
                f"mlops: stopped waiting; the execution goes on (%mlops job show {first}, "
                f"%mlops job cancel {first})",
                file=sys.stderr,
            )
            return
        meter.close(final)
        for execution in final:
            print(f"mlops: {final_line(execution)}")
        if submission.sweep is not None:
            _print_best(settings, submission.sweep.id)

    # --- show, logs, cancel ------------------------------------------------------------

    def _show(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import api

        print("\n".join(detail_lines(api.get_execution(self._settings(), args.id))))

    def _logs(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import api

        settings = self._settings()
        offset = 0
        while True:  # the whole log so far, read in the core's slices
            piece = api.read_log(settings, args.id, offset=offset)
            sys.stdout.write(piece.text)
            if piece.next_offset <= offset:
                break
            offset = piece.next_offset
        sys.stdout.flush()

    def _cancel(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.jobs import api

        execution = api.cancel(self._settings(), args.id)
        if execution.state.finished:
            print(f"mlops: {final_line(execution)}")
        else:
            print(
                f"mlops: cancelling {execution.id} ({execution.state.value}); "
                f"%mlops job show {short_id(execution.id)} tells when it has stopped"
            )


def saved_since(path: Path, since: float, wait: float, poll: float = 0.05) -> float:
    """The notebook's mtime once it reaches ``since``, or as it is after ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while True:
        mtime = path.stat().st_mtime
        if mtime >= since or time.monotonic() >= deadline:
            return mtime
        time.sleep(poll)


def saved_version_line(path: Path, mtime: float, since: float) -> str:
    """Which saved version of the notebook runs; a stale one says how to run the latest."""
    at = f"{datetime.fromtimestamp(mtime):%H:%M:%S}"
    if mtime >= since:
        return f"running {path.name} as saved at {at}"
    return (
        f"running {path.name} as saved at {at}: it was not saved when this cell ran, so "
        "changes since then are not in the job (save the notebook, then run the cell again)"
    )


def _print_submission(submission: Submission, waiting: bool) -> None:
    sweep = submission.sweep
    if submission.reused:
        print("mlops: this submit was already made (same idempotency key): nothing new queued")
    if sweep is not None:
        best = f", best by {sweep.goal.value} {sweep.metric}" if sweep.metric else ""
        print(
            f"mlops: sweep {sweep.id}: {len(sweep.execution_ids)} executions, "
            f"at most {sweep.concurrency} at once{best}"
        )
    for execution in submission.executions:
        print(f"mlops: {queued_line(execution)}")
    if not waiting and submission.executions:
        first = short_id(submission.executions[0].id)
        print(
            f"mlops: follow it with %mlops job show {first} or %mlops job logs {first}; "
            "%mlops jobs lists recent executions"
        )


def _print_best(settings: Settings, sweep_id: str) -> None:
    line = best_line(settings, summarised_sweep(settings, sweep_id))
    if line is not None:
        print(f"mlops: {line}")


# --- progress -----------------------------------------------------------------------------


class TextMeter:
    """One line rewritten in place (``\\r``): what a terminal or a widget-less kernel shows."""

    def __init__(self) -> None:
        self._width = 0

    def update(self, executions: Sequence[Execution], elapsed: float) -> None:
        line = progress_line(executions, elapsed)
        sys.stdout.write("\r" + line.ljust(self._width))
        sys.stdout.flush()
        self._width = len(line)

    def close(self, final: Sequence[Execution] | None) -> None:
        if self._width:
            sys.stdout.write("\n")
            sys.stdout.flush()


class WidgetMeter:
    """An ipywidgets bar (cells done of total) and a label (state, elapsed time)."""

    def __init__(self, executions: int) -> None:
        import ipywidgets

        self._bar = ipywidgets.IntProgress(value=0, min=0, max=1, description="job")
        self._label = ipywidgets.Label(value="QUEUED")
        display(ipywidgets.HBox([self._bar, self._label]))

    def update(self, executions: Sequence[Execution], elapsed: float) -> None:
        total = sum(e.cells_total for e in executions)
        self._bar.max = max(total, 1)
        self._bar.value = min(sum(e.cells_done for e in executions), self._bar.max)
        self._label.value = progress_line(executions, elapsed)

    def close(self, final: Sequence[Execution] | None) -> None:
        if final is None:
            self._bar.bar_style = "warning"
            self._label.value += " (no longer waiting)"
            return
        succeeded = all(e.state is ExecutionState.SUCCEEDED for e in final)
        self._bar.bar_style = "success" if succeeded else "danger"


def make_meter(shell: InteractiveShell, executions: int) -> TextMeter | WidgetMeter:
    """A widget in a kernel whose frontend can show one, else the text meter."""
    if getattr(shell, "kernel", None) is None:  # a terminal IPython: no widgets there
        return TextMeter()
    try:
        return WidgetMeter(executions)
    except ImportError:
        return TextMeter()
