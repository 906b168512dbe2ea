"""In-memory state of the sandbox Moodle site: users, courses, enrolments, attempts, messages…"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .store_push import CalendarEvent, Cohort, Evidence, Plan, UserCompetency

# Course group modes (lib/grouplib.php:29-39 of Moodle 4.5).
NOGROUPS, SEPARATEGROUPS, VISIBLEGROUPS = 0, 1, 2
STUDENT_ROLE = 5
EDITING_TEACHER_ROLE = 3
ROLE_SHORTNAMES = {STUDENT_ROLE: "student", EDITING_TEACHER_ROLE: "editingteacher"}
PROFILE_FIELDS = {  # shortname -> (type, display name), in Moodle's field order
    "schoolcode": ("text", "Код образовательной организации"),
    "schoolname": ("text", "Образовательная организация"),
    "municipality": ("text", "Муниципалитет"),
    "subject": ("menu", "Преподаваемый предмет"),
}


@dataclass
class User:
    """A Moodle user; ``profile`` holds only the custom fields that have a value."""

    id: int
    username: str
    firstname: str
    lastname: str
    middlename: str = ""
    email: str = ""
    idnumber: str = ""
    department: str = ""
    institution: str = ""
    city: str = ""
    auth: str = "manual"
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def fullname(self) -> str:
        """Moodle's default fullname format (no patronymic)."""
        return f"{self.firstname} {self.lastname}"


@dataclass
class Category:
    """A course category."""

    id: int
    name: str
    idnumber: str


@dataclass
class Course:
    """A course with its completion set-up (``activities`` are ``(cmid, name)``).

    ``groupmode`` is the course's group mode (``NOGROUPS`` as in the recordings);
    ``visible`` False is a course hidden from students.
    """

    id: int
    shortname: str
    fullname: str
    idnumber: str
    category: int
    summary: str
    startdate: int
    enddate: int
    sortorder: int
    timemodified: int
    has_criteria: bool = True
    activities: list[tuple[int, str]] = field(default_factory=list)
    competencies: list[int] = field(default_factory=list)
    context_id: int = 0
    groupmode: int = NOGROUPS
    visible: bool = True


@dataclass
class Enrolment:
    """A manual enrolment with its role; ``status`` 0 active, 1 suspended."""

    userid: int
    courseid: int
    roleid: int
    timestart: int = 0
    timeend: int = 0
    status: int = 0
    timecreated: int = 0

    def is_active(self, now: int) -> bool:
        """Active, started and not ended (what ``onlyactive`` keeps)."""
        return (
            self.status == 0
            and (self.timestart == 0 or self.timestart <= now)
            and (self.timeend == 0 or self.timeend > now)
        )


@dataclass
class Group:
    """A course group (one per school in every seeded course)."""

    id: int
    courseid: int
    name: str
    description: str
    members: set[int] = field(default_factory=set)
    idnumber: str = ""


@dataclass
class Competency:
    """A competency of the framework."""

    id: int
    idnumber: str
    shortname: str
    description: str
    sortorder: int


@dataclass
class Question:
    """A quiz slot: its competency index, type and text."""

    slot: int
    competency: int
    qtype: str
    text: str


@dataclass
class Quiz:
    """A quiz with grade items (one per competency) and its slots."""

    id: int
    cmid: int
    course: int
    name: str
    intro: str
    grade: float
    attempts: int
    grademethod: int
    questionsperpage: int
    questions: list[Question] = field(default_factory=list)
    grade_items: list[str] = field(default_factory=list)

    @property
    def sumgrades(self) -> float:
        """Total marks: one per question."""
        return float(len(self.questions))

    @property
    def layout(self) -> str:
        """Moodle's attempt layout string: slots by page, each page ended by 0."""
        slots = [q.slot for q in self.questions]
        per = self.questionsperpage or len(slots)
        pages = [slots[i : i + per] for i in range(0, len(slots), per)]
        return ",".join(",".join(map(str, page)) + ",0" for page in pages)


@dataclass
class Attempt:
    """A quiz attempt; ``marks`` per slot, ``None`` while in progress."""

    id: int
    quiz: int
    userid: int
    attempt: int
    state: str
    timestart: int
    timefinish: int
    timemodified: int
    marks: list[float | None]
    gradednotificationsenttime: int | None = None

    @property
    def sumgrades(self) -> float | None:
        """Raw total, ``None`` unless finished."""
        if self.state != "finished":
            return None
        return float(sum(m or 0.0 for m in self.marks))


@dataclass
class Message:
    """An instant message as stored by Moodle."""

    id: int
    useridfrom: int
    touserid: int
    text: str
    textformat: int
    clientmsgid: str | None
    timecreated: int
    conversationid: int


@dataclass
class Site:
    """The whole sandbox site, guarded by ``lock`` (the server is threaded)."""

    sitename: str
    shortname: str
    users: dict[int, User] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    courses: dict[int, Course] = field(default_factory=dict)
    enrolments: dict[tuple[int, int], Enrolment] = field(default_factory=dict)
    groups: dict[int, Group] = field(default_factory=dict)
    competencies: dict[int, Competency] = field(default_factory=dict)
    quizzes: dict[int, Quiz] = field(default_factory=dict)
    attempts: dict[int, Attempt] = field(default_factory=dict)
    completions: dict[tuple[int, int], dict[int, int]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    conversations: dict[frozenset[int], int] = field(default_factory=dict)
    cohorts: dict[int, Cohort] = field(default_factory=dict)
    events: dict[int, CalendarEvent] = field(default_factory=dict)
    plans: dict[int, Plan] = field(default_factory=dict)
    user_competencies: dict[tuple[int, int], UserCompetency] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    # What the seed drew the final diagnostic's attempts from (random state, teachers,
    # skills): ``/_sandbox/final`` draws them again after the courses completed since.
    final_takers: tuple[Any, list[int], dict[int, list[float]]] | None = None
    ws_userid: int = 0
    limited_userid: int = 0
    methodologist_id: int = 0
    framework_created: int = 0
    call_counts: Counter[str] = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @staticmethod
    def now() -> int:
        """The site clock (unix seconds)."""
        return int(time.time())

    def course_enrolments(self, courseid: int) -> list[Enrolment]:
        """Enrolments of a course, by user id."""
        found = [e for (_, c), e in self.enrolments.items() if c == courseid]
        return sorted(found, key=lambda e: e.userid)

    def user_enrolments(self, userid: int) -> list[Enrolment]:
        """Enrolments of a user, in the site's course order (category, sortorder)."""
        found = [e for (u, _), e in self.enrolments.items() if u == userid]
        return sorted(found, key=lambda e: self.courses[e.courseid].sortorder)

    def user_groups(self, courseid: int, userid: int) -> list[Group]:
        """Groups of a course the user belongs to."""
        return [g for g in self.groups.values() if g.courseid == courseid and userid in g.members]

    def user_attempts(self, quizid: int, userid: int) -> list[Attempt]:
        """Attempts of one user at one quiz, oldest first."""
        found = [a for a in self.attempts.values() if a.quiz == quizid and a.userid == userid]
        return sorted(found, key=lambda a: a.attempt)

    def add_attempt(self, quizid: int, userid: int, marks: list[float], timefinish: int) -> Attempt:
        """Add a finished attempt (the ``/_sandbox/attempts`` hook and the seed use it)."""
        with self.lock:
            number = len(self.user_attempts(quizid, userid)) + 1
            attempt = Attempt(
                id=max(self.attempts, default=0) + 1, quiz=quizid, userid=userid,
                attempt=number, state="finished", timestart=timefinish - 1500,
                timefinish=timefinish, timemodified=timefinish, marks=list(marks),
                gradednotificationsenttime=timefinish + 60,
            )
            self.attempts[attempt.id] = attempt
            return attempt
