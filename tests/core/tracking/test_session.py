"""The tracking core and lineage without a kernel: a real MLflow store on a temp root."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from mlops_lab.core.config import resolve_settings
from mlops_lab.core.errors import ErrorCode, InvalidInput, MlopsError, Unavailable
from mlops_lab.core.mlflow import tags as run_tags
from mlops_lab.core.tracking import lineage
from mlops_lab.core.tracking.session import (
    DEFAULT_EXPERIMENT,
    TrackingSession,
    default_experiment,
    notebook_path,
)
from tests.stalling_server import stalling_server


def write_notebook(path: Path, parameters: str, *more: str) -> Path:
    cells = [
        {
            "cell_type": "code",
            "metadata": {"tags": ["parameters"]},
            "source": parameters,
            "outputs": [],
            "execution_count": None,
        },
        *(
            {
                "cell_type": "code",
                "metadata": {},
                "source": s,
                "outputs": [],
                "execution_count": None,
            }
            for s in more
        ),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def session_for(
    root: Path, ns: dict[str, Any], cells: list[tuple[int, str]] | None = None, **env: str
) -> TrackingSession:
    return TrackingSession(
        settings_factory=lambda: resolve_settings(root, environ=env),
        executed_cells=lambda: list(cells or []),
        user_ns=ns,
        environ={},
    )


# --- notebook path and experiment --------------------------------------------------------


def test_notebook_path_from_the_kernel_session(tmp_path: Path) -> None:
    absolute = tmp_path / "a" / "nb.ipynb"
    assert notebook_path(tmp_path, {"JPY_SESSION_NAME": str(absolute)}) == absolute
    # without a session name, jupyter_server passes the API path: relative to the root
    assert notebook_path(tmp_path, {"JPY_SESSION_NAME": "a/nb.ipynb"}) == absolute
    assert notebook_path(tmp_path, {}, {"__session__": "a/nb.ipynb"}) == absolute
    assert notebook_path(tmp_path, {"JPY_SESSION_NAME": "x.ipynb"}, {}, "a/nb.ipynb") == absolute
    assert notebook_path(tmp_path, {"JPY_SESSION_NAME": "console-1-0f3c"}) is None
    assert notebook_path(tmp_path, {}) is None
    with pytest.raises(InvalidInput, match=r"expected a \.ipynb"):
        notebook_path(tmp_path, {}, None, "script.py")


def test_default_experiment_is_the_path_under_the_root(tmp_path: Path) -> None:
    assert default_experiment(tmp_path, tmp_path / "n" / "q.ipynb") == "n/q.ipynb"
    assert default_experiment(tmp_path, None) == DEFAULT_EXPERIMENT
    assert default_experiment(tmp_path / "sub", Path("/elsewhere/q.ipynb")) == "/elsewhere/q.ipynb"


def test_assigned_names_of_a_parameters_cell() -> None:
    source = (
        "%matplotlib inline\na = 1\nb: int = 2\nc, (d, e) = 3, (4, 5)\nf += 1\n"
        "import os\nprint(a)\n"
    )
    assert lineage.assigned_names(source) == ["a", "b", "c", "d", "e", "f"]
    with pytest.raises(InvalidInput, match="line 1"):
        lineage.assigned_names("a = = 1")


def test_names_of_papermills_injected_cell_and_of_the_defaults_run_before_it() -> None:
    injected = "# Parameters\nalpha = beta = 0.9\n(c, [d, e]) = 1, (2, 3)\nf: int = 4\n"
    expected = ["alpha", "beta", "c", "d", "e", "f"]
    assert lineage.injected_parameter_names([(1, injected)]) == expected
    defaults = "alpha = 0.5  # the default\nn = 10\n"
    setup = "%load_ext mlops_lab\n%mlops track"
    cells = [(1, setup), (2, defaults), (3, '# Parameters\nalpha = 0.9\nname = "y"\n')]
    assert lineage.injected_parameter_names(cells) == ["alpha", "n", "name"]
    # Not papermill's: another first line, or the marker further down.
    for source in (
        "# Parameters of the model\nx = 1",
        "# parameters\nx = 1",
        "y = 2\n# Parameters",
    ):
        assert lineage.injected_parameter_names([(1, defaults), (2, source)]) == []
    # The cell before counts as the defaults only when it only assigns, an injected name too.
    for before in ("import os\nalpha = 0.5", "frame = load()", "alpha = = 1"):
        cells = [(1, before), (2, "# Parameters\nalpha = 0.9\n")]
        assert lineage.injected_parameter_names(cells) == ["alpha"]
    assert lineage.injected_parameter_names([(1, "# Parameters\nalpha = = 1")]) == []


def test_redactor_masks_known_values_and_secret_assignments() -> None:
    redactor = lineage.Redactor()
    redactor.add("sk-abc-123")
    redactor.add(1)  # too short to mask safely: left alone
    text = 'api_key = "sk-abc-123"\ntoken: str = other()\nx = 1\nprint("sk-abc-123")\nok == 2'
    assert (
        redactor.text(text) == "api_key = '***'\ntoken: str = '***'\nx = 1\nprint(\"***\")\nok == 2"
    )


def test_redactor_learns_secret_named_strings_of_a_namespace_and_uri_passwords() -> None:
    redactor = lineage.Redactor()
    namespace = {"api_key": "sk-cell-SECRET-1", "keys": 3, "_token": "private-x", "x": "plain"}
    redactor.learn(namespace)
    assert redactor.value("Bearer sk-cell-SECRET-1, plain") == "Bearer ***, plain"
    assert redactor.value("private-x") == "private-x"  # underscore names are IPython's
    namespace["api_key"] = "sk-rotated-SECRET-2"  # a later value is learnt too
    redactor.learn(namespace)
    assert redactor.value("sk-rotated-SECRET-2") == "***"
    redactor.add("postgresql+psycopg://ana:pg-SECRET-3@h:5432/db")
    assert redactor.value("pg-SECRET-3 leaked") == "*** leaked"
    assert redactor.text('conn = "mysql://u:s3cret-4@db/x"') == 'conn = "mysql://u:***@db/x"'


def test_secret_literals_are_read_back_from_a_notebook_on_disk(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "nb.ipynb",
        'alpha = 0.5\napi_key: str = "sk-param-SECRET"',
        '# Parameters\ndb_password = "pw-injected-SECRET"\n',
        "token = os.environ['T']\n%time x = 1\nprint(api_key)",
        "def f(:",  # unparseable: ignored
    )
    notebook = lineage.read_notebook(nb)
    assert lineage.secret_literals("token = read()\nkey = 'k-1234'") == ["k-1234"]
    redactor = lineage.Redactor()
    redactor.learn_notebook(notebook)
    assert redactor.value("sk-param-SECRET pw-injected-SECRET") == "*** ***"


def test_git_state_of_a_repository(tmp_path: Path) -> None:
    assert lineage.git_state(tmp_path) is None
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@e"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    (tmp_path / "f.txt").write_text("1")
    subprocess.run([*git, "add", "f.txt"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    state = lineage.git_state(tmp_path)
    assert state is not None and len(state.commit) == 40
    assert (state.branch, state.dirty) == ("main", False)
    (tmp_path / "f.txt").write_text("2")
    state = lineage.git_state(tmp_path)
    assert state is not None and state.dirty


def test_requirements_pin_the_running_interpreter() -> None:
    import sklearn

    text = lineage.requirements_txt()
    assert f"scikit-learn=={sklearn.__version__}\n" in text
    assert lineage.pinned(["scikit_learn", "no-such-package"]) == [
        f"scikit-learn=={sklearn.__version__}"
    ]


# --- the session ---------------------------------------------------------------------------


def test_a_notebook_run_holds_its_params_and_each_fit_is_a_child_run(tmp_path: Path) -> None:
    import mlflow.sklearn
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    nb = write_notebook(
        tmp_path / "nbs" / "train.ipynb", "C = 1.0\nclient_secret = 'xyz-SECRET-9'\n"
    )
    ns: dict[str, Any] = {"C": 0.3, "client_secret": "xyz-SECRET-9"}
    session = session_for(
        tmp_path,
        ns,
        [
            (1, "C = 0.3\nclient_secret = 'xyz-SECRET-9'"),
            (2, "%mlops track"),
            (3, "connect(secret='xyz-SECRET-9')"),  # only the known-value net catches this
        ],
    )
    handle = session.start(notebook=str(nb), first_cell=2)
    assert handle.experiment == "nbs/train.ipynb"
    assert handle.params == {"C": "0.3", "client_secret": "***"}

    X_train = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    y_train = [0, 0, 1, 1]
    logistic = LogisticRegression(C=0.3).fit(X_train, y_train)
    tree = DecisionTreeClassifier(max_depth=2).fit(X_train, y_train)
    tree.score(X_train, y_train)
    session.log_metrics({"custom": 2.0}, step=5)
    ended = session.end()
    assert ended.status == "FINISHED" and ended.unfinished == 0
    assert session.take_failures() == []

    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    runs = {r.info.run_name: r for r in client.search_runs([handle.experiment_id])}
    parent = client.get_run(handle.run_id)
    assert set(runs) == {parent.info.run_name, "LogisticRegression-1", "DecisionTreeClassifier-1"}
    assert parent.data.params == {"C": "0.3", "client_secret": "***"}
    assert parent.data.metrics == {"custom": 2.0}  # nothing of the fits on the notebook's run
    assert parent.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/train.ipynb"
    assert parent.data.tags["mlops.python.version"] == sys.version.split()[0]
    for name, estimator in (("LogisticRegression-1", logistic), ("DecisionTreeClassifier-1", tree)):
        child = runs[name]
        assert child.data.tags["mlflow.parentRunId"] == handle.run_id
        assert child.data.tags[run_tags.SOURCE_NAME] == str(nb)  # the notebook, not ipykernel
        expected = {k: str(v) for k, v in estimator.get_params().items()}
        assert child.data.params == expected
        assert child.inputs.dataset_inputs[0].dataset.name == "X_train"
        assert child.data.metrics["training_accuracy_score"] == 1.0
        (logged,) = client.search_logged_models(
            experiment_ids=[handle.experiment_id],
            filter_string=f"source_run_id = '{child.info.run_id}'",
        )
        model = mlflow.sklearn.load_model(logged.artifact_location)
        assert list(model.predict(X_train)) == list(estimator.predict(X_train))
    assert (
        runs["DecisionTreeClassifier-1"].data.metrics["DecisionTreeClassifier_score_X_train"] == 1.0
    )
    assert "DecisionTreeClassifier_score_X_train" not in runs["LogisticRegression-1"].data.metrics

    local = Path(client.download_artifacts(handle.run_id, "", str(tmp_path / "dl")))
    code = (local / "notebook" / "executed_code.py").read_text()
    assert "# In[1]:  (before %mlops track)\nC = 0.3\nclient_secret = '***'" in code
    model_reqs = next((tmp_path / ".mlops").rglob("models/*/artifacts/requirements.txt"))
    assert "scikit-learn==" in model_reqs.read_text()
    for blob in (p.read_bytes() for p in (tmp_path / ".mlops").rglob("*") if p.is_file()):
        assert b"xyz-SECRET-9" not in blob


def with_key(X: Any, key: str) -> Any:
    return X


def test_known_secrets_are_masked_in_params_tags_and_fit_params(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    ns: dict[str, Any] = {"service_token": "tok-SECRET-abcdef"}
    session = session_for(tmp_path, ns)
    handle = session.start(experiment="masks")
    dsn = "postgresql://ana:pg-SECRET-xyz@db/sales"
    assert session.log_params({"dsn": dsn, "n": 3}) == {
        "dsn": "postgresql://ana:***@db/sales",
        "n": "3",
    }
    session.set_tags({"note": "tok-SECRET-abcdef", "header": "Bearer tok-SECRET-abcdef"})
    keyed = FunctionTransformer(with_key, kw_args={"key": "tok-SECRET-abcdef"})
    make_pipeline(keyed, LogisticRegression()).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    session.end()
    assert session.take_failures() == []

    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    run = client.get_run(handle.run_id)
    assert run.data.tags["note"] == "***" and run.data.tags["header"] == "Bearer ***"
    assert run.data.params["dsn"] == "postgresql://ana:***@db/sales"
    (child,) = client.search_runs(
        [handle.experiment_id], f"tags.mlflow.parentRunId = '{handle.run_id}'"
    )
    assert child.info.run_name == "Pipeline-1"
    assert child.data.params["functiontransformer__kw_args"] == "{'key': '***'}"


def test_a_new_track_ends_and_logs_the_previous_run(tmp_path: Path) -> None:
    session = session_for(tmp_path, {})
    first = session.start(experiment="e", autolog=False)
    second = session.start(experiment="e", autolog=False)
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    assert client.get_run(first.run_id).info.status == "FINISHED"
    assert second.replaced is not None and second.replaced.run_id == first.run_id
    assert {a.path for a in client.list_artifacts(first.run_id, "environment")} == {
        "environment/python.txt",
        "environment/requirements.txt",
    }
    assert client.get_run(second.run_id).info.status == "RUNNING"
    session.end(failed=True)
    assert client.get_run(second.run_id).info.status == "FAILED"


def test_papermills_parameters_are_logged_without_the_notebooks_path(tmp_path: Path) -> None:
    """Plain papermill: no notebook path, only the executed cells tell the parameters."""
    import mlflow

    defaults = 'alpha = 0.5\nn = 10\napi_token = "none"'
    injected = '# Parameters\nalpha = 0.9\napi_token = "s3cret-token"\n'
    ran = {"alpha": 0.9, "n": 10, "api_token": "s3cret-token"}
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)

    # `%mlops track` after both cells: logged when the run starts.
    cells = [(1, defaults), (2, injected), (3, "%mlops track")]
    session = session_for(tmp_path, dict(ran), cells)
    handle = session.start(experiment="after", autolog=False)
    assert handle.params == {"alpha": "0.9", "n": "10", "api_token": "***"}
    session.end()

    # `%mlops track` first: logged when the run ends, beside a name the user logged himself.
    cells = [(1, "%mlops track")]
    ns: dict[str, Any] = {}
    session = session_for(tmp_path, ns, cells)
    handle = session.start(experiment="before", autolog=False)
    assert handle.params == {}
    handle.run_id  # noqa: B018 - wait until it is open
    session.adopt_in_this_thread()  # what the magic does before each cell
    cells += [(2, defaults), (3, injected), (4, "mlflow.log_param('n', 99)")]
    ns.update(ran)
    mlflow.log_param("n", 99)  # MLflow refuses a second value: the run keeps this one
    assert session.end().status == "FINISHED"
    assert mlflow.active_run() is None
    run = client.get_run(handle.run_id)
    assert run.data.params == {"alpha": "0.9", "n": "99", "api_token": "***"}
    assert client.list_artifacts(handle.run_id, "notebook")  # end got past the params


def test_a_background_failure_is_reported_once_and_logging_goes_on(tmp_path: Path) -> None:
    session = session_for(tmp_path, {})
    handle = session.start(experiment="fails", autolog=False)
    session.log_params({"a": 1})
    session.log_params({"a": 2})  # MLflow refuses to change a param: fails in the worker
    session.log_metrics({"after": 1.0})
    assert session.flush(60) == 0
    (failure,) = session.take_failures()
    assert failure.what == "params a"
    assert "Changing param values is not allowed" in failure.error
    assert session.take_failures() == []
    session.end()
    run = MlflowClient(resolve_settings(tmp_path).tracking_uri).get_run(handle.run_id)
    assert run.data.params == {"a": "1"} and run.data.metrics == {"after": 1.0}


def test_without_a_run_verbs_say_how_to_start_one(tmp_path: Path) -> None:
    session = session_for(tmp_path, {})
    for call in (session.end, lambda: session.log_params({"a": 1}), lambda: session.set_tags({})):
        with pytest.raises(MlopsError, match="start one with %mlops track") as info:
            call()
        assert info.value.code is ErrorCode.CONFLICT


def test_unreachable_tracking_server_fails_within_ten_seconds(tmp_path: Path) -> None:
    with stalling_server() as uri:
        session = session_for(tmp_path, {}, MLFLOW_TRACKING_URI=uri)
        started = time.monotonic()
        handle = session.start(experiment="e")
        with pytest.raises(Unavailable, match=f"MLflow tracking server {uri} does not answer"):
            handle.run_id  # noqa: B018
        assert time.monotonic() - started < 10
    assert session.active is None
    (failure,) = session.take_failures()
    assert failure.what == "opening the notebook's run" and "does not answer" in failure.error


def test_interpreter_exit_logs_and_ends_the_run(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from mlops_lab.core.config import resolve_settings\n"
        "from mlops_lab.core.tracking.session import TrackingSession\n"
        f"s = TrackingSession(lambda: resolve_settings({str(tmp_path)!r}), environ={{}})\n"
        "print(s.start(experiment='exit', autolog=False).run_id)\n"
        "sys.exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip().splitlines()[-1]
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    assert client.get_run(run_id).info.status == "FINISHED"
    assert client.list_artifacts(run_id, "notebook")[0].path == "notebook/executed_code.py"


def test_runs_of_one_notebook_get_names_that_tell_them_apart(tmp_path: Path) -> None:
    from datetime import datetime

    from mlops_lab.core.tracking.session import run_name

    at = datetime(2026, 11, 23, 10, 2, 33)
    assert run_name(Path("/p/in.ipynb"), at) == "in-1123-100233"
    assert run_name(None, at) is None
    nb = write_notebook(tmp_path / "in.ipynb", "alpha = 1")
    session = session_for(tmp_path, {})
    first = session.start(notebook=str(nb), autolog=False)
    time.sleep(1.05)  # names carry seconds
    second = session.start(notebook=str(nb), autolog=False)
    session.end()
    client = MlflowClient(resolve_settings(tmp_path, environ={}).tracking_uri)
    names = [client.get_run(h.run_id).info.run_name for h in (first, second)]
    assert names[0] != names[1]
    assert all(re.fullmatch(r"in-\d{4}-\d{6}", name) for name in names), names


def test_log_models_none_keeps_the_fit_runs_without_their_models(tmp_path: Path) -> None:
    from sklearn.tree import DecisionTreeClassifier

    session = session_for(tmp_path, {}, MLOPS_LAB_LOG_MODELS="none")
    handle = session.start(experiment="no-models")
    DecisionTreeClassifier(max_depth=2).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    session.end()
    assert session.take_failures() == []
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    (fit,) = client.search_runs(
        [handle.experiment_id], f"tags.mlflow.parentRunId = '{handle.run_id}'"
    )
    assert fit.data.params["max_depth"] == "2" and "training_accuracy_score" in fit.data.metrics
    assert client.search_logged_models([handle.experiment_id]) == []
