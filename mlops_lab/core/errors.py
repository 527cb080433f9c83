"""The one exception family every face renders: a code plus a message a user can act on.

The core raises :class:`MlopsError`; the magic prints its message on one line, the CLI
exits non-zero with it, and the REST base handler turns the code into an HTTP status.
Keeping the code -> status map here (as MLflow does in ``mlflow/exceptions.py``) means a
new error never needs a new ``except`` in a face.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """What kind of failure this is, independent of which face shows it."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    POLICY = "POLICY"
    FORBIDDEN = "FORBIDDEN"
    TOO_LARGE = "TOO_LARGE"
    UNAVAILABLE = "UNAVAILABLE"
    MISCONFIGURED = "MISCONFIGURED"
    INTERNAL = "INTERNAL"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID: 400,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.POLICY: 422,
    ErrorCode.INTERNAL: 500,
    ErrorCode.UNAVAILABLE: 503,
    ErrorCode.MISCONFIGURED: 503,
}
"""``UNAVAILABLE`` means a store does not answer; ``MISCONFIGURED`` that the settings
could not be read (nothing works until they are fixed); ``INTERNAL`` is a bug of ours."""


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

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as itself (subclass, code, message, ``param``), so an error raised in
        the tracking's logging process reaches the kernel unchanged."""
        return (_restore, (type(self), self.code, self.message, dict(self.__dict__)))


def _restore(
    cls: type[MlopsError], code: ErrorCode, message: str, state: dict[str, Any]
) -> MlopsError:
    error = cls.__new__(cls)
    MlopsError.__init__(error, code, message)
    error.__dict__.update(state)
    return error


def one_line(exc: BaseException, kind: str | None = None) -> str:
    """``<Type>: <first line of the message>``: how a failure is told in one line (a fit's
    ``mlops.error`` tag, a ``logging failed`` line). ``kind`` names an error that arrived
    as text from another process."""
    text = str(exc).strip().splitlines()
    name = kind or type(exc).__name__
    return f"{name}: {text[0]}" if text else name


class InvalidInput(MlopsError):
    """A user's input was wrong; ``param`` names the request parameter when there is one,
    so a form can show the message beside the right field."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(ErrorCode.INVALID, message)
        self.param = param


class NotFound(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class Unavailable(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.UNAVAILABLE, message)


class TooLarge(MlopsError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.TOO_LARGE, message)


class ConfigError(MlopsError):
    """Bad configuration found at start-up: names the file and key that are wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.MISCONFIGURED, message)
