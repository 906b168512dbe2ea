"""Typed Moodle operations ProfRoute needs: validated parameters in, records out.

``MoodleAPI`` is the public facade; its operations live in one mixin per area
(``reads``, ``progress``, ``writes``, ``audiences``, ``planning``), its records in
``records`` and its answer parsers in ``parse``. The names imported here stay importable
from this module.
"""

from __future__ import annotations

from lms_connectors.moodle.audiences import AudienceOperations
from lms_connectors.moodle.base import DEFAULT_MAX_FIELDS, MAX_ENROLMENTS_PER_CALL
from lms_connectors.moodle.planning import PlanningOperations
from lms_connectors.moodle.progress import ProgressOperations
from lms_connectors.moodle.reads import (
    ATTEMPT_STATUSES,
    COURSE_FIELDS,
    ENROLLED_USER_FIELDS,
    ReadOperations,
)
from lms_connectors.moodle.records import (
    DEFAULT_PROFILE_FIELDS,
    PLAN_ACTIVE,
    PLAN_DRAFT,
    CalendarEvent,
    Cohort,
    Enrolment,
    EventSpec,
    Framework,
    Group,
    MoodleWarning,
    Plan,
    ProfileFields,
    QuizGrade,
    QuizSlot,
    SiteInfo,
)
from lms_connectors.moodle.writes import (
    TEXT_FORMATS,
    MessageResult,
    OutgoingMessage,
    WriteOperations,
)


class MoodleAPI(
    ReadOperations, ProgressOperations, WriteOperations, AudienceOperations, PlanningOperations
):
    """The Moodle operations of ProfRoute over any :class:`WebServiceCaller`.

    Every operation may also raise what ``MoodleClient.call`` raises: ``MoodleUnavailable``
    (no usable answer) and the ``MoodleAPIError`` subclasses (Moodle refused the call).
    Parameters are checked before sending (``InvalidRequest``), because Moodle's
    ``invalidparameter`` never says which parameter was wrong. Creates (cohorts, groups,
    events, plans) and ratings are not idempotent: each area's read-back helper comes first.

    Args:
        client: What sends the calls (``MoodleClient`` or a test fake).
        max_fields: The site's PHP ``max_input_vars``; no call is built with more fields.
    """


__all__ = [
    "ATTEMPT_STATUSES", "COURSE_FIELDS", "DEFAULT_MAX_FIELDS", "DEFAULT_PROFILE_FIELDS",
    "ENROLLED_USER_FIELDS", "MAX_ENROLMENTS_PER_CALL", "PLAN_ACTIVE", "PLAN_DRAFT",
    "TEXT_FORMATS", "CalendarEvent", "Cohort", "Enrolment", "EventSpec", "Framework", "Group",
    "MessageResult", "MoodleAPI", "MoodleWarning", "OutgoingMessage", "Plan", "ProfileFields",
    "QuizGrade", "QuizSlot", "SiteInfo",
]
