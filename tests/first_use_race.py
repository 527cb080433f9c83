"""Start several real processes on one fresh project at the same instant.

Each child imports everything first, says it is ready, then waits for a "go" file, so
their first use of a store overlaps as closely as processes allow.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

READY_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0


def run_at_once(body: str, tmp: Path, count: int = 4) -> list[subprocess.CompletedProcess[str]]:
    """Run ``body`` (Python, after the imports it makes) in ``count`` processes at once.

    ``body`` sees ``root`` (a :class:`~pathlib.Path`) and ``index`` (0..count-1).
    """
    gate = tmp / "gate"
    gate.mkdir()
    root = tmp / "project"
    root.mkdir(exist_ok=True)
    imports, _, rest = body.partition("# --- go ---\n")
    source = "\n".join(
        [
            "import sys, time",
            "from pathlib import Path",
            "root, gate, index = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])",
            textwrap.dedent(imports),
            '(gate / f"ready-{index}").touch()',
            'while not (gate / "go").exists():',
            "    time.sleep(0.002)",
            textwrap.dedent(rest),
        ]
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", source, str(root), str(gate), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(count)
    ]
    deadline = time.monotonic() + READY_TIMEOUT
    while len(list(gate.glob("ready-*"))) < count:
        if time.monotonic() > deadline or any(c.poll() is not None for c in children):
            break
        time.sleep(0.01)
    (gate / "go").touch()
    results = []
    for child in children:
        out, err = child.communicate(timeout=RUN_TIMEOUT)
        results.append(subprocess.CompletedProcess(child.args, child.returncode, out, err))
    return results


def assert_all_succeeded(results: list[subprocess.CompletedProcess[str]]) -> None:
    failures = [r.stderr[-2000:] for r in results if r.returncode != 0]
    assert not failures, failures


def leftovers_and_rows(database: Path, table: str) -> tuple[list[str], int]:
    """Tables an interrupted alembic batch migration leaves behind, and ``table``'s rows."""
    connection = sqlite3.connect(database)
    try:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()
    return [n for n in names if n.startswith("_alembic_tmp")], int(rows)
