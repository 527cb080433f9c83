"""``%mlops``: the IPython face of tracking and jobs. Parse the line, call the core, render.

Every :class:`~mlops_lab.core.errors.MlopsError` is printed as one line on stderr
(``mlops: <message>``), never as a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.display import display

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.errors import InvalidInput, MlopsError
from mlops_lab.core.tracking import session as tracking
from mlops_lab.faces.arguments import parse_metrics, parse_pairs
from mlops_lab.faces.magics.job_commands import JobCommands, add_job_parsers
from mlops_lab.faces.magics.schedule_commands import (
    ScheduleCommands,
    add_schedule_parser,
    add_schedules_parsers,
)

_UNEXPANDED = re.compile(r"\{(?P<expr>[^{}]+)\}")

COMMANDS = (
    "track",
    "end",
    "status",
    "param",
    "metric",
    "tag",
    "runs",
    "compare",
    "job",
    "jobs",
    "schedules",
    "schedule",
)
USAGE = f"usage: %mlops {{{','.join(COMMANDS)}}} ... (%mlops <subcommand> -h for its options)"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting the kernel."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split())  # one line, however long
        raise InvalidInput(f"{message}. {usage}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _HelpShown(message or "")


class _HelpShown(Exception):
    pass


def _parser() -> _Parser:
    parser = _Parser(prog="%mlops", add_help=False)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    track = sub.add_parser("track", help="open an MLflow run for this notebook")
    track.add_argument("--experiment", help="default: the notebook's path under the root")
    track.add_argument("--notebook", help="the notebook's path, when the kernel cannot tell")
    track.add_argument(
        "--no-autolog", action="store_true", help="no child run per model fit (params only)"
    )
    end = sub.add_parser("end", help="log the notebook, code and environment; close the run")
    end.add_argument("--failed", action="store_true", help="mark the run FAILED")
    sub.add_parser("status", help="the active run, its model fits and pending logging")
    for name, what in (("param", "params"), ("tag", "tags")):
        p = sub.add_parser(name, help=f"log {what} KEY=VALUE ... on the active run")
        p.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    metric = sub.add_parser("metric", help="log numeric metrics KEY=VALUE ...")
    metric.add_argument("pairs", nargs="+", metavar="KEY=VALUE")
    metric.add_argument("--step", type=int, default=None)
    runs = sub.add_parser("runs", help="the experiment's runs as a DataFrame")
    runs.add_argument("--experiment", help="default: this notebook's experiment")
    runs.add_argument("--filter", help='an MLflow filter, e.g. "metrics.accuracy > 0.9"')
    runs.add_argument("--sort", help='an MLflow order clause, e.g. "metrics.accuracy DESC"')
    runs.add_argument("--limit", type=int, default=100)
    compare = sub.add_parser("compare", help="compare runs side by side")
    compare.add_argument("run_ids", nargs="+", metavar="RUN")
    add_job_parsers(sub, add_schedule_parser)
    add_schedules_parsers(sub)
    return parser


def one_line_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Print :class:`MlopsError` as ``mlops: <message>`` on stderr instead of a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except MlopsError as exc:
            print(f"mlops: {exc.message}", file=sys.stderr)
        except _HelpShown as shown:
            if str(shown).strip():
                print(str(shown).strip())
        return None

    return wrapper


_KERNEL_FILE = re.compile(r"^kernel-(?P<id>[0-9A-Za-z-]+)\.json$")


def kernel_id() -> str | None:
    """This kernel's Jupyter id, from its connection file's name (``kernel-<id>.json``).

    jupyter_client names the file after the id it gives the kernel; a kernel started
    another way (a plain IPython, a custom launcher) simply has no id.
    """
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # not in a kernel, or no kernel app yet
        return None
    match = _KERNEL_FILE.match(name)
    return match["id"] if match else None


def history_source(shell: InteractiveShell) -> tuple[str, int] | None:
    """IPython's history database and this session's number in it, when history is kept."""
    history = shell.history_manager
    if history is None or not history.enabled or str(history.hist_file) == ":memory:":
        return None
    return str(history.hist_file), int(history.session_number)


@magics_class
class MlopsMagics(Magics):
    """Holds the kernel's :class:`~mlops_lab.core.tracking.session.TrackingSession`."""

    def __init__(self, shell: InteractiveShell) -> None:
        super().__init__(shell)
        self.session = tracking.TrackingSession(
            settings_factory=resolve_settings,
            executed_cells=self._executed_cells,
            user_ns=shell.user_ns,
            environ=os.environ,
            kernel_id=kernel_id(),
            history=history_source(shell),
            notify=_tell,
        )
        self._parser = _parser()
        self.job_commands = JobCommands(shell, self.session.settings, os.environ, self._expanded)
        self.schedule_commands = ScheduleCommands(
            self.session.settings, self.job_commands.notebook_to_run, self._expanded
        )

    def _before_cell(self, *args: Any) -> None:
        """Once the worker has opened the run, make it the cell thread's MLflow run, so
        the user's own ``mlflow.log_*`` calls land on it; then this hook goes away."""
        session = self.session
        if session.active is None or session.active.opened_id is None:
            return
        one_line_errors(session.adopt_in_this_thread)()
        assert self.shell is not None
        with contextlib.suppress(ValueError):
            self.shell.events.unregister("pre_run_cell", self._before_cell)

    def _executed_cells(self) -> list[tracking.Cell]:
        """IPython's own input history: recorded anyway, so tracking costs a cell nothing."""
        assert self.shell is not None
        raw = self.shell.history_manager.input_hist_raw  # type: ignore[union-attr]
        return [(n, source) for n, source in enumerate(raw) if n > 0 and source.strip()]

    @line_magic
    @one_line_errors
    def mlops(self, line: str) -> Any:
        """Track this notebook in MLflow, run notebooks as jobs: %mlops <command> (-h for help)."""
        try:
            tokens = shlex.split(line)
        except ValueError as exc:
            raise InvalidInput(f"Cannot parse '{line}': {exc}.") from None
        if not tokens or tokens[0] not in COMMANDS:
            print(USAGE, file=sys.stderr)
            return None
        self._report_failures()
        args = self._parser.parse_args(tokens)
        handler = getattr(self, f"_{args.command}")
        try:
            return handler(args)
        finally:
            self._report_failures()  # what failed while this command waited

    def _report_failures(self) -> None:
        """Logging that failed in the background since the last command, one line each."""
        for failure in self.session.take_failures():
            print(f"mlops: logging failed: {failure.line()}", file=sys.stderr)

    def _track(self, args: argparse.Namespace) -> None:
        assert self.shell is not None
        handle = self.session.start(
            experiment=args.experiment,
            notebook=args.notebook,
            autolog=not args.no_autolog,
            first_cell=self.shell.execution_count,
        )
        with contextlib.suppress(ValueError):  # one hook, however many runs
            self.shell.events.unregister("pre_run_cell", self._before_cell)
        self.shell.events.register("pre_run_cell", self._before_cell)
        where = handle.notebook.name if handle.notebook else "an unknown notebook"
        hint = "" if handle.notebook else " (no notebook path: give --notebook PATH)"
        params = f", {len(handle.params)} params" if handle.params else ""
        ended = handle.replaced
        before = f"ended run {ended.run_id[:8]} ({ended.status}); " if ended else ""
        run = f"run {handle.opened_id}" if handle.opened_id else "run opening (see %mlops status)"
        print(
            f"mlops: {before}tracking {where} in experiment '{handle.experiment}'{hint}: "
            f"{run}{params}"
        )

    def _end(self, args: argparse.Namespace) -> None:
        ended = self.session.end(failed=args.failed)
        still = (
            f"; {ended.unfinished} logging tasks still running in the background"
            if ended.unfinished
            else ""
        )
        print(
            f"mlops: run {ended.run_id} {ended.status}, logged {', '.join(ended.artifacts)}{still}"
        )

    def _status(self, args: argparse.Namespace) -> None:
        status = self.session.status()
        if status.experiment is None:
            print("mlops: no active run (start one with %mlops track)")
            return
        run = status.run_id or "opening"
        doing = f" ({status.current})" if status.current else ""
        print(
            f"mlops: run {run} in experiment '{status.experiment}': {status.fits} model fits, "
            f"{status.pending} logging tasks pending{doing}"
        )

    def _param(self, args: argparse.Namespace) -> None:
        self.session.log_params(parse_pairs(self._expanded(args.pairs), "param"))

    def _metric(self, args: argparse.Namespace) -> None:
        self.session.log_metrics(parse_metrics(self._expanded(args.pairs)), step=args.step)

    def _tag(self, args: argparse.Namespace) -> None:
        self.session.set_tags(parse_pairs(self._expanded(args.pairs), "tag"))

    def _expanded(self, tokens: list[str]) -> list[str]:
        """Refuse a ``{expr}`` IPython left as it was because evaluating it failed.

        IPython replaces ``{auc}`` in a magic's line by its value, but leaves the text
        alone when the expression raises; logging ``{undefined}`` as a value (or calling
        it "not a number") would hide the real mistake, so evaluate it again for its error.
        """
        assert self.shell is not None
        for token in tokens:
            key, _, value = token.partition("=")
            match = _UNEXPANDED.fullmatch(value.strip())
            if match is None:
                continue
            try:
                eval(match["expr"], self.shell.user_ns)  # the user's own expression, again
            except Exception as exc:
                raise InvalidInput(
                    f"{key}={value}: {type(exc).__name__}: {exc}. Define it in the notebook "
                    "first, or give the value itself."
                ) from None
        return tokens

    def _runs(self, args: argparse.Namespace) -> Any:
        from mlops_lab.core.runs.search import runs_frame

        self.session.flush()  # what this notebook logged so far, not what is still queued
        experiment = args.experiment or self.session.current_experiment()
        return runs_frame(self.session.settings(), experiment, args.filter, args.sort, args.limit)

    def _compare(self, args: argparse.Namespace) -> None:
        from mlops_lab.core.runs.compare import compare_runs

        self.session.flush()
        comparison = compare_runs(self.session.settings(), args.run_ids)
        display(comparison.styled())
        figure = comparison.plot()
        if figure is not None:
            display(figure)

    def _job(self, args: argparse.Namespace) -> Any:
        if args.job_command == "schedule":
            return self.schedule_commands.create(args)
        return self.job_commands.job(args)

    def _jobs(self, args: argparse.Namespace) -> Any:
        return self.job_commands.jobs(args)

    def _schedules(self, args: argparse.Namespace) -> Any:
        return self.schedule_commands.table(args)

    def _schedule(self, args: argparse.Namespace) -> None:
        self.schedule_commands.one(args)


_magics: MlopsMagics | None = None


def _tell(message: str) -> None:
    """A progress line (waiting for logging): information, not an error."""
    print(message, flush=True)


def load_ipython_extension(ipython: InteractiveShell) -> None:
    global _magics
    if _magics is None or _magics.shell is not ipython:
        _magics = MlopsMagics(ipython)
    ipython.register_magics(_magics)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """``%unload_ext mlops_lab``: the active run ends (and logs) like at ``%mlops end``."""
    global _magics
    if _magics is not None:
        if _magics.session.active is not None:
            one_line_errors(_magics.session.end)()
        _magics.session.shut_down()
        with contextlib.suppress(ValueError):
            ipython.events.unregister("pre_run_cell", _magics._before_cell)
    _magics = None
