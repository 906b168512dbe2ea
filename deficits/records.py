"""Records the edges (Moodle web services, xAPI) hand to the deficit analytics.

Both the Moodle pull and the xAPI pull produce these frozen values, so the core
never depends on where a mark came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Teacher:
    """A Moodle user scored by a diagnostic, with the custom profile fields ProfRoute reads.

    A profile field left empty in Moodle is absent from its answer: it is ``None`` here,
    never ``""``.
    """

    moodle_user_id: int
    username: str
    lastname: str
    firstname: str
    middlename: str = ""
    email: str = ""
    idnumber: str = ""
    school_code: str | None = None
    school_name: str | None = None
    municipality: str | None = None
    subjects: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemMark:
    """One quiz grade item's marks in an attempt (Moodle 4.3+ ``gradeitemmarks``)."""

    name: str
    grade: float
    maxgrade: float


@dataclass(frozen=True)
class SlotMark:
    """One question slot's marks in a reviewed attempt (``mod_quiz_get_attempt_review``).

    ``mark`` is ``None`` when the question is not graded yet (e.g. an essay).
    """

    slot: int
    mark: float | None
    maxmark: float
    question_type: str = ""


@dataclass(frozen=True)
class QuizAttempt:
    """A quiz attempt with whatever marks Moodle gave for it.

    Only ``state == "finished"`` with a non-null ``sumgrades`` is ever scored.
    """

    attempt_id: int
    quiz_id: int
    user_id: int
    attempt_no: int
    state: str
    time_start: int
    time_finish: int
    sumgrades: float | None
    item_marks: tuple[ItemMark, ...] = ()
    slot_marks: tuple[SlotMark, ...] = ()

    @property
    def is_scorable(self) -> bool:
        """True for a finished attempt with a grade: the only kind that may be scored."""
        return self.state == "finished" and self.sumgrades is not None


@dataclass(frozen=True)
class Competency:
    """A competency of the framework: ``idnumber`` is its stable key (e.g. ``PK-01``)."""

    idnumber: str
    name: str
    group: str = ""
    moodle_id: int | None = None
    framework_idnumber: str = ""


@dataclass(frozen=True)
class Mark:
    """One scored piece of evidence: marks of one competency from one attempt.

    ``questions`` is how many questions this evidence stands for (slots: 1 per slot;
    grade items: the item's maximum in marks, see ARCHITECTURE section 8).
    """

    user_id: int
    competency: str
    attempt_id: int
    attempt_no: int
    sumgrades: float
    grade: float
    maxgrade: float
    questions: float = 1.0
    time_finish: int = 0


@dataclass(frozen=True)
class Thresholds:
    """Level thresholds as shares of the maximum (default below 50 % deficit, 50-70 % risk)."""

    deficit_below: float = 0.5
    risk_below: float = 0.7
    min_questions: float = 2.0


@dataclass(frozen=True)
class UnmappedSource:
    """A grade item or slot that maps to no competency: reported, never scored."""

    quiz_id: int
    kind: str  # "grade_item" | "slot"
    key: str
    users: tuple[int, ...] = field(default=())


# Moodle's quiz grading methods (mod_quiz ``grademethod``).
GRADE_HIGHEST = 1
GRADE_AVERAGE = 2
GRADE_FIRST = 3
GRADE_LAST = 4


@dataclass(frozen=True)
class QuizInfo:
    """A quiz as ``mod_quiz_get_quizzes_by_courses`` describes it."""

    quiz_id: int
    cmid: int
    course_id: int
    name: str
    grademethod: int = GRADE_HIGHEST
    sumgrades: float = 0.0
    grade: float = 0.0
    attempts_allowed: int = 0
