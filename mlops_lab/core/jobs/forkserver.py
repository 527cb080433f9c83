"""Kernels forked from a warm template process instead of started from scratch.

A fresh ipykernel process spends about a quarter of a CPU second importing ipykernel and
IPython before it initialises; on a 2-core machine running two jobs at a time that CPU is
what limits throughput. Each worker process starts one small template process
(:mod:`~mlops_lab.core.jobs.forkserver_template`) that has done those imports once; a
kernel is then a ``fork`` of it, which sets the requested environment and folder, takes
a new session and random seed, and runs the kernel app on the connection file
jupyter_client wrote. Every execution still gets its own new kernel process.

jupyter_client drives such a kernel through :class:`ForkProvisioner`, which launches by
asking the template and follows a pid that is not its child (the template reaps it and
reports how it ended), so the kernel manager, nbclient and the engine's watchdog work
unchanged. Only the standard ``python -m ipykernel_launcher -f {connection_file}`` kernel
of this very interpreter is forked, and only on Linux; anything else, or a template that
cannot start, starts kernels the normal way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).with_name("forkserver_template.py")
"""The template program, run by path so that no ``mlops_lab`` module is in a kernel."""

START_TIMEOUT_S = 30.0
"""Seconds the template has to import ipykernel and say it is ready."""

REPLY_TIMEOUT_S = 10.0
"""Seconds a fork request may take before the template is taken for broken."""

UNKNOWN_EXIT = 255
"""The exit code reported for a kernel that ended while its template was gone."""

_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info)}
"""Names jupyter_client replaces by ``sys.executable`` in a kernel's argv."""


class ForkServerError(RuntimeError):
    """The template process could not start, or stopped answering."""


class ForkServer:
    """The worker's side of one template process: fork requests out, pids and exits back.

    Thread-safe: the pool's refill thread and attempts' threads may launch at once. A
    reader thread collects the template's replies; exit statuses are kept per pid so a
    kernel's handle can report how it ended.
    """

    def __init__(self) -> None:
        self.startup_env = _startup(dict(os.environ))
        """The start-up variables the template ran with (see :func:`same_startup`)."""
        reply_r, reply_w = os.pipe()
        try:
            self._process = subprocess.Popen(
                [sys.executable, str(TEMPLATE), str(reply_w)],
                stdin=subprocess.PIPE,
                pass_fds=(reply_w,),
                start_new_session=True,  # a terminal's ^C is for the worker, not for us
            )
        finally:
            os.close(reply_w)
        self._replies = os.fdopen(reply_r, "rb")
        self._lock = threading.Condition()
        self._answers: dict[int, dict[str, Any]] = {}
        self._exits: dict[int, int] = {}
        self._next_id = 0
        self._closed = False
        self.pid: int | None = None
        self._reader = threading.Thread(target=self._read, name="mlops-kernel-forks", daemon=True)
        self._reader.start()
        with self._lock:
            ready = self._lock.wait_for(
                lambda: self.pid is not None or self._closed, START_TIMEOUT_S
            )
        if not ready or self.pid is None:
            self.close()
            why = (
                f"did not start within {START_TIMEOUT_S:g} s"
                if not ready
                else f"exited at start with code {self._process.poll()}"
            )
            raise ForkServerError(f"the kernel template {why} ({TEMPLATE})")

    @property
    def alive(self) -> bool:
        """True while the template runs and answers."""
        return not self._closed and self._process.poll() is None

    def spawn(self, argv: list[str], env: dict[str, str], cwd: str) -> int:
        """Fork a kernel running the kernel app with ``argv``; return its pid.

        Raises:
            ForkServerError: the template is gone or did not answer.
        """
        with self._lock:
            if not self.alive:
                raise ForkServerError("the kernel template is not running")
            self._next_id += 1
            request_id = self._next_id
            line = json.dumps({"id": request_id, "argv": argv, "env": env, "cwd": cwd})
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(line.encode() + b"\n")
                self._process.stdin.flush()
            except OSError as error:
                raise ForkServerError(f"the kernel template is gone: {error}") from None
            answered = self._lock.wait_for(
                lambda: request_id in self._answers or self._closed, REPLY_TIMEOUT_S
            )
            answer = self._answers.pop(request_id, None)
        if not answered or answer is None:
            raise ForkServerError(f"the kernel template did not answer in {REPLY_TIMEOUT_S:g} s")
        if "error" in answer:
            raise ForkServerError(str(answer["error"]))
        return int(answer["pid"])

    def exit_status(self, pid: int) -> int | None:
        """How the kernel ``pid`` ended, once the template reaped it (None before)."""
        with self._lock:
            return self._exits.get(pid)

    def wait_exit(self, pid: int, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the template to report ``pid``'s end."""
        with self._lock:
            self._lock.wait_for(lambda: pid in self._exits or self._closed, timeout)
            return self._exits.get(pid)

    def close(self) -> None:
        """Stop the template (its kernels see it go and exit; see the template's docs)."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _read(self) -> None:
        for raw in self._replies:
            message = json.loads(raw)
            with self._lock:
                if "ready" in message:
                    self.pid = int(message["ready"])
                elif "exited" in message:
                    self._exits[int(message["exited"])] = int(message["status"])
                else:
                    self._answers[int(message["id"])] = message
                self._lock.notify_all()
        with self._lock:  # the template exited
            self._closed = True
            self._lock.notify_all()


class ForkedProcess:
    """A forked kernel as :class:`subprocess.Popen` would show it, for a pid not our child.

    The template is the kernel's parent and reaps it; it reports the exit status, which
    :meth:`poll` returns. Until then psutil says whether the process still runs (a zombie
    counts as ended), checked against its creation time so a reused pid is never taken
    for the kernel.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, server: ForkServer) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._server = server
        try:
            self._process: psutil.Process | None = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._process = None

    def poll(self) -> int | None:
        """None while the kernel runs, else its exit code."""
        if self.returncode is not None:
            return self.returncode
        status = self._server.exit_status(self.pid)
        if status is None:
            if self._running():
                return None
            # Ended: the template reaps it at once; wait briefly for its report.
            status = self._server.wait_exit(self.pid, 1.0)
        self.returncode = UNKNOWN_EXIT if status is None else status
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end; raises :class:`subprocess.TimeoutExpired` on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            if self._server.alive:
                self._server.wait_exit(self.pid, 0.05)
            else:  # no report will come: look again soon
                time.sleep(0.05)
        return code

    def send_signal(self, signum: int) -> None:
        """Signal the kernel process (not once it ended: its pid may be reused)."""
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def _running(self) -> bool:
        if self._process is None:
            return False
        try:
            return self._process.is_running() and self._process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching by a fork of the template.

    Everything but the launch is the local provisioner's: the connection file and ports
    (``pre_launch``), and poll / wait / signals / kill on :attr:`process`, here a
    :class:`ForkedProcess`. When the template is gone, or the environment asks for
    another interpreter start-up than the template had, it launches the normal way.
    """

    server: ForkServer | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        server = self.server
        if server is None or not same_startup(env, server) or not server.alive:
            return await super().launch_kernel(cmd, **kwargs)
        try:
            pid = server.spawn(cmd[3:], env, cwd)
        except ForkServerError as error:
            log.warning("kernel fork failed (%s); starting this kernel the normal way", error)
            return await super().launch_kernel(cmd, **kwargs)
        # Popen's interface, which is all the local provisioner uses of it
        self.process = ForkedProcess(pid, server)  # type: ignore[assignment]
        self.pid = pid
        self.pgid = pid  # the child called setsid()
        self.cwd = cwd
        return self.connection_info


def forkable(kernel_spec: Any) -> bool:
    """Whether a kernel of this spec may be forked: the standard Python kernel, here, on Linux.

    Forking is only sound where the template is the very program the kernel would run
    (same interpreter, ipykernel's launcher, nothing else on the command line but the
    connection file) and where fork is safe (Linux; not macOS, where system frameworks
    break after fork, nor Windows, which has none). A spec naming its own provisioner
    keeps it.
    """
    if not sys.platform.startswith("linux"):
        return False
    argv = list(getattr(kernel_spec, "argv", []) or [])
    metadata = getattr(kernel_spec, "metadata", {}) or {}
    if "kernel_provisioner" in metadata or len(argv) != 5:
        return False
    interpreter = argv[0]
    same_python = interpreter in _PYTHON_NAMES or _same_file(interpreter, sys.executable)
    return same_python and argv[1:] == ["-m", "ipykernel_launcher", "-f", "{connection_file}"]


_STARTUP_PREFIXES = ("PYTHON", "PYDEVD", "DEBUGPY")
"""Variables read as the interpreter starts (``PYTHONPATH``, ``PYTHONHASHSEED``, ...) or as
the template imports the debugger: a fork inherits their effect from the template."""


def same_startup(env: dict[str, str], server: ForkServer) -> bool:
    """Whether ``env`` sets the interpreter up as the template's was.

    ``PYTHONPATH``, ``PYTHONHASHSEED`` and the like act when an interpreter starts, before
    a fork; a kernel asking for other values than the template started with must start
    the normal way to get them.
    """
    return _startup(env) == server.startup_env


def _startup(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_STARTUP_PREFIXES)}


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


_server: ForkServer | None = None
_server_pid: int | None = None
_failed = False
_server_lock = threading.Lock()


def fork_server() -> ForkServer | None:
    """This process's template, started on first use; None when it cannot run here.

    A template that fails to start is reported once, as a warning; kernels then start
    the normal way for the rest of the process's life. One that died is restarted.
    """
    global _server, _server_pid, _failed
    with _server_lock:
        if _server_pid != os.getpid():  # a forked copy of a process does not share it
            _server, _server_pid, _failed = None, os.getpid(), False
        if _server is not None and _server.alive:
            return _server
        if _failed:
            return None
        try:
            _server = ForkServer()
        except (OSError, ForkServerError) as error:
            _failed = True
            _server = None
            log.warning(
                "the kernel fork server could not start (%s); kernels start the normal way",
                error,
            )
        return _server


def stop_fork_server() -> None:
    """Stop this process's template, if it runs; the next kernel starts a new one.

    For tests: a worker's template ends with the worker.
    """
    global _server, _failed
    with _server_lock:
        server, _server, _failed = _server, None, False
    if server is not None:
        server.close()
