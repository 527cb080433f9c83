"""Where a run came from: git state, user, Python and packages, and the notebook's parameters.

Everything here is read-only and cheap enough to call once when a run starts or ends;
nothing is called per cell. Git is asked through a ``git`` subprocess with a short
timeout, so a slow network filesystem or a missing ``git`` never hangs a kernel: the
lineage is then simply unknown (``None``).
"""

from __future__ import annotations

import ast
import getpass
import importlib.metadata
import json
import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_lab.core.errors import InvalidInput
from mlops_lab.core.masking import MASK, is_secret_name, mask_uri_passwords, uri_passwords

GIT_TIMEOUT_S = 3.0
PARAMETERS_TAG = "parameters"


@dataclass(frozen=True)
class GitState:
    commit: str
    branch: str | None
    dirty: bool


def _git(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(folder: Path) -> GitState | None:
    """Commit, branch and dirtiness of the repository holding ``folder``; None outside git."""
    commit = _git(folder, "rev-parse", "HEAD")
    if not commit:
        return None
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    status = _git(folder, "status", "--porcelain", "--untracked-files=no")
    return GitState(
        commit=commit,
        branch=None if branch in (None, "HEAD") else branch,  # detached HEAD has no branch
        dirty=bool(status),
    )


def current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return os.environ.get("USER", "unknown")


def python_version() -> str:
    return platform.python_version()


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """``{canonical name: version}`` of the running interpreter's distributions."""
    versions: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(_canonical(name), dist.version)
    return versions


def requirements_txt(versions: dict[str, str] | None = None) -> str:
    """The interpreter's packages as a pinned ``requirements.txt`` (sorted, one a line)."""
    versions = installed_versions() if versions is None else versions
    return "".join(f"{name}=={versions[name]}\n" for name in sorted(versions))


def pinned(
    packages: Sequence[str | tuple[str, ...]], versions: dict[str, str] | None = None
) -> list[str]:
    """``name==version`` for each of ``packages`` that is installed, in the given order.

    A tuple names alternative distributions of one module (``("xgboost", "xgboost-cpu")``):
    the first of them that is installed is pinned, since the requirement must name the
    distribution the kernel actually has.
    """
    versions = installed_versions() if versions is None else versions
    found: list[str] = []
    for package in packages:
        choices = (package,) if isinstance(package, str) else package
        names = [n for n in map(_canonical, choices) if n in versions]
        if names:
            found.append(f"{names[0]}=={versions[names[0]]}")
    return found


# --- notebooks -------------------------------------------------------------------------


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook as saved on disk (nbformat 4 JSON)."""
    try:
        with path.open(encoding="utf-8") as f:
            notebook = json.load(f)
    except OSError as exc:
        raise InvalidInput(f"Cannot read notebook {path}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"Notebook {path} is not valid JSON: {exc}.") from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise InvalidInput(f"{path} is not a Jupyter notebook (no 'cells' list).")
    return notebook


def cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def parameters_cell(notebook: dict[str, Any]) -> str | None:
    """The source of the first code cell tagged ``parameters`` (papermill's convention)."""
    for cell in notebook["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in tags:
            return cell_source(cell)
    return None


def _python_only(source: str) -> str:
    """Blank out IPython-only lines (``%magic``, ``!shell``) so ``ast`` can parse the rest."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def assigned_names(source: str) -> list[str]:
    """Names bound at top level by ``source`` (``a = 1``, ``b: int = 2``, ``c, d = 3, 4``)."""
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError as exc:
        raise InvalidInput(
            f"The parameters cell is not valid Python (line {exc.lineno}: {exc.msg})."
        ) from exc
    names: list[str] = []

    def collect(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in names:
                names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                collect(element)

    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                collect(target)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            collect(node.target)
    return names


def parameter_names(notebook: dict[str, Any]) -> list[str]:
    source = parameters_cell(notebook)
    return [] if source is None else assigned_names(source)


PAPERMILL_MARKER = "# Parameters"
"""The first line of the cell papermill injects into a Python notebook: its Python
translator writes the comment ``Parameters`` as ``# Parameters``, then one assignment per
parameter. The cell's ``injected-parameters`` tag never reaches the kernel; this line does."""


def injected_parameter_names(cells: Sequence[tuple[int, str]]) -> list[str]:
    """The parameters of a papermill run, read from the cells the kernel executed.

    Under plain ``papermill`` the kernel is not told its notebook's path, so the cell
    tagged ``parameters`` cannot be read from disk; the executed code still shows both
    cells. Papermill's injected cell (its source starts with :data:`PAPERMILL_MARKER`)
    gives the overridden names, and papermill puts it right after the ``parameters`` cell,
    so the cell executed just before it gives the defaults: taken only when it does
    nothing but assign names, one of them an injected name, so an unrelated cell (a
    notebook without a ``parameters`` cell gets the injected cell at its top) is never
    mistaken for it. Cells that are not valid Python give nothing.
    """
    names: list[str] = []
    for index, (_, source) in enumerate(cells):
        if source.split("\n", 1)[0].rstrip() != PAPERMILL_MARKER:
            continue
        injected = _only_assignments(source) or []
        defaults = _only_assignments(cells[index - 1][1]) if index > 0 else None
        if defaults and set(defaults) & set(injected):
            injected = defaults + injected
        names.extend(n for n in injected if n not in names)
    return names


def _only_assignments(source: str) -> list[str] | None:
    """The names ``source`` assigns, or None when it does anything else (or is not Python)."""
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return None
    assignments = (ast.Assign, ast.AnnAssign, ast.AugAssign)
    if not all(isinstance(node, assignments) for node in tree.body):
        return None
    return assigned_names(source)


# --- keeping secrets out of what we log -----------------------------------------------

_MIN_SECRET_LENGTH = 4  # shorter values would mask unrelated text (a "1" everywhere)
_SECRET_ASSIGNMENT = re.compile(
    r"^(?P<lhs>\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=]+)?=\s*)(?P<rhs>[^=].*)$"
)


def secret_literals(source: str) -> list[str]:
    """The string values assigned to credential-looking names in ``source``.

    ``api_key = "sk-..."`` gives ``sk-...``; only literals count (``ast.literal_eval``),
    so nothing is executed. Lets a notebook on disk tell which values were secret when
    the kernel that knew them is gone. Unparseable source gives nothing.
    """
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return []
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if not any(isinstance(t, ast.Name) and is_secret_name(t.id) for t in targets):
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(literal, str):
            found.append(literal)
    return found


def executed_code(cells: list[tuple[int, str]], first_cell: int, redactor: Redactor) -> str:
    """``executed_code.py``: the cells in the order the kernel ran them, redacted."""
    parts = ["# Code of the cells in the order the kernel executed them.\n"]
    for count, source in cells:
        marker = "" if count >= first_cell else "  (before %mlops track)"
        parts.append(f"\n# In[{count}]:{marker}\n{redactor.text(source)}\n")
    return "".join(parts)


def code_sources(notebook: dict[str, Any]) -> list[str]:
    """The sources of the notebook's code cells (papermill's injected cell included)."""
    return [cell_source(c) for c in notebook["cells"] if c.get("cell_type") == "code"]


class Redactor:
    """Replaces secret values, URI passwords and secret assignments' values with ``***``.

    Three nets, because each alone misses cases: the values we know are masked wherever
    they appear, outputs included (from the parameters cell, papermill's injected cell,
    ``%mlops param``, and the string variables with credential-looking names in the
    kernel's namespace, read whenever something is logged); the password of any URI
    (``postgresql://u:pw@h/db``) is masked, whatever the variable holding it is called;
    and a line assigning a credential-looking name has its value masked even when we
    never saw that value (a cell not yet run).
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._secret_names: dict[str, bool] = {}

    def add(self, value: object) -> None:
        text = str(value)
        self.add_uri_passwords(text)
        self._add_one(text)

    def add_uri_passwords(self, text: str) -> None:
        """Learn the passwords of the URIs in ``text`` (a DSN logged as a param)."""
        for password in uri_passwords(text):
            self._add_one(password)

    def _add_one(self, text: str) -> None:
        if len(text) >= _MIN_SECRET_LENGTH and text != MASK:
            self._values.add(text)
            self._values.add(repr(text)[1:-1])  # as written inside a string literal

    def learn(self, namespace: Mapping[str, Any]) -> None:
        """Learn the strings held by credential-looking names (``api_key``, ``db_password``).

        Cheap enough to call whenever something is logged: names are classified once, and
        only the values of secret-named strings are read.
        """
        verdicts = self._secret_names
        for name in list(namespace):
            verdict = verdicts.get(name)
            if verdict is None:
                verdict = verdicts[name] = not name.startswith("_") and is_secret_name(name)
            if verdict:
                value = namespace.get(name)
                if isinstance(value, str):
                    self.add(value)

    def learn_notebook(self, notebook: dict[str, Any]) -> None:
        """Learn the literal secrets a notebook on disk assigns (parameters, injected cell...)."""
        for source in code_sources(notebook):
            for value in secret_literals(source):
                self.add(value)

    def value(self, text: str) -> str:
        """A param or tag value with known secrets and URI passwords masked."""
        for secret in sorted(self._values, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return mask_uri_passwords(text)

    def text(self, text: str) -> str:
        text = self.value(text)
        return "\n".join(self._line(line) for line in text.split("\n"))

    @staticmethod
    def _line(line: str) -> str:
        match = _SECRET_ASSIGNMENT.match(line)
        if match and is_secret_name(match["name"]) and match["rhs"].strip() != repr(MASK):
            return f"{match['lhs']}{MASK!r}"
        return line

    def notebook(self, notebook: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``notebook`` with every string (sources and outputs) redacted."""
        redacted = self._walk(notebook)
        assert isinstance(redacted, dict)
        return redacted

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, dict):
            return {k: self._walk(v) for k, v in value.items()}
        return value
