"""Cohorts and course groups: read-back helpers first, then the writes they guard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lms_connectors.moodle import functions as fn
from lms_connectors.moodle import parse
from lms_connectors.moodle.base import (
    MAX_IDNUMBER,
    APIBase,
    id_list,
    members_map,
    parsing,
    positive,
    text,
)
from lms_connectors.moodle.records import Cohort, Group, MoodleWarning

SEARCH_PAGE = 25  # Moodle's default limitnum
SYSTEM_CONTEXT_ID = 1


class AudienceOperations(APIBase):
    """Cohorts (site-wide) and groups (per course).

    Creating either is not idempotent and Moodle has no idempotency key: look the record
    up by its idnumber first (:meth:`cohort_by_idnumber`, :meth:`course_groups`) and
    create only what is missing.
    """

    def cohort_by_idnumber(self, idnumber: str) -> Cohort | None:
        """Return the cohort with exactly this idnumber, or None.

        ``core_cohort_search_cohorts`` in the system context with ``includes=all`` (every
        category's cohorts too) matches name, idnumber and description by substring; the
        pages are read until the exact idnumber is found or the results end.

        Raises:
            InvalidRequest: empty or too long idnumber.
            AccessDenied: the WS user lacks moodle/cohort:view.
        """
        wanted = text(fn.SEARCH_COHORTS, "idnumber", idnumber, limit=MAX_IDNUMBER)
        offset = 0
        while True:
            params = {"query": wanted, "context": {"contextid": SYSTEM_CONTEXT_ID},
                      "includes": "all", "limitfrom": offset, "limitnum": SEARCH_PAGE}
            body = self._call(fn.SEARCH_COHORTS, params, dict)
            with parsing(fn.SEARCH_COHORTS):
                found = [parse.cohort(c) for c in body["cohorts"]]
            for cohort in found:
                if cohort.idnumber == wanted:
                    return cohort
            if len(found) < SEARCH_PAGE:
                return None
            offset += SEARCH_PAGE

    def create_cohort(self, idnumber: str, name: str, *, category_id: int | None = None,
                      description: str = "") -> Cohort:
        """Create a visible cohort in the system context, or in a course category.

        Not idempotent: a second call with the same idnumber fails. Call
        :meth:`cohort_by_idnumber` first.

        Raises:
            InvalidRequest: empty or too long idnumber or name, bad category id.
            InvalidParameter: the idnumber is taken, or the category does not exist
                (Moodle does not say which).
            AccessDenied: the WS user lacks moodle/cohort:manage.
        """
        key = text(fn.CREATE_COHORTS, "idnumber", idnumber, limit=MAX_IDNUMBER)
        title = text(fn.CREATE_COHORTS, "name", name)
        about = text(fn.CREATE_COHORTS, "description", description, limit=10_000,
                     required=False)
        if category_id is None:
            category = {"type": "system", "value": ""}
        else:
            positive(fn.CREATE_COHORTS, category_id=category_id)
            category = {"type": "id", "value": str(category_id)}
        row = {"categorytype": category, "name": title, "idnumber": key, "description": about,
               "descriptionformat": 1, "visible": True}
        body = self._call(fn.CREATE_COHORTS, {"cohorts": [row]}, list)
        with parsing(fn.CREATE_COHORTS):
            return parse.cohort(body[0])

    def add_cohort_members(self, cohort_id: int, user_ids: Sequence[int]) -> list[MoodleWarning]:
        """Add users to a cohort; return Moodle's warnings (also logged by the client).

        Partial success is normal: an existing member (warningcode ``3``), an unknown user
        or cohort (``2``) are warnings, the rest is added. Repeating is harmless.

        Raises:
            InvalidRequest: bad cohort id, empty, too long or repeated user ids.
        """
        positive(fn.ADD_COHORT_MEMBERS, cohort_id=cohort_id)
        ids = id_list(fn.ADD_COHORT_MEMBERS, "user_ids", user_ids, self._max_rows(4))
        members = [
            {"cohorttype": {"type": "id", "value": str(cohort_id)},
             "usertype": {"type": "id", "value": str(user_id)}}
            for user_id in ids
        ]
        body = self._call(fn.ADD_COHORT_MEMBERS, {"members": members}, dict)
        with parsing(fn.ADD_COHORT_MEMBERS):
            return [parse.warning(w) for w in body.get("warnings") or []]

    def cohort_members(self, cohort_ids: Sequence[int]) -> dict[int, set[int]]:
        """Return the member user ids of each cohort.

        Raises:
            InvalidRequest: empty, too long or repeated ids.
            RecordNotFound: an unknown cohort.
        """
        ids = id_list(fn.COHORT_MEMBERS, "cohort_ids", cohort_ids, self._max_rows(1))
        body = self._call(fn.COHORT_MEMBERS, {"cohortids": ids}, list)
        with parsing(fn.COHORT_MEMBERS):
            return members_map(body, "cohortid")

    def course_groups(self, course_id: int) -> list[Group]:
        """Return the groups of a course (Moodle sorts them by name).

        Raises:
            InvalidRequest: ``course_id`` not a positive int.
            AccessDenied: unknown course or no moodle/course:managegroups.
        """
        positive(fn.COURSE_GROUPS, course_id=course_id)
        body = self._call(fn.COURSE_GROUPS, {"courseid": course_id}, list)
        with parsing(fn.COURSE_GROUPS):
            return [parse.group(g) for g in body]

    def create_group(self, course_id: int, name: str, *, idnumber: str = "",
                     description: str = "") -> Group:
        """Create a group in a course.

        Not idempotent: the same name again fails with ``invalidparameter``, the same
        idnumber with ``idnumbertaken``. Look in :meth:`course_groups` first.

        Raises:
            InvalidRequest: bad course id, empty or too long name, too long idnumber.
            InvalidParameter: a group of that name exists in the course.
            MoodleAPIError: ``idnumbertaken``, the idnumber is used by another group.
            AccessDenied: ``errorcoursecontextnotvalid``, the course does not exist.
        """
        positive(fn.CREATE_GROUPS, course_id=course_id)
        row: dict[str, Any] = {
            "courseid": course_id,
            "name": text(fn.CREATE_GROUPS, "name", name),
            "description": text(fn.CREATE_GROUPS, "description", description, limit=10_000,
                                required=False),
            "descriptionformat": 1,
        }
        key = text(fn.CREATE_GROUPS, "idnumber", idnumber, limit=MAX_IDNUMBER, required=False)
        if key:
            row["idnumber"] = key
        body = self._call(fn.CREATE_GROUPS, {"groups": [row]}, list)
        with parsing(fn.CREATE_GROUPS):
            return parse.group(body[0])

    def add_group_members(self, group_id: int, user_ids: Sequence[int]) -> None:
        """Add users to a group; adding an existing member is silently accepted.

        Raises:
            InvalidRequest: bad group id, empty, too long or repeated user ids.
            InvalidParameter: a user is not enrolled in the group's course (nothing added).
            RecordNotFound: unknown group.
        """
        positive(fn.ADD_GROUP_MEMBERS, group_id=group_id)
        ids = id_list(fn.ADD_GROUP_MEMBERS, "user_ids", user_ids, self._max_rows(2))
        members = [{"groupid": group_id, "userid": user_id} for user_id in ids]
        self.client.call(fn.ADD_GROUP_MEMBERS, {"members": members})  # answers null

    def group_members(self, group_ids: Sequence[int]) -> dict[int, set[int]]:
        """Return the member user ids of each group.

        Raises:
            InvalidRequest: empty, too long or repeated ids.
            RecordNotFound: an unknown group (the whole call fails).
        """
        ids = id_list(fn.GROUP_MEMBERS, "group_ids", group_ids, self._max_rows(1))
        body = self._call(fn.GROUP_MEMBERS, {"groupids": ids}, list)
        with parsing(fn.GROUP_MEMBERS):
            return members_map(body, "groupid")
