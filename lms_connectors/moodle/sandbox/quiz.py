"""Handlers for the diagnostic quiz: quizzes, a user's attempts, an attempt's review."""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .context import Context
from .store import Attempt, Question, Quiz

_STATUSES = {"finished": ("finished", "abandoned"), "unfinished": ("inprogress", "overdue"),
             "all": ("finished", "abandoned", "inprogress", "overdue")}
_MULTICHOICE_SETTINGS = json.dumps(
    {"shuffleanswers": "1", "answernumbering": "123", "showstandardinstruction": "0", "layout": 1},
    separators=(",", ":"),
)


def get_quizzes_by_courses(ctx: Context, params: dict[str, Any]) -> Any:
    """``mod_quiz_get_quizzes_by_courses``; without courseids only the WS user's courses."""
    site = ctx.site
    courseids = params["courseids"] or [
        c for (u, c) in site.enrolments if u == ctx.userid
    ]
    warnings = [
        {"item": "course", "itemid": cid, "warningcode": "1",
         "message": "No access rights in course context"}
        for cid in courseids if cid not in site.courses
    ]
    quizzes = [
        _quiz(q) for q in sorted(site.quizzes.values(), key=lambda q: q.id)
        if q.course in courseids
    ]
    return {"quizzes": quizzes, "warnings": warnings}


def _quiz(quiz: Quiz) -> dict[str, Any]:
    review = 69904
    return {
        "id": quiz.id, "coursemodule": quiz.cmid, "course": quiz.course, "name": quiz.name,
        "intro": quiz.intro, "introformat": 1, "introfiles": [], "section": 1, "visible": True,
        "groupmode": 0, "groupingid": 0, "lang": "", "timeopen": 0, "timeclose": 0,
        "timelimit": 0, "overduehandling": "autosubmit", "graceperiod": 86400,
        "preferredbehaviour": "deferredfeedback", "canredoquestions": 0,
        "attempts": quiz.attempts, "attemptonlast": 0, "grademethod": quiz.grademethod,
        "decimalpoints": 2, "questiondecimalpoints": -1, "reviewattempt": review,
        "reviewcorrectness": review, "reviewmaxmarks": review, "reviewmarks": review,
        "reviewspecificfeedback": review, "reviewgeneralfeedback": review,
        "reviewrightanswer": review, "reviewoverallfeedback": 4368,
        "questionsperpage": quiz.questionsperpage, "navmethod": "free",
        "sumgrades": _num(quiz.sumgrades), "grade": _num(quiz.grade), "browsersecurity": "",
        "delay1": 0, "delay2": 0, "showuserpicture": 0, "showblocks": 0,
        "completionattemptsexhausted": 0, "completionpass": 0, "allowofflineattempts": 0,
        "autosaveperiod": 60, "hasfeedback": 0, "hasquestions": 1,
    }


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def attempt_data(quiz: Quiz, attempt: Attempt) -> dict[str, Any]:
    """An attempt as ``mod_quiz_get_user_attempts`` returns it, with ``gradeitemmarks``."""
    sumgrades = attempt.sumgrades
    return {
        "id": attempt.id, "quiz": attempt.quiz, "userid": attempt.userid,
        "attempt": attempt.attempt, "uniqueid": attempt.id, "layout": quiz.layout,
        "currentpage": 0, "preview": 0, "state": attempt.state,
        "timestart": attempt.timestart, "timefinish": attempt.timefinish,
        "timemodified": attempt.timemodified, "timemodifiedoffline": 0,
        "timecheckstate": None, "sumgrades": None if sumgrades is None else _num(sumgrades),
        "gradeitemmarks": _item_marks(quiz, attempt),
        "gradednotificationsenttime": attempt.gradednotificationsenttime,
    }


def _item_marks(quiz: Quiz, attempt: Attempt) -> list[dict[str, Any]]:
    marks = []
    for index, name in enumerate(quiz.grade_items):
        slots = [q.slot for q in quiz.questions if q.competency == index]
        grade = sum(attempt.marks[s - 1] or 0.0 for s in slots)
        marks.append({"name": name, "grade": _num(grade), "maxgrade": len(slots)})
    return marks


def get_user_attempts(ctx: Context, params: dict[str, Any]) -> Any:
    """``mod_quiz_get_user_attempts`` (status finished, unfinished or all).

    Raises:
        MoodleError: ``invalidrecord`` for an unknown quiz or user, ``invalidparameter``
            for an unknown status, ``nopermissions`` for another user's attempts without
            ``mod/quiz:viewreports``.
    """
    site = ctx.site
    quiz = site.quizzes.get(params["quizid"])
    if quiz is None:
        raise errors.missing_record("quiz")
    userid = params["userid"] or ctx.userid
    if userid not in site.users:
        raise errors.missing_record("user")
    if userid != ctx.userid:
        ctx.require("mod/quiz:viewreports")  # another user's attempts
    states = _STATUSES.get(params["status"])
    if states is None:
        raise errors.invalid_parameter()
    attempts = [a for a in site.user_attempts(quiz.id, userid) if a.state in states]
    return {"attempts": [attempt_data(quiz, a) for a in attempts], "warnings": []}


def get_attempt_review(ctx: Context, params: dict[str, Any]) -> Any:
    """``mod_quiz_get_attempt_review``: marks per slot, ``""`` while not graded.

    Raises:
        MoodleError: ``invalidrecord`` for an unknown attempt; another user's attempt
            without ``mod/quiz:viewreports``: ``noreviewattempt``, or ``nopermissions``
            naming ``mod/quiz:reviewmyattempts`` when that is missing too.
    """
    site = ctx.site
    attempt = site.attempts.get(params["attemptid"])
    if attempt is None:
        raise errors.missing_record("quiz_attempts")
    if attempt.userid != ctx.userid and not ctx.can("mod/quiz:viewreports"):
        ctx.require("mod/quiz:reviewmyattempts")
        raise errors.moodle_exception("noreviewattempt",
                                      "You are not allowed to review this attempt.")
    quiz = site.quizzes[attempt.quiz]
    per_page = quiz.questionsperpage or len(quiz.questions)
    questions = [
        _question(ctx, attempt, q, (q.slot - 1) // per_page) for q in quiz.questions
        if params["page"] < 0 or (q.slot - 1) // per_page == params["page"]
    ]
    sumgrades = attempt.sumgrades
    grade = None if sumgrades is None else sumgrades / quiz.sumgrades * quiz.grade
    return {"grade": grade, "attempt": attempt_data(quiz, attempt), "additionaldata": [],
            "questions": questions, "warnings": []}


def _question(ctx: Context, attempt: Attempt, question: Question, page: int) -> dict[str, Any]:
    mark = attempt.marks[question.slot - 1]
    if mark is None:
        state, stateclass, status, shown = "complete", "answersaved", "Answer saved", ""
    elif mark >= 1:
        state, stateclass, status, shown = "gradedright", "correct", "Correct", f"{mark:.2f}"
    else:
        state, stateclass, status, shown = "gradedwrong", "incorrect", "Incorrect", f"{mark:.2f}"
    return {
        "slot": question.slot, "type": question.qtype, "page": page,
        "questionnumber": str(question.slot), "number": question.slot,
        "responsefileareas": [], "sequencecheck": 2 if mark is None else 3,
        "lastactiontime": attempt.timemodified, "hasautosavedstep": False, "flagged": False,
        "state": state, "stateclass": stateclass, "status": status,
        "blockedbyprevious": False, "mark": shown, "maxmark": 1,
        "settings": _MULTICHOICE_SETTINGS if question.qtype == "multichoice" else None,
        "html": _html(attempt, question, stateclass, status, shown),
    }


def _html(attempt: Attempt, question: Question, stateclass: str, status: str, mark: str) -> str:
    grade = f"Mark {mark} out of 1.00" if mark else "Marked out of 1.00"
    return (
        f'<div id="question-{attempt.id}-{question.slot}" class="que {question.qtype} '
        f'deferredfeedback {stateclass}"><div class="info"><h3 class="no">Question '
        f'<span class="qno">{question.slot}</span></h3><div class="state">{status}</div>'
        f'<div class="grade">{grade}</div></div><div class="content"><div class="formulation '
        f'clearfix"><div class="qtext"><p>{question.text}</p></div></div></div></div>'
    )
