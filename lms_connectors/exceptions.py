"""Exceptions raised by the connectors: one tree, one line each, with what an admin must do."""

from __future__ import annotations

from typing import Any

WS_MENU = "Site administration › Server › Web services"


def _one_line(text: object) -> str:
    """Collapse whitespace (newlines included) so a message always fits on one log line."""
    return " ".join(str(text).split())


class ConnectorError(Exception):
    """Raised when an external system (Moodle, an LRS) cannot do what ProfRoute asked."""

    default_hint = "see the ProfRoute log for details"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = _one_line(message)
        self.hint = _one_line(hint or self.default_hint)
        super().__init__(self._line())

    def _line(self) -> str:
        return f"{self.message} (hint: {self.hint})"

    def __str__(self) -> str:
        return self._line()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._line()!r})"


class InvalidRequest(ConnectorError):
    """Raised when ProfRoute refuses to send parameters Moodle would reject or misread."""

    default_hint = "fix the data named in the message; nothing was sent to Moodle"

    def __init__(self, message: str, *, function: str | None = None, hint: str | None = None):
        self.function = function
        super().__init__(message, hint=hint)

    def _line(self) -> str:
        where = f"{self.function}: " if self.function else ""
        return f"{where}invalid request: {self.message} (hint: {self.hint})"


class MoodleError(ConnectorError):
    """Raised when a Moodle web-service call fails, whatever the reason."""


class MoodleUnavailable(MoodleError):
    """Raised when Moodle does not answer usably (network, timeout, HTTP error, non-JSON body).

    ``transient`` is False when retrying cannot help (e.g. the URL is not a Moodle site).
    """

    default_hint = (
        "check PROFROUTE_MOODLE_URL and that Moodle is up and reachable from ProfRoute "
        "(network, proxy, TLS), then retry"
    )

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        hint: str | None = None,
        transient: bool = True,
    ) -> None:
        self.function = function
        self.transient = transient
        super().__init__(message, hint=hint)

    def _line(self) -> str:
        where = f"{self.function}: " if self.function else ""
        return f"{where}Moodle unavailable: {self.message} (hint: {self.hint})"


class MoodleAPIError(MoodleError):
    """Raised when Moodle answers a call with an error object (``exception``/``errorcode``)."""

    default_hint = "read Moodle's message; if unclear, reproduce the call with Moodle debugging on"

    def __init__(
        self,
        errorcode: str | None,
        message: str,
        function: str,
        exception_class: str = "",
        *,
        hint: str | None = None,
    ) -> None:
        self.errorcode = errorcode
        self.function = function
        self.exception_class = exception_class
        super().__init__(message, hint=hint)

    @property
    def label(self) -> str:
        """What failed, as Moodle named it: the errorcode, else the PHP exception class."""
        return self.errorcode or self.exception_class or "error"

    def _line(self) -> str:
        return f"{self.function}: {self.label}: {self.message} (hint: {self.hint})"


class InvalidToken(MoodleAPIError):
    """Raised when Moodle does not know the token (``invalidtoken``)."""

    default_hint = (
        "check PROFROUTE_MOODLE_TOKEN: create a token for the ProfRoute service in "
        f"{WS_MENU} › Manage tokens"
    )


class FunctionNotInService(MoodleAPIError):
    """Raised when the function exists but is not in the token's service (``accessexception``)."""

    default_hint = (
        "add the function to the ProfRoute external service in "
        f"{WS_MENU} › External services › Functions (or install the ProfRoute Moodle plugin)"
    )


class AccessDenied(MoodleAPIError):
    """Raised when the web-service user lacks a capability or course access (``nopermissions``…)."""

    default_hint = (
        "grant the ProfRoute web-service user's role the capability named in the message "
        "(Site administration › Users › Permissions › Define roles) and check it can reach "
        "the course"
    )


class InvalidParameter(MoodleAPIError):
    """Raised when Moodle rejects a parameter without saying which (``invalidparameter``)."""

    default_hint = (
        "an id may not exist (course, user) or the Moodle version expects other parameters; "
        "check the ids, and turn on Moodle debugging to see which parameter was refused"
    )


class RecordNotFound(MoodleAPIError):
    """Raised when a record or the function itself does not exist (``invalidrecord``)."""

    default_hint = (
        "check that the id exists in Moodle and that this Moodle version has the function "
        "(an unknown function also answers invalidrecord)"
    )


class NotEnrolled(RecordNotFound):
    """Raised when the user is not enrolled in the course asked about (``usernotenroled``)."""

    default_hint = (
        "the user has no enrolment in this course (never enrolled, or unenrolled since): "
        "enrol the user again or stop tracking this course for them"
    )


class MoodleCrash(MoodleAPIError):
    """Raised when Moodle crashed with a PHP error and no errorcode (``TypeError``, ``Error``)."""

    default_hint = (
        "Moodle failed internally, often on an id that does not exist (e.g. an unknown user in "
        "an enrolment); check the ids sent and the Moodle/PHP error log"
    )


class MessageRejected(MoodleAPIError):
    """Raised when Moodle refuses one instant message (``msgid`` -1 with ``errormessage``)."""

    default_hint = (
        "check that the recipient exists, is not suspended or deleted and may receive messages "
        "from the ProfRoute user"
    )

    @property
    def label(self) -> str:
        """Moodle gives no errorcode for a rejected message."""
        return self.errorcode or "message rejected"


_BY_ERRORCODE: dict[str, type[MoodleAPIError]] = {
    "invalidtoken": InvalidToken,
    "accessexception": FunctionNotInService,
    "nopermissions": AccessDenied,
    "requireloginerror": AccessDenied,
    "requirecapability": AccessDenied,
    "accessdenied": AccessDenied,
    "wsusercannotassign": AccessDenied,
    "errorcoursecontextnotvalid": AccessDenied,
    "invalidparameter": InvalidParameter,
    "invalidrecord": RecordNotFound,
    "invaliduser": RecordNotFound,
    "usernotenroled": NotEnrolled,
}

_HINTS: dict[str, str] = {
    "accessexception": (
        "add {function} to the ProfRoute external service in "
        f"{WS_MENU} › External services › Functions (or install the ProfRoute Moodle plugin)"
    ),
    "errorcoursecontextnotvalid": (
        "check that the course exists and that the ProfRoute web-service user may enter it "
        "(capability moodle/course:view in the system context)"
    ),
    "wsusercannotassign": (
        "let the ProfRoute role assign this role: Site administration › Users › Permissions › "
        "Define roles › Allow role assignments"
    ),
    "requireloginerror": (
        "give the ProfRoute web-service user access to the course or activity "
        "(moodle/course:view, and the activity's view capability such as mod/quiz:viewreports)"
    ),
}


def error_from_body(body: dict[str, Any], function: str) -> MoodleAPIError:
    """Build the typed exception for a Moodle error body, chosen by ``errorcode`` only.

    The PHP exception class is kept for the message but never decides the type: its name
    is namespaced since Moodle 4.2. A body without ``errorcode`` is a PHP crash.

    Args:
        body: The decoded error object (``exception``, ``errorcode``, ``message``).
        function: The web-service function that was called.
    """
    errorcode = body.get("errorcode") or None
    exception_class = str(body.get("exception") or "")
    message = str(body.get("message") or "(no message)")
    if errorcode is None:
        return MoodleCrash(None, message, function, exception_class)
    cls = _BY_ERRORCODE.get(str(errorcode), MoodleAPIError)
    hint = _HINTS.get(str(errorcode))
    return cls(
        str(errorcode),
        message,
        function,
        exception_class,
        hint=hint.format(function=function) if hint else None,
    )
