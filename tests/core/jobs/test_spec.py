"""A job's notebook, parameters and options are checked before anything runs.

Real notebooks written with nbformat under tmp_path, read by papermill's own translator;
the kernel list is the one installed in this environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mlops_lab.core.errors import InvalidInput, NotFound
from mlops_lab.core.jobs import spec
from mlops_lab.core.jobs.entities import NotebookParameters, ParameterInfo

TYPED_CELL = """\
alpha: float = 0.5
depth = 3  # tree depth
name = "forest"
verbose = False
layers = [64, 32]
options = {"seed": 1}
model_path = None
retries: int = None
url = "https://example.org/?a=b"
ratio = 2  # type: float
labels: list[str] = ["a"]
window: Optional[int] = 5
factory = make_model()
"""


def write_notebook(
    path: Path,
    parameters: str | None = TYPED_CELL,
    *,
    kernel: str | None = "python3",
) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_markdown_cell("# A notebook"))
    if parameters is not None:
        cell = nbformat.v4.new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        notebook.cells.append(cell)
    notebook.cells.append(nbformat.v4.new_code_cell("print(alpha)"))
    if kernel is not None:
        notebook.metadata["kernelspec"] = {
            "name": kernel,
            "display_name": "Python 3",
            "language": "python",
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    return root


@pytest.fixture
def declared(root: Path) -> NotebookParameters:
    write_notebook(root / "nb.ipynb")
    return spec.inspect_parameters(root, "nb.ipynb", spec.installed_kernels())


def invalid(call: Any, *args: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    return caught.value


# --- the notebook -------------------------------------------------------------------


def test_a_notebook_inside_the_root_resolves_relative_or_absolute(root: Path) -> None:
    path = write_notebook(root / "sub" / "nb.ipynb")

    assert spec.resolve_notebook(root, "sub/nb.ipynb") == path.resolve()
    assert spec.resolve_notebook(root, str(path)) == path.resolve()
    assert spec.resolve_notebook(root, "sub/../sub/nb.ipynb") == path.resolve()
    assert spec.relative_notebook(root, path) == "sub/nb.ipynb"


@pytest.mark.parametrize("notebook", ["../../etc/passwd", "../outside.ipynb", "/etc/passwd"])
def test_a_path_out_of_the_root_is_refused_before_it_is_looked_for(
    root: Path, notebook: str
) -> None:
    write_notebook(root.parent / "outside.ipynb")

    error = invalid(spec.resolve_notebook, root, notebook)

    assert error.param == "notebook"
    assert f"must be inside the Jupyter root {root.resolve()}" in error.message


def test_an_absolute_path_outside_is_refused_even_when_it_is_a_notebook(
    root: Path, tmp_path: Path
) -> None:
    outside = write_notebook(tmp_path / "elsewhere" / "nb.ipynb")

    error = invalid(spec.resolve_notebook, root, str(outside))

    assert "must be inside the Jupyter root" in error.message


def test_a_symlink_pointing_out_of_the_root_is_refused(root: Path, tmp_path: Path) -> None:
    outside = write_notebook(tmp_path / "secret.ipynb")
    (root / "link.ipynb").symlink_to(outside)
    (root / "linked_dir").symlink_to(tmp_path, target_is_directory=True)

    for notebook in ("link.ipynb", "linked_dir/secret.ipynb"):
        error = invalid(spec.resolve_notebook, root, notebook)
        assert "must be inside the Jupyter root" in error.message, notebook


def test_a_missing_notebook_is_not_found_and_named(root: Path) -> None:
    with pytest.raises(NotFound) as caught:
        spec.resolve_notebook(root, "sub/missing.ipynb")

    assert "notebook sub/missing.ipynb was not found" in caught.value.message


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("notes.txt", "alpha = 1", "is not a .ipynb file"),
        ("broken.ipynb", '{"cells": [', "is not valid JSON (line 1"),
        ("binary.ipynb", b"\xff\xfe\x00", "is not valid JSON"),
        ("list.ipynb", "[1, 2]", "is JSON but not a Jupyter notebook"),
        ("data.ipynb", '{"a": 1}', "is JSON but not a Jupyter notebook"),
        (
            "bad.ipynb",
            '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}',
            "is not a valid Jupyter notebook",
        ),
    ],
)
def test_a_file_that_is_not_a_notebook_says_why(
    root: Path, name: str, content: str | bytes, fragment: str
) -> None:
    path = root / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    error = invalid(spec.resolve_notebook, root, name)

    assert error.param == "notebook"
    assert f"notebook {name} {fragment}" in error.message


def test_a_directory_is_refused(root: Path) -> None:
    (root / "folder.ipynb").mkdir()

    error = invalid(spec.resolve_notebook, root, "folder.ipynb")

    assert "notebook folder.ipynb is a directory" in error.message


def test_an_empty_path_is_refused(root: Path) -> None:
    assert "notebook is empty" in invalid(spec.resolve_notebook, root, " ").message


# --- parameters ---------------------------------------------------------------------


def test_parameters_have_types_from_annotations_or_defaults(
    declared: NotebookParameters,
) -> None:
    found = {p.name: (p.type, p.default) for p in declared.parameters}

    assert found == {
        "alpha": ("float", 0.5),
        "depth": ("int", 3),
        "name": ("str", "forest"),
        "verbose": ("bool", False),
        "layers": ("list", [64, 32]),
        "options": ("dict", {"seed": 1}),
        "model_path": ("any", None),
        "retries": ("int", None),
        "url": ("str", "https://example.org/?a=b"),
        "ratio": ("float", 2.0),
        "labels": ("list", ["a"]),
        "window": ("any", 5),
        "factory": ("any", None),
    }
    assert [p.name for p in declared.parameters][:3] == ["alpha", "depth", "name"]
    by_name = {p.name: p for p in declared.parameters}
    assert by_name["depth"].help == "tree depth"
    assert by_name["factory"].default_text == "make_model()"
    assert declared.notebook == "nb.ipynb"
    assert declared.has_parameters_cell
    assert declared.kernel_name == "python3"
    assert "python3" in declared.kernels


def test_a_notebook_without_a_parameters_cell_or_kernelspec_is_still_read(
    root: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    write_notebook(root / "plain {1}.ipynb", parameters=None, kernel=None)

    declared = spec.inspect_parameters(root, "plain {1}.ipynb", ["python3"])

    assert not declared.has_parameters_cell
    assert declared.parameters == []
    assert declared.kernel_name == "python3"
    assert capfd.readouterr() == ("", "")


def test_reading_parameters_is_quiet_and_finds_what_papermill_skips(
    root: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Papermill warns "Unable to parse line" for a line with two '=' and skips it."""
    write_notebook(root / "nb.ipynb", parameters='query = "a=b"\nx = 1\n')

    declared = spec.inspect_parameters(root, "nb.ipynb", ["python3"])

    assert [(p.name, p.type, p.default) for p in declared.parameters] == [
        ("query", "str", "a=b"),
        ("x", "int", 1),
    ]
    assert [record for record in caplog.records if record.name.startswith("papermill")] == []
    assert capfd.readouterr() == ("", "")


def test_installed_kernels_lists_this_environments_kernel() -> None:
    assert "python3" in spec.installed_kernels()


# --- values from REST or a form -----------------------------------------------------


def test_values_of_the_declared_types_are_accepted_and_ints_become_floats(
    declared: NotebookParameters,
) -> None:
    checked = spec.check_values(
        {
            "alpha": 1,
            "depth": 5,
            "name": "x",
            "verbose": True,
            "layers": [1],
            "options": {},
            "model_path": None,
            "factory": "anything",
        },
        declared,
    )

    assert checked["alpha"] == 1.0 and isinstance(checked["alpha"], float)
    assert checked["depth"] == 5 and checked["model_path"] is None


@pytest.mark.parametrize(
    ("values", "fragment", "param"),
    [
        ({"alpha": "abc"}, "alpha expects float, got 'abc'", "alpha"),
        ({"depth": True}, "depth expects int, got True", "depth"),
        ({"depth": 2.5}, "depth expects int, got 2.5", "depth"),
        ({"alpha": None}, "alpha expects float, got None", "alpha"),
        ({"verbose": 1}, "verbose expects bool, got 1", "verbose"),
        ({"layers": "1,2"}, "layers expects list, got '1,2'", "layers"),
        ({"options": [1]}, "options expects dict, got [1]", "options"),
        ({"name": 3}, "name expects str, got 3", "name"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(
    declared: NotebookParameters, values: dict[str, Any], fragment: str, param: str
) -> None:
    error = invalid(spec.check_values, values, declared)

    assert fragment in error.message
    assert error.param == param


def test_an_unknown_name_lists_the_known_ones_and_the_closest(
    declared: NotebookParameters,
) -> None:
    error = invalid(spec.check_values, {"alhpa": 1.0}, declared)

    assert error.message.startswith(
        "unknown parameter 'alhpa': the parameters cell of nb.ipynb defines alpha, depth, "
    )
    assert "did you mean 'alpha'?" in error.message
    assert error.param == "alhpa"


def test_values_for_a_notebook_without_a_parameters_cell_say_how_to_tag_it(
    root: Path,
) -> None:
    write_notebook(root / "plain.ipynb", parameters=None)
    declared = spec.inspect_parameters(root, "plain.ipynb", ["python3"])

    error = invalid(spec.check_values, {"alpha": 1, "depth": 2}, declared)

    assert error.message == (
        "plain.ipynb has no cell tagged 'parameters': papermill cannot inject alpha, depth. "
        "Tag the cell that sets your defaults with 'parameters' (View > Cell Toolbar > Tags)."
    )
    assert error.param == "alpha"
    assert spec.check_values({}, declared) == {}
    assert (
        "no cell tagged 'parameters'" in invalid(spec.parse_assignments, ["a=1"], declared).message
    )


# --- values from the command line ---------------------------------------------------


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("alpha=0.25", {"alpha": 0.25}),
        ("alpha=1e-3", {"alpha": 0.001}),
        ("depth= 7 ", {"depth": 7}),
        ("verbose=TRUE", {"verbose": True}),
        ("verbose=yes", {"verbose": True}),
        ("verbose=1", {"verbose": True}),
        ("verbose=No", {"verbose": False}),
        ("verbose=0", {"verbose": False}),
        ("verbose=false", {"verbose": False}),
        ("name= spaced out ", {"name": " spaced out "}),
        ("name=a=b", {"name": "a=b"}),
        ("name=", {"name": ""}),
        ('name=["a,b"]', {"name": "a,b"}),
        ("layers=[1, 2, 3]", {"layers": [1, 2, 3]}),
        ("layers=(1, 2)", {"layers": [1, 2]}),
        ("layers=64,32", {"layers": [64, 32]}),
        ('options={"lr": 0.1}', {"options": {"lr": 0.1}}),
        ("options={'lr': 0.1, 'on': True}", {"options": {"lr": 0.1, "on": True}}),
        ("model_path=models/a.pkl", {"model_path": "models/a.pkl"}),
        ("model_path=3", {"model_path": 3}),
        ("model_path=[1, 2]", {"model_path": [1, 2]}),
        ("model_path=None", {"model_path": None}),
        ("alpha=[0.5]", {"alpha": 0.5}),
    ],
)
def test_a_command_line_value_is_read_as_its_declared_type(
    declared: NotebookParameters, assignment: str, expected: dict[str, Any]
) -> None:
    single, sweep = spec.parse_assignments([assignment], declared)

    assert single == expected
    assert sweep == {}
    for name, value in expected.items():
        assert type(single[name]) is type(value)


def test_the_none_type_reads_none_and_null() -> None:
    declared = NotebookParameters(
        notebook="nb.ipynb",
        has_parameters_cell=True,
        parameters=[ParameterInfo(name="nothing", type="None")],
        kernel_name="python3",
        kernels=["python3"],
    )

    assert spec.parse_text_values({"nothing": "None"}, declared) == ({"nothing": None}, {})
    assert spec.parse_text_values({"nothing": "NULL"}, declared) == ({"nothing": None}, {})
    error = invalid(spec.parse_text_values, {"nothing": "x"}, declared)
    assert "nothing expects None, got 'x'" in error.message
    assert spec.check_values({"nothing": None}, declared) == {"nothing": None}


@pytest.mark.parametrize(
    ("assignment", "sweep"),
    [
        ("alpha=0.1,0.5,1", {"alpha": [0.1, 0.5, 1.0]}),
        ("alpha=[0.1, 0.5]", {"alpha": [0.1, 0.5]}),
        ("depth=3, 5", {"depth": [3, 5]}),
        ("verbose=true,false", {"verbose": [True, False]}),
        ("name=a, b", {"name": ["a", "b"]}),
        ('name=["a,b", "c"]', {"name": ["a,b", "c"]}),
        ("model_path=1,x", {"model_path": [1, "x"]}),
        ("model_path=1, 2.5", {"model_path": [1, 2.5]}),
    ],
)
def test_commas_in_a_scalar_value_make_a_sweep(
    declared: NotebookParameters, assignment: str, sweep: dict[str, list[Any]]
) -> None:
    assert spec.parse_assignments([assignment], declared) == ({}, sweep)


def test_list_and_dict_values_are_never_swept_from_text(declared: NotebookParameters) -> None:
    single, sweep = spec.parse_assignments(["layers=[1,2]", 'options={"a": 1, "b": 2}'], declared)

    assert single == {"layers": [1, 2], "options": {"a": 1, "b": 2}}
    assert sweep == {}


@pytest.mark.parametrize(
    ("assignments", "fragment", "param"),
    [
        (["alpha=abc"], "alpha expects float, got 'abc' (its default in nb.ipynb is 0.5)", "alpha"),
        (["alpha=0.1,abc"], "alpha expects float, got 'abc'", "alpha"),
        (["depth=1.5"], "depth expects int, got '1.5'", "depth"),
        (["verbose=maybe"], "verbose expects bool, got 'maybe'", "verbose"),
        (["layers=3"], "layers expects list, got 3", "layers"),
        (["layers=abc"], "write it as JSON or a Python literal, e.g. [1, 2]", "layers"),
        (["options=[1]"], "options expects dict, got [1]", "options"),
        (["name=[1, 2]"], "name expects str, got 1", "name"),
        (["alpha=0.1,,1"], "alpha=0.1,,1 has an empty value between commas", "alpha"),
        (["alpha=[]"], "alpha=[] lists no values", "alpha"),
        (["alhpa=0.1"], "unknown parameter 'alhpa'", "alhpa"),
        (["alpha"], "-p alpha: expected NAME=VALUE", "parameters"),
        (["=1"], "-p =1: expected NAME=VALUE", "parameters"),
        (["alpha=1", "alpha=2"], "-p alpha is given twice", "alpha"),
    ],
)
def test_a_wrong_command_line_value_is_refused(
    declared: NotebookParameters, assignments: list[str], fragment: str, param: str
) -> None:
    error = invalid(spec.parse_assignments, assignments, declared)

    assert fragment in error.message
    assert error.param == param


# --- sweeps -------------------------------------------------------------------------


def test_a_sweep_is_checked_and_its_grid_is_in_product_order(
    declared: NotebookParameters,
) -> None:
    sweep = spec.check_sweep({"alpha": [1, 0.5], "depth": [3, 5, 7]}, declared, limit=100)

    assert sweep == {"alpha": [1.0, 0.5], "depth": [3, 5, 7]}
    assert spec.sweep_grid(sweep) == [
        {"alpha": 1.0, "depth": 3},
        {"alpha": 1.0, "depth": 5},
        {"alpha": 1.0, "depth": 7},
        {"alpha": 0.5, "depth": 3},
        {"alpha": 0.5, "depth": 5},
        {"alpha": 0.5, "depth": 7},
    ]
    assert spec.sweep_grid({}) == [{}]


def test_a_sweep_over_the_limit_is_refused_with_its_size(declared: NotebookParameters) -> None:
    sweep: dict[str, list[Any]] = {"alpha": [0.1, 0.2, 0.3], "depth": list(range(50))}

    error = invalid(spec.check_sweep, sweep, declared, 100)

    assert error.message == (
        "a sweep of 3 x 50 = 150 executions is over the limit of 100 (setting sweep-limit); "
        "narrow the grid or raise the limit."
    )
    assert error.param == "sweep"
    assert spec.check_sweep(sweep, declared, 150) == {
        "alpha": [0.1, 0.2, 0.3],
        "depth": list(range(50)),
    }
    single = invalid(spec.check_sweep, {"depth": list(range(101))}, declared, 100)
    assert "a sweep of 101 executions is over the limit of 100" in single.message


@pytest.mark.parametrize(
    ("sweep", "fragment", "param"),
    [
        ({"alpha": []}, "the sweep of alpha needs a non-empty list of values", "alpha"),
        ({"alpha": 0.5}, "the sweep of alpha needs a non-empty list of values", "alpha"),
        ({"alpha": [0.1, "x"]}, "alpha expects float, got 'x'", "alpha"),
        ({"alhpa": [0.1]}, "unknown parameter 'alhpa'", "alhpa"),
    ],
)
def test_a_wrong_sweep_is_refused(
    declared: NotebookParameters, sweep: dict[str, Any], fragment: str, param: str
) -> None:
    error = invalid(spec.check_sweep, sweep, declared, 100)

    assert fragment in error.message
    assert error.param == param


# --- options ------------------------------------------------------------------------


def test_valid_options_give_the_kernel_to_use(declared: NotebookParameters) -> None:
    assert spec.check_options(None, 0, 0.0, None, declared, None) == "python3"
    assert spec.check_options(30.0, 10, 5.0, "python3", declared, 1) == "python3"


@pytest.mark.parametrize(
    ("options", "fragment", "param"),
    [
        ((-1, 0, 10.0, None, None), "timeout must be more than 0 seconds, got -1", "timeout"),
        ((0, 0, 10.0, None, None), "timeout must be more than 0 seconds, got 0", "timeout"),
        ((None, -1, 10.0, None, None), "retries must be between 0 and 10, got -1", "retries"),
        ((None, 11, 10.0, None, None), "retries must be between 0 and 10, got 11", "retries"),
        ((None, 0, -1.0, None, None), "retry_backoff must be 0 seconds or more", "retry_backoff"),
        ((None, 0, 10.0, None, 0), "concurrency must be at least 1, got 0", "concurrency"),
        (
            (None, 0, 10.0, "pyhton3", None),
            "no kernel named 'pyhton3': installed kernels are python3",
            "kernel_name",
        ),
    ],
)
def test_a_wrong_option_is_refused(
    declared: NotebookParameters, options: tuple[Any, ...], fragment: str, param: str
) -> None:
    timeout, retries, backoff, kernel, concurrency = options
    only_python = NotebookParameters(
        **{**declared.__dict__, "kernels": ["python3"]},
    )

    error = invalid(spec.check_options, timeout, retries, backoff, kernel, only_python, concurrency)

    assert fragment in error.message
    assert error.param == param


def test_the_notebooks_own_kernel_is_checked_too(root: Path) -> None:
    write_notebook(root / "r.ipynb", kernel="ir")
    declared = spec.inspect_parameters(root, "r.ipynb", ["python3"])

    error = invalid(spec.check_options, None, 0, 10.0, None, declared, None)

    assert "no kernel named 'ir': installed kernels are python3" in error.message
    assert "r.ipynb asks for 'ir' in its metadata" in error.message
    assert spec.check_options(None, 0, 10.0, "python3", declared, None) == "python3"


def test_checked_values_survive_a_json_round_trip(declared: NotebookParameters) -> None:
    """What the checks return goes to the store and REST as JSON: nothing may be lost."""
    single, sweep = spec.parse_assignments(
        ["layers=(1, (2, 3))", "options={'a': (1,)}", "alpha=0.1,1"], declared
    )

    assert json.loads(json.dumps(single)) == single
    assert json.loads(json.dumps(sweep)) == sweep
    assert single["layers"] == [1, [2, 3]] and single["options"] == {"a": [1]}
