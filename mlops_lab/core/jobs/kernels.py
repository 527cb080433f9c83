"""Kernels for job attempts: started on demand, or ahead of need by a small warm pool.

Starting a Python kernel and waiting for its first ``kernel_info`` reply takes about
half a second here, most of a trivial job's start latency. :class:`KernelPool` keeps a
few kernels per kernel name started and ready, so an attempt that finds one begins its
first cell at once. Each kernel serves one attempt only (isolation: no variable
survives from one execution into the next), and is replaced in the background.

A kernel is started with jupyter_client's :class:`AsyncKernelManager` (what nbclient
drives); each start or stop runs on a private event loop, so the pool thread and an
attempt's thread never share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from mlops_lab.core.errors import InvalidInput

log = logging.getLogger(__name__)

# The kernel keeps its input history in memory: a job never writes (or locks) the
# user's IPython history database, which concurrent kernels would otherwise share.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)

IOPUB_RETRY_S = 0.05
"""Seconds to wait for a ``kernel_info`` request's status on IOPub before asking again
(it follows the shell reply within milliseconds once the subscription is live)."""

# Failed starts in a row after which the pool stops trying a kernel name (attempts then
# start their kernels cold, which reports the error to the user).
_GIVE_UP = 3


@dataclass
class ReadyKernel:
    """A started kernel that has answered ``kernel_info``: ready to execute at once."""

    kernel_name: str
    manager: AsyncKernelManager
    pid: int
    started_s: float
    """Seconds the start took (process start + first ``kernel_info`` reply)."""
    ready_at: float = field(default_factory=time.monotonic)

    def is_alive(self) -> bool:
        """True while the kernel process runs (a pooled kernel may die while it waits).

        The provisioner's ``process`` is a :class:`subprocess.Popen`, or for a kernel
        forked from the template a :class:`~mlops_lab.core.jobs.forkserver.ForkedProcess`
        with the same ``poll`` / ``wait``.
        """
        process = getattr(self.manager.provisioner, "process", None)
        return process is not None and process.poll() is None

    def kill(self) -> None:
        """Kill the kernel and whatever it started, at once; safe to call twice.

        Signals the kernel's process group (jupyter_client starts each kernel in its own
        session), so a subprocess the notebook spawned goes too, then reaps the process.
        """
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None:
            if process.poll() is None:
                signal_kernel(self, signal.SIGKILL)
            try:
                process.wait(timeout=5)
            except Exception:  # reaping is best effort; the kill was sent
                log.warning("kernel %s did not exit after SIGKILL", self.pid)
        try:
            asyncio.run(_cleanup(self.manager))
        except Exception:  # connection file and ports only
            log.debug("cleanup of kernel %s failed", self.pid, exc_info=True)


async def _cleanup(manager: AsyncKernelManager) -> None:
    await manager.cleanup_resources()


def signal_kernel(kernel: ReadyKernel, signum: int) -> None:
    """Send ``signum`` to the kernel's process group (or the kernel alone when it has none)."""
    try:
        os.killpg(kernel.pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(kernel.pid, signum)


async def wait_until_ready(client: Any, timeout: float) -> None:
    """Return once the kernel answered ``kernel_info`` on shell and its IOPub reaches us.

    jupyter_client's ``wait_for_ready`` does the same, then drains IOPub until 0.2 s
    pass in silence: a fixed 0.2 s on every connection, which would be most of a
    pooled kernel's start latency. Seeing the ``idle`` status of our own request on
    IOPub proves the subscription is live (no output of the first cell can be lost).
    The status of a request sent before the subscription reached the kernel is lost
    (about one connection in two here), so a request whose status does not follow its
    reply within ``IOPUB_RETRY_S`` is simply asked again.

    Raises:
        RuntimeError: the kernel died, or did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        msg_id = client.kernel_info()
        left = max(deadline - time.monotonic(), 0.05)
        if await _reply(
            client.shell_channel, msg_id, min(1.0, left), "kernel_info_reply"
        ) and await _reply(client.iopub_channel, msg_id, IOPUB_RETRY_S, "status"):
            return
        if not await client.is_alive():
            raise RuntimeError("the kernel died before it answered kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kernel did not answer kernel_info within {timeout:g} s")


async def _reply(channel: Any, msg_id: str, wait: float, msg_type: str) -> bool:
    """Whether ``channel`` delivers a ``msg_type`` message answering ``msg_id`` within ``wait``."""
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        try:
            msg = await channel.get_msg(timeout=left)
        except Empty:
            return False
        answers = msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == msg_type
        if answers and (msg_type != "status" or msg["content"].get("execution_state") == "idle"):
            return True
    return False


def kernel_names() -> list[str]:
    """The kernel names installed here, sorted."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def start_kernel(
    kernel_name: str,
    *,
    env: Mapping[str, str],
    cwd: Path | str,
    timeout: float | None = 60.0,
) -> ReadyKernel:
    """Start a kernel in ``cwd`` with exactly ``env`` and wait until it answers ``kernel_info``.

    Raises:
        InvalidInput: ``kernel_name`` is not installed (the message lists those that are).
        TimeoutError: the kernel did not answer within ``timeout`` seconds (it is killed).
    """
    from jupyter_client.kernelspec import NoSuchKernel

    began = time.monotonic()
    manager = AsyncKernelManager(kernel_name=kernel_name)
    try:
        manager.kernel_spec  # noqa: B018 - resolves the spec now, for a clear error
    except NoSuchKernel:
        installed = ", ".join(kernel_names()) or "none"
        raise InvalidInput(
            f"no kernel named {kernel_name!r} is installed here (installed: {installed})",
            param="kernel_name",
        ) from None

    _fork_if_possible(manager)

    async def start() -> None:
        await manager.start_kernel(
            env=dict(env), cwd=str(cwd), extra_arguments=list(KERNEL_ARGUMENTS)
        )
        client = manager.client()
        client.start_channels()
        try:
            await wait_until_ready(client, timeout=timeout if timeout is not None else 60.0)
        finally:
            client.stop_channels()

    try:
        asyncio.run(start())
    except BaseException:
        pid = getattr(manager.provisioner, "pid", None)
        if pid is not None:
            ReadyKernel(kernel_name, manager, pid, 0.0).kill()
        raise
    pid = manager.provisioner.pid  # type: ignore[union-attr]
    return ReadyKernel(kernel_name, manager, int(pid), time.monotonic() - began)


def _fork_if_possible(manager: AsyncKernelManager) -> None:
    """Have ``manager`` fork its kernel from this process's warm template when it can.

    Forking spares each kernel the imports of ipykernel and IPython (see
    :mod:`~mlops_lab.core.jobs.forkserver`); a kernel that cannot be forked, or a
    template that cannot start, leaves jupyter_client's own provisioner in place.
    """
    from mlops_lab.core.jobs import forkserver

    if not forkserver.forkable(manager.kernel_spec):
        return
    server = forkserver.fork_server()
    if server is None:
        return
    manager.kernel_id = manager.kernel_id or str(uuid.uuid4())
    provisioner = forkserver.ForkProvisioner(
        kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager
    )
    provisioner.server = server
    manager.provisioner = provisioner


class KernelPool:
    """Keeps ``size`` ready kernels per kernel name, refilled in the background.

    Thread-safe: any thread may :meth:`take`; one daemon thread starts kernels one at
    a time (on a 2-core machine, parallel starts only slow each other down). A name
    first asked for by :meth:`take` joins the names kept from then on.
    """

    def __init__(
        self,
        size: int,
        kernel_names: list[str],
        root_env: dict[str, str] | None = None,
        *,
        cwd: Path | str | None = None,
    ) -> None:
        if size < 0:
            raise InvalidInput(f"a kernel pool size must be >= 0, got {size}", param="size")
        self.size = size
        self._env = {**os.environ, **(root_env or {})}
        self._cwd = Path(cwd) if cwd is not None else Path.cwd()
        self._ready: dict[str, list[ReadyKernel]] = {name: [] for name in kernel_names}
        self._failures: dict[str, int] = {}
        self._lock = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._refill, name="mlops-kernel-pool", daemon=True)
        self._thread.start()

    def take(self, kernel_name: str) -> ReadyKernel | None:
        """A ready kernel of ``kernel_name`` for one attempt, or None when none is ready."""
        with self._lock:
            if self._closed:
                return None
            kernels = self._ready.setdefault(kernel_name, [])
            taken = None
            while kernels and taken is None:
                candidate = kernels.pop(0)
                if candidate.is_alive():
                    taken = candidate
                else:
                    log.warning("pooled kernel %s had died; dropped", candidate.pid)
                    threading.Thread(target=candidate.kill, daemon=True).start()
            self._lock.notify_all()
        return taken

    def ready_count(self, kernel_name: str) -> int:
        """How many kernels of ``kernel_name`` are ready now."""
        with self._lock:
            return len(self._ready.get(kernel_name, []))

    def wait_ready(self, kernel_name: str, count: int | None = None, timeout: float = 60) -> bool:
        """Block until ``count`` (default: the pool size) kernels are ready; False on timeout."""
        want = self.size if count is None else count
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._ready.get(kernel_name, [])) < want:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._lock.wait(left)
            return True

    def shutdown(self) -> None:
        """Stop every pooled kernel now (immediate: no graceful shutdown request)."""
        with self._lock:
            self._closed = True
            kernels = [k for ks in self._ready.values() for k in ks]
            self._ready.clear()
            self._lock.notify_all()
        for kernel in kernels:
            signal_kernel(kernel, signal.SIGKILL)
        for kernel in kernels:
            kernel.kill()
        self._thread.join(timeout=30)

    def _missing(self) -> str | None:
        """The kernel name most short of ``size`` (None when all are full). Holds the lock."""
        short = [
            (len(kernels), name)
            for name, kernels in self._ready.items()
            if len(kernels) < self.size and self._failures.get(name, 0) < _GIVE_UP
        ]
        return min(short)[1] if short else None

    def _refill(self) -> None:
        while True:
            with self._lock:
                while not self._closed and self._missing() is None:
                    self._lock.wait()
                if self._closed:
                    return
                name = self._missing()
            assert name is not None
            try:
                kernel = start_kernel(name, env=self._env, cwd=self._cwd)
            except InvalidInput as error:  # not installed: trying again will not help
                log.warning("the kernel pool keeps no %r kernels: %s", name, error)
                with self._lock:
                    self._failures[name] = _GIVE_UP
                continue
            except Exception:  # the cold path still works; say why
                log.exception("the kernel pool could not start a %r kernel", name)
                with self._lock:
                    self._failures[name] = self._failures.get(name, 0) + 1
                continue
            with self._lock:
                if self._closed:
                    keep = False
                else:
                    self._ready.setdefault(name, []).append(kernel)
                    self._failures.pop(name, None)
                    keep = True
                self._lock.notify_all()
            if not keep:
                kernel.kill()
