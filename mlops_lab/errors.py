"""The one exception family every face renders: a code plus a message a user can act on.

The core raises :class:`MlopsError`; the magic prints its message on one line, the CLI
exits non-zero with it, and the REST base handler turns the code into an HTTP status.
Keeping the code -> status map here (as MLflow does in ``mlflow/exceptions.py``) means a
new error never needs a new ``except`` in a face.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """What kind of failure this is, independent of which face shows it."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    POLICY = "POLICY"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID: 400,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.POLICY: 422,
    ErrorCode.UNAVAILABLE: 503,
}


class MlopsError(Exception):
    """A failure the user can act on: what was wrong, with which value, what to do."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def __str__(self) -> str:
        return self.message


class InvalidInput(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID, message)


class NotFound(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class Unavailable(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, message)


class ConfigError(MlopsError):
    """Bad configuration found at start-up: names the file and key that are wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID, message)
