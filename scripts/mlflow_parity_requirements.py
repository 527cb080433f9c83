"""Print mlops-lab's requirements (runtime and the ``test`` extra) with MLflow pinned exactly.

``make mlflow-parity MLFLOW=X`` installs these into a scratch venv to decide whether MLflow
X is supported. MLflow's own line in pyproject.toml is replaced, not merely constrained,
so a version outside today's supported range can be tried: that is the point of the check.
The package itself is not installed (its build needs the front-end toolchain); the tests
import it from the source tree. Standard library only: it runs in a venv that holds pip
alone.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
NAME = re.compile(r"[A-Za-z0-9._-]+")


def requirement_name(requirement: str) -> str:
    """The normalised distribution name a PEP 508 line starts with."""
    match = NAME.match(requirement.strip())
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group()).lower()


def parity_requirements(mlflow_version: str) -> list[str]:
    """Every runtime and test requirement, with ``mlflow==<mlflow_version>`` for MLflow's."""
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    kept = [r for r in declared if requirement_name(r) != "mlflow"]
    if len(kept) == len(declared):
        raise ValueError(f"{PYPROJECT} declares no mlflow requirement to replace")
    return [f"mlflow=={mlflow_version}", *kept]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not re.fullmatch(r"\d+(\.\d+)*\w*", argv[0]):
        print("usage: mlflow_parity_requirements.py MLFLOW_VERSION  (e.g. 3.17.2)", file=sys.stderr)
        return 2
    print("\n".join(parity_requirements(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
