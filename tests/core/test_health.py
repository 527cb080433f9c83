"""Store probes: bounded by a timeout, failures reported, never raised."""

from __future__ import annotations

import time
from pathlib import Path

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.health import check_health
from mlops_lab.core.probes import StoreState
from tests.stalling_server import closed_port_uri, stalling_server


def by_name(report) -> dict:  # type: ignore[no-untyped-def]
    return {s.name: s for s in report.stores}


def test_fresh_default_is_healthy_and_creates_lab_store(tmp_path: Path) -> None:
    report = check_health(resolve_settings(tmp_path, environ={}))
    stores = by_name(report)
    assert report.ok, report.stores
    assert stores["tracking"].state is StoreState.NOT_CREATED
    assert stores["registry"].state is StoreState.NOT_CREATED
    assert "created on first use" in stores["tracking"].message
    assert stores["lab"].state is StoreState.ANSWERED
    assert (tmp_path / ".mlops" / "lab.db").exists()
    assert not (tmp_path / ".mlops" / "mlflow.db").exists()


def test_scheme_we_cannot_probe_is_not_checked_not_answered(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={}, tracking_uri="databricks://profile")
    tracking = by_name(check_health(settings, timeout=2))["tracking"]
    assert tracking.state is StoreState.NOT_CHECKED
    assert tracking.ok
    assert "'databricks:'" in tracking.message


def test_file_of_random_bytes_is_broken(tmp_path: Path) -> None:
    (tmp_path / ".mlops").mkdir()
    (tmp_path / ".mlops" / "mlflow.db").write_bytes(b"not sqlite at all" * 1000)
    report = check_health(resolve_settings(tmp_path, environ={}))
    tracking = by_name(report)["tracking"]
    assert not report.ok
    assert tracking.state is StoreState.BROKEN
    assert "not a readable SQLite database (file is not a database)" in tracking.message
    assert "move the file away" in tracking.message


def test_hung_tracking_server_is_reported_within_timeout(tmp_path: Path) -> None:
    with stalling_server() as uri:
        settings = resolve_settings(tmp_path, environ={}, tracking_uri=uri)
        started = time.monotonic()
        report = check_health(settings, timeout=1.5)
        elapsed = time.monotonic() - started
    stores = by_name(report)
    assert elapsed < 3.0
    assert stores["tracking"].state is StoreState.DOWN
    assert not stores["tracking"].ok
    assert "did not answer within 1.5 s" in stores["tracking"].message
    assert stores["lab"].ok


def test_refused_tracking_server_says_why(tmp_path: Path) -> None:
    settings = resolve_settings(tmp_path, environ={}, tracking_uri=closed_port_uri())
    stores = by_name(check_health(settings, timeout=2))
    assert stores["tracking"].state is StoreState.DOWN
    assert stores["tracking"].message.startswith("does not answer:")
    assert "refused" in stores["tracking"].message.lower()


def test_store_passwords_never_appear(tmp_path: Path) -> None:
    url = "postgresql://u:hunter2@127.0.0.1:1/db"
    report = check_health(resolve_settings(tmp_path, environ={}, store_url=url), timeout=2)
    text = repr(report)
    assert "hunter2" not in text
    assert by_name(report)["lab"].uri == "postgresql://u:***@127.0.0.1:1/db"
