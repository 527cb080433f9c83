"""Where mlops-lab keeps its data: one ``Settings`` object, resolved once per face.

Each value is taken from the first source that sets it, in this order:

1. explicit arguments (a CLI flag, a server trait, a test fixture);
2. the environment (``MLFLOW_TRACKING_URI``, ``MLFLOW_REGISTRY_URI``,
   ``MLOPS_LAB_STORE_URL``, ``MLOPS_LAB_HOME``, ...);
3. ``[tool.mlops-lab]`` in the nearest ``pyproject.toml`` at or above the root;
4. the embedded default: ``.mlops/`` under the root, holding ``mlflow.db`` (MLflow
   tracking and registry on SQLite), ``artifacts/`` and ``lab.db`` (our own store).

Every value remembers where it came from, so ``mlops-lab info`` and ``/health`` can say
why a store is where it is. The root is the Jupyter root for the server (exported to
kernels as ``MLOPS_LAB_ROOT``) and the current directory for the CLI.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from mlops_lab.core.errors import ConfigError
from mlops_lab.core.masking import mask_uri

ROOT_ENV = "MLOPS_LAB_ROOT"
"""Set by the server extension so kernels it starts resolve the same default stores."""

EXECUTION_ENV = "MLOPS_LAB_EXECUTION_ID"
"""Set in a job execution's kernel, beside ``MLFLOW_RUN_ID``: ``%mlops track`` there logs
into the execution's run instead of opening one of its own."""

PYPROJECT_TABLE = "mlops-lab"

MEGABYTE = 1_000_000


class Source(StrEnum):
    ARGUMENT = "argument"
    ENVIRONMENT = "environment"
    PYPROJECT = "pyproject"
    DEFAULT = "default"


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its attribute name, pyproject key and environment variable."""

    name: str
    key: str
    env: str
    help: str
    is_path: bool = False
    default: str | None = None
    """The value when no source sets it (defaults derived from other settings are not here)."""
    is_megabytes: bool = False
    """A positive number of megabytes; a TOML number is accepted as well as a string."""
    choices: tuple[str, ...] = ()
    """When set, the only values accepted (a word such as ``all`` or ``none``)."""
    count_range: tuple[int, int] | None = None
    """When set, a whole number within these bounds (a TOML integer is accepted too)."""
    is_executor: bool = False
    """``local`` or ``dask://host:port`` (see :func:`dask_address`)."""


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("home", "home", "MLOPS_LAB_HOME", "folder of the embedded stores", True),
    SettingSpec("tracking_uri", "tracking-uri", "MLFLOW_TRACKING_URI", "MLflow tracking store"),
    SettingSpec("registry_uri", "registry-uri", "MLFLOW_REGISTRY_URI", "MLflow model registry"),
    SettingSpec(
        "artifact_root",
        "artifact-root",
        "MLOPS_LAB_ARTIFACT_ROOT",
        "where new experiments keep artifacts",
        True,
    ),
    SettingSpec("store_url", "store-url", "MLOPS_LAB_STORE_URL", "mlops-lab's own store"),
    SettingSpec("mlflow_ui_url", "mlflow-ui-url", "MLOPS_LAB_MLFLOW_UI_URL", "MLflow UI link"),
    SettingSpec(
        "max_served_artifact_mb",
        "max-served-artifact-mb",
        "MLOPS_LAB_MAX_SERVED_ARTIFACT_MB",
        "largest artifact the server reads for the browser (notebook snapshots)",
        default="50",
        is_megabytes=True,
    ),
    SettingSpec(
        "log_models",
        "log-models",
        "MLOPS_LAB_LOG_MODELS",
        "whether tracked model fits log their model (all or none)",
        default="all",
        choices=("all", "none"),
    ),
    SettingSpec(
        "job_concurrency",
        "job-concurrency",
        "MLOPS_LAB_JOB_CONCURRENCY",
        "job executions run at once on this machine (default: the number of cores)",
        default=str(os.cpu_count() or 1),
        count_range=(1, 256),
    ),
    SettingSpec(
        "kernel_pool",
        "kernel-pool",
        "MLOPS_LAB_KERNEL_POOL",
        "kernels kept started for the next job executions (0: start each one cold)",
        default="2",
        count_range=(0, 64),
    ),
    SettingSpec(
        "sweep_limit",
        "sweep-limit",
        "MLOPS_LAB_SWEEP_LIMIT",
        "most executions one sweep may make",
        default="100",
        count_range=(1, 100_000),
    ),
    SettingSpec(
        "scheduler",
        "scheduler",
        "MLOPS_LAB_SCHEDULER",
        "whether the Jupyter server runs a scheduler for cron schedules (on or off)",
        default="on",
        choices=("on", "off"),
    ),
    SettingSpec(
        "catch_up_limit",
        "catch-up-limit",
        "MLOPS_LAB_CATCH_UP_LIMIT",
        "most missed slots a schedule with catch-up 'all' fires after a downtime",
        default="10",
        count_range=(1, 10_000),
    ),
    SettingSpec(
        "heartbeat_timeout",
        "heartbeat-timeout",
        "MLOPS_LAB_HEARTBEAT_TIMEOUT",
        "seconds without a heartbeat after which a runner's executions are failed",
        default="30",
        count_range=(5, 86_400),
    ),
    SettingSpec(
        "executor",
        "executor",
        "MLOPS_LAB_EXECUTOR",
        "where job executions run: local (worker processes on this machine) or "
        "dask://host:port (a Dask scheduler)",
        default="local",
        is_executor=True,
    ),
)
_BY_KEY = {s.key: s for s in SPECS}


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from (``origin`` names the variable or file)."""

    name: str
    value: str | None = field(repr=False)  # may hold a password: keep it out of logs
    source: Source
    origin: str

    @property
    def masked_value(self) -> str | None:
        return mask_uri(self.value)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; build it with :func:`resolve_settings`."""

    root: Path
    values: Mapping[str, Setting]

    def _get(self, name: str) -> str:
        value = self.values[name].value
        assert value is not None, name
        return value

    @property
    def home(self) -> Path:
        return Path(self._get("home"))

    @property
    def tracking_uri(self) -> str:
        return self._get("tracking_uri")

    @property
    def registry_uri(self) -> str:
        return self._get("registry_uri")

    @property
    def artifact_root(self) -> Path:
        return Path(self._get("artifact_root"))

    @property
    def store_url(self) -> str:
        return self._get("store_url")

    @property
    def mlflow_ui_url(self) -> str | None:
        return self.values["mlflow_ui_url"].value

    @property
    def max_served_artifact_bytes(self) -> int:
        """The largest artifact the server loads into memory to send to the browser.

        A snapshot is read whole and sent as JSON, so the server holds several copies of
        it per request; above this the REST API refuses and says how to download it.
        """
        return int(float(self._get("max_served_artifact_mb")) * MEGABYTE)

    @property
    def log_models(self) -> bool:
        """Whether a tracked model fit logs its model artifact (``log-models = "all"``).

        Metrics, params and datasets are logged either way; ``none`` skips only the model,
        for projects whose models are large and never served from these runs.
        """
        return self._get("log_models") == "all"

    @property
    def job_concurrency(self) -> int:
        """Executions a runner keeps going at once: its warm worker processes."""
        return int(self._get("job_concurrency"))

    @property
    def kernel_pool(self) -> int:
        """Kernels started ahead of the next executions (each worker keeps at most one)."""
        return int(self._get("kernel_pool"))

    @property
    def sweep_limit(self) -> int:
        return int(self._get("sweep_limit"))

    @property
    def scheduler_in_server(self) -> bool:
        return self._get("scheduler") == "on"

    @property
    def catch_up_limit(self) -> int:
        return int(self._get("catch_up_limit"))

    @property
    def heartbeat_timeout(self) -> float:
        """Seconds a runner may stay silent before its running executions are failed."""
        return float(self._get("heartbeat_timeout"))

    @property
    def executor(self) -> str:
        """``local`` or ``dask://host:port``, as written (validated when resolved)."""
        return self._get("executor")

    @property
    def dask_scheduler(self) -> str | None:
        """The Dask scheduler's address (``tcp://host:port``), or None for the local pool."""
        return dask_address(self.executor)

    def store_environment(self) -> dict[str, str]:
        """The variables a process started from here needs to find the same stores, whatever
        source set them here (a job runner, the kernels of its executions)."""
        return {
            ROOT_ENV: str(self.root),
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_REGISTRY_URI": self.registry_uri,
            "MLOPS_LAB_STORE_URL": self.store_url,
            "MLOPS_LAB_HOME": str(self.home),
        }

    def describe(self) -> list[Setting]:
        """Every setting in a stable order, for ``info`` and ``/health``."""
        return [self.values[s.name] for s in SPECS]


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``: the project it belongs to."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def read_pyproject_table(path: Path) -> dict[str, str]:
    """Read and validate ``[tool.mlops-lab]``; raise :class:`ConfigError` naming file and key."""
    try:
        with path.open("rb") as f:
            document = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Cannot read {path}: {exc}. Fix the TOML syntax or remove the file."
        ) from exc
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    table = document.get("tool", {}).get(PYPROJECT_TABLE)
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.{PYPROJECT_TABLE}] in {path} must be a table.")
    result: dict[str, str] = {}
    for key, value in table.items():
        if key not in _BY_KEY:
            hint = difflib.get_close_matches(key, list(_BY_KEY), n=1)
            did_you_mean = f" Did you mean '{hint[0]}'?" if hint else ""
            raise ConfigError(
                f"Unknown key '{key}' in [tool.{PYPROJECT_TABLE}] of {path}.{did_you_mean} "
                f"Known keys: {', '.join(_BY_KEY)}."
            )
        spec = _BY_KEY[key]
        numeric = spec.is_megabytes or spec.count_range is not None
        if numeric and isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise ConfigError(
                f"Key '{key}' in [tool.{PYPROJECT_TABLE}] of {path} must be a {_kind(spec)}, "
                f"got {value!r}."
            )
        result[key] = value
    return result


def _kind(spec: SettingSpec) -> str:
    """What a pyproject value of this setting must be, for the error that refuses one."""
    if spec.is_megabytes:
        return "positive number of megabytes"
    if spec.choices:
        return f"string, one of {_quoted(spec.choices)}"
    if spec.count_range:
        return f"whole number from {spec.count_range[0]} to {spec.count_range[1]}"
    if spec.is_executor:
        return "string, 'local' or 'dask://host:port'"
    return "non-empty string"


def _sqlite_uri(path: Path) -> str:
    return f"sqlite:///{path}"


def resolve_settings(
    root: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: str | None,
) -> Settings:
    """Resolve every setting; ``overrides`` are explicit arguments by attribute name.

    Raises:
        ConfigError: an unreadable pyproject, an unknown key, or an unknown override.
    """
    env = os.environ if environ is None else environ
    unknown = set(overrides) - {s.name for s in SPECS}
    if unknown:
        raise ConfigError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    root_path = Path(root or env.get(ROOT_ENV) or os.getcwd()).resolve()
    pyproject = find_pyproject(root_path)
    table = read_pyproject_table(pyproject) if pyproject else {}

    values: dict[str, Setting] = {}
    for spec in SPECS:
        values[spec.name] = _pick(spec, overrides, env, table, pyproject, root_path)
        if spec.is_megabytes:
            _check_megabytes(spec, values[spec.name])
        if spec.choices:
            _check_choice(spec, values[spec.name])
        if spec.count_range:
            _check_count(spec, values[spec.name])
        if spec.is_executor:
            _check_executor(spec, values[spec.name])

    # Defaults that depend on other settings: derived after the explicit sources.
    home = Path(values["home"].value or root_path / ".mlops")
    derived = {
        "home": str(home),
        "tracking_uri": _sqlite_uri(home / "mlflow.db"),
        "artifact_root": str(home / "artifacts"),
        "store_url": _sqlite_uri(home / "lab.db"),
    }
    derived["registry_uri"] = values["tracking_uri"].value or derived["tracking_uri"]
    for name, value in derived.items():
        if values[name].value is None:
            origin = "tracking_uri" if name == "registry_uri" else str(root_path)
            values[name] = Setting(name, value, Source.DEFAULT, origin)
    return Settings(root=root_path, values=values)


def _pick(
    spec: SettingSpec,
    overrides: Mapping[str, str | None],
    env: Mapping[str, str],
    table: Mapping[str, str],
    pyproject: Path | None,
    root: Path,
) -> Setting:
    if overrides.get(spec.name):
        value = str(overrides[spec.name])
        return Setting(spec.name, _as_path(spec, value, root), Source.ARGUMENT, spec.name)
    if env.get(spec.env):
        return Setting(spec.name, _as_path(spec, env[spec.env], root), Source.ENVIRONMENT, spec.env)
    if spec.key in table and pyproject is not None:
        value = _as_path(spec, table[spec.key], pyproject.parent)
        return Setting(spec.name, value, Source.PYPROJECT, str(pyproject))
    return Setting(spec.name, spec.default, Source.DEFAULT, "")


def _check_megabytes(spec: SettingSpec, setting: Setting) -> None:
    """A size limit must be a positive, finite number; say where the bad value came from."""
    try:
        number = float(setting.value or "")
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number > 0:
        return
    raise ConfigError(
        f"{_where(spec, setting)} must be a positive number of megabytes, got "
        f"{setting.value!r}. Set it to e.g. 200, or remove it to use the default {spec.default}."
    )


def _check_choice(spec: SettingSpec, setting: Setting) -> None:
    """A word from a fixed list (``all``/``none``); say where the bad value came from."""
    if setting.value in spec.choices:
        return
    raise ConfigError(
        f"{_where(spec, setting)} must be one of {_quoted(spec.choices)}, got "
        f"{setting.value!r}. Set it to one of those, or remove it to use the default "
        f"{spec.default}."
    )


def _check_count(spec: SettingSpec, setting: Setting) -> None:
    """A count must be a whole number in its range; say where the bad value came from."""
    assert spec.count_range is not None
    low, high = spec.count_range
    text = (setting.value or "").strip()
    if text.lstrip("-").isdigit() and low <= int(text) <= high:
        return
    raise ConfigError(
        f"{_where(spec, setting)} must be a whole number from {low} to {high}, got "
        f"{setting.value!r}. Set it in that range, or remove it to use the default "
        f"{spec.default}."
    )


LOCAL_EXECUTOR = "local"
DASK_SCHEME = "dask"


def dask_address(executor: str) -> str | None:
    """``dask://host:port`` as the address a Dask client connects to (``tcp://host:port``);
    None for ``local``. Raises ``ValueError`` for anything else."""
    text = executor.strip()
    if text == LOCAL_EXECUTOR:
        return None
    parts = urlsplit(text)
    if parts.scheme != DASK_SCHEME or parts.path not in ("", "/") or parts.query:
        raise ValueError(text)
    try:
        port = parts.port  # ValueError when not a number from 0 to 65535
    except ValueError:
        raise ValueError(text) from None
    if not parts.hostname or not port:
        raise ValueError(text)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"tcp://{host}:{port}"


def _check_executor(spec: SettingSpec, setting: Setting) -> None:
    """``local`` or a Dask scheduler's ``dask://host:port``; say where a bad value came from."""
    try:
        dask_address(setting.value or "")
    except ValueError:
        raise ConfigError(
            f"{_where(spec, setting)} must be 'local' or 'dask://host:port' (a Dask "
            f"scheduler, e.g. dask://127.0.0.1:8786), got {setting.value!r}. Fix it, or "
            f"remove it to use the default {spec.default}."
        ) from None


def _quoted(choices: tuple[str, ...]) -> str:
    return ", ".join(f"'{c}'" for c in choices)


def _where(spec: SettingSpec, setting: Setting) -> str:
    """Where a resolved value was set, as a user would look for it."""
    return {
        Source.ARGUMENT: f"argument {spec.name}",
        Source.ENVIRONMENT: f"environment variable {spec.env}",
        Source.PYPROJECT: f"key '{spec.key}' in [tool.{PYPROJECT_TABLE}] of {setting.origin}",
        Source.DEFAULT: "the default",
    }[setting.source]


def _as_path(spec: SettingSpec, value: str, base: Path) -> str:
    """Paths are taken relative to where they were written (the pyproject, or the root)."""
    if not spec.is_path:
        return value
    return str((base / Path(value).expanduser()).resolve())
