"""Moodle error bodies exactly as the recorded Moodle 4.5 answers them (always HTTP 200)."""

from __future__ import annotations

from lms_connectors.moodle.functions import CAPABILITY_NAMES

_MOODLE = "core\\exception\\moodle_exception"
NOT_ACCESSIBLE = "Course or activity not accessible."
_INVALID_PARAMETER = "core\\exception\\invalid_parameter_exception"


class MoodleError(Exception):
    """Raised by a handler to answer a Moodle error body instead of a result.

    Attributes:
        body: The ``{"exception", "errorcode", "message"}`` object sent back (no errorcode
            for PHP ``TypeError``/``Error`` crashes, like Moodle).
    """

    def __init__(self, exception: str, message: str, errorcode: str | None = None) -> None:
        super().__init__(message)
        self.body: dict[str, str] = {"exception": exception}
        if errorcode is not None:
            self.body["errorcode"] = errorcode
        self.body["message"] = message


def invalid_token() -> MoodleError:
    """Bad or missing ``wstoken`` (``error_invalid_token``, ``error_missing_token``)."""
    return MoodleError(_MOODLE, "Invalid token - token not found", "invalidtoken")


def unknown_function() -> MoodleError:
    """A ``wsfunction`` that does not exist in Moodle (``error_function_does_not_exist``)."""
    return MoodleError(
        "dml_missing_record_exception",
        "Can't find data record in database table external_functions.",
        "invalidrecord",
    )


def access_exception() -> MoodleError:
    """A function that exists but is not in the token's service."""
    return MoodleError("webservice_access_exception", "Access control exception", "accessexception")


def invalid_parameter() -> MoodleError:
    """Any parameter that fails validation: Moodle never says which one."""
    return MoodleError(_INVALID_PARAMETER, "Invalid parameter value detected", "invalidparameter")


def missing_record(table: str) -> MoodleError:
    """An unknown id looked up with MUST_EXIST (``error_nonexistent_course``)."""
    return MoodleError(
        "dml_missing_record_exception",
        f"Can't find data record in database table {table}.",
        "invalidrecord",
    )


def moodle_exception(errorcode: str, message: str) -> MoodleError:
    """A plain ``moodle_exception`` with the given code and English message."""
    return MoodleError(_MOODLE, message, errorcode)


def coding_error(detail: str) -> MoodleError:
    """A ``coding_exception`` (e.g. an invalid ``field`` enum value)."""
    return MoodleError(
        "core\\exception\\coding_exception",
        f"Coding error detected, it must be fixed by a programmer: {detail}",
        "codingerror",
    )


def enrol_unknown_user() -> MoodleError:
    """The PHP TypeError Moodle leaks when enrolling a non-existent user id (no errorcode)."""
    return MoodleError(
        "TypeError",
        "core\\user::get_name_placeholders(): Argument #1 ($user) must be of type stdClass, "
        "bool given, called in [moodle]/lib/enrollib.php on line 3674",
    )


def cannot_assign_role(roleid: int, userid: int, courseid: int) -> MoodleError:
    """The WS user may assign the student role only."""
    return moodle_exception(
        "wsusercannotassign",
        f"You don't have the permission to assign this role ({roleid}) to this user "
        f"({userid}) in this course ({courseid}).",
    )


def messages_format_not_supported() -> MoodleError:
    """What a message batch mixing valid and invalid recipients fails with (core bug)."""
    return moodle_exception("formatnotsupported", "webservice/formatnotsupported")


def missing_capability(capability: str) -> MoodleError:
    """``required_capability_exception`` for a capability (``error_missing_capability``)."""
    return no_permission(CAPABILITY_NAMES.get(capability, capability))


def require_login() -> MoodleError:
    """``require_login`` refused: the course is not accessible to the WS user."""
    return MoodleError("core\\exception\\require_login_exception", NOT_ACCESSIBLE,
                       "requireloginerror")


def course_context_not_valid(courseid: int, reason: str) -> MoodleError:
    """What functions that wrap ``validate_context`` answer (``errorcoursecontextnotvalid``)."""
    return moodle_exception(
        "errorcoursecontextnotvalid",
        f"You cannot execute functions in the course context (course id:{courseid}). "
        f"The context error message was: {reason}")


def no_permission(capability_name: str) -> MoodleError:
    """A ``required_capability_exception`` naming the capability in English."""
    return MoodleError(
        "core\\exception\\required_capability_exception",
        "Sorry, but you do not currently have permissions to do that "
        f"({capability_name}).",
        "nopermissions",
    )
