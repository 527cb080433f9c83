"""What a job runs, checked before anything runs: the notebook, its parameters, the options.

A job is refused here, with a message that says what to change, rather than failing in a
kernel a minute later: a notebook outside the Jupyter root or not a notebook, a parameter
the notebook does not declare or a value of the wrong type, an unknown kernel, a sweep
whose grid is too big. Every face (REST, magic, CLI) goes through these functions, so
the same mistake reads the same everywhere.

How the cell tagged ``parameters`` is read (types, defaults) is ``parameter_cell``'s part.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs.entities import NotebookParameters, ParameterInfo
from mlops_lab.core.jobs.parameter_cell import jsonable, literal, parameters_cell, read_parameters

DEFAULT_KERNEL = "python3"
MAX_RETRIES = 10

TYPES = ("int", "float", "bool", "str", "list", "dict", "None", "any")
"""The kinds a parameter can be checked against; ``any`` accepts every JSON value."""

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_NONE = frozenset({"none", "null"})


# --- the notebook -------------------------------------------------------------------


def resolve_notebook(root: Path, notebook: str) -> Path:
    """The absolute path of ``notebook`` (relative to ``root``, or absolute), checked.

    Symlinks and ``..`` are resolved before the check that it lies inside the Jupyter
    root, so neither ``../../etc/passwd`` nor a link pointing out of the root gets a
    kernel to read a file the server does not serve. Being outside is reported before
    being missing, so the answer never tells whether a file outside the root exists.
    """
    root = root.resolve()
    if not notebook.strip():
        raise InvalidInput("notebook is empty: give the path of a .ipynb file.", param="notebook")
    given = Path(notebook).expanduser()
    try:
        path = (given if given.is_absolute() else root / given).resolve()
    except (ValueError, UnicodeError):  # a NUL byte, a lone surrogate: no file has it
        raise InvalidInput(
            f"notebook {notebook!r} is not a valid path: give the path of a .ipynb file.",
            param="notebook",
        ) from None
    if not path.is_relative_to(root):
        raise InvalidInput(
            f"notebook {notebook} must be inside the Jupyter root {root}: "
            "give a path relative to it.",
            param="notebook",
        )
    if not path.exists():
        raise NotFound(f"notebook {notebook} was not found in the Jupyter root {root}.")
    if path.is_dir():
        raise InvalidInput(
            f"notebook {notebook} is a directory: give a .ipynb file.", param="notebook"
        )
    if path.suffix != ".ipynb" or given.suffix != ".ipynb":
        raise InvalidInput(
            f"notebook {notebook} is not a .ipynb file: a job runs a Jupyter notebook.",
            param="notebook",
        )
    _read_notebook(path, notebook)
    return path


def relative_notebook(root: Path, path: Path) -> str:
    """``path`` relative to the root with ``/`` separators: how jobs name a notebook."""
    return path.resolve().relative_to(root.resolve()).as_posix()


def _read_notebook(path: Path, shown: str) -> nbformat.NotebookNode:
    """The notebook at ``path``, refused with a reason when it is not one a kernel can run."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"notebook {shown} is not valid JSON (not UTF-8 text): is it a saved notebook?",
            param="notebook",
        ) from exc
    except OSError as exc:
        raise InvalidInput(
            f"notebook {shown} cannot be read: {exc.strerror}.", param="notebook"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"notebook {shown} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}): is it a saved notebook?",
            param="notebook",
        ) from exc
    if not isinstance(data, dict) or "nbformat" not in data or "cells" not in data:
        raise InvalidInput(
            f"notebook {shown} is JSON but not a Jupyter notebook "
            "(it has no 'nbformat' and 'cells' keys).",
            param="notebook",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = nbformat.reads(text, as_version=4)
            nbformat.validate(node)
    except Exception as exc:  # nbformat raises several kinds for a malformed notebook
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InvalidInput(
            f"notebook {shown} is not a valid Jupyter notebook: {reason}", param="notebook"
        ) from exc
    return node


# --- parameters ---------------------------------------------------------------------


def installed_kernels() -> list[str]:
    """The names of the kernels installed here, sorted (what a job may ask for)."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def inspect_parameters(root: Path, notebook: str, kernels: list[str]) -> NotebookParameters:
    """What a form needs to submit ``notebook``: its parameters with types and defaults."""
    path = resolve_notebook(root, notebook)
    node = _read_notebook(path, notebook)
    kernelspec = node.metadata.get("kernelspec") or {}
    kernel_name = str(kernelspec.get("name") or DEFAULT_KERNEL)
    cell = parameters_cell(node)
    parameters: list[ParameterInfo] = []
    if cell is not None:
        parameters = read_parameters(node, cell, kernel_name)
    return NotebookParameters(
        notebook=relative_notebook(root, path),
        has_parameters_cell=cell is not None,
        parameters=parameters,
        kernel_name=kernel_name,
        kernels=list(kernels),
    )


# --- values -------------------------------------------------------------------------


def check_values(values: Mapping[str, Any], declared: NotebookParameters) -> dict[str, Any]:
    """The values a user gave (JSON values, from REST or a form), checked and converted.

    An int is accepted for a float (and becomes one); a bool is not an int here, since
    ``True`` for a depth is a mistake rather than a 1. ``None`` is accepted only where
    the notebook's default gives no type.
    """
    _check_names(values, declared)
    types = {p.name: p for p in declared.parameters}
    return {name: _check_value(value, types[name], declared) for name, value in values.items()}


def parse_text_values(
    texts: Mapping[str, str], declared: NotebookParameters
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Command-line values (``-p alpha=0.5``) read as the declared types: (single, sweep).

    A comma in the value of a scalar parameter makes a sweep: ``alpha=0.1,0.5,1`` runs
    the notebook once per value. ``alpha=[0.1, 0.5]`` (JSON or a Python literal) says the
    same, and is how a str containing a comma is given: ``name='["a,b"]'`` (a list of one
    is a single value). A list or dict parameter takes its value as JSON or a Python
    literal and is never swept from text.
    """
    _check_names(texts, declared)
    types = {p.name: p for p in declared.parameters}
    single: dict[str, Any] = {}
    sweep: dict[str, list[Any]] = {}
    for name, text in texts.items():
        info = types[name]
        values = _parse_text(text, info, declared)
        if isinstance(values, _Sweep):
            sweep[name] = values.values
        else:
            single[name] = values
    return single, sweep


def parse_assignments(
    assignments: Sequence[str], declared: NotebookParameters
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """``["alpha=0.5", "depth=3,5"]`` (the ``-p`` options of the magic and the CLI) read
    as :func:`parse_text_values` reads them."""
    texts: dict[str, str] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name:
            raise InvalidInput(
                f"-p {assignment}: expected NAME=VALUE, e.g. -p alpha=0.5.", param="parameters"
            )
        if name in texts:
            raise InvalidInput(
                f"-p {name} is given twice: give it once, with commas for a sweep "
                f"(-p {name}={texts[name]},{text}).",
                param=name,
            )
        texts[name] = text
    return parse_text_values(texts, declared)


def check_sweep(
    sweep: Mapping[str, list[Any]], declared: NotebookParameters, limit: int
) -> dict[str, list[Any]]:
    """A sweep's values checked, and its grid (every combination) kept within ``limit``."""
    _check_names(sweep, declared)
    types = {p.name: p for p in declared.parameters}
    checked: dict[str, list[Any]] = {}
    for name, values in sweep.items():
        if not isinstance(values, list) or not values:
            raise InvalidInput(
                f"the sweep of {name} needs a non-empty list of values, got {values!r}.",
                param=name,
            )
        checked[name] = [_check_value(value, types[name], declared) for value in values]
    lengths = [len(values) for values in checked.values()]
    size = math.prod(lengths)
    if size > limit:
        grid = " x ".join(str(n) for n in lengths)
        shown = f"{grid} = {size}" if len(lengths) > 1 else str(size)
        raise InvalidInput(
            f"a sweep of {shown} executions is over the limit of {limit} "
            "(setting sweep-limit); narrow the grid or raise the limit.",
            param="sweep",
        )
    return checked


def sweep_grid(sweep: Mapping[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of a sweep's values, the last name varying fastest
    (``itertools.product`` order). An empty sweep is one execution with no values."""
    names = list(sweep)
    return [
        dict(zip(names, combination, strict=True))
        for combination in itertools.product(*(sweep[name] for name in names))
    ]


def _check_names(values: Mapping[str, Any], declared: NotebookParameters) -> None:
    if not values:
        return
    if not declared.has_parameters_cell:
        given = ", ".join(values)
        raise InvalidInput(
            f"{declared.notebook} has no cell tagged 'parameters': papermill cannot inject "
            f"{given}. Tag the cell that sets your defaults with 'parameters' "
            "(View > Cell Toolbar > Tags).",
            param=next(iter(values)),
        )
    known = [p.name for p in declared.parameters]
    for name in values:
        if name in known:
            continue
        defines = ", ".join(known) if known else "no variables"
        message = (
            f"unknown parameter '{name}': the parameters cell of {declared.notebook} "
            f"defines {defines}"
        )
        close = difflib.get_close_matches(name, known, n=1)
        message += f"; did you mean '{close[0]}'?" if close else "."
        raise InvalidInput(message, param=name)


def _wrong(value: Any, info: ParameterInfo, declared: NotebookParameters) -> InvalidInput:
    message = f"{info.name} expects {info.type}, got {value!r}"
    if info.default_text:
        message += f" (its default in {declared.notebook} is {info.default_text})"
    return InvalidInput(message + ".", param=info.name)


def _check_value(value: Any, info: ParameterInfo, declared: NotebookParameters) -> Any:
    """``value`` if it has ``info``'s type (an int made a float for a float)."""
    kind = info.type
    if kind == "any":
        try:
            return jsonable(value)
        except TypeError:
            raise _wrong(value, info, declared) from None
    if kind == "None":
        ok = value is None
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        ok = isinstance(value, float)
    elif kind == "str":
        ok = isinstance(value, str)
    elif kind == "list":
        ok = isinstance(value, list | tuple)
    elif kind == "dict":
        ok = isinstance(value, dict)
    else:  # a type this module does not know: the entity came from elsewhere
        raise InvalidInput(
            f"{info.name} has type '{kind}', which is none of {', '.join(TYPES)}.",
            param=info.name,
        )
    if not ok:
        raise _wrong(value, info, declared)
    try:
        return jsonable(value)
    except TypeError:
        raise _wrong(value, info, declared) from None


class _Sweep:
    """Marks a command-line value that is a list of values to sweep over."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values


def _parse_text(text: str, info: ParameterInfo, declared: NotebookParameters) -> Any:
    """One ``-p`` value: a single value, or a :class:`_Sweep` of values."""
    kind = info.type
    if kind in ("list", "dict"):
        value = _structured(text)
        if value is _NOT_PARSED:
            example = "[1, 2]" if kind == "list" else '{"a": 1}'
            message = _wrong(text, info, declared).message.removesuffix(".")
            raise InvalidInput(
                f"{message}; write it as JSON or a Python literal, e.g. {example}.",
                param=info.name,
            )
        return _check_value(value, info, declared)
    stripped = text.strip()
    if kind == "any":
        value, is_literal = literal(stripped)
        if is_literal:
            # "1,2" is a Python tuple: a sweep, as for every scalar; "[1, 2]" is one list
            return _values(value, info, declared, text) if _is_tuple(stripped) else value
        if "," in text:
            return _values(
                [_any_text(piece) for piece in _pieces(text, info)], info, declared, text
            )
        return text
    if stripped.startswith("[") and stripped.endswith("]"):
        listed = _structured(stripped)
        if isinstance(listed, list):
            return _values(
                [_scalar(v, info, declared) if isinstance(v, str) else v for v in listed],
                info,
                declared,
                text,
            )
    if "," in text:
        return _values(
            [_scalar(piece, info, declared) for piece in _pieces(text, info)],
            info,
            declared,
            text,
        )
    return _scalar(text, info, declared)


def _is_tuple(text: str) -> bool:
    try:
        return isinstance(ast.literal_eval(text), tuple)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


def _any_text(text: str) -> Any:
    """A value of an ``any`` parameter: a Python literal when it is one, else the text."""
    value, is_literal = literal(text)
    return value if is_literal else text


def _pieces(text: str, info: ParameterInfo) -> list[str]:
    """The comma-separated values of a sweep, stripped; an empty one is a typo."""
    pieces = [piece.strip() for piece in text.split(",")]
    if "" in pieces:
        raise InvalidInput(
            f"{info.name}={text} has an empty value between commas: give each value of "
            "the sweep, e.g. 0.1,0.5,1.",
            param=info.name,
        )
    return pieces


def _values(values: list[Any], info: ParameterInfo, declared: NotebookParameters, text: str) -> Any:
    """A single value for a list of one, else a sweep; each value checked."""
    if not values:
        raise InvalidInput(
            f"{info.name}={text} lists no values: give at least one.", param=info.name
        )
    checked = [_check_value(value, info, declared) for value in values]
    return checked[0] if len(checked) == 1 else _Sweep(checked)


def _scalar(text: str, info: ParameterInfo, declared: NotebookParameters) -> Any:
    """One text read as ``info``'s scalar type (int, float, bool, str, None)."""
    kind = info.type
    if kind == "str":
        return text
    word = text.strip()
    if kind == "bool":
        if word.lower() in _TRUE:
            return True
        if word.lower() in _FALSE:
            return False
    elif kind == "None":
        if word.lower() in _NONE:
            return None
    elif kind == "int":
        try:
            return int(word)
        except ValueError:
            pass
    elif kind == "float":
        try:
            return float(word)
        except ValueError:
            pass
    raise _wrong(text, info, declared)


_NOT_PARSED = object()


def _structured(text: str) -> Any:
    """``text`` as JSON, else as a Python literal; ``_NOT_PARSED`` when it is neither."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    value, is_literal = literal(text)
    return value if is_literal else _NOT_PARSED


# --- options ------------------------------------------------------------------------


def check_options(
    timeout: float | None,
    retries: int,
    retry_backoff: float,
    kernel_name: str | None,
    declared: NotebookParameters,
    concurrency: int | None,
) -> str:
    """The run options checked; returns the kernel to use (given, else the notebook's)."""
    if timeout is not None and not (timeout > 0 and math.isfinite(timeout)):
        raise InvalidInput(
            f"timeout must be more than 0 seconds, got {timeout:g}: give the seconds the "
            "execution may take, or no timeout.",
            param="timeout",
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= MAX_RETRIES:
        raise InvalidInput(
            f"retries must be between 0 and {MAX_RETRIES}, got {retries!r}.", param="retries"
        )
    if not (retry_backoff >= 0 and math.isfinite(retry_backoff)):
        raise InvalidInput(
            f"retry_backoff must be 0 seconds or more, got {retry_backoff:g}.",
            param="retry_backoff",
        )
    if concurrency is not None and (isinstance(concurrency, bool) or concurrency < 1):
        raise InvalidInput(
            f"concurrency must be at least 1, got {concurrency!r}.", param="concurrency"
        )
    name = kernel_name or declared.kernel_name
    if name not in declared.kernels:
        raise InvalidInput(
            _unknown_kernel(name, kernel_name is None, declared), param="kernel_name"
        )
    return name


def _unknown_kernel(name: str, from_notebook: bool, declared: NotebookParameters) -> str:
    if not declared.kernels:
        return (
            f"no kernel named '{name}': no kernel is installed; install one "
            "(python -m ipykernel install --sys-prefix)."
        )
    installed = ", ".join(declared.kernels)
    message = f"no kernel named '{name}': installed kernels are {installed}"
    if from_notebook:
        message += f" ({declared.notebook} asks for '{name}' in its metadata; choose a kernel)"
    close = difflib.get_close_matches(name, declared.kernels, n=1)
    return message + (f"; did you mean '{close[0]}'?" if close else ".")
