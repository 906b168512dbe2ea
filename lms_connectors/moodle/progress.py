"""Reads of progress: course completion (per user, per course and user, plugin: since a time)
and Moodle's own competency ratings (plugin: one framework in one call)."""

from __future__ import annotations

from collections.abc import Sequence

from courses.records import CourseCompletion
from lms_connectors.exceptions import MoodleAPIError
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle import parse
from lms_connectors.moodle.base import APIBase, float_or_none, id_list, parsing, positive, unix_time
from lms_connectors.moodle.records import CompetencyRating


class ProgressOperations(APIBase):
    """Where teachers stand in their PD courses."""

    def user_courses(self, user_id: int) -> list[CourseCompletion]:
        """Return the completion state of every course a user is actively enrolled in.

        Suspended and not-yet-started enrolments are left out by Moodle.

        Raises:
            InvalidRequest: ``user_id`` not a positive int.
        """
        positive(fn.USERS_COURSES, user_id=user_id)
        params = {"userid": user_id, "returnusercount": False}  # counting costs Moodle a query
        body = self._call(fn.USERS_COURSES, params, list)
        with parsing(fn.USERS_COURSES):
            return [
                CourseCompletion(
                    user_id=user_id,
                    course_id=int(c["id"]),
                    completed=bool(c.get("completed") or False),
                    progress=float_or_none(c.get("progress")),
                )
                for c in body
            ]

    def course_completion(self, course_id: int, user_id: int) -> CourseCompletion | None:
        """Return one user's completion of one course, criterion by criterion.

        ``progress`` is the percentage of criteria met; ``time_completed`` the latest
        criterion time once completed. Returns None when the course has no completion
        criteria (``nocriteriaset``): there is nothing to complete, so no state to report.

        Raises:
            InvalidRequest: an id that is not a positive int.
            NotEnrolled: the user is not enrolled in the course (``usernotenroled``; a
                subclass of RecordNotFound). Raised, not None, so that a teacher who was
                unenrolled is told apart from a course without criteria.
            RecordNotFound: unknown course or user.
        """
        positive(fn.COURSE_COMPLETION, course_id=course_id, user_id=user_id)
        params = {"courseid": course_id, "userid": user_id}
        try:
            body = self._call(fn.COURSE_COMPLETION, params, dict)
        except MoodleAPIError as err:
            if err.errorcode == "nocriteriaset":
                return None
            raise
        with parsing(fn.COURSE_COMPLETION):
            return parse.completion_status(course_id, user_id, body["completionstatus"])

    def completions_since(self, course_ids: Sequence[int], since: int) -> list[CourseCompletion]:
        """Return the course completions of the given courses completed AFTER ``since``.

        One call for every teacher (``local_profroute_get_completions`` of the ProfRoute
        Moodle plugin), ordered by completion time; each record is ``completed`` with
        ``time_completed`` set (strictly greater than ``since``: pass the last time seen).
        Courses the plugin cannot answer (unknown, the site home page, not viewable) are
        left out with a warning, which the client logs.

        Raises:
            InvalidRequest: no course id, a bad id, or ``since`` not a unix time.
            RecordNotFound: the plugin is not installed (unknown function).
            FunctionNotInService: the plugin's function is not in the service.
        """
        ids = id_list(fn.PLUGIN_COMPLETIONS, "course_ids", course_ids, self._max_rows(1))
        unix_time(fn.PLUGIN_COMPLETIONS, since=since)
        params: dict[str, object] = {"courseids": ids}
        if since:  # 0 is the plugin's default
            params["since"] = since
        body = self._call(fn.PLUGIN_COMPLETIONS, params, dict)
        with parsing(fn.PLUGIN_COMPLETIONS):
            return [parse.plugin_completion(c) for c in body["completions"]]

    def ratings_since(self, framework_id: int, since: int = 0,
                      user_ids: Sequence[int] = ()) -> list[CompetencyRating]:
        """Return Moodle's ratings of users in one framework's competencies, modified AFTER
        ``since`` (``local_profroute_get_user_competencies`` of the ProfRoute plugin).

        One call for every user (or only ``user_ids``), ordered by time modified; a user
        competency that exists but is not rated has ``proficient`` None.

        Raises:
            InvalidRequest: a bad id, or ``since`` not a unix time.
            RecordNotFound: unknown framework, or the plugin (version 1.1+) not installed.
            AccessDenied: the WS user lacks moodle/competency:usercompetencyview.
            FunctionNotInService: the plugin's function is not in the service.
        """
        f = fn.PLUGIN_USER_COMPETENCIES
        positive(f, framework_id=framework_id)
        unix_time(f, since=since)
        params: dict[str, object] = {"frameworkid": framework_id}
        if user_ids:
            params["userids"] = id_list(f, "user_ids", user_ids, self._max_rows(1))
        if since:
            params["since"] = since
        body = self._call(f, params, dict)
        with parsing(f):
            return [parse.plugin_rating(row) for row in body["usercompetencies"]]
