"""Scheduled faults for the fault harness (``/_sandbox/schedule``, ``save``, ``restore``,
``contents``): which call of which function fails, and how.

A schedule names calls of the service token by function and rank since it was set
(``{"function": "enrol_manual_enrol_users", "nth": 2, "mode": "reset"}``). A *before* mode
answers instead of Moodle, so nothing is done; an *after* mode lets Moodle do the call and
then loses its answer, so the client cannot tell whether the write happened:

- ``http500``, ``http503``: an HTML error page with that status (PHP fatal, proxy);
- ``exception``: HTTP 200 with Moodle's ``dml_read_exception``/``dml_write_exception`` body;
- ``revoke``: the token is deleted: this and every later call answers ``invalidtoken``;
- ``reset``: the answer is cut in the middle of its body and the connection closed;
- ``timeout``: the answer comes ``stall`` seconds late, after the client gave up;
- ``hold``: the answer waits until the schedule is cleared (the harness kills the client).

``bad_users`` are user ids that no longer exist for ``enrol_manual_enrol_users``: a batch
holding one is refused whole with the PHP ``TypeError`` Moodle answers (see ``errors``).
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from . import errors, protocol
from .errors import MoodleError
from .store import Site

BEFORE_MODES = ("http500", "http503", "exception", "revoke")
AFTER_MODES = ("reset", "timeout", "hold")
SCHEDULE_MODES = BEFORE_MODES + AFTER_MODES
REST_PATH = "/webservice/rest/server.php"
ENROL = "enrol_manual_enrol_users"
_UNSAVED = ("lock", "call_counts")  # kept across a restore: the lock and the call counts
_PLAN_KEY = "moodle_sandbox_faults"

schedule_hooks = Blueprint("sandbox_faults", __name__)


@dataclass
class FaultPlan:
    """The current schedule, what it injected so far, and the saved site to restore."""

    schedule: dict[tuple[str, int], str] = field(default_factory=dict)
    bad_users: frozenset[int] = frozenset()
    stall: float = 1.0
    seen: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    revoked: bool = False
    held: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    saved: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def replace(self, body: dict[str, Any]) -> None:
        """Set a new schedule (an empty one clears it) and release held answers.

        Raises:
            ValueError: an entry is not ``{function, nth >= 1, mode}`` of a known mode.
        """
        schedule = dict(_entries(body.get("faults", [])))
        bad = body.get("bad_users", [])
        stall = body.get("stall", 1.0)
        if not isinstance(bad, list) or not all(_positive(u) for u in bad):
            raise ValueError("bad_users must be a list of positive user ids")
        if not isinstance(stall, int | float) or isinstance(stall, bool) or stall < 0:
            raise ValueError("stall must be a non-negative number of seconds")
        self.release.set()
        with self.lock:
            self.schedule, self.bad_users, self.stall = schedule, frozenset(bad), float(stall)
            self.seen, self.injected = Counter(), Counter()
            self.revoked, self.held, self.release = False, 0, threading.Event()

    def take(self, function: str, users: Iterator[int]) -> str | None:
        """Count a call of ``function`` and return the fault it meets, if any."""
        with self.lock:
            self.seen[function] += 1
            mode = self.schedule.get((function, self.seen[function]))
            if mode == "revoke" or (mode is None and self.revoked):
                self.revoked, mode = True, "revoke"
            elif mode is None and function == ENROL and self.bad_users.intersection(users):
                mode = "badrow"
            if mode is not None:
                self.injected[mode] += 1
            return mode

    def hold(self) -> None:
        """Keep an answer back until the schedule is replaced (at most a minute)."""
        with self.lock:
            self.held += 1
            release = self.release
        release.wait(60)

    def report(self) -> dict[str, Any]:
        """Calls seen per function, faults injected per mode, answers held now."""
        with self.lock:
            return {"seen": dict(self.seen), "injected": dict(self.injected),
                    "held": self.held, "revoked": self.revoked}


def _positive(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _entries(raw: object) -> Iterator[tuple[tuple[str, int], str]]:
    if not isinstance(raw, list):
        raise ValueError("faults must be a list")
    for entry in raw:
        if not isinstance(entry, dict):
            raise ValueError("a fault must be an object")
        function, nth, mode = entry.get("function"), entry.get("nth"), entry.get("mode")
        if not isinstance(function, str) or not _positive(nth) or mode not in SCHEDULE_MODES:
            raise ValueError(f"bad fault {entry!r}: function, nth >= 1 and one of "
                             f"{', '.join(SCHEDULE_MODES)}")
        yield (function, nth), str(mode)


@schedule_hooks.record_once
def _install(state: BlueprintSetupState) -> None:
    state.app.extensions[_PLAN_KEY] = FaultPlan()


def _plan() -> FaultPlan:
    plan: FaultPlan = current_app.extensions[_PLAN_KEY]
    return plan


def _site() -> Site:
    site: Site = current_app.extensions["moodle_sandbox"].site
    return site


@schedule_hooks.before_app_request
def _before_call() -> Response | None:
    """Answer a scheduled *before* fault instead of Moodle; note an *after* one."""
    if request.path != REST_PATH:
        return None
    controls = current_app.extensions["moodle_sandbox"]
    if request.values.get("wstoken") != controls.token:
        return None
    function = request.values.get("wsfunction", "")
    mode = _plan().take(function, _enrolled_users(function))
    if mode is None or mode in AFTER_MODES:
        g.sandbox_fault = mode
        return None
    controls.count(function)
    return _before_answer(mode, function)


def _enrolled_users(function: str) -> Iterator[int]:
    if function != ENROL:
        return
    for key, value in request.form.items(multi=True):
        if key.startswith("enrolments[") and key.endswith("[userid]") and value.isdigit():
            yield int(value)


def _before_answer(mode: str, function: str) -> Response:
    if mode in ("http500", "http503"):
        status = int(mode[4:])
        return Response(f"<h1>{status} Server Error</h1>", status=status, mimetype="text/html")
    if mode == "revoke":
        error = errors.invalid_token()
    elif mode == "badrow":
        error = errors.enrol_unknown_user()
    else:
        error = _dml_exception(function)
    return Response(protocol.error_json(error), status=200, mimetype="application/json")


def _dml_exception(function: str) -> MoodleError:
    """What Moodle answers when its database fails under a call (HTTP 200, rolled back)."""
    if "_get_" in function or "_list_" in function or "_search_" in function:
        return MoodleError("dml_read_exception", "Error reading from database",
                           "dmlreadexception")
    return MoodleError("dml_write_exception", "Error writing to database", "dmlwriteexception")


@schedule_hooks.after_app_request
def _after_call(response: Response) -> Response:
    """Lose the answer of a call Moodle did: cut it, delay it or hold it."""
    mode = g.pop("sandbox_fault", None)
    if mode == "timeout":
        time.sleep(_plan().stall)
    elif mode == "hold":
        _plan().hold()
    elif mode == "reset":
        return _cut(response)
    return response


def _cut(response: Response) -> Response:
    """The answer's headers with its full length, then half its body, then a closed socket."""
    body = response.get_data()
    cut = Response(iter([body[: len(body) // 2]]), status=response.status_code,
                   content_type=response.content_type)
    cut.headers["Content-Length"] = str(len(body))
    cut.headers["Connection"] = "close"
    return cut


@schedule_hooks.route("/schedule", methods=["GET", "POST"])
def schedule() -> ResponseReturnValue:
    """Set the schedule (POST ``{"faults": [...], "bad_users": [...], "stall": 1.0}``; an
    empty body clears it) or read what it injected (GET).

    :raise 400: a bad entry, with the reason.
    """
    plan = _plan()
    if request.method == "POST":
        try:
            plan.replace(request.get_json(silent=True) or {})
        except ValueError as err:
            return jsonify(error=str(err)), 400
    return jsonify(plan.report())


@schedule_hooks.post("/save")
def save() -> ResponseReturnValue:
    """Keep a copy of the whole site for ``/restore``."""
    site = _site()
    with site.lock:
        _plan().saved = {f.name: copy.deepcopy(getattr(site, f.name))
                         for f in dataclasses.fields(site) if f.name not in _UNSAVED}
    return jsonify(saved=True)


@schedule_hooks.post("/restore")
def restore() -> ResponseReturnValue:
    """Put the site back as ``/save`` found it.

    :raise 409: nothing was saved.
    """
    site, saved = _site(), _plan().saved
    if saved is None:
        return jsonify(error="nothing saved"), 409
    with site.lock:
        for name, value in saved.items():
            setattr(site, name, copy.deepcopy(value))
    return jsonify(restored=True)


@schedule_hooks.get("/contents")
def contents() -> ResponseReturnValue:
    """Everything a push writes: enrolments, cohort and group members, calendar events,
    learning plans, competency evidence and messages."""
    site = _site()
    with site.lock:
        users_of = {uc.id: (uc.userid, uc.competencyid)
                    for uc in site.user_competencies.values()}
        return jsonify(
            enrolments=[dataclasses.asdict(e) for e in site.enrolments.values()],
            cohorts=[{"idnumber": c.idnumber, "members": sorted(c.members),
                      "size": len(c.members)} for c in site.cohorts.values()],
            groups=[{"id": gr.id, "courseid": gr.courseid, "idnumber": gr.idnumber,
                     "members": sorted(gr.members)} for gr in site.groups.values()],
            events=[{"name": e.name, "courseid": e.courseid, "groupid": e.groupid,
                     "timestart": e.timestart, "timeduration": e.timeduration}
                    for e in site.events.values()],
            plans=[{"userid": p.userid, "name": p.name, "competencies": p.competencies}
                   for p in site.plans.values()],
            evidence=[{"user_competency": users_of.get(e.usercompetencyid), "grade": e.grade,
                       "note": e.note} for e in site.evidence],
            messages=[{"touserid": m.touserid, "text": m.text} for m in site.messages])
