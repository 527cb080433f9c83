"""The kernel template: a process that has imported ipykernel once and forks kernels from it.

Run as a script by :mod:`mlops_lab.core.jobs.forkserver` (never imported by the package at
run time): ``python forkserver_template.py REPLY_FD``. A fresh ipykernel process spends
most of its start importing ipykernel and IPython; a child forked from this process has
them already, so on a small machine a kernel costs a fraction of the CPU.

Only the standard library is imported at module level, and only ipykernel's kernel app
(with what it imports) before forking: no user code, nothing the notebook would not
otherwise import itself. The script runs by path, so no ``mlops_lab`` module is in a
forked kernel's ``sys.modules`` either.

Protocol, one JSON object per line. Requests on stdin:
``{"id": N, "argv": [...], "env": {...}, "cwd": "..."}`` where ``argv`` are the kernel
app's arguments (what follows ``python -m ipykernel_launcher``). Replies on ``REPLY_FD``:
``{"ready": PID}`` once the imports are done, ``{"id": N, "pid": PID}`` or
``{"id": N, "error": "..."}`` per request, and ``{"exited": PID, "status": CODE}`` when a
kernel ends (``CODE`` as :attr:`subprocess.Popen.returncode`: negative for a signal).
The template exits when its stdin closes, i.e. when the worker that started it exits.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import traceback
from typing import Any

# Run by path, Python put this file's folder first on sys.path; a kernel must not see it.
# (``python -m ipykernel_launcher`` likewise drops its folder; IPython adds '' later.)
del sys.path[0]


def _write(fd: int, message: dict[str, Any]) -> None:
    """One line in one ``write``: atomic on a pipe below PIPE_BUF, never interleaved."""
    os.write(fd, (json.dumps(message) + "\n").encode())


def _reap(reply_fd: int) -> None:
    """Collect every child that ended and tell the worker how each one ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _write(reply_fd, {"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def _run_kernel(request: dict[str, Any], closing: list[int], imported_env: dict[str, str]) -> None:
    """In the forked child: become a fresh kernel process as ``python -m ipykernel_launcher``.

    Never returns: ends in ``SystemExit`` with the kernel app's exit code (so ``atexit``
    handlers a notebook registered run, as in a kernel started the normal way).
    """
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in closing:
        os.close(fd)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    # A session of its own: the engine signals the kernel's process group.
    os.setsid()
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # What the imports above set in the template's environment (debugpy sets a default),
    # a fresh kernel sets for itself as it imports them.
    for name, setting in imported_env.items():
        os.environ.setdefault(name, setting)
    # The template is the real parent: ipykernel exits when it goes (and it goes with
    # its worker), however the machine reparents orphans.
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    import random

    random.seed()  # else every kernel forked from here repeats the same sequence
    import ipykernel
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [os.path.join(os.path.dirname(ipykernel.__file__), "..", "ipykernel_launcher.py")]
    sys.argv[0] = os.path.normpath(sys.argv[0])
    sys.argv += request["argv"]
    app = IPKernelApp.instance()
    # Its default was read from the environment when the template imported ipykernel.
    app.parent_handle = int(os.environ["JPY_PARENT_PID"])
    app.initialize(request["argv"])
    app.start()
    raise SystemExit(0)


def _spawn(
    request: dict[str, Any], reply_fd: int, closing: list[int], imported_env: dict[str, str]
) -> None:
    """Fork one kernel for ``request`` and reply with its pid (or why it failed)."""
    try:
        pid = os.fork()
    except OSError as error:
        _write(reply_fd, {"id": request["id"], "error": f"fork failed: {error}"})
        return
    if pid == 0:
        try:
            _run_kernel(request, closing, imported_env)
        except SystemExit:
            raise
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    _write(reply_fd, {"id": request["id"], "pid": pid})


def main(reply_fd: int) -> None:
    """Import the kernel app, say ready, then fork kernels on request until stdin closes."""
    # What every kernel imports as it starts, and no more: the kernel app, its shell
    # (IPython), and the debugger support ipykernel loads at start (debugpy: about a
    # third of a forked kernel's CPU if left to each child).
    before = dict(os.environ)
    import ipykernel.debugger
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell  # noqa: F401
    import psutil  # noqa: F401 - ipykernel's resource usage replies

    imported_env = {k: v for k, v in os.environ.items() if before.get(k) != v}

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup fd is written
    _write(reply_fd, {"ready": os.getpid()})

    stdin = sys.stdin.fileno()
    selector = selectors.DefaultSelector()
    selector.register(stdin, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    buffered = b""
    closing = [stdin, reply_fd, wake_r, wake_w]
    while True:
        for key, _ in selector.select():
            if key.fd == wake_r:
                while True:
                    try:
                        if not os.read(wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                _reap(reply_fd)
                continue
            chunk = os.read(stdin, 65536)
            if not chunk:  # the worker exited (or closed us): so do we
                return
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            for line in lines:
                if line.strip():
                    _spawn(json.loads(line), reply_fd, closing, imported_env)
        _reap(reply_fd)


if __name__ == "__main__":
    main(int(sys.argv[1]))
