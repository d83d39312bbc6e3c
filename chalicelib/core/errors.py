"""Errors services raise to say what went wrong; the endpoint decorator (core.http) decides
what a caller sees. None of them knows about HTTP.

Every error carries a short machine `code` (what a client can branch on) and a sentence for
a person.
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        return str(self)


class Invalid(ServiceError):
    """The input cannot be used as it is: the caller must change it."""


class TooLarge(Invalid):
    """The input is larger than this operation takes."""


class UnsupportedMediaType(Invalid):
    """The body is not in a format this operation reads."""


class NotAuthenticated(ServiceError):
    """The caller did not prove who it is (no key, a bad signature, a stale timestamp)."""


class Forbidden(ServiceError):
    """The caller is known but may not do this (an origin a site does not allow)."""


class NotFound(ServiceError):
    """What the caller named does not exist (or is not theirs to see)."""


class Conflict(ServiceError):
    """The request clashes with the current state (already exists, edited meanwhile, spent)."""


class TooMany(ServiceError):
    """The caller asked too often: a limit protects someone (an inbox, a budget). `retry_after`
    (seconds) when the limit is a window that frees up; None when waiting will not help soon."""

    def __init__(self, code: str, message: str, retry_after: int | None = None):
        super().__init__(code, message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """It cannot be done now. `retry_after` (seconds) when trying again later will help; None
    when it will not (a feature that is not configured)."""

    def __init__(self, code: str, message: str, retry_after: int | None = 5):
        super().__init__(code, message)
        self.retry_after = retry_after


class StorageUnavailable(Unavailable):
    """The store could not be reached or refused the request (throttling, timeouts) after its
    retries: storage raises this instead of its client's exceptions."""

    def __init__(self, message: str = "try again shortly"):
        super().__init__("unavailable", message)
