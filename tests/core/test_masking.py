from __future__ import annotations

import json

import pytest

from mlops_lab.core.masking import (
    is_secret_name,
    json_spellings,
    mask_params,
    mask_secrets,
    mask_uri,
    mask_uri_passwords,
    secret_spellings,
    uri_passwords,
)


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        ("postgresql://u:p4ss@host/db", "postgresql://u:***@host/db"),
        (
            "postgresql+psycopg://u:p%40ss@host:5432/db?x=1",
            "postgresql+psycopg://u:***@host:5432/db?x=1",
        ),
        ("https://user:tok@mlflow.example.com/", "https://user:***@mlflow.example.com/"),
        ("https://mlflow.example.com/", "https://mlflow.example.com/"),
        ("sqlite:////tmp/a@b/mlflow.db", "sqlite:////tmp/a@b/mlflow.db"),
        ("postgresql://only-user@host/db", "postgresql://only-user@host/db"),
        (None, None),
    ],
)
def test_mask_uri(uri: str | None, masked: str | None) -> None:
    assert mask_uri(uri) == masked


@pytest.mark.parametrize(
    "name", ["token", "api_key", "DB_PASSWORD", "awsSecretAccessKey", "credential", "my-secret"]
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["n_estimators", "max_depth", "keyboard_layout", "monkey", "tokens_per_s"]
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_mask_params_keeps_ordinary_values() -> None:
    assert mask_params({"alpha": 0.1, "api_token": "abc"}) == {"alpha": 0.1, "api_token": "***"}


@pytest.mark.parametrize(
    ("text", "masked", "passwords"),
    [
        ("postgresql://u:pw12@h/db", "postgresql://u:***@h/db", ["pw12"]),
        (
            'dsn = "postgresql+psycopg://me:p%40ss@h:5432/db"  # prod',
            'dsn = "postgresql+psycopg://me:***@h:5432/db"  # prod',
            ["p%40ss"],
        ),
        (
            "redis://:s3cret@localhost:6379/0 and more",
            "redis://:***@localhost:6379/0 and more",
            ["s3cret"],
        ),
        ("mysql://u@h/db", "mysql://u@h/db", []),
        ("https://u:***@h/x", "https://u:***@h/x", []),
        ("a:b@c, no scheme", "a:b@c, no scheme", []),
    ],
)
def test_uri_passwords_anywhere_in_a_text(text: str, masked: str, passwords: list[str]) -> None:
    assert mask_uri_passwords(text) == masked
    assert uri_passwords(text) == passwords


def test_mask_secrets_masks_every_occurrence_longest_first_and_uri_passwords() -> None:
    text = "token abc123 and abc123456 in postgresql://u:pw9@h/db"

    masked = mask_secrets(text, ["abc123", "abc123456", ""])

    assert masked == "token *** and *** in postgresql://u:***@h/db"


def test_secret_spellings_cover_repr_and_papermill_string_escaping() -> None:
    secret = 'a"b\\cö'

    spellings = secret_spellings([secret])

    assert secret in spellings
    assert repr(secret)[1:-1] in spellings
    assert 'a\\"b\\\\c\\xf6' in spellings  # how papermill writes it in the injected cell


def test_json_spellings_mask_a_secret_inside_notebook_json() -> None:
    secret = 'a"b\\cö'
    text = json.dumps({"source": f"key = {secret!r}", "out": secret}, ensure_ascii=True)

    masked = mask_secrets(text, json_spellings([secret]))

    assert json.loads(masked) == {"source": "key = '***'", "out": "***"}
