"""In-memory records of the push side: cohorts, calendar events, learning plans, ratings."""

from __future__ import annotations

from dataclasses import dataclass, field

PLAN_STATUS_NAMES = {0: "Draft", 1: "Active", 2: "Complete", 3: "Waiting for review",
                     4: "In review"}
SCALE = {1: "Not yet competent", 2: "Competent"}  # the default competence scale
PROFICIENT = {2}


@dataclass
class Cohort:
    """A cohort; ``contextid`` 1 is the system, others a course category's."""

    id: int
    name: str
    idnumber: str
    description: str = ""
    descriptionformat: int = 1
    visible: bool = True
    contextid: int = 1
    members: list[int] = field(default_factory=list)


@dataclass
class CalendarEvent:
    """A calendar event; ``courseid``/``groupid`` 0 when the type has none."""

    id: int
    name: str
    description: str
    format: int
    courseid: int
    groupid: int
    userid: int
    eventtype: str
    timestart: int
    timeduration: int
    visible: int
    sequence: int
    timemodified: int


@dataclass
class Plan:
    """A learning plan of one user and its competency ids (in the order added)."""

    id: int
    userid: int
    name: str
    description: str
    descriptionformat: int
    status: int
    duedate: int
    usermodified: int
    timecreated: int
    competencies: list[int] = field(default_factory=list)


@dataclass
class UserCompetency:
    """A user's rating of one competency (``grade`` None until rated)."""

    id: int
    userid: int
    competencyid: int
    grade: int | None = None
    timecreated: int = 0
    timemodified: int = 0
    usermodified: int = 0

    @property
    def proficiency(self) -> bool | None:
        """Whether the rating is proficient; None while not rated."""
        return None if self.grade is None else self.grade in PROFICIENT


@dataclass
class Evidence:
    """One evidence row of a user competency (every rating adds one)."""

    id: int
    usercompetencyid: int
    actionuserid: int
    grade: int | None
    note: str | None
    timecreated: int
