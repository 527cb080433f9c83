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


def test_session_tracks_a_fit_into_its_own_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    import mlflow.models
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    # Inferring a model's requirements costs ~2.5 s a fit; tracking must never trigger it
    # (a guard for MLflow upgrades that would route autolog around our pinned list).
    inferred: list[object] = []
    real_infer = mlflow.models.infer_pip_requirements

    def counting_infer(*args: Any, **kwargs: Any) -> Any:
        inferred.append(args)
        return real_infer(*args, **kwargs)

    monkeypatch.setattr(mlflow.models, "infer_pip_requirements", counting_infer)

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
    assert mlflow.active_run().info.run_id == handle.run_id

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    LogisticRegression().fit(X, [0, 0, 1, 1])
    session.log_metrics({"custom": 2.0}, step=5)
    ended = session.end()
    assert ended.status == "FINISHED" and mlflow.active_run() is None
    assert inferred == []  # the tracked fit's model: pinned by the session, not inferred
    mlflow.sklearn.save_model(LogisticRegression().fit(X, [0, 0, 1, 1]), tmp_path / "plain")
    assert len(inferred) == 1, "the counter must see inference once tracking has ended"

    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    runs = client.search_runs([handle.experiment_id])
    assert [r.info.run_id for r in runs] == [handle.run_id]  # autolog made no run of its own
    run = runs[0]
    assert run.data.params["C"] == "0.3" and run.data.params["client_secret"] == "***"
    assert run.inputs.dataset_inputs[0].dataset.digest
    assert run.data.tags[run_tags.NOTEBOOK_ARTIFACT] == "notebook/train.ipynb"
    assert run.data.tags["mlops.python.version"] == sys.version.split()[0]
    local = Path(client.download_artifacts(handle.run_id, "", str(tmp_path / "dl")))
    code = (local / "notebook" / "executed_code.py").read_text()
    assert "# In[1]:  (before %mlops track)\nC = 0.3\nclient_secret = '***'" in code
    model_reqs = next((tmp_path / ".mlops").rglob("models/*/artifacts/requirements.txt"))
    assert "scikit-learn==" in model_reqs.read_text()
    for blob in (p.read_bytes() for p in (tmp_path / ".mlops").rglob("*") if p.is_file()):
        assert b"xyz-SECRET-9" not in blob


def test_known_secrets_are_masked_inside_params_tags_and_autolog_params(tmp_path: Path) -> None:
    from mlflow.utils.autologging_utils.client import MlflowAutologgingQueueingClient

    ns: dict[str, Any] = {"service_token": "tok-SECRET-abcdef"}
    session = session_for(tmp_path, ns)
    handle = session.start(experiment="masks", autolog=True)
    dsn = "postgresql://ana:pg-SECRET-xyz@db/sales"
    assert session.log_params({"dsn": dsn, "n": 3}) == {
        "dsn": "postgresql://ana:***@db/sales",
        "n": "3",
    }
    session.set_tags({"note": "tok-SECRET-abcdef", "header": "Bearer tok-SECRET-abcdef"})
    autolog = MlflowAutologgingQueueingClient()  # what autolog logs estimator params with
    autolog.log_params(handle.run_id, {"kw_args": "{'key': 'tok-SECRET-abcdef'}"})
    autolog.flush(synchronous=True)
    session.end()

    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    run = client.get_run(handle.run_id)
    assert run.data.tags["note"] == "***" and run.data.tags["header"] == "Bearer ***"
    assert run.data.params["kw_args"] == "{'key': '***'}"
    assert run.data.params["dsn"] == "postgresql://ana:***@db/sales"


def test_a_new_track_ends_and_logs_the_previous_run(tmp_path: Path) -> None:
    session = session_for(tmp_path, {})
    first = session.start(experiment="e", autolog=False)
    second = session.start(experiment="e", autolog=False)
    client = MlflowClient(resolve_settings(tmp_path).tracking_uri)
    assert client.get_run(first.run_id).info.status == "FINISHED"
    assert {a.path for a in client.list_artifacts(first.run_id, "environment")} == {
        "environment/python.txt",
        "environment/requirements.txt",
    }
    assert client.get_run(second.run_id).info.status == "RUNNING"
    session.end(failed=True)
    assert client.get_run(second.run_id).info.status == "FAILED"


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
        with pytest.raises(Unavailable, match=f"MLflow tracking server {uri} does not answer"):
            session.start(experiment="e")
        assert time.monotonic() - started < 10
    assert session.active is None


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
