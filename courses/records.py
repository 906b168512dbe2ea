"""Records the edges and the app hand to matching: offers, completions, deficits to cover."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

COURSE = "course"
INTERNSHIP = "internship"
MENTORING = "mentoring"
OFFER_KINDS = (COURSE, INTERNSHIP, MENTORING)


@dataclass(frozen=True)
class MoodleCourse:
    """A Moodle course as ProfRoute sees it: a possible PD offer or the diagnostic's course."""

    course_id: int
    shortname: str
    fullname: str
    category_id: int
    idnumber: str = ""
    startdate: int = 0
    enddate: int = 0
    visible: bool = True
    competencies: tuple[str, ...] = ()  # competency idnumbers linked to the course
    enrolment_methods: tuple[str, ...] = ()  # e.g. ("manual", "self")


@dataclass(frozen=True)
class CourseCompletion:
    """Whether a teacher completed a Moodle course (``core_enrol_get_users_courses``)."""

    user_id: int
    course_id: int
    completed: bool
    progress: float | None = None
    time_completed: int | None = None


@dataclass(frozen=True)
class Offer:
    """Something that closes deficits: a PD course, an internship or mentoring.

    ``seats`` is ``None`` for no limit. ``host_school`` is the school code of the resource
    centre hosting an internship or mentoring.
    """

    key: str
    kind: str
    title: str
    competencies: tuple[str, ...]
    moodle_course_id: int | None = None
    host_school: str | None = None
    seats: int | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    hours: int | None = None
    subjects: tuple[str, ...] = ()  # empty: any subject


@dataclass(frozen=True)
class DeficitNeed:
    """One teacher's deficit (or risk) in one competency, to be covered by an offer."""

    teacher_id: int
    school_code: str | None
    competency: str
    level: str  # "deficit" | "risk"
    score: float


@dataclass(frozen=True)
class Proposal:
    """A proposed route item: an offer for a teacher and the reasons behind it."""

    teacher_id: int
    offer_key: str
    competencies: tuple[str, ...]
    rule: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unmatched:
    """A need no offer could cover, with why (no offer for the competency, no seats left)."""

    teacher_id: int
    competency: str
    reason: str
