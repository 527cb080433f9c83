"""Where an execution's files go, and what of its parameters may be shown or stored.

Each execution has a folder under ``<home>/outputs/<execution id>/``: the masked output
notebook of each attempt and one log. Parameters travel in two forms: in clear to the
kernel only, and masked everywhere else (our store's display copy, MLflow params, the
output notebook, the log).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_lab.core.config import Settings
from mlops_lab.core.masking import MASK, is_secret_name, mask_uri_passwords, uri_passwords

SHORTEST_MASKED = 4
"""A secret value shorter than this is not searched for in outputs: masking every ``1``
of a notebook would wreck it. The injected cell masks it by name regardless."""


def outputs_dir(settings: Settings, execution_id: str) -> Path:
    return settings.home / "outputs" / execution_id


def log_path(settings: Settings, execution_id: str) -> Path:
    return outputs_dir(settings, execution_id) / "log.txt"


def notebook_output_path(
    settings: Settings, execution_id: str, notebook: str, attempt: int
) -> Path:
    return outputs_dir(settings, execution_id) / f"{Path(notebook).stem}-attempt{attempt}.ipynb"


def masked_parameters(values: Mapping[str, Any]) -> dict[str, Any]:
    """Credential-looking names get ``***``; passwords inside URIs in any value too."""
    masked: dict[str, Any] = {}
    for name, value in values.items():
        if is_secret_name(name):
            masked[name] = MASK
        else:
            masked[name] = _mask_uris(value)
    return masked


def _mask_uris(value: Any) -> Any:
    if isinstance(value, str):
        return mask_uri_passwords(value)
    if isinstance(value, list):
        return [_mask_uris(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_uris(v) for k, v in value.items()}
    return value


def secrets_of(values: Mapping[str, Any]) -> tuple[str, ...]:
    """The strings to hide wherever they appear in an output notebook or log."""
    found: set[str] = set()
    for name, value in values.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if is_secret_name(name) and value is not None:
            found.add(str(value) if not isinstance(value, str) else value)
        found.update(uri_passwords(text))
    return tuple(sorted((s for s in found if len(s) >= SHORTEST_MASKED), key=len, reverse=True))
