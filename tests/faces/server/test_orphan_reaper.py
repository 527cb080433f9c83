"""The server closes the runs of its kernels that died, with no one asking it to."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.store import LabStore

pytestmark = pytest.mark.kernel


@pytest.fixture
def jp_server_config(jp_root_dir: Path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"mlops_lab": True}},
        "MlopsLabApp": {"reap_interval": 0.3},
    }


async def eventually(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except Exception:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


async def test_the_server_reaps_a_killed_kernels_run(
    jp_fetch, jp_serverapp, jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path.cwd()))  # the kernel imports this tree
    (jp_root_dir / "nb.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    settings = resolve_settings(jp_root_dir, environ={})
    store = LabStore(settings.store_url)
    await asyncio.sleep(1)  # a few passes of the reaper: they create no store of their own
    assert not (jp_root_dir / ".mlops" / "lab.db").exists()
    store.ping()

    # A kernel of this server, started through its REST API, tracks a run.
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({}))
    kernel_id = json.loads(response.body)["id"]
    manager = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(
            "%load_ext mlops_lab\n%mlops track --no-autolog --notebook nb.ipynb",
            timeout=120,
            output_hook=lambda msg: None,
        )
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
    row = await eventually(lambda: store.live_runs()[0])
    assert row.kernel_id == kernel_id  # the row names the server's own kernel

    os.kill(manager.provisioner.pid, signal.SIGKILL)  # the row's logging process then ends

    def killed() -> object:
        run = MlflowClient(settings.tracking_uri).get_run(row.run_id)
        assert run.info.status == "KILLED", run.info.status
        return run

    run = await eventually(killed)
    assert run.info.end_time is not None
    assert "the Jupyter server" in run.data.tags[run_tags.END_REASON]
    assert run.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/nb.ipynb"

    def forgotten() -> None:
        assert store.live_runs() == []

    await eventually(forgotten)  # the reaper deletes the row after it ends the run
    # The server goes on answering while it reaps: the work runs off the event loop.
    assert (await jp_fetch("mlops-lab", "api", "health")).code in (200, 503)
