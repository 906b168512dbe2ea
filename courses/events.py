"""Domain events the edges report about courses: activity completions and enrolment changes.

The Moodle pull and the xAPI pull both produce these frozen values; ``CourseCompletion`` lives in
``courses.records``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EnrolmentKind = Literal["created", "deleted", "suspended", "resumed"]
ENROLMENT_KINDS: tuple[str, ...] = ("created", "deleted", "suspended", "resumed")


@dataclass(frozen=True)
class ActivityCompletion:
    """A teacher's completion state of one course module changed.

    ``completed`` is False when the activity went back to incomplete. ``time`` is a unix time.
    """

    user_id: int
    course_id: int
    cmid: int
    completed: bool
    time: int


@dataclass(frozen=True)
class EnrolmentChange:
    """A teacher's enrolment in a course was created, deleted, suspended or resumed."""

    user_id: int
    course_id: int
    kind: EnrolmentKind
    time: int

    def __post_init__(self) -> None:
        """Refuse a kind outside ``ENROLMENT_KINDS``."""
        if self.kind not in ENROLMENT_KINDS:
            raise ValueError(f"unknown enrolment change kind {self.kind!r}")
