"""Frozen records the Moodle edge returns that are not core records (site, cohorts, plans…)."""

from __future__ import annotations

from dataclasses import dataclass

# Learning plan statuses (core_competency\plan::STATUS_*).
PLAN_DRAFT = 0
PLAN_ACTIVE = 1
PLAN_COMPLETE = 2
PLAN_WAITING_FOR_REVIEW = 3
PLAN_IN_REVIEW = 4

EVENT_COURSE = "course"
EVENT_GROUP = "group"


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


@dataclass(frozen=True)
class MoodleWarning:
    """One ``warnings[]`` entry of a partly successful call (``item``/``itemid`` may be absent)."""

    warningcode: str
    message: str
    item: str = ""
    itemid: int | None = None


@dataclass(frozen=True)
class Cohort:
    """A cohort (site-wide audience); ``idnumber`` is ProfRoute's key for reading it back."""

    cohort_id: int
    idnumber: str
    name: str
    description: str = ""
    visible: bool = True


@dataclass(frozen=True)
class Group:
    """A course group (``core_group_get_course_groups`` / ``core_group_create_groups``)."""

    group_id: int
    course_id: int
    name: str
    idnumber: str = ""
    description: str = ""


@dataclass(frozen=True)
class EventSpec:
    """A calendar event to create: a course event, or a group event when ``group_id`` is set.

    Times are unix seconds; ``timeduration`` 0 means a point in time.
    """

    name: str
    course_id: int
    timestart: int
    timeduration: int = 0
    group_id: int = 0
    description: str = ""

    @property
    def eventtype(self) -> str:
        """``group`` when the event targets a group, else ``course``."""
        return EVENT_GROUP if self.group_id else EVENT_COURSE


@dataclass(frozen=True)
class CalendarEvent:
    """A calendar event as Moodle stores it; ``course_id``/``group_id`` 0 when not set."""

    event_id: int
    name: str
    eventtype: str
    course_id: int
    group_id: int
    user_id: int
    timestart: int
    timeduration: int
    description: str = ""


@dataclass(frozen=True)
class Plan:
    """A learning plan of one user; ``status`` is one of the ``PLAN_*`` constants."""

    plan_id: int
    user_id: int
    name: str
    status: int
    duedate: int = 0
    template_id: int | None = None
    description: str = ""

    @property
    def active(self) -> bool:
        """True when the plan is active (competencies can be rated in it)."""
        return self.status == PLAN_ACTIVE


@dataclass(frozen=True)
class QuizSlot:
    """One quiz slot with its question's identity (``local_profroute_get_quiz_slots``)."""

    slot: int
    page: int
    question_id: int
    qtype: str
    name: str
    idnumber: str
    category_id: int
    category_idnumber: str
    category_name: str
    maxmark: float
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompetencyRating:
    """Moodle's rating of a user in a competency (a user competency).

    ``proficient`` and ``grade`` are None while the competency is not rated (e.g. only added
    to a plan, or waiting for review); ``time_modified`` is the user competency's time.
    """

    user_id: int
    competency_id: int
    idnumber: str
    proficient: bool | None
    grade: int | None
    time_modified: int
