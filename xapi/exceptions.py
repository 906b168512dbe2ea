"""Errors of the LRS edge: one base class, a subclass per way a call can fail."""

from __future__ import annotations


class XAPIError(Exception):
    """Raised when an xAPI operation fails; the base of every error of this package."""

    hint = ""

    def __str__(self) -> str:
        """One line: what failed, then what to do about it."""
        text = " ".join(super().__str__().split())
        return f"{text} (hint: {self.hint})" if self.hint else text


class LRSRejected(XAPIError):
    """Raised when the LRS refuses a request as invalid (HTTP 400 and other 4xx): it says why."""

    hint = "the statement or query is invalid; fix it, resending it unchanged will fail again"

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"LRS rejected the request with HTTP {status}: {reason}")


class LRSConflict(XAPIError):
    """Raised when the LRS already holds a different statement with the same id (HTTP 409)."""

    hint = "a statement id was reused for another statement; ids must be unique per event"

    def __init__(self, reason: str) -> None:
        self.status = 409
        self.reason = reason
        super().__init__(f"LRS answered HTTP 409 conflict: {reason}")


class LRSUnavailable(XAPIError):
    """Raised when the LRS cannot be reached, times out or fails (HTTP 5xx): transient."""

    hint = "the LRS is down, slow or unreachable; retry later"

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class LRSAuthError(XAPIError):
    """Raised when the LRS refuses the credentials or their rights (HTTP 401 or 403)."""

    hint = "check the LRS username, password and the account's scopes"

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"LRS refused the credentials with HTTP {status}: {reason}")


class LRSProtocolError(XAPIError):
    """Raised when the LRS answers something the xAPI specification does not allow."""

    hint = "the endpoint may not be an xAPI LRS; check that it ends with the xAPI base path"


class StatementNotMapped(XAPIError):
    """Raised when a statement cannot be turned into a domain event (malformed or unknown)."""
