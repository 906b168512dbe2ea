"""Write operations of the push: enrolments, suspension, messages and competency ratings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from lms_connectors.exceptions import InvalidRequest, MessageRejected
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.base import APIBase, check_batch, parsing, positive, unix_time
from lms_connectors.moodle.records import Enrolment

TEXT_FORMATS = frozenset({0, 1, 2, 4})  # MOODLE, HTML, PLAIN, MARKDOWN
_CLIENT_MSG_ID = re.compile(r"[A-Za-z0-9_-]+")  # PARAM_ALPHANUMEXT silently strips the rest
_ENROL_FIELDS = 6
_MESSAGE_FIELDS = 4


@dataclasses.dataclass(frozen=True)
class OutgoingMessage:
    """One instant message to send; ``client_msg_id`` lets the sender match the answer."""

    to_user_id: int
    text: str
    client_msg_id: str
    textformat: int = 1


@dataclasses.dataclass(frozen=True)
class MessageResult:
    """Moodle's answer for one message: its ``msgid``, or -1 and the ``error`` it gave."""

    msgid: int
    client_msg_id: str | None
    error: str | None = None


class WriteOperations(APIBase):
    """Writes: the client never retries them (a lost answer may hide a done write)."""

    @property
    def enrol_batch_limit(self) -> int:
        """The most enrolments one :meth:`enrol` call accepts (6 fields each)."""
        return self._max_rows(_ENROL_FIELDS)

    def enrol(self, enrolments: Sequence[Enrolment]) -> None:
        """Enrol (or update the enrolment of) users, ALWAYS sending dates and suspension.

        An existing enrolment takes the dates and status sent: an omitted field would wipe
        the dates or re-activate it. Moodle rolls a failed call back whole.

        Raises:
            InvalidRequest: empty batch, more than :attr:`enrol_batch_limit` (166 with the
                default ``max_fields`` of 1000, at most ``MAX_ENROLMENTS_PER_CALL``), a
                non-positive id, ``timeend`` not 0 and not after ``timestart``, or the same
                user and course twice.
            MoodleCrash: an id that does not exist (PHP TypeError, nothing enrolled).
            AccessDenied: ``wsusercannotassign`` (the role may not be assigned).
        """
        check_batch(fn.ENROL, [(e.user_id, e.course_id) for e in enrolments],
                    self.enrol_batch_limit)
        for e in enrolments:
            _check_enrolment(e)
        rows = [
            {
                "roleid": e.role_id,
                "userid": e.user_id,
                "courseid": e.course_id,
                "timestart": e.timestart,
                "timeend": e.timeend,
                "suspend": bool(e.suspend),
            }
            for e in enrolments
        ]
        self.client.call(fn.ENROL, {"enrolments": rows})

    def suspend(self, enrolments: Sequence[Enrolment]) -> None:
        """Suspend enrolments, keeping the dates given: :meth:`enrol` with ``suspend`` set.

        Pass each enrolment as it stands (its current ``timestart``/``timeend``): Moodle
        replaces the dates with what is sent, so 0 would wipe an internship window. The
        suspended user stays enrolled (``enrolled_users`` lists them) but disappears with
        ``only_active`` and from ``user_courses``. Suspending twice is harmless. To
        reactivate, :meth:`enrol` the same enrolment with ``suspend=False``.

        Raises:
            As :meth:`enrol`.
        """
        self.enrol([dataclasses.replace(e, suspend=True) for e in enrolments])

    def unenrol(self, pairs: Sequence[tuple[int, int]], *, role_id: int | None = None) -> None:
        """Unenrol ``(user_id, course_id)`` pairs from their manual enrolments.

        Unenrolling a user who is not enrolled is accepted silently by Moodle.

        Raises:
            InvalidRequest: empty batch, too many, duplicates or non-positive ids.
        """
        check_batch(fn.UNENROL, pairs, self._max_rows(3))
        if role_id is not None:
            positive(fn.UNENROL, role_id=role_id)
        rows = [{"userid": u, "courseid": c, "roleid": role_id} for u, c in pairs]
        self.client.call(fn.UNENROL, {"enrolments": rows})

    @property
    def message_batch_limit(self) -> int:
        """The most messages one :meth:`send_messages` call carries (4 fields each)."""
        return self._max_rows(_MESSAGE_FIELDS)

    def send_message(
        self, to_user_id: int, text: str, client_msg_id: str, textformat: int = 1
    ) -> int:
        """Send one instant message to one user and return its Moodle message id.

        Raises:
            As :meth:`send_messages`; MessageRejected: Moodle answered ``msgid`` -1.
        """
        result = self.send_messages([OutgoingMessage(to_user_id, text, client_msg_id,
                                                     textformat)])[0]
        if result.error is not None:
            raise MessageRejected(None, f"to user {to_user_id}: {result.error}",
                                  fn.SEND_MESSAGES)
        return result.msgid

    def send_messages(self, messages: Sequence[OutgoingMessage]) -> list[MessageResult]:
        """Send many instant messages in ONE call; one result per message, in order.

        Moodle answers each message with its ``msgid``, or ``msgid`` -1 and an
        ``errormessage`` (e.g. no such user), in the order sent. A batch mixing valid and
        invalid recipients fails whole with ``formatnotsupported`` although the valid
        messages ARE stored: such a failure (and a lost answer) leaves the batch's fate
        unknown, so it must never be re-sent blindly. Send only to users known to exist.

        Raises:
            InvalidRequest: an empty batch, more than :attr:`message_batch_limit`, a bad
                recipient id, an empty text, a ``client_msg_id`` not made of letters,
                digits, ``_`` and ``-``, or an unknown ``textformat`` (nothing sent).
            MoodleAPIError: the whole call failed (``formatnotsupported``…).
            MoodleUnavailable: no usable answer (the messages may have been stored).
        """
        if not messages:
            raise InvalidRequest("nothing to send: the batch is empty", function=fn.SEND_MESSAGES)
        if len(messages) > self.message_batch_limit:
            raise InvalidRequest(
                f"{len(messages)} messages in one call (max {self.message_batch_limit}): PHP "
                "max_input_vars would silently drop the fields beyond it",
                function=fn.SEND_MESSAGES, hint="split the batch")
        rows = [_message_row(m) for m in messages]
        body = self._call(fn.SEND_MESSAGES, {"messages": rows}, list)
        with parsing(fn.SEND_MESSAGES):
            if len(body) != len(rows):
                raise ValueError(f"{len(body)} results for {len(rows)} messages")
            return [_message_result(answer) for answer in body]

    def grade_competency(self, user_id: int, competency_id: int, grade: int,
                         note: str = "") -> int:
        """Rate a user's competency outside any course or plan; return the new evidence id.

        NOT idempotent: every call adds an evidence row to the user competency (the rating
        itself is simply set again), so a retry or a re-push leaves a duplicate "manually
        rated" entry in the teacher's history. Moodle offers no key to make it safe:
        record in ProfRoute that the rating was sent before sending the next one, and never
        retry it blindly after a lost answer.

        Args:
            user_id: The teacher.
            competency_id: The competency's Moodle id.
            grade: A value of the framework's scale (1-based; 1 = "Not yet competent",
                2 = "Competent" on the default competence scale).
            note: Shown with the evidence; empty sends none.

        Raises:
            InvalidRequest: an id or the grade not a positive int, or ``note`` not a string.
            MoodleAPIError: ``invalidpersistenterror`` for a grade outside the scale
                ("Invalid rating") or an unknown user ("Invalid user ID").
            RecordNotFound: unknown competency.
        """
        positive(fn.GRADE_COMPETENCY, user_id=user_id, competency_id=competency_id, grade=grade)
        if not isinstance(note, str):
            raise InvalidRequest("note must be a string", function=fn.GRADE_COMPETENCY)
        params: dict[str, Any] = {"userid": user_id, "competencyid": competency_id,
                                  "grade": grade}
        if note.strip():
            params["note"] = note.strip()
        body = self._call(fn.GRADE_COMPETENCY, params, dict)
        with parsing(fn.GRADE_COMPETENCY):
            return int(body["id"])


def _check_enrolment(e: Enrolment) -> None:
    positive(fn.ENROL, role_id=e.role_id)
    try:
        unix_time(fn.ENROL, timestart=e.timestart, timeend=e.timeend)
    except InvalidRequest as err:
        raise InvalidRequest(f"{e}: {err.message}", function=fn.ENROL) from err
    if e.timeend != 0 and e.timeend <= e.timestart:
        raise InvalidRequest(f"{e}: timeend must be 0 or after timestart", function=fn.ENROL)
    if e.suspend not in (True, False):  # 0 and 1 compare equal to False and True
        raise InvalidRequest(f"{e}: suspend must be a bool", function=fn.ENROL)


def _message_row(m: OutgoingMessage) -> dict[str, Any]:
    """The form row of one message, checked first (nothing is sent if one is bad)."""
    positive(fn.SEND_MESSAGES, to_user_id=m.to_user_id)
    if not isinstance(m.text, str) or not m.text.strip():
        raise InvalidRequest(f"the message to user {m.to_user_id} is empty",
                             function=fn.SEND_MESSAGES)
    if not _CLIENT_MSG_ID.fullmatch(m.client_msg_id or ""):
        raise InvalidRequest(
            f"client_msg_id {m.client_msg_id!r} may hold only letters, digits, _ and -",
            function=fn.SEND_MESSAGES,
        )
    if m.textformat not in TEXT_FORMATS:
        raise InvalidRequest(
            f"textformat {m.textformat!r} is not one of {sorted(TEXT_FORMATS)}",
            function=fn.SEND_MESSAGES,
        )
    return {"touserid": m.to_user_id, "text": m.text, "textformat": m.textformat,
            "clientmsgid": m.client_msg_id}


def _message_result(answer: dict[str, Any]) -> MessageResult:
    """One message's answer: ``msgid``, or -1 with ``errormessage``."""
    msgid = int(answer["msgid"])
    client = answer.get("clientmsgid")
    error = None
    if msgid == -1:
        error = str(answer.get("errormessage") or "no reason given")
    return MessageResult(msgid, None if client is None else str(client), error)
