"""What every group of typed Moodle operations shares: the call, answer checks, local validation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from lms_connectors.exceptions import InvalidRequest, MoodleAPIError
from lms_connectors.moodle.client import WebServiceCaller

MAX_ENROLMENTS_PER_CALL = 300
# PHP's max_input_vars silently drops form fields beyond it (default 1000; Moodle on PHP 8
# requires >= 5000). wstoken, wsfunction and moodlewsrestformat count too.
DEFAULT_MAX_FIELDS = 1000
PROTOCOL_FIELDS = 3
# Lengths of the Moodle columns the texts we create land in (cohort, groups, event, plan).
MAX_NAME = 254
MAX_IDNUMBER = 100


class APIBase:
    """The client, the site's field limit and a checked call; the operation mixins build on it.

    Args:
        client: What sends the calls (``MoodleClient`` or a test fake).
        max_fields: The site's PHP ``max_input_vars``; no call is built with more fields.
    """

    def __init__(self, client: WebServiceCaller, *, max_fields: int = DEFAULT_MAX_FIELDS) -> None:
        self.client = client
        self.max_fields = max_fields

    def _max_rows(self, fields_per_row: int) -> int:
        return min(MAX_ENROLMENTS_PER_CALL, (self.max_fields - PROTOCOL_FIELDS) // fields_per_row)

    def _call(self, function: str, params: dict[str, Any] | None, kind: type) -> Any:
        """Call and check that the answer is a JSON value of ``kind`` (dict, list, bool)."""
        body = self.client.call(function, params)
        if not isinstance(body, kind):
            raise bad_answer(
                function, f"expected a JSON {kind.__name__}, got {type(body).__name__}"
            )
        return body


@contextmanager
def parsing(function: str) -> Iterator[None]:
    """Turn a malformed answer (missing key, wrong type) into a MoodleAPIError."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise bad_answer(function, f"unexpected answer: {type(err).__name__}: {err}") from err


def bad_answer(function: str, message: str) -> MoodleAPIError:
    """The error for an answer this code cannot read (``invalidresponse``)."""
    hint = "this Moodle answers differently from 4.5; report it with the Moodle release"
    return MoodleAPIError("invalidresponse", message, function, hint=hint)


def positive(function: str, **values: object) -> None:
    """Refuse any value that is not a positive int (bools included)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidRequest(f"{name} must be a positive int, got {value!r}", function=function)


def unix_time(function: str, **values: object) -> None:
    """Refuse any value that is not a unix time or 0."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(f"{name} must be a unix time or 0, got {value!r}",
                                 function=function)


def text(function: str, name: str, value: object, *, limit: int = MAX_NAME,
         required: bool = True) -> str:
    """Return ``value`` stripped, refusing a non-string, an empty required or too long text."""
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string, got {value!r}", function=function)
    stripped = value.strip()
    if required and not stripped:
        raise InvalidRequest(f"{name} is empty", function=function)
    if len(stripped) > limit:
        raise InvalidRequest(f"{name} is longer than {limit} characters", function=function)
    return stripped


def id_list(function: str, name: str, ids: Sequence[int], max_rows: int) -> list[int]:
    """Check a non-empty list of distinct positive ids that fits in one call."""
    values = list(ids)
    if not values:
        raise InvalidRequest(f"{name} is empty: Moodle cannot receive an empty list",
                             function=function)
    if len(values) > max_rows:
        raise InvalidRequest(
            f"{len(values)} {name} in one call (max {max_rows}): PHP max_input_vars would "
            "silently drop the fields beyond it", function=function, hint="split the list")
    positive(function, **{f"{name}[{i}]": v for i, v in enumerate(values)})
    if len(set(values)) != len(values):
        raise InvalidRequest(f"{name} has the same id twice", function=function)
    return values


def check_batch(function: str, pairs: Sequence[tuple[int, int]], max_rows: int) -> None:
    """Check a batch of ``(user_id, course_id)`` pairs: not empty, small enough, distinct."""
    if not pairs:
        raise InvalidRequest("nothing to send: the batch is empty", function=function)
    if len(pairs) > max_rows:
        raise InvalidRequest(
            f"{len(pairs)} rows in one call (max {max_rows}): PHP max_input_vars would "
            "silently drop the fields beyond it",
            function=function,
            hint="split the batch (100 per call is the measured sweet spot)",
        )
    for user_id, course_id in pairs:
        positive(function, user_id=user_id, course_id=course_id)
    if len(set(pairs)) != len(pairs):
        raise InvalidRequest("the same user and course appear twice", function=function)


def members_map(rows: list[dict[str, Any]], key: str) -> dict[int, set[int]]:
    """``[{key: 5, "userids": [..]}]`` as ``{5: {..}}`` (cohort and group members)."""
    return {int(row[key]): {int(u) for u in row.get("userids") or []} for row in rows}


def float_or_none(value: object) -> float | None:
    """None for null or ``""``, else the float."""
    return None if value is None or value == "" else float(value)  # type: ignore[arg-type]


def int_or_none(value: object) -> int | None:
    """None for null, else the int."""
    return None if value is None else int(value)  # type: ignore[call-overload]
