"""The warm kernel pool: ready kernels per name, used once, refilled, all stopped at shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import psutil
import pytest

from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.jobs.kernels import KernelPool, ReadyKernel, start_kernel, wait_until_ready

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("no_kernel_left")]


@pytest.fixture
def pool() -> Iterator[KernelPool]:
    kernels = KernelPool(1, ["python3"], root_env={"MLOPS_POOL_MARK": "from-root-env"})
    yield kernels
    kernels.shutdown()


def evaluate(kernel: ReadyKernel, expression: str) -> str:
    """The text/plain value of ``expression`` in ``kernel`` (proves it answers, and what it has)."""

    async def ask() -> str:
        client = kernel.manager.client()
        client.start_channels()
        try:
            await wait_until_ready(client, timeout=10)
            reply = await client.execute_interactive(
                "", user_expressions={"value": expression}, timeout=10
            )
            return str(reply["content"]["user_expressions"]["value"]["data"]["text/plain"])
        finally:
            client.stop_channels()

    return asyncio.run(ask())


def test_the_pool_prestarts_ready_kernels_with_the_root_environment(pool: KernelPool) -> None:
    assert pool.wait_ready("python3", timeout=60)

    kernel = pool.take("python3")

    assert kernel is not None and kernel.is_alive() and kernel.kernel_name == "python3"
    assert evaluate(kernel, "__import__('os').environ['MLOPS_POOL_MARK']") == "'from-root-env'"
    kernel.kill()
    assert not psutil.pid_exists(kernel.pid) or psutil.Process(kernel.pid).status() == "zombie"


def test_a_take_is_refilled_in_the_background_and_never_returns_the_same_kernel(
    pool: KernelPool,
) -> None:
    assert pool.wait_ready("python3", timeout=60)
    first = pool.take("python3")
    assert first is not None
    assert pool.ready_count("python3") == 0

    assert pool.wait_ready("python3", timeout=60)
    second = pool.take("python3")

    assert second is not None and second.pid != first.pid
    first.kill()
    second.kill()


def test_an_empty_pool_says_so_and_learns_the_new_name(pool: KernelPool) -> None:
    # the pool now tries to keep "other-name" kernels too; none exists, so none is ever ready
    assert pool.take("other-name") is None
    assert pool.wait_ready("python3", timeout=60)
    assert pool.take("other-name") is None


def test_a_pooled_kernel_that_died_while_waiting_is_never_handed_out(pool: KernelPool) -> None:
    assert pool.wait_ready("python3", timeout=60)
    with pool._lock:  # reach in to kill the one ready kernel, as the OOM killer would
        doomed = pool._ready["python3"][0]
    os.kill(doomed.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while doomed.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)

    kernel = pool.take("python3")

    assert kernel is None or kernel.pid != doomed.pid
    if kernel is not None:
        kernel.kill()


def test_shutdown_stops_every_pooled_kernel() -> None:
    pool = KernelPool(2, ["python3"])
    assert pool.wait_ready("python3", timeout=60)
    with pool._lock:
        pids = [k.pid for k in pool._ready["python3"]]

    pool.shutdown()

    assert len(pids) == 2
    assert all(not psutil.pid_exists(pid) for pid in pids)
    assert pool.take("python3") is None


def test_an_unknown_kernel_name_lists_the_installed_ones(tmp_path: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        start_kernel("no-such-kernel", env=dict(os.environ), cwd=str(tmp_path))

    assert "'no-such-kernel'" in str(raised.value) and "python3" in str(raised.value)
    assert raised.value.param == "kernel_name"
