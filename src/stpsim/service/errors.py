"""The service's errors. Each carries the HTTP status the API answers with and every problem
as a line, each naming its field; the CLI prints the lines and exits 2."""

from __future__ import annotations


class ServiceError(Exception):
    status = 500

    def __init__(self, message: str, lines: list[str] | None = None):
        super().__init__(message)
        self.lines = lines or [message]


class NotAuthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    status = 422


class Unavailable(ServiceError):
    status = 503


class TooManyAttempts(ServiceError):
    """Sign-in refused for now: too many failures for this user (or from this address)."""

    status = 429

    def __init__(self, message: str, wait: int):
        super().__init__(message)
        self.wait = wait
