"""Test hooks outside the Moodle protocol (``/_sandbox/``), guarded by ``X-Sandbox-Token``."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from . import seed_after
from .faults import schedule_hooks
from .quiz import attempt_data
from .seed_catalog import QUIZ_ID
from .store import Site

FAULT_MODES = ("http500", "html", "timeout", "invalidtoken", "nopermissions")

hooks = Blueprint("sandbox_hooks", __name__, url_prefix="/_sandbox")


@dataclass
class Controls:
    """Latency, injected faults and call counters of a running sandbox."""

    site: Site
    token: str
    timeout_seconds: float = 30.0
    latency_ms: int = 0
    faults: dict[str, deque[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, function: str) -> None:
        """Count one call of ``function`` (whatever its outcome)."""
        with self.lock:
            self.site.call_counts[function] += 1

    def delay(self, started: float) -> None:
        """Make a call that began at ``started`` (``time.perf_counter()``) last the injected
        latency: a real Moodle's time per call includes its own work, so the sandbox's work
        counts towards it rather than adding to it."""
        if self.latency_ms > 0:
            time.sleep(max(0.0, started + self.latency_ms / 1000 - time.perf_counter()))

    def take_fault(self, function: str) -> str | None:
        """Pop the next pending fault of ``function``, if any."""
        with self.lock:
            pending = self.faults.get(function)
            return pending.popleft() if pending else None


def _controls() -> Controls:
    controls: Controls = current_app.extensions["moodle_sandbox"]
    given = request.headers.get("X-Sandbox-Token", "")
    if not hmac.compare_digest(given.encode(), controls.token.encode()):
        abort(403)
    return controls


@hooks.get("/state")
def state() -> ResponseReturnValue:
    """Enrolments, messages and call counts.

    :raise 403: without the right ``X-Sandbox-Token``.
    """
    controls = _controls()
    site = controls.site
    with site.lock:
        enrolments = [
            {"userid": e.userid, "courseid": e.courseid, "roleid": e.roleid,
             "timestart": e.timestart, "timeend": e.timeend, "suspend": e.status,
             "timecreated": e.timecreated}
            for e in sorted(site.enrolments.values(), key=lambda e: (e.courseid, e.userid))
        ]
        messages = [
            {"id": m.id, "useridfrom": m.useridfrom, "touserid": m.touserid, "text": m.text,
             "textformat": m.textformat, "clientmsgid": m.clientmsgid,
             "timecreated": m.timecreated}
            for m in site.messages
        ]
    with controls.lock:
        calls = dict(site.call_counts)
        faults = {k: len(v) for k, v in controls.faults.items() if v}
    return jsonify(enrolments=enrolments, messages=messages, calls=calls,
                   latency_ms=controls.latency_ms, faults=faults)


@hooks.post("/latency")
def latency() -> ResponseReturnValue:
    """Set the per-call latency: ``{"ms": 50}``.

    :raise 400: when ``ms`` is not a non-negative integer.
    """
    controls = _controls()
    ms = (request.get_json(silent=True) or {}).get("ms")
    if not isinstance(ms, int) or isinstance(ms, bool) or ms < 0:
        abort(400)
    controls.latency_ms = ms
    return jsonify(latency_ms=ms)


@hooks.post("/faults")
def faults() -> ResponseReturnValue:
    """Fail the next N calls of a function: ``{"function", "mode", "times"}``.

    :raise 400: for an unknown mode or a bad count.
    """
    controls = _controls()
    body: dict[str, Any] = request.get_json(silent=True) or {}
    function, mode, times = body.get("function"), body.get("mode"), body.get("times", 1)
    if not isinstance(function, str) or mode not in FAULT_MODES:
        abort(400)
    if not isinstance(times, int) or isinstance(times, bool) or times < 0:
        abort(400)
    with controls.lock:
        controls.faults[function] = deque([mode] * times)
    return jsonify(function=function, mode=mode, times=times)


@hooks.post("/attempts")
def add_attempt() -> ResponseReturnValue:
    """Add a finished attempt: ``{"userid", "marks": [0/1 per slot] | "fraction": 0.7}``.

    ``quizid`` defaults to the diagnostic quiz, ``timefinish`` to now.

    :raise 400: for an unknown user or quiz, or marks of the wrong length.
    """
    controls = _controls()
    site = controls.site
    body: dict[str, Any] = request.get_json(silent=True) or {}
    quiz = site.quizzes.get(body.get("quizid", QUIZ_ID))
    if quiz is None or body.get("userid") not in site.users:
        abort(400)
    marks = body.get("marks")
    if marks is None:
        correct = round(float(body.get("fraction", 1.0)) * len(quiz.questions))
        marks = [1.0 if i < correct else 0.0 for i in range(len(quiz.questions))]
    if not isinstance(marks, list) or len(marks) != len(quiz.questions):
        abort(400)
    attempt = site.add_attempt(quiz.id, body["userid"], [float(m) for m in marks],
                               int(body.get("timefinish") or site.now()))
    return jsonify(attempt_data(quiz, attempt)), 201


@hooks.post("/completions")
def complete_course() -> ResponseReturnValue:
    """Mark every activity of a course done for a user: ``{"userid", "courseid"}``.

    The course then counts as completed, like after Moodle's completion task.

    :raise 400: for an unknown user or course, or a user not enrolled in it.
    """
    site = _controls().site
    body: dict[str, Any] = request.get_json(silent=True) or {}
    course_id = body.get("courseid")
    course = site.courses.get(course_id) if isinstance(course_id, int) else None
    userid = body.get("userid")
    if course is None or userid not in site.users or (userid, course.id) not in site.enrolments:
        abort(400)
    when = int(body.get("time") or site.now())
    with site.lock:
        site.completions[(userid, course.id)] = {
            cmid: when for cmid, _ in course.activities}
    return jsonify(userid=userid, courseid=course.id, timecompleted=when), 201


@hooks.post("/final")
def retake_final() -> ResponseReturnValue:
    """Time passes: the final diagnostic's attempts are drawn again, after the courses
    teachers completed since the seed (``seed_after.retake_final``).

    :raise 409: the site was seeded without a final diagnostic.
    """
    site = _controls().site
    try:
        attempts = seed_after.retake_final(site)
    except ValueError as exc:
        abort(409, description=str(exc))
    return jsonify(attempts=attempts), 201


# Scheduled faults of the fault harness (faults.py): the same token guard, under /_sandbox/.
@schedule_hooks.before_request
def _guard_schedule_hooks() -> None:
    """Refuse a schedule hook without the right ``X-Sandbox-Token`` (403)."""
    _controls()


hooks.register_blueprint(schedule_hooks)


def init_app(app: Flask) -> None:
    """Register the hooks on an app."""
    app.register_blueprint(hooks)
