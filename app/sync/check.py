"""check-moodle: is everything ProfRoute needs there, and if not, exactly what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.common.moodle import profile_fields
from app.extensions import db
from app.models import Offer
from app.settings import Settings, SettingsError
from app.sync import silent
from app.sync.structure import find_course, find_quiz
from courses.records import MoodleCourse
from deficits.mapping import competency_of_item, competency_of_question
from deficits.records import QuizInfo, Teacher
from lms_connectors.exceptions import AccessDenied, ConnectorError
from lms_connectors.moodle import functions as fn
from lms_connectors.moodle.api import MoodleAPI

MIN_VERSION, TESTED_VERSION = 2022112800, 2024100700  # Moodle 4.1 LTS … 4.5
SERVICE_PAGE = ("Site administration › Server › Web services › External services › "
                "ProfRoute › Functions")
ROLE_PAGE, PLUGIN_UPGRADE = silent.ROLE_PAGE, silent.PLUGIN_UPGRADE


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


@dataclass
class Site:
    """What the checks learnt so far."""

    functions: frozenset[str] = frozenset()
    course: MoodleCourse | None = None
    quiz: QuizInfo | None = None
    known: set[str] = field(default_factory=set)
    teachers: list[Teacher] = field(default_factory=list)


def check_moodle(api: MoodleAPI, settings: Settings) -> CheckReport:
    """Site, version, functions, capabilities, diagnostic, profile fields, target courses.

    In every target course it probes the reads the push makes there before it writes
    (active enrolments, groups, group members, calendar events), so a role that would make
    the push write blind is caught here, with the missing capability named; and the reads
    Moodle would answer short WITHOUT an error (a course in separate groups mode without
    ``moodle/site:accessallgroups``, users hidden without ``moodle/user:viewdetails``).

    Never raises for a Moodle-side problem: each becomes a failed line saying what to fix.
    """
    report, site = CheckReport(), Site()
    try:
        info = api.site_info()
    except ConnectorError as err:
        report.add("site", False, str(err))
        return report
    site.functions = info.functions
    report.add("site", True, f"{info.sitename} ({info.siteurl}), Moodle {info.release}")
    _check_version(report, info.version)
    _check_functions(report, info.functions)
    if _guard(report, "diagnostic", lambda: _check_diagnostic(api, settings, report, site)):
        _guard(report, "profile fields", lambda: _check_fields(settings, report, site))
        _guard(report, "quiz mapping", lambda: _check_mapping(api, report, site))
        _check_capabilities(api, report, site)
    _guard(report, "target courses", lambda: _check_target_courses(api, settings, report, site))
    return report


def _check_version(report: CheckReport, raw: str) -> None:
    version = int(str(raw or "0")[:10] or 0)
    if version < MIN_VERSION:
        report.add("version", False, f"Moodle version {raw} is older than 4.1 LTS "
                   "(2022112800): upgrade Moodle")
    else:
        note = "" if version <= TESTED_VERSION else " (newer than 4.5, the newest tested)"
        report.add("version", True, f"Moodle version {raw}: supported{note}")


def _check_functions(report: CheckReport, functions: frozenset[str]) -> None:
    missing = sorted(fn.REQUIRED_FUNCTIONS - functions)
    report.add("functions", not missing,
               "all required web-service functions are in the token's service" if not missing
               else f"add to the token's service ({SERVICE_PAGE}), or install the ProfRoute "
               "plugin which predefines it: " + ", ".join(missing))
    absent = sorted(fn.PLUGIN_FUNCTIONS - functions)
    if not absent:
        text = "the ProfRoute plugin's functions are available"
    elif absent == [fn.PLUGIN_USER_COMPETENCIES]:
        text = ("ProfRoute plugin older than 1.1: upgrade it to read Moodle's competency "
                "ratings in one call (now read from learning plans on full syncs): "
                + absent[0])
    else:
        text = ("optional ProfRoute plugin not installed (one completion call per teacher; "
                "quizzes without grade items need a slot table; ratings read from learning "
                "plans): " + ", ".join(absent))
    report.add("plugin", True, text)


def _check_diagnostic(api: MoodleAPI, settings: Settings, report: CheckReport,
                      site: Site) -> None:
    site.course = find_course(api, settings.diagnostic_course)
    report.add("diagnostic course", True, f"{site.course.shortname}: {site.course.fullname}")
    site.quiz = find_quiz(api, settings, site.course)
    report.add("diagnostic quiz", True, f"{site.quiz.quiz_id}: {site.quiz.name}")
    site.known = {c.idnumber for c in api.course_competencies(site.course.course_id)}
    report.add("competencies", bool(site.known),
               f"{len(site.known)} competencies linked to the course" if site.known else
               "link the framework's competencies to the diagnostic course "
               "(Course › More › Competencies)")
    blind = silent.check_blind(api, report.add, {site.course.shortname: site.course.course_id})
    site.teachers = [t for t in api.enrolled_users(
        site.course.course_id, fields=profile_fields(settings), page_size=settings.page_size)
        if settings.student_role in t.roles]
    report.add("teachers", bool(site.teachers),
               f"{len(site.teachers)} users hold the role '{settings.student_role}'"
               if site.teachers else f"nobody holds the role '{settings.student_role}' in "
               "the diagnostic course: enrol the teachers or set PROFROUTE_STUDENT_ROLE"
               + ("" if blind else "; Moodle also hides users silently from a role without "
                  f"{silent.VIEW_DETAILS}"))
    silent.check_known_users(api, report.add)


def _check_fields(settings: Settings, report: CheckReport, site: Site) -> None:
    fields = {settings.field_school_code: lambda t: t.school_code,
              settings.field_school_name: lambda t: t.school_name,
              settings.field_subject: lambda t: t.subjects}
    for shortname, value in fields.items():
        filled = sum(1 for t in site.teachers if value(t))
        report.add(f"profile field {shortname}", filled > 0,
                   f"filled for {filled} of {len(site.teachers)} teachers" if filled else
                   f"no teacher has the custom profile field '{shortname}': create it "
                   "(Site administration › Users › User profile fields) and fill it, or "
                   "name the field holding it in the settings (PROFROUTE_FIELD_*)")


def _check_mapping(api: MoodleAPI, report: CheckReport, site: Site) -> None:
    assert site.quiz is not None
    for teacher in site.teachers:
        attempts = [a for a in api.user_attempts(site.quiz.quiz_id, teacher.moodle_user_id)
                    if a.is_scorable]
        if attempts and attempts[0].item_marks:
            unmapped = [i.name for i in attempts[0].item_marks
                        if competency_of_item(i.name, site.known) is None]
            report.add("grade items", not unmapped,
                       f"{len(attempts[0].item_marks)} grade items map to competencies"
                       if not unmapped else "rename these quiz grade items so their first "
                       "word is a competency idnumber: " + "; ".join(unmapped))
            return
        if attempts:
            break
    if fn.PLUGIN_QUIZ_SLOTS not in site.functions:
        report.add("grade items", False, "the quiz has no grade items (or no finished attempt "
                   "yet): add one grade item per competency named «PK-01 …» (Moodle 4.3+: "
                   "Quiz › Questions › Grade items), install the ProfRoute plugin, or set "
                   "PROFROUTE_SLOT_MAP")
        return
    slots = api.quiz_slots(site.quiz.quiz_id)
    bad = [f"slot {s.slot} ({why})" for s in slots for _, why in
           [competency_of_question(s.category_idnumber, s.idnumber, s.tags, site.known)]
           if _ is None]
    report.add("quiz slots", not bad, f"{len(slots)} slots map to competencies through their "
               "questions" if not bad else "give these questions a category idnumber, "
               "idnumber or tag equal to a competency idnumber: " + "; ".join(bad))


def _check_capabilities(api: MoodleAPI, report: CheckReport, site: Site) -> None:
    assert site.course is not None and site.quiz is not None
    course, quiz = site.course.course_id, site.quiz.quiz_id
    user = site.teachers[0].moodle_user_id if site.teachers else 0
    probes: list[tuple[str, Callable[[], Any]]] = [
        (fn.GRADE_ITEMS, lambda: api.quiz_grade_changes(course)),
        (fn.USER_ATTEMPTS, lambda: api.user_attempts(quiz, user) if user else None),
        (fn.USERS_COURSES, lambda: api.user_courses(user) if user else None),
        (fn.SEARCH_COHORTS, lambda: api.cohort_by_idnumber("profroute-probe")),
        (fn.COURSE_GROUPS, lambda: api.course_groups(course)),
        (fn.CALENDAR_EVENTS, lambda: _calendar(api, course)),
        (fn.USER_PLANS, lambda: api.user_plans(user) if user else None),
        (fn.PLAN_COMPETENCIES, lambda: _plan_competencies(api, user)),
    ]
    denied = [_refusal(function, err) for function, err in _run_probes(site, probes)]
    report.add("capabilities", not denied,
               "read capabilities probed: all granted; write capabilities are used on the "
               "first push (the plugin's status page lists the role's capabilities)"
               if not denied else "; ".join(denied))


def _plan_competencies(api: MoodleAPI, user: int) -> object:
    plans = api.user_plans(user) if user else []
    return api.plan_competencies(plans[0].plan_id) if plans else None


def _check_target_courses(api: MoodleAPI, settings: Settings, report: CheckReport,
                          site: Site) -> None:
    courses = _check_courses(api, settings, report)
    for shortname, course in sorted(courses.items()):
        _probe_course(api, report, site, shortname, course.course_id)
    silent.check_blind(api, report.add, {s: c.course_id for s, c in courses.items()})


def _probe_course(api: MoodleAPI, report: CheckReport, site: Site, shortname: str,
                  course_id: int) -> None:
    """Every read the push makes in a course before it writes there, as the push makes it."""
    def group_members() -> object:
        groups = api.course_groups(course_id)
        return api.group_members([groups[0].group_id]) if groups else None

    probes: list[tuple[str, Callable[[], object]]] = [
        # without onlyactive, as the push reads: a suspended enrolment must be seen too
        (fn.ENROLLED_USERS, lambda: next(iter(api.enrolled_users(course_id, page_size=1)), None)),
        (fn.COURSE_GROUPS, lambda: api.course_groups(course_id)),
        (fn.GROUP_MEMBERS, group_members),
        (fn.CALENDAR_EVENTS, lambda: _calendar(api, course_id)),
    ]
    refused = [_refusal(function, err) for function, err in _run_probes(site, probes)]
    report.add(f"course {shortname}: reads", not refused,
               "the push's reads before it writes answer: enrolled users, groups, "
               "group members, calendar events" if not refused else "; ".join(refused))


def _calendar(api: MoodleAPI, course_id: int) -> object:
    """Moodle answers a course it refuses with a warning, not an error: read the warnings."""
    body = api.client.call(fn.CALENDAR_EVENTS, {
        "events": {"courseids": [course_id]},
        "options": {"userevents": False, "siteevents": False}})
    refused = [w for w in (body or {}).get("warnings", [])
               if isinstance(w, dict) and w.get("warningcode") == "nopermissions"]
    if refused:  # "No access rights in course context Course or activity not accessible."
        message = str(refused[0].get("message", "")).split("#0", 1)[0].strip()
        raise AccessDenied("requireloginerror", message, fn.CALENDAR_EVENTS)
    return body


def _run_probes(site: Site, probes: list[tuple[str, Callable[[], object]]]
                ) -> list[tuple[str, AccessDenied]]:
    denied = []
    for function, probe in probes:
        if function not in site.functions:
            continue
        try:
            probe()
        except AccessDenied as err:
            denied.append((function, err))
    return denied


def _refusal(function: str, err: AccessDenied) -> str:
    """What Moodle refused and how to fix it: the capability and where to grant it."""
    capability = fn.missing_capability(function, err.errorcode, err.message)
    if capability is None:
        return (f"{function} refused ({err.label}: {err.message}); it needs "
                f"{', '.join(fn.CAPABILITIES[function])}: allow them in the role "
                f"({ROLE_PAGE}), {PLUGIN_UPGRADE}")
    return (f"{function} refused ({err.label}): missing capability {capability}; allow it "
            f"in the role ({ROLE_PAGE}), {PLUGIN_UPGRADE}")


def _check_courses(api: MoodleAPI, settings: Settings,
                   report: CheckReport) -> dict[str, MoodleCourse]:
    courses = {c.shortname: c for c in api.courses_by_field("category", settings.pd_category)
               } if settings.pd_category else {}
    named = {name for name in db.session.scalars(select(Offer.moodle_course_shortname).where(
        Offer.moodle_course_shortname.is_not(None))) if name is not None}
    for shortname in sorted(named - set(courses)):
        found = api.courses_by_field("shortname", shortname)
        if found:
            courses[shortname] = found[0]
        else:
            report.add(f"course {shortname}", False, "named by the offers catalogue but not "
                       "found in Moodle: fix the shortname in offers.csv or create the course; "
                       "a hidden course is left out silently for a role without "
                       f"{silent.VIEW_HIDDEN_COURSES}: show the course or allow that "
                       f"capability ({ROLE_PAGE})")
    without = sorted(s for s, c in courses.items() if "manual" not in c.enrolment_methods)
    report.add("manual enrolment", not without,
               f"{len(courses)} target courses have manual enrolment" if not without else
               "add the «Manual enrolments» method (Course › Participants › Enrolment "
               "methods) to: " + ", ".join(without))
    return courses


def _guard(report: CheckReport, name: str, step: Callable[[], None]) -> bool:
    try:
        step()
    except (ConnectorError, SettingsError) as err:
        report.add(name, False, str(err))
        return False
    return True
