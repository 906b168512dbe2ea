"""Typed Moodle operations ProfRoute needs: validated parameters in, the core's records out."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from courses.records import CourseCompletion, MoodleCourse
from deficits.records import (
    GRADE_HIGHEST,
    Competency,
    ItemMark,
    QuizAttempt,
    QuizInfo,
    SlotMark,
    Teacher,
)
from lms_connectors.exceptions import InvalidRequest, MessageRejected, MoodleAPIError
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.client import WebServiceCaller

logger = logging.getLogger(__name__)

MAX_ENROLMENTS_PER_CALL = 300
# PHP's max_input_vars silently drops form fields beyond it (default 1000; Moodle on PHP 8
# requires >= 5000). wstoken, wsfunction and moodlewsrestformat count too.
DEFAULT_MAX_FIELDS = 1000
_PROTOCOL_FIELDS = 3
# fullname is required in the answer's structure: leaving it out fails Moodle's validation.
ENROLLED_USER_FIELDS = "id,username,firstname,lastname,fullname,email,idnumber,customfields,roles"
ATTEMPT_STATUSES = frozenset({"all", "finished", "unfinished"})
COURSE_FIELDS = frozenset({"id", "ids", "shortname", "idnumber", "category", "sectionid"})
TEXT_FORMATS = frozenset({0, 1, 2, 4})  # MOODLE, HTML, PLAIN, MARKDOWN
_CLIENT_MSG_ID = re.compile(r"[A-Za-z0-9_-]+")  # PARAM_ALPHANUMEXT silently strips the rest


@dataclass(frozen=True)
class SiteInfo:
    """What ``core_webservice_get_site_info`` says about the site and the token's service."""

    sitename: str
    siteurl: str
    release: str
    version: str
    userid: int
    username: str
    lang: str
    functions: frozenset[str]


@dataclass(frozen=True)
class ProfileFields:
    """Shortnames of the custom user profile fields ProfRoute reads."""

    school_code: str = "schoolcode"
    school_name: str = "schoolname"
    municipality: str = "municipality"
    subject: str = "subject"


DEFAULT_PROFILE_FIELDS = ProfileFields()


@dataclass(frozen=True)
class Framework:
    """A competency framework (``core_competency_list_competency_frameworks``)."""

    framework_id: int
    idnumber: str
    shortname: str
    visible: bool = True
    competencies_count: int = 0


@dataclass(frozen=True)
class QuizGrade:
    """A user's grade of one quiz in the gradebook; ``grade_raw`` is None when not graded."""

    user_id: int
    quiz_id: int
    cmid: int
    grade_raw: float | None
    grade_max: float
    date_submitted: int | None
    date_graded: int | None


@dataclass(frozen=True)
class Enrolment:
    """A manual enrolment to push; dates are unix times, 0 meaning "no limit"."""

    user_id: int
    course_id: int
    role_id: int = 5
    timestart: int = 0
    timeend: int = 0
    suspend: bool = False


class MoodleAPI:
    """The Moodle operations of ProfRoute over any :class:`WebServiceCaller`.

    Every operation may also raise what ``MoodleClient.call`` raises: ``MoodleUnavailable``
    (no usable answer) and the ``MoodleAPIError`` subclasses (Moodle refused the call).
    Parameters are checked before sending (``InvalidRequest``), because Moodle's
    ``invalidparameter`` never says which parameter was wrong.

    Args:
        client: What sends the calls (``MoodleClient`` or a test fake).
        max_fields: The site's PHP ``max_input_vars``; no call is built with more fields.
    """

    def __init__(self, client: WebServiceCaller, *, max_fields: int = DEFAULT_MAX_FIELDS) -> None:
        self.client = client
        self.max_fields = max_fields

    @property
    def enrol_batch_limit(self) -> int:
        """The most enrolments one :meth:`enrol` call accepts (6 fields each)."""
        return self._max_rows(6)

    def _max_rows(self, fields_per_row: int) -> int:
        return min(MAX_ENROLMENTS_PER_CALL, (self.max_fields - _PROTOCOL_FIELDS) // fields_per_row)

    def _call(self, function: str, params: dict[str, Any] | None, kind: type) -> Any:
        body = self.client.call(function, params)
        if not isinstance(body, kind):
            raise _bad_answer(
                function, f"expected a JSON {kind.__name__}, got {type(body).__name__}"
            )
        return body

    def site_info(self) -> SiteInfo:
        """Describe the site, the token's user and its functions (``userprivateaccesskey`` dropped).

        Raises:
            InvalidToken: The token is unknown.
            MoodleUnavailable: Wrong URL, or the site is down.
        """
        body = self._call(fn.SITE_INFO, None, dict)
        with _parsing(fn.SITE_INFO):
            return SiteInfo(
                sitename=str(body["sitename"]),
                siteurl=str(body["siteurl"]),
                release=str(body.get("release", "")),
                version=str(body.get("version", "")),
                userid=int(body["userid"]),
                username=str(body["username"]),
                lang=str(body.get("lang", "")),
                functions=frozenset(str(f["name"]) for f in body.get("functions") or []),
            )

    def missing_functions(self, required: Iterable[str] = fn.REQUIRED_FUNCTIONS) -> set[str]:
        """Return the required functions the token's service does not offer (empty: all set).

        Raises:
            As :meth:`site_info`.
        """
        return set(required) - self.site_info().functions

    def enrolled_users(
        self,
        course_id: int,
        *,
        fields: ProfileFields = DEFAULT_PROFILE_FIELDS,
        page_size: int = 200,
        only_active: bool = False,
    ) -> Iterator[Teacher]:
        """Yield the users enrolled in a course, page by page (``limitfrom``/``limitnumber``).

        Suspended and not-yet-started enrolments are included unless ``only_active``.
        Paging stops at the first page shorter than ``page_size``.

        Raises:
            InvalidRequest: ``course_id`` or ``page_size`` is not a positive int (at once).
            RecordNotFound / AccessDenied: unknown course, or the WS user may not enter it.
        """
        _positive(fn.ENROLLED_USERS, course_id=course_id, page_size=page_size)
        return self._enrolled_pages(course_id, fields, page_size, only_active)

    def _enrolled_pages(
        self, course_id: int, fields: ProfileFields, page_size: int, only_active: bool
    ) -> Iterator[Teacher]:
        offset, seen = 0, set()
        while True:
            options = [{"name": "userfields", "value": ENROLLED_USER_FIELDS}]
            if only_active:
                options.append({"name": "onlyactive", "value": 1})
            options += [
                {"name": "limitfrom", "value": offset},
                {"name": "limitnumber", "value": page_size},
            ]
            page = self._call(fn.ENROLLED_USERS, {"courseid": course_id, "options": options}, list)
            with _parsing(fn.ENROLLED_USERS):
                teachers = [_teacher(user, fields) for user in page]
            yield from (t for t in teachers if t.moodle_user_id not in seen)
            seen.update(t.moodle_user_id for t in teachers)
            if len(page) > page_size:
                logger.warning("Moodle ignored limitnumber=%d (got %d)", page_size, len(page))
            if len(page) != page_size:
                return
            offset += page_size

    def courses_by_field(self, field: str = "", value: str | int = "") -> list[MoodleCourse]:
        """Return courses by ``id``, ``ids``, ``shortname``, ``idnumber``, ``category``…

        Without ``field`` every course is returned; the front page (site course) never is.

        Raises:
            InvalidRequest: unknown ``field``, or ``field`` without ``value``.
        """
        if field and field not in COURSE_FIELDS:
            raise InvalidRequest(
                f"field {field!r} is not one of {sorted(COURSE_FIELDS)}",
                function=fn.COURSES_BY_FIELD,
            )
        if field and value in ("", None):
            raise InvalidRequest(f"field {field!r} needs a value", function=fn.COURSES_BY_FIELD)
        params = {"field": field, "value": value} if field else None
        body = self._call(fn.COURSES_BY_FIELD, params, dict)
        with _parsing(fn.COURSES_BY_FIELD):
            return [_course(c) for c in body["courses"] if c.get("format") != "site"]

    def course_competencies(self, course_id: int) -> list[Competency]:
        """Return the competencies linked to a course, in the course's order.

        Raises:
            RecordNotFound: unknown course; AccessDenied: competencies not viewable.
        """
        _positive(fn.COURSE_COMPETENCIES, course_id=course_id)
        body = self._call(fn.COURSE_COMPETENCIES, {"id": course_id}, list)
        with _parsing(fn.COURSE_COMPETENCIES):
            return [_competency(row["competency"], {}) for row in body]

    def frameworks(self) -> list[Framework]:
        """Return the competency frameworks of the system context and below.

        Raises:
            AccessDenied: the WS user lacks moodle/competency:competencyview.
        """
        params = {"sort": "shortname", "context": {"contextid": 1}, "includes": "children"}
        body = self._call(fn.COMPETENCY_FRAMEWORKS, params, list)
        with _parsing(fn.COMPETENCY_FRAMEWORKS):
            return [
                Framework(
                    framework_id=int(f["id"]),
                    idnumber=str(f.get("idnumber") or ""),
                    shortname=str(f.get("shortname") or ""),
                    visible=bool(f.get("visible", True)),
                    competencies_count=int(f.get("competenciescount") or 0),
                )
                for f in body
            ]

    def competencies(self, framework_id: int, *, framework_idnumber: str = "") -> list[Competency]:
        """Return a framework's competencies in framework order; ``group`` is the parent's idnumber.

        Raises:
            InvalidRequest: ``framework_id`` not a positive int.
        """
        _positive(fn.COMPETENCIES, framework_id=framework_id)
        params = {
            "filters": [{"column": "competencyframeworkid", "value": framework_id}],
            "sort": "sortorder",
        }
        body = self._call(fn.COMPETENCIES, params, list)
        with _parsing(fn.COMPETENCIES):
            parents = {int(c["id"]): str(c.get("idnumber") or "") for c in body}
            return [_competency(c, parents, framework_idnumber) for c in body]

    def quizzes(self, course_ids: Sequence[int]) -> list[QuizInfo]:
        """Return the quizzes of the given courses.

        Raises:
            InvalidRequest: no course id (Moodle would silently answer only the courses the
                WS user is enrolled in), or an id that is not a positive int.
        """
        ids = list(course_ids)
        if not ids:
            raise InvalidRequest("course_ids is empty", function=fn.QUIZZES_BY_COURSES)
        _positive(fn.QUIZZES_BY_COURSES, **{f"course_ids[{i}]": c for i, c in enumerate(ids)})
        body = self._call(fn.QUIZZES_BY_COURSES, {"courseids": ids}, dict)
        with _parsing(fn.QUIZZES_BY_COURSES):
            return [_quiz(q) for q in body["quizzes"]]

    def user_attempts(
        self, quiz_id: int, user_id: int, status: str = "finished"
    ) -> list[QuizAttempt]:
        """Return a user's attempts of a quiz (``all``, ``finished`` or ``unfinished``).

        Previews are never included. An in-progress attempt has ``sumgrades`` None.

        Raises:
            InvalidRequest: bad ids or status; AccessDenied: quiz not accessible.
        """
        _positive(fn.USER_ATTEMPTS, quiz_id=quiz_id, user_id=user_id)
        if status not in ATTEMPT_STATUSES:
            raise InvalidRequest(
                f"status {status!r} is not one of {sorted(ATTEMPT_STATUSES)}",
                function=fn.USER_ATTEMPTS,
            )
        params: dict[str, Any] = {"quizid": quiz_id, "userid": user_id}
        if status != "finished":  # Moodle's default; omitted as Moodle's own clients do
            params["status"] = status
        body = self._call(fn.USER_ATTEMPTS, params, dict)
        with _parsing(fn.USER_ATTEMPTS):
            return [_attempt(a) for a in body["attempts"]]

    def attempt_review(self, attempt_id: int) -> QuizAttempt:
        """Return one attempt with its per-slot marks (all pages).

        Raises:
            RecordNotFound: unknown attempt; AccessDenied: review not allowed.
        """
        _positive(fn.ATTEMPT_REVIEW, attempt_id=attempt_id)
        body = self._call(fn.ATTEMPT_REVIEW, {"attemptid": attempt_id}, dict)
        with _parsing(fn.ATTEMPT_REVIEW):
            slots = tuple(_slot(q) for q in body.get("questions") or [])
            return _attempt(body["attempt"], slots)

    def user_courses(self, user_id: int) -> list[CourseCompletion]:
        """Return the completion state of every course a user is actively enrolled in.

        Suspended and not-yet-started enrolments are left out by Moodle.

        Raises:
            InvalidRequest: ``user_id`` not a positive int.
        """
        _positive(fn.USERS_COURSES, user_id=user_id)
        params = {"userid": user_id, "returnusercount": False}  # counting costs Moodle a query
        body = self._call(fn.USERS_COURSES, params, list)
        with _parsing(fn.USERS_COURSES):
            return [
                CourseCompletion(
                    user_id=user_id,
                    course_id=int(c["id"]),
                    completed=bool(c.get("completed") or False),
                    progress=_float_or_none(c.get("progress")),
                )
                for c in body
            ]

    def quiz_grade_changes(self, course_id: int, quiz_cmid: int | None = None) -> list[QuizGrade]:
        """Return every user's gradebook grade of the course's quizzes in ONE call.

        Args:
            course_id: The diagnostic course.
            quiz_cmid: Only this quiz (course module id); None for every quiz.

        Raises:
            InvalidRequest: bad ids; AccessDenied: the WS user may not view all grades.
        """
        _positive(fn.GRADE_ITEMS, course_id=course_id)
        body = self._call(fn.GRADE_ITEMS, {"courseid": course_id}, dict)
        with _parsing(fn.GRADE_ITEMS):
            return [
                _quiz_grade(int(user["userid"]), item)
                for user in body["usergrades"]
                for item in user.get("gradeitems") or []
                if item.get("itemmodule") == "quiz" and quiz_cmid in (None, item.get("cmid"))
            ]

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
        _check_batch(fn.ENROL, [(e.user_id, e.course_id) for e in enrolments], self._max_rows(6))
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

    def unenrol(self, pairs: Sequence[tuple[int, int]], *, role_id: int | None = None) -> None:
        """Unenrol ``(user_id, course_id)`` pairs from their manual enrolments.

        Unenrolling a user who is not enrolled is accepted silently by Moodle.

        Raises:
            InvalidRequest: empty batch, too many, duplicates or non-positive ids.
        """
        _check_batch(fn.UNENROL, pairs, self._max_rows(3))
        if role_id is not None:
            _positive(fn.UNENROL, role_id=role_id)
        rows = [{"userid": u, "courseid": c, "roleid": role_id} for u, c in pairs]
        self.client.call(fn.UNENROL, {"enrolments": rows})

    def send_message(
        self, to_user_id: int, text: str, client_msg_id: str, textformat: int = 1
    ) -> int:
        """Send one instant message to one user and return its Moodle message id.

        One recipient per call: a batch with one bad recipient fails whole yet stores the
        valid messages, so it can be neither trusted nor retried.

        Raises:
            InvalidRequest: bad recipient id, empty text, ``client_msg_id`` not made of
                letters, digits, ``_`` and ``-``, or an unknown ``textformat``.
            MessageRejected: Moodle answered ``msgid`` -1 (e.g. no such user).
        """
        _positive(fn.SEND_MESSAGES, to_user_id=to_user_id)
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest("the message text is empty", function=fn.SEND_MESSAGES)
        if not _CLIENT_MSG_ID.fullmatch(client_msg_id or ""):
            raise InvalidRequest(
                f"client_msg_id {client_msg_id!r} may hold only letters, digits, _ and -",
                function=fn.SEND_MESSAGES,
            )
        if textformat not in TEXT_FORMATS:
            raise InvalidRequest(
                f"textformat {textformat!r} is not one of {sorted(TEXT_FORMATS)}",
                function=fn.SEND_MESSAGES,
            )
        message = {
            "touserid": to_user_id,
            "text": text,
            "textformat": textformat,
            "clientmsgid": client_msg_id,
        }
        body = self._call(fn.SEND_MESSAGES, {"messages": [message]}, list)
        with _parsing(fn.SEND_MESSAGES):
            msgid = int(body[0]["msgid"])
            if msgid == -1:
                reason = str(body[0].get("errormessage") or "no reason given")
                raise MessageRejected(None, f"to user {to_user_id}: {reason}", fn.SEND_MESSAGES)
            return msgid


@contextmanager
def _parsing(function: str) -> Iterator[None]:
    """Turn a malformed answer (missing key, wrong type) into a MoodleAPIError."""
    try:
        yield
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        raise _bad_answer(function, f"unexpected answer: {type(err).__name__}: {err}") from err


def _bad_answer(function: str, message: str) -> MoodleAPIError:
    hint = "this Moodle answers differently from 4.5; report it with the Moodle release"
    return MoodleAPIError("invalidresponse", message, function, hint=hint)


def _positive(function: str, **values: object) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidRequest(f"{name} must be a positive int, got {value!r}", function=function)


def _check_batch(function: str, pairs: Sequence[tuple[int, int]], max_rows: int) -> None:
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
        _positive(function, user_id=user_id, course_id=course_id)
    if len(set(pairs)) != len(pairs):
        raise InvalidRequest("the same user and course appear twice", function=function)


def _check_enrolment(e: Enrolment) -> None:
    _positive(fn.ENROL, role_id=e.role_id)
    for name in ("timestart", "timeend"):
        value = getattr(e, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidRequest(f"{e}: {name} must be a unix time or 0", function=fn.ENROL)
    if e.timeend != 0 and e.timeend <= e.timestart:
        raise InvalidRequest(f"{e}: timeend must be 0 or after timestart", function=fn.ENROL)
    if e.suspend not in (True, False):  # 0 and 1 compare equal to False and True
        raise InvalidRequest(f"{e}: suspend must be a bool", function=fn.ENROL)


def _float_or_none(value: object) -> float | None:
    return None if value is None or value == "" else float(value)  # type: ignore[arg-type]


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _teacher(user: dict, fields: ProfileFields) -> Teacher:
    custom = {f["shortname"]: f.get("value") for f in user.get("customfields") or []}

    def field(shortname: str) -> str | None:
        value = custom.get(shortname)
        return (str(value).strip() or None) if value is not None else None

    subjects = re.split(r"[,;]", field(fields.subject) or "")
    return Teacher(
        moodle_user_id=int(user["id"]),
        username=str(user.get("username") or ""),
        lastname=str(user.get("lastname") or ""),
        firstname=str(user.get("firstname") or ""),
        middlename=str(user.get("middlename") or ""),
        email=str(user.get("email") or ""),
        idnumber=str(user.get("idnumber") or ""),
        school_code=field(fields.school_code),
        school_name=field(fields.school_name),
        municipality=field(fields.municipality),
        subjects=tuple(s.strip() for s in subjects if s.strip()),
        roles=tuple(str(r["shortname"]) for r in user.get("roles") or []),
    )


def _course(c: dict) -> MoodleCourse:
    return MoodleCourse(
        course_id=int(c["id"]),
        shortname=str(c["shortname"]),
        fullname=str(c["fullname"]),
        category_id=int(c.get("categoryid") or 0),
        idnumber=str(c.get("idnumber") or ""),
        startdate=int(c.get("startdate") or 0),
        enddate=int(c.get("enddate") or 0),
        visible=bool(c.get("visible", 1)),
    )


def _competency(c: dict, parents: dict[int, str], framework_idnumber: str = "") -> Competency:
    return Competency(
        idnumber=str(c["idnumber"]),
        name=str(c["shortname"]),
        group=parents.get(int(c.get("parentid") or 0), ""),
        moodle_id=int(c["id"]),
        framework_idnumber=framework_idnumber,
    )


def _quiz(q: dict) -> QuizInfo:
    return QuizInfo(
        quiz_id=int(q["id"]),
        cmid=int(q["coursemodule"]),
        course_id=int(q["course"]),
        name=str(q["name"]),
        grademethod=int(q.get("grademethod") or GRADE_HIGHEST),
        sumgrades=float(q.get("sumgrades") or 0),
        grade=float(q.get("grade") or 0),
        attempts_allowed=int(q.get("attempts") or 0),
    )


def _attempt(a: dict, slots: tuple[SlotMark, ...] = ()) -> QuizAttempt:
    return QuizAttempt(
        attempt_id=int(a["id"]),
        quiz_id=int(a["quiz"]),
        user_id=int(a["userid"]),
        attempt_no=int(a["attempt"]),
        state=str(a["state"]),
        time_start=int(a.get("timestart") or 0),
        time_finish=int(a.get("timefinish") or 0),
        sumgrades=_float_or_none(a.get("sumgrades")),
        item_marks=tuple(
            ItemMark(name=str(m["name"]), grade=float(m["grade"]), maxgrade=float(m["maxgrade"]))
            for m in a.get("gradeitemmarks") or []
        ),
        slot_marks=slots,
    )


def _slot(q: dict) -> SlotMark:
    # mark is formatted text ("1.00"; "" when not graded); the decimal separator follows
    # the WS user's language, so "1,00" is possible.
    mark = str(q.get("mark") or "").replace(",", ".").replace(" ", "").replace("\xa0", "")
    return SlotMark(
        slot=int(q["slot"]),
        mark=float(mark) if mark else None,
        maxmark=float(q.get("maxmark") or 0),
        question_type=str(q.get("type") or ""),
    )


def _quiz_grade(user_id: int, item: dict) -> QuizGrade:
    return QuizGrade(
        user_id=user_id,
        quiz_id=int(item["iteminstance"]),
        cmid=int(item.get("cmid") or 0),
        grade_raw=_float_or_none(item.get("graderaw")),
        grade_max=float(item.get("grademax") or 0),
        date_submitted=_int_or_none(item.get("gradedatesubmitted")),
        date_graded=_int_or_none(item.get("gradedategraded")),
    )
