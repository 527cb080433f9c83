"""A throwaway PostgreSQL cluster on loopback, for proving our store runs on it.

Uses the server binaries of Debian's ``postgresql`` package (``make test-deps`` installs
it). ``initdb`` refuses to run as root, so as root the cluster is owned by the
``postgres`` system user that package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: install Debian's postgresql "
            "(`make test-deps` does)."
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Yield a ``postgresql+psycopg://`` URL of a fresh database on 127.0.0.1."""
    as_root = os.geteuid() == 0
    data = Path(tempfile.mkdtemp(prefix="mlops-pg-"))
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    run(find_bin("initdb"), "-D", str(data / "db"), "-A", "trust", "-U", "mlops")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(
        find_bin("pg_ctl"),
        "-D",
        str(data / "db"),
        "-o",
        options,
        "-w",
        "-l",
        str(data / "log"),
        "start",
    )
    try:
        run(find_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "mlops", "lab")
        yield f"postgresql+psycopg://mlops:pw@127.0.0.1:{port}/lab"
    finally:
        run(find_bin("pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)
