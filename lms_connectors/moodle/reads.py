"""Read operations of the diagnostic pull: site, teachers, courses, competencies, quizzes."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from courses.records import MoodleCourse
from deficits.records import Competency, QuizAttempt, QuizInfo, Teacher
from lms_connectors.exceptions import InvalidRequest
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle import parse
from lms_connectors.moodle.base import APIBase, parsing, positive
from lms_connectors.moodle.records import (
    DEFAULT_PROFILE_FIELDS,
    Framework,
    ProfileFields,
    QuizGrade,
    QuizSlot,
    SiteInfo,
)

logger = logging.getLogger(__name__)

# fullname is required in the answer's structure: leaving it out fails Moodle's validation.
ENROLLED_USER_FIELDS = "id,username,firstname,lastname,fullname,email,idnumber,customfields,roles"
ATTEMPT_STATUSES = frozenset({"all", "finished", "unfinished"})
COURSE_FIELDS = frozenset({"id", "ids", "shortname", "idnumber", "category", "sectionid"})


class ReadOperations(APIBase):
    """Reads of the diagnostic pull; all are retried by the client after a transient failure."""

    def site_info(self) -> SiteInfo:
        """Describe the site, the token's user and its functions (``userprivateaccesskey`` dropped).

        Raises:
            InvalidToken: The token is unknown.
            MoodleUnavailable: Wrong URL, or the site is down.
        """
        body = self._call(fn.SITE_INFO, None, dict)
        with parsing(fn.SITE_INFO):
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

        The plugin's functions are not required by default: pass ``fn.PLUGIN_FUNCTIONS`` to
        check whether the ProfRoute Moodle plugin is installed and in the service.

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
        positive(fn.ENROLLED_USERS, course_id=course_id, page_size=page_size)
        return self._enrolled_pages(course_id, fields, page_size, only_active)

    def _enrolled_pages(
        self, course_id: int, fields: ProfileFields, page_size: int, only_active: bool
    ) -> Iterator[Teacher]:
        offset, seen = 0, set[int]()
        while True:
            options: list[dict[str, object]] = [
                {"name": "userfields", "value": ENROLLED_USER_FIELDS}]
            if only_active:
                options.append({"name": "onlyactive", "value": 1})
            options += [
                {"name": "limitfrom", "value": offset},
                {"name": "limitnumber", "value": page_size},
            ]
            page = self._call(fn.ENROLLED_USERS, {"courseid": course_id, "options": options}, list)
            with parsing(fn.ENROLLED_USERS):
                teachers = [parse.teacher(user, fields) for user in page]
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
        with parsing(fn.COURSES_BY_FIELD):
            return [parse.course(c) for c in body["courses"] if c.get("format") != "site"]

    def course_competencies(self, course_id: int) -> list[Competency]:
        """Return the competencies linked to a course, in the course's order.

        Raises:
            RecordNotFound: unknown course; AccessDenied: competencies not viewable.
        """
        positive(fn.COURSE_COMPETENCIES, course_id=course_id)
        body = self._call(fn.COURSE_COMPETENCIES, {"id": course_id}, list)
        with parsing(fn.COURSE_COMPETENCIES):
            return [parse.competency(row["competency"], {}) for row in body]

    def frameworks(self) -> list[Framework]:
        """Return the competency frameworks of the system context and below.

        Raises:
            AccessDenied: the WS user lacks moodle/competency:competencyview.
        """
        params = {"sort": "shortname", "context": {"contextid": 1}, "includes": "children"}
        body = self._call(fn.COMPETENCY_FRAMEWORKS, params, list)
        with parsing(fn.COMPETENCY_FRAMEWORKS):
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
        positive(fn.COMPETENCIES, framework_id=framework_id)
        params = {
            "filters": [{"column": "competencyframeworkid", "value": framework_id}],
            "sort": "sortorder",
        }
        body = self._call(fn.COMPETENCIES, params, list)
        with parsing(fn.COMPETENCIES):
            parents = {int(c["id"]): str(c.get("idnumber") or "") for c in body}
            return [parse.competency(c, parents, framework_idnumber) for c in body]

    def quizzes(self, course_ids: Sequence[int]) -> list[QuizInfo]:
        """Return the quizzes of the given courses.

        Raises:
            InvalidRequest: no course id (Moodle would silently answer only the courses the
                WS user is enrolled in), or an id that is not a positive int.
        """
        ids = list(course_ids)
        if not ids:
            raise InvalidRequest("course_ids is empty", function=fn.QUIZZES_BY_COURSES)
        positive(fn.QUIZZES_BY_COURSES, **{f"course_ids[{i}]": c for i, c in enumerate(ids)})
        body = self._call(fn.QUIZZES_BY_COURSES, {"courseids": ids}, dict)
        with parsing(fn.QUIZZES_BY_COURSES):
            return [parse.quiz(q) for q in body["quizzes"]]

    def user_attempts(
        self, quiz_id: int, user_id: int, status: str = "finished"
    ) -> list[QuizAttempt]:
        """Return a user's attempts of a quiz (``all``, ``finished`` or ``unfinished``).

        Previews are never included. An in-progress attempt has ``sumgrades`` None.

        Raises:
            InvalidRequest: bad ids or status; AccessDenied: quiz not accessible.
        """
        positive(fn.USER_ATTEMPTS, quiz_id=quiz_id, user_id=user_id)
        if status not in ATTEMPT_STATUSES:
            raise InvalidRequest(
                f"status {status!r} is not one of {sorted(ATTEMPT_STATUSES)}",
                function=fn.USER_ATTEMPTS,
            )
        params: dict[str, Any] = {"quizid": quiz_id, "userid": user_id}
        if status != "finished":  # Moodle's default; omitted as Moodle's own clients do
            params["status"] = status
        body = self._call(fn.USER_ATTEMPTS, params, dict)
        with parsing(fn.USER_ATTEMPTS):
            return [parse.attempt(a) for a in body["attempts"]]

    def attempt_review(self, attempt_id: int) -> QuizAttempt:
        """Return one attempt with its per-slot marks (all pages).

        Raises:
            RecordNotFound: unknown attempt; AccessDenied: review not allowed.
        """
        positive(fn.ATTEMPT_REVIEW, attempt_id=attempt_id)
        body = self._call(fn.ATTEMPT_REVIEW, {"attemptid": attempt_id}, dict)
        with parsing(fn.ATTEMPT_REVIEW):
            slots = tuple(parse.slot(q) for q in body.get("questions") or [])
            return parse.attempt(body["attempt"], slots)

    def quiz_slots(self, quiz_id: int) -> list[QuizSlot]:
        """Return every slot of a quiz with its question's id, idnumber, category and tags.

        Needs the ProfRoute Moodle plugin (``local_profroute_get_quiz_slots``).

        Raises:
            InvalidRequest: ``quiz_id`` not a positive int.
            RecordNotFound: the plugin is not installed (Moodle answers an unknown function
                with ``invalidrecord``) or the quiz does not exist.
            FunctionNotInService: the plugin is installed but its function is not in the service.
        """
        positive(fn.PLUGIN_QUIZ_SLOTS, quiz_id=quiz_id)
        body = self._call(fn.PLUGIN_QUIZ_SLOTS, {"quizid": quiz_id}, dict)
        with parsing(fn.PLUGIN_QUIZ_SLOTS):
            return [parse.quiz_slot(s) for s in body["slots"]]

    def quiz_grade_changes(self, course_id: int, quiz_cmid: int | None = None) -> list[QuizGrade]:
        """Return every user's gradebook grade of the course's quizzes in ONE call.

        Args:
            course_id: The diagnostic course.
            quiz_cmid: Only this quiz (course module id); None for every quiz.

        Raises:
            InvalidRequest: bad ids; AccessDenied: the WS user may not view all grades.
        """
        positive(fn.GRADE_ITEMS, course_id=course_id)

        def grades_of(user: dict[str, Any]) -> list[QuizGrade]:
            return [parse.quiz_grade(int(user["userid"]), item)
                    for item in user.get("gradeitems") or []
                    if item.get("itemmodule") == "quiz" and quiz_cmid in (None, item.get("cmid"))]

        with parsing(fn.GRADE_ITEMS):  # streamed: one user's items at a time in memory
            per_user = self.client.call_items(fn.GRADE_ITEMS, {"courseid": course_id},
                                              "usergrades.item", grades_of)
        return [grade for grades in per_user for grade in grades]
