"""check-moodle: is everything ProfRoute needs there, and if not, what exactly to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.services.moodle import profile_fields
from app.services.sync_structure import find_course, find_quiz
from app.settings import Settings, SettingsError
from deficits.mapping import competency_of_item
from lms_connectors.exceptions import ConnectorError
from lms_connectors.moodle.api import MoodleAPI
from lms_connectors.moodle.functions import REQUIRED_FUNCTIONS

MIN_VERSION = 2022112800  # Moodle 4.1 LTS


@dataclass
class CheckLine:
    """One checked requirement: ok or not, and what to do about it."""

    name: str
    ok: bool
    detail: str


@dataclass
class CheckReport:
    """All checks of a Moodle site."""

    lines: list[CheckLine] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(line.ok for line in self.lines)

    def add(self, name: str, ok: bool, detail: str) -> bool:
        """Record a check; return whether it passed."""
        self.lines.append(CheckLine(name, ok, detail))
        return ok

    def as_dict(self) -> dict[str, object]:
        """JSON for the UI."""
        return {"ok": self.ok, "checks": [line.__dict__ for line in self.lines]}


def check_moodle(api: MoodleAPI, settings: Settings) -> CheckReport:
    """Check site, version, functions, the diagnostic course and quiz, and profile fields.

    Never raises for a Moodle-side problem: each becomes a failed line saying what to fix.
    """
    report = CheckReport()
    try:
        info = api.site_info()
    except ConnectorError as err:
        report.add("site", False, str(err))
        return report
    report.add("site", True, f"{info.sitename} ({info.siteurl}), Moodle {info.release}")
    version = int(str(info.version or "0")[:10] or 0)
    report.add("version", version >= MIN_VERSION,
               f"Moodle version {info.version}; ProfRoute supports 4.1 LTS (2022112800) and "
               "later" + ("" if version >= MIN_VERSION else ": upgrade Moodle"))
    missing = sorted(REQUIRED_FUNCTIONS - info.functions)
    report.add("functions", not missing,
               "all required web-service functions are in the token's service" if not missing
               else "add to the token's external service (Site administration › Server › "
               "Web services › External services › Functions): " + ", ".join(missing))
    _guard(report, "diagnostic", lambda: _check_diagnostic(api, settings, report))
    return report


def _check_diagnostic(api: MoodleAPI, settings: Settings, report: CheckReport) -> None:
    course = find_course(api, settings.diagnostic_course)
    report.add("diagnostic course", True, f"{course.shortname}: {course.fullname}")
    quiz = find_quiz(api, settings, course)
    report.add("diagnostic quiz", True, f"{quiz.quiz_id}: {quiz.name}")
    known = {c.idnumber for c in api.course_competencies(course.course_id)}
    report.add("competencies", bool(known),
               f"{len(known)} competencies linked to the course" if known else
               "link the framework's competencies to the diagnostic course "
               "(Course › More › Competencies)")
    teachers = api.enrolled_users(course.course_id, fields=profile_fields(settings),
                                  page_size=settings.page_size)
    sample = [t for t in teachers if settings.student_role in t.roles]
    with_school = sum(1 for t in sample if t.school_code)
    report.add("profile fields", with_school > 0,
               f"{with_school} of {len(sample)} teachers have '{settings.field_school_code}'"
               if with_school else
               f"no teacher has the custom profile field '{settings.field_school_code}': create "
               "it (Site administration › Users › User profile fields) or set "
               "PROFROUTE_FIELD_SCHOOL_CODE")
    for teacher in sample:
        attempts = [a for a in api.user_attempts(quiz.quiz_id, teacher.moodle_user_id)
                    if a.is_scorable]
        if attempts:
            _check_items(attempts[0].item_marks, known, report)
            return
    report.add("attempts", False, "no finished attempt of the diagnostic quiz yet")


def _check_items(items: tuple, known: set[str], report: CheckReport) -> None:  # type: ignore[type-arg]
    if not items:
        report.add("grade items", False, "the quiz has no grade items (Moodle 4.3+: Quiz › "
                   "Questions › Grade items, one per competency named «PK-01 …») — or upload a "
                   "slot → competency table")
        return
    unmapped = [i.name for i in items if competency_of_item(i.name, known) is None]
    report.add("grade items", not unmapped,
               f"{len(items)} grade items map to competencies" if not unmapped else
               "rename these quiz grade items so their first word is a competency idnumber: "
               + "; ".join(unmapped))


def _guard(report: CheckReport, name: str, step: Callable[[], None]) -> None:
    try:
        step()
    except (ConnectorError, SettingsError) as err:
        report.add(name, False, str(err))
