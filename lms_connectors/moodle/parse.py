"""Parsers from Moodle's decoded answers to records; callers wrap them in ``base.parsing``."""

from __future__ import annotations

import re
from typing import Any

from courses.records import CourseCompletion, MoodleCourse
from deficits.records import (
    GRADE_HIGHEST,
    Competency,
    ItemMark,
    QuizAttempt,
    QuizInfo,
    SlotMark,
    Teacher,
)
from lms_connectors.moodle.base import float_or_none, int_or_none
from lms_connectors.moodle.records import (
    CalendarEvent,
    Cohort,
    CompetencyRating,
    Group,
    MoodleWarning,
    Plan,
    ProfileFields,
    QuizGrade,
    QuizSlot,
)


def teacher(user: dict[str, Any], fields: ProfileFields) -> Teacher:
    """A user of ``core_enrol_get_enrolled_users`` with its profile fields."""
    custom = {f["shortname"]: f.get("value") for f in user.get("customfields") or []}

    def field(shortname: str) -> str | None:
        value = custom.get(shortname)
        return (str(value).strip() or None) if value is not None else None

    subjects = re.split(r"[,;]", field(fields.subject) or "")
    return Teacher(
        moodle_user_id=int(user["id"]),
        username=str(user.get("username") or ""),
        lastname=str(user.get("lastname") or ""),
        firstname=str(user.get("firstname") or ""),
        middlename=str(user.get("middlename") or ""),
        email=str(user.get("email") or ""),
        idnumber=str(user.get("idnumber") or ""),
        school_code=field(fields.school_code),
        school_name=field(fields.school_name),
        municipality=field(fields.municipality),
        subjects=tuple(s.strip() for s in subjects if s.strip()),
        roles=tuple(str(r["shortname"]) for r in user.get("roles") or []),
    )


def course(c: dict[str, Any]) -> MoodleCourse:
    """A course of ``core_course_get_courses_by_field``."""
    return MoodleCourse(
        course_id=int(c["id"]),
        shortname=str(c["shortname"]),
        fullname=str(c["fullname"]),
        category_id=int(c.get("categoryid") or 0),
        idnumber=str(c.get("idnumber") or ""),
        startdate=int(c.get("startdate") or 0),
        enddate=int(c.get("enddate") or 0),
        visible=bool(c.get("visible", 1)),
        enrolment_methods=tuple(str(m) for m in c.get("enrollmentmethods") or ()),
    )


def competency(c: dict[str, Any], parents: dict[int, str],
               framework_idnumber: str = "") -> Competency:
    """A competency; ``group`` is its parent's idnumber."""
    return Competency(
        idnumber=str(c["idnumber"]),
        name=str(c["shortname"]),
        group=parents.get(int(c.get("parentid") or 0), ""),
        moodle_id=int(c["id"]),
        framework_idnumber=framework_idnumber,
    )


def quiz(q: dict[str, Any]) -> QuizInfo:
    """A quiz of ``mod_quiz_get_quizzes_by_courses``."""
    return QuizInfo(
        quiz_id=int(q["id"]),
        cmid=int(q["coursemodule"]),
        course_id=int(q["course"]),
        name=str(q["name"]),
        grademethod=int(q.get("grademethod") or GRADE_HIGHEST),
        sumgrades=float(q.get("sumgrades") or 0),
        grade=float(q.get("grade") or 0),
        attempts_allowed=int(q.get("attempts") or 0),
    )


def attempt(a: dict[str, Any], slots: tuple[SlotMark, ...] = ()) -> QuizAttempt:
    """An attempt with its grade item marks (and slot marks from a review)."""
    return QuizAttempt(
        attempt_id=int(a["id"]),
        quiz_id=int(a["quiz"]),
        user_id=int(a["userid"]),
        attempt_no=int(a["attempt"]),
        state=str(a["state"]),
        time_start=int(a.get("timestart") or 0),
        time_finish=int(a.get("timefinish") or 0),
        sumgrades=float_or_none(a.get("sumgrades")),
        item_marks=tuple(
            ItemMark(name=str(m["name"]), grade=float(m["grade"]), maxgrade=float(m["maxgrade"]))
            for m in a.get("gradeitemmarks") or []
        ),
        slot_marks=slots,
    )


def slot(q: dict[str, Any]) -> SlotMark:
    """A question of ``mod_quiz_get_attempt_review``.

    ``mark`` is formatted text ("1.00"; "" when not graded); the decimal separator follows
    the WS user's language, so "1,00" is possible.
    """
    mark = str(q.get("mark") or "").replace(",", ".").replace(" ", "").replace("\xa0", "")
    return SlotMark(
        slot=int(q["slot"]),
        mark=float(mark) if mark else None,
        maxmark=float(q.get("maxmark") or 0),
        question_type=str(q.get("type") or ""),
    )


def quiz_grade(user_id: int, item: dict[str, Any]) -> QuizGrade:
    """A quiz grade item of ``gradereport_user_get_grade_items``."""
    return QuizGrade(
        user_id=user_id,
        quiz_id=int(item["iteminstance"]),
        cmid=int(item.get("cmid") or 0),
        grade_raw=float_or_none(item.get("graderaw")),
        grade_max=float(item.get("grademax") or 0),
        date_submitted=int_or_none(item.get("gradedatesubmitted")),
        date_graded=int_or_none(item.get("gradedategraded")),
    )


def warning(w: dict[str, Any]) -> MoodleWarning:
    """One entry of ``warnings[]``."""
    return MoodleWarning(
        warningcode=str(w["warningcode"]),
        message=str(w.get("message") or ""),
        item=str(w.get("item") or ""),
        itemid=int_or_none(w.get("itemid")),
    )


def cohort(c: dict[str, Any]) -> Cohort:
    """A cohort of ``core_cohort_search_cohorts`` / ``core_cohort_create_cohorts``."""
    return Cohort(
        cohort_id=int(c["id"]),
        idnumber=str(c.get("idnumber") or ""),
        name=str(c["name"]),
        description=str(c.get("description") or ""),
        visible=bool(c.get("visible", True)),
    )


def group(g: dict[str, Any]) -> Group:
    """A group of ``core_group_get_course_groups`` / ``core_group_create_groups``."""
    return Group(
        group_id=int(g["id"]),
        course_id=int(g["courseid"]),
        name=str(g["name"]),
        idnumber=str(g.get("idnumber") or ""),
        description=str(g.get("description") or ""),
    )


def event(e: dict[str, Any]) -> CalendarEvent:
    """An event; ``courseid``/``groupid`` come back null for some events (read as 0)."""
    return CalendarEvent(
        event_id=int(e["id"]),
        name=str(e["name"]),
        eventtype=str(e["eventtype"]),
        course_id=int(e.get("courseid") or 0),
        group_id=int(e.get("groupid") or 0),
        user_id=int(e.get("userid") or 0),
        timestart=int(e["timestart"]),
        timeduration=int(e.get("timeduration") or 0),
        description=str(e.get("description") or ""),
    )


def plan(p: dict[str, Any]) -> Plan:
    """A learning plan (``plan_exporter``)."""
    return Plan(
        plan_id=int(p["id"]),
        user_id=int(p["userid"]),
        name=str(p["name"]),
        status=int(p["status"]),
        duedate=int(p.get("duedate") or 0),
        template_id=int_or_none(p.get("templateid")),
        description=str(p.get("description") or ""),
    )


def completion_status(course_id: int, user_id: int, status: dict[str, Any]) -> CourseCompletion:
    """``completionstatus`` of ``core_completion_get_course_completion_status``.

    ``progress`` is the share of criteria met (percent); ``time_completed`` the latest
    criterion completion time once the course is completed (Moodle does not return the
    course's own completion time here).
    """
    items = status.get("completions") or []
    done = [c for c in items if c.get("complete")]
    completed = bool(status["completed"])
    times = [int(c["timecompleted"]) for c in done if c.get("timecompleted")]
    return CourseCompletion(
        user_id=user_id,
        course_id=course_id,
        completed=completed,
        progress=100.0 * len(done) / len(items) if items else None,
        time_completed=max(times) if completed and times else None,
    )


def quiz_slot(s: dict[str, Any]) -> QuizSlot:
    """A slot of ``local_profroute_get_quiz_slots``."""
    return QuizSlot(
        slot=int(s["slot"]),
        page=int(s["page"]),
        question_id=int(s["questionid"]),
        qtype=str(s["qtype"]),
        name=str(s.get("name") or ""),
        idnumber=str(s.get("idnumber") or ""),
        category_id=int(s["categoryid"]),
        category_idnumber=str(s.get("categoryidnumber") or ""),
        category_name=str(s.get("categoryname") or ""),
        maxmark=float(s["maxmark"]),
        tags=tuple(str(t) for t in s.get("tags") or []),
    )


def plugin_completion(c: dict[str, Any]) -> CourseCompletion:
    """A completion of ``local_profroute_get_completions`` (always completed)."""
    return CourseCompletion(
        user_id=int(c["userid"]),
        course_id=int(c["courseid"]),
        completed=True,
        time_completed=int(c["timecompleted"]),
    )


def plugin_rating(row: dict[str, Any]) -> CompetencyRating:
    """One user competency of ``local_profroute_get_user_competencies``."""
    proficiency = row.get("proficiency")
    return CompetencyRating(
        user_id=int(row["userid"]), competency_id=int(row["competencyid"]),
        idnumber=str(row.get("idnumber") or ""),
        proficient=None if proficiency is None else bool(proficiency),
        grade=int_or_none(row.get("grade")), time_modified=int(row.get("timemodified") or 0))


def plan_rating(row: dict[str, Any]) -> CompetencyRating | None:
    """The rating in one row of ``core_competency_list_plan_competencies``, None if unrated.

    An active or draft plan gives the live ``usercompetency`` (``id`` 0 while the user was
    never rated); a completed plan gives the frozen ``usercompetencyplan``.
    """
    held = row.get("usercompetency") or row.get("usercompetencyplan") or {}
    competency = row["competency"]
    if not held or not int(held.get("id") or 0) or held.get("grade") is None:
        return None
    proficiency = held.get("proficiency")
    return CompetencyRating(
        user_id=int(held["userid"]), competency_id=int(competency["id"]),
        idnumber=str(competency.get("idnumber") or ""),
        proficient=None if proficiency is None else bool(proficiency),
        grade=int_or_none(held.get("grade")), time_modified=int(held.get("timemodified") or 0))
