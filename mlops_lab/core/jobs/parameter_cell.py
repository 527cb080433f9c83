"""How a notebook's cell tagged ``parameters`` is read: names, types, defaults, help.

Papermill's own translator reads the cell, so what we show is what papermill will
inject against. Papermill only reports a type the cell writes down (``alpha: float =
0.5`` or a ``# type:`` comment); for ``alpha = 0.5`` the type is the default's, since
that is what a data scientist means by it. A default of ``None`` says nothing about the
type, so such a parameter is ``any``. Papermill reads the cell line by line and skips a
line it cannot read (two ``=`` on it, as in ``url = "a?b=c"``, or a dotted annotation),
yet still injects a value for it; such names are read again with Python's parser so a
user may pass them too.
"""

from __future__ import annotations

import ast
import logging
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import nbformat

from mlops_lab.core.jobs.entities import ParameterInfo

PARAMETERS_TAG = "parameters"

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


def parameters_cell(node: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The first cell tagged ``parameters``: the one papermill injects after."""
    for cell in node.cells:
        if PARAMETERS_TAG in (cell.get("metadata", {}).get("tags") or []):
            return cell
    return None


def read_parameters(
    node: nbformat.NotebookNode, cell: nbformat.NotebookNode, kernel_name: str
) -> list[ParameterInfo]:
    """The parameters ``cell`` of notebook ``node`` declares, in the cell's order."""
    language = _language(node)
    parameters = [_parameter(found) for found in _papermill_parameters(cell, kernel_name, language)]
    if language == "python":
        parameters = _with_missed(cell.source, parameters)
    return parameters


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
    default, is_literal = literal(default_text)
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
        default, is_literal = literal(text)
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


def literal(text: str) -> tuple[Any, bool]:
    """``text`` as a JSON value when it is a Python literal; (None, False) otherwise."""
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None, False
    try:
        return jsonable(value), True
    except TypeError:
        return None, False


def jsonable(value: Any) -> Any:
    """``value`` with tuples made lists; TypeError when it holds no JSON equivalent (a set,
    bytes, a complex number): such a value could not travel through REST or the store."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: jsonable(item) for key, item in value.items()}
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
