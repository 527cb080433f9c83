"""What a job runs, checked before anything runs: the notebook, its parameters, the options.

A job is refused here, with a message that says what to change, rather than failing in a
kernel a minute later: a notebook outside the Jupyter root or not a notebook, a parameter
the notebook does not declare or a value of the wrong type, an unknown kernel, a sweep
whose grid is too big. Every face (REST, magic, CLI) goes through these functions, so
the same mistake reads the same everywhere.

Parameter types come from papermill's reading of the cell tagged ``parameters``. Papermill
only reports a type the cell writes down (``alpha: float = 0.5`` or a ``# type:``
comment); for ``alpha = 0.5`` we take the type of the default, since that is what a data
scientist means by it. A default of ``None`` says nothing about the type, so such a
parameter is ``any``.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import json
import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import nbformat

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs.entities import NotebookParameters, ParameterInfo

PARAMETERS_TAG = "parameters"
DEFAULT_KERNEL = "python3"
MAX_RETRIES = 10

TYPES = ("int", "float", "bool", "str", "list", "dict", "None", "any")
"""The kinds a parameter can be checked against; ``any`` accepts every JSON value."""

SCALAR_TYPES = frozenset({"int", "float", "bool", "str", "None", "any"})
"""Types whose command-line value may be a comma-separated sweep (never list or dict)."""

_ANNOTATIONS = {
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "str",
    "None": "None",
    "NoneType": "None",
    "list": "list",
    "List": "list",
    "tuple": "list",
    "Tuple": "list",
    "Sequence": "list",
    "dict": "dict",
    "Dict": "dict",
    "Mapping": "dict",
}
"""Annotation heads we narrow to a checkable type; anything else (``Optional[...]``,
unions, classes) is ``any``, so a value is never refused for a type we cannot check."""

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
    path = (given if given.is_absolute() else root / given).resolve()
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
    """What a form needs to submit ``notebook``: its parameters with types and defaults.

    Papermill reads the cell tagged ``parameters`` line by line; a line it cannot read
    (two ``=`` on it, as in ``url = "a?b=c"``, or a dotted annotation) it skips, yet still
    lets the value be injected. Such names are read again here with Python's parser, so
    a user may pass them too.
    """
    path = resolve_notebook(root, notebook)
    node = _read_notebook(path, notebook)
    kernelspec = node.metadata.get("kernelspec") or {}
    kernel_name = str(kernelspec.get("name") or DEFAULT_KERNEL)
    cell = _parameters_cell(node)
    parameters: list[ParameterInfo] = []
    if cell is not None:
        language = _language(node)
        found = _papermill_parameters(cell, kernel_name, language)
        parameters = [_parameter(parameter) for parameter in found]
        if language == "python":
            parameters = _with_missed(cell.source, parameters)
    return NotebookParameters(
        notebook=relative_notebook(root, path),
        has_parameters_cell=cell is not None,
        parameters=parameters,
        kernel_name=kernel_name,
        kernels=list(kernels),
    )


def _parameters_cell(node: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The first cell tagged ``parameters``: the one papermill injects after."""
    for cell in node.cells:
        if PARAMETERS_TAG in (cell.get("metadata", {}).get("tags") or []):
            return cell
    return None


@contextmanager
def _quiet_papermill() -> Iterator[None]:
    """Papermill logs and warns about cells it cannot read; the caller is a form or a
    command whose output those lines would clutter, and our result says it all."""
    logger = logging.getLogger("papermill")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _language(node: nbformat.NotebookNode) -> str:
    """The notebook's language, found as papermill finds it (``python`` when unsaid)."""
    return str(
        node.metadata.get("language_info", {}).get("name")
        or node.metadata.get("kernelspec", {}).get("language")
        or "python"
    )


def _papermill_parameters(
    cell: nbformat.NotebookNode, kernel_name: str, language: str
) -> list[dict[str, str]]:
    """Papermill's reading of the parameters cell, by the translator it injects with.

    This is what ``papermill.inspect_notebook`` does after opening the file; calling the
    translator on the notebook already read and checked avoids that function's two traps:
    it formats the path with ``str.format`` (a notebook named ``run {1}.ipynb`` fails) and
    raises when the notebook has no ``kernelspec``, which a job may still run with the
    kernel it is given.
    """
    from papermill.exceptions import PapermillException
    from papermill.translators import papermill_translators

    with _quiet_papermill():
        try:
            translator = papermill_translators.find_translator(kernel_name, language)
            found = translator.inspect(cell)
        except (PapermillException, NotImplementedError):  # a language papermill cannot read
            return []
    return [dict(parameter._asdict()) for parameter in found]


def _parameter(found: Mapping[str, str]) -> ParameterInfo:
    """One of papermill's parameters, its type narrowed and its default made a value."""
    default_text = str(found.get("default") or "")
    default, is_literal = _literal(default_text)
    annotation = str(found.get("inferred_type_name") or "None")
    if annotation != "None":
        kind = _narrow(annotation)
    else:  # papermill's "None" means no annotation: the default says what it is
        kind = _type_of(default) if is_literal else "any"
    if kind == "float" and isinstance(default, int) and not isinstance(default, bool):
        default = float(default)  # `k: float = 2`: a form shows a float field, 2.0
    return ParameterInfo(
        name=str(found["name"]),
        type=kind,
        default=default if is_literal else None,
        default_text=default_text,
        help=str(found.get("help") or ""),
    )


def _with_missed(source: str, parameters: list[ParameterInfo]) -> list[ParameterInfo]:
    """``parameters`` plus the top-level assignments of the cell that papermill's line
    reader skipped, in the cell's order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics) in the cell: papermill's reading stands
        return parameters
    known = {p.name for p in parameters}
    order: dict[str, int] = {}
    missed: list[ParameterInfo] = []
    for statement in tree.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            name, value = statement.target.id, statement.value
            annotation: str | None = ast.unparse(statement.annotation)
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            name, value, annotation = statement.targets[0].id, statement.value, None
        else:
            continue
        order.setdefault(name, len(order))
        if name in known or value is None:
            continue
        known.add(name)
        text = ast.get_source_segment(source, value) or ast.unparse(value)
        default, is_literal = _literal(text)
        if annotation is not None:
            kind = _narrow(annotation)
        else:
            kind = _type_of(default) if is_literal else "any"
        missed.append(
            ParameterInfo(
                name=name,
                type=kind,
                default=default if is_literal else None,
                default_text=text,
            )
        )
    return sorted([*parameters, *missed], key=lambda p: order.get(p.name, len(order)))


def _literal(text: str) -> tuple[Any, bool]:
    """``text`` as a JSON value when it is a Python literal; (None, False) otherwise."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, False
    try:
        return _jsonable(value), True
    except TypeError:
        return None, False


def _jsonable(value: Any) -> Any:
    """``value`` with tuples made lists; TypeError when it holds no JSON equivalent (a set,
    bytes, a complex number): such a value could not travel through REST or the store."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _jsonable(item) for key, item in value.items()}
    raise TypeError(type(value).__name__)


def _type_of(value: Any) -> str:
    if value is None:
        return "any"
    if isinstance(value, bool):
        return "bool"
    for kind in (int, float, str, list, dict):
        if isinstance(value, kind):
            return kind.__name__
    return "any"


def _narrow(annotation: str) -> str:
    """``float`` -> float, ``List[int]`` -> list, ``Optional[int]`` -> any (see _ANNOTATIONS)."""
    text = annotation.strip().strip("'\"")
    text = text.removeprefix("typing.").removeprefix("collections.abc.")
    if "|" in text:
        return "any"
    return _ANNOTATIONS.get(text.split("[", 1)[0].strip(), "any")


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
            return _jsonable(value)
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
        return _jsonable(value)
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
        value, is_literal = _literal(stripped)
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
    value, is_literal = _literal(text)
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
    value, is_literal = _literal(text)
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
