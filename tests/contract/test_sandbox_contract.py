"""Contract: the sandbox answers every recorded call of its functions with Moodle's shapes.

Table-driven over the recordings (``PROFROUTE_RECORDINGS_DIR`` or
``<repo>/../shared/moodle-recordings/4.5``). Success answers must have the same keys, JSON
types and nesting as the recording; error answers must be the recorded body exactly.

Where the recorded site's ids mean something the seed does not reproduce (user 4 has two
attempts, attempt 17 is in progress...), ``SUBSTITUTIONS`` replaces the parameter by a seed
id of the same kind; ids that exist alike (courses 2-6, quiz 1, users 3-22, 99999 unknown)
are sent unchanged. Generic ``error_*`` recordings of functions the sandbox does not serve
are replayed on a served function with the same parameter (``REPLAYED_ON``). A recording
made on a state earlier calls built (a plan to add to, a group, an event to delete...) first
replays those calls (``PRELUDES``), so every recorded variant of every served function, success
and error, is checked. The plugin's functions (``local_profroute_*``) are checked against the
plugin's recordings in ``tests/plugin/recordings`` when they exist, and always against the
answer format the plugin documents (``PLUGIN_EXAMPLES``). The recordings made with the
token of ``ws_limited`` (the service, only ``webservice/rest:use``) are replayed with a
sandbox token holding exactly that role (``WITH_WS_LIMITED``) and must match exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lms_connectors.moodle.functions import SERVICE_FUNCTIONS
from lms_connectors.moodle.sandbox import LIMITED_CAPABILITIES, TokenRole, create_app
from lms_connectors.moodle.sandbox.functions import (
    PARAMETERS,
    PLUGIN_HANDLERS,
    SERVED,
    SERVED_WITHOUT_PLUGIN,
)
from lms_connectors.moodle.sandbox.protocol import to_xml
from lms_connectors.moodle.sandbox.store import Site

TOKEN = "contract-token"
LIMITED = "contract-limited-token"
WS_LIMITED = "contract-ws-limited-token"  # the recordings' ws_limited: the service, no capability
REPO = Path(__file__).resolve().parents[2]
RECORDINGS = Path(
    os.environ.get("PROFROUTE_RECORDINGS_DIR", REPO.parent / "shared" / "moodle-recordings" / "4.5")
)
REPLAYED_ON = {  # generic error recorded on an unserved function -> served twin
    "error_invalid_parameter_type.json": "core_enrol_get_enrolled_users",
    "error_missing_required_parameter.json": "core_enrol_get_enrolled_users",
    "error_unexpected_parameter.json": "core_enrol_get_enrolled_users",
    "error_nonexistent_course.json": "core_enrol_get_enrolled_users",
    "error_missing_capability.json": "core_cohort_get_cohort_members",
}
PLUGIN_RECORDINGS = REPO / "tests" / "plugin" / "recordings"
WITH_WS_LIMITED = {  # recorded with the token of ws_limited: the whole service, no capability
    "error_limited_user_get_users_by_field.json", "error_limited_user_quiz_attempts.json",
    "error_course_access_limited_user.json", "error_missing_capability.json",
    "core_competency_create_plan__limited_user.json",
    "local_profroute_get_completions__limited_user.json",
    "local_profroute_get_quiz_slots__limited_user.json",
    "local_profroute_get_user_competencies__limited_user.json",
}
OTHER_SERVICE = {"local_profroute_get_quiz_slots__function_not_in_service.json"}


def _teacher(site: Site, index: int) -> Any:
    return sorted((u for u in site.users.values() if u.idnumber.startswith("T-")),
                  key=lambda u: u.id)[index]


def _by_attempts(site: Site, wanted: Callable[[list[str]], bool]) -> int:
    for user in sorted(site.users.values(), key=lambda u: u.id):
        states = [a.state for a in site.user_attempts(1, user.id)]
        if user.idnumber.startswith("T-") and wanted(states):
            return user.id
    raise AssertionError("no such teacher in the seed")


def _attempt(site: Site, state: str) -> int:
    return min(a.id for a in site.attempts.values() if a.state == state)


def _completion(site: Site, done: int | None) -> int:
    for (userid, courseid) in sorted(site.enrolments):
        if courseid != 3 or userid == site.methodologist_id:
            continue
        count = len(site.completions.get((userid, 3), {}))
        if done is None or count == done:
            return userid
    raise AssertionError("no such enrolment in the seed")


def _group(site: Site) -> int:
    return min(g.id for g in site.groups.values() if g.courseid == 3 and g.members)


def _not_enrolled(site: Site) -> int:
    return next(u.id for u in site.users.values()
                if u.idnumber.startswith("T-") and (u.id, 3) not in site.enrolments)


def _two_finished(states: list[str]) -> bool:
    return states.count("finished") == 2


def _in_course(site: Site, index: int, courseid: int = 3) -> int:
    return sorted(u for (u, c), e in site.enrolments.items()
                  if c == courseid and e.roleid == 5)[index]


def _school_group(site: Site) -> int:
    return min(g.id for g in site.groups.values() if g.courseid == 3)


def _first_completion(site: Site) -> int:
    return min(max(done.values()) for (_, c), done in site.completions.items()
               if c in (3, 4, 5, 6) and len(done) == 2)


def _mentors(site: Site) -> int:
    return next(g.id for g in site.groups.values() if g.idnumber == "pk-assess-mentors-2026")


MENTORS = {"members[0][groupid]": _mentors, "members[0][userid]": lambda s: _in_course(s, 0),
           "members[1][groupid]": _mentors, "members[1][userid]": lambda s: _in_course(s, 1)}
GRADE = "core_competency_grade_competency"
EVENTS = ("core_calendar_create_calendar_events.json",
          "core_calendar_create_calendar_events__again.json")
SOME_EVENTS = (*EVENTS, "core_calendar_create_calendar_events__group_and_user.json",
               "core_calendar_create_calendar_events__site_event.json")
PLANS = ("core_competency_create_plan.json", "core_competency_create_plan__again.json",
         "core_competency_create_plan__active.json")
PLAN_1 = (*PLANS, "core_competency_add_competency_to_plan.json",
          "core_competency_add_competency_to_plan__second.json")
MENTOR_GROUP = ("core_group_create_groups.json", "core_group_add_group_members.json")
# Calls that built the state a recording was made on: recording names, or (function, fields).
RATE_4_AND_8 = (("core_competency_grade_competency",
                 {"userid": "4", "competencyid": "1", "grade": "1"}),
                ("core_competency_grade_competency",
                 {"userid": "8", "competencyid": "2", "grade": "1"}))
PRELUDES: dict[str, tuple[Any, ...]] = {
    "local_profroute_get_user_competencies__since.json": RATE_4_AND_8,
    "local_profroute_get_user_competencies__userids.json": RATE_4_AND_8,
    "core_calendar_delete_calendar_events.json": EVENTS,
    "core_calendar_delete_calendar_events__again.json": (
        *EVENTS, "core_calendar_delete_calendar_events.json"),
    "core_calendar_get_calendar_events.json": EVENTS,
    "core_calendar_get_calendar_events__default.json": SOME_EVENTS,
    "core_calendar_get_calendar_events__eventids.json": SOME_EVENTS,
    "core_cohort_create_cohorts__duplicate_idnumber.json": ("core_cohort_create_cohorts.json",),
    "core_cohort_get_cohort_members__after_add.json": ("core_cohort_add_cohort_members.json",),
    "core_competency_add_competency_to_plan.json": PLANS,
    "core_competency_add_competency_to_plan__second.json": PLANS,
    "core_competency_add_competency_to_plan__active_plan.json": PLANS,
    "core_competency_add_competency_to_plan__duplicate.json": PLAN_1,
    "core_competency_add_competency_to_plan__nonexistent_competency.json": PLANS,
    "core_competency_list_plan_competencies.json": (
        *PLAN_1, (GRADE, {"userid": "4", "competencyid": "3", "grade": "2"})),
    "core_competency_list_plan_competencies__after_grade.json": (
        *PLAN_1, (GRADE, {"userid": "4", "competencyid": "3", "grade": "2"})),
    "core_competency_list_plan_competencies__active_plan.json": (
        *PLANS, "core_competency_add_competency_to_plan__active_plan.json",
        (GRADE, {"userid": "11", "competencyid": "2", "grade": "2"})),
    "core_group_add_group_members.json": MENTOR_GROUP[:1],
    "core_group_add_group_members__again.json": MENTOR_GROUP,
    "core_group_add_group_members__not_enrolled.json": MENTOR_GROUP,
    "core_group_create_groups__duplicate_idnumber.json": MENTOR_GROUP[:1],
    "core_group_create_groups__duplicate_name.json": MENTOR_GROUP[:1],
    "core_group_get_group_members.json": MENTOR_GROUP,
    "core_group_get_group_members__after_delete.json": MENTOR_GROUP,
}


SUBSTITUTIONS: dict[str, dict[str, Callable[[Site], Any]]] = {
    "core_user_get_users_by_field.json": {
        "values[0]": lambda s: _teacher(s, 0).idnumber,
        "values[1]": lambda s: _teacher(s, 40).idnumber},
    "core_user_get_users_by_field__email.json": {"values[0]": lambda s: _teacher(s, 0).email},
    "core_user_get_users_by_field__username.json": {
        "values[0]": lambda s: _teacher(s, 7).username},
    "core_enrol_get_enrolled_users__group.json": {"options[0][value]": _group},
    "mod_quiz_get_user_attempts.json": {"userid": lambda s: _by_attempts(s, _two_finished)},
    "mod_quiz_get_user_attempts__finished_default.json": {
        "userid": lambda s: _by_attempts(s, lambda st: "finished" in st)},
    "mod_quiz_get_user_attempts__none.json": {"userid": lambda s: _by_attempts(s, lambda st: not st)},
    "mod_quiz_get_user_attempts__unfinished.json": {
        "userid": lambda s: _by_attempts(s, lambda st: "inprogress" in st)},
    "mod_quiz_get_attempt_review.json": {"attemptid": lambda s: _attempt(s, "finished")},
    "mod_quiz_get_attempt_review__inprogress.json": {
        "attemptid": lambda s: _attempt(s, "inprogress")},
    "mod_quiz_get_attempt_review__page0.json": {"attemptid": lambda s: _attempt(s, "finished")},
    "gradereport_user_get_grade_items.json": {
        "userid": lambda s: _by_attempts(s, lambda st: "finished" in st)},
    "core_completion_get_course_completion_status.json": {"userid": lambda s: _completion(s, 2)},
    "core_completion_get_course_completion_status__inprogress.json": {
        "userid": lambda s: _completion(s, 1)},
    "core_completion_get_course_completion_status__notstarted.json": {
        "userid": lambda s: _completion(s, 0)},
    "core_completion_get_course_completion_status__notenrolled.json": {"userid": _not_enrolled},
    "core_calendar_create_calendar_events__group_and_user.json": {
        "events[0][groupid]": _school_group},
    "core_group_add_group_members.json": MENTORS,
    "core_group_add_group_members__again.json": {"members[0][groupid]": _mentors,
                                                 "members[0][userid]": lambda s: _in_course(s, 0)},
    "core_group_add_group_members__not_enrolled.json": {"members[0][groupid]": _mentors,
                                                        "members[0][userid]": _not_enrolled},
    "core_group_get_group_members.json": {"groupids[0]": _mentors,
                                          "groupids[1]": _school_group},
    "core_group_get_group_members__after_delete.json": {"groupids[0]": _mentors},
    "local_profroute_get_completions__since.json": {"since": _first_completion},
}


def _recordings() -> list[str]:
    if not RECORDINGS.is_dir():
        return []
    names = []
    for path in sorted(RECORDINGS.glob("*.json")):
        stem = path.stem.split("__", 1)[0]
        if stem in SERVED or path.name.startswith(("error_", "method_get_")):
            names.append(path.name)
    return names


def _load(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / name).read_text(encoding="utf-8"))


def _returns(function: str) -> Any:
    spec = json.loads((RECORDINGS / "functions.json").read_text(encoding="utf-8"))
    return spec["functions"].get(function, {}).get("returns")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "array", str: "string"}[type(value)]


def shape_problems(expected: Any, actual: Any, spec: Any = None, path: str = "$") -> list[str]:
    """Differences of keys, JSON types and nesting between a recorded and a sandbox answer.

    A key may be absent on one side only where ``functions.json`` declares it optional
    (Moodle leaves optional keys out when it has no value for them). Every element of an
    actual list must match the shape of at least one recorded element.
    """
    if _json_type(expected) != _json_type(actual):
        return [f"{path}: {_json_type(actual)} where Moodle has {_json_type(expected)}"]
    if isinstance(expected, dict):
        return _object_problems(expected, actual, spec, path)
    if isinstance(expected, list):
        return _list_problems(expected, actual, spec, path)
    return []


def _object_problems(expected: dict[str, Any], actual: dict[str, Any], spec: Any,
                     path: str) -> list[str]:
    keys = (spec or {}).get("keys", {})
    problems = []
    for key in expected.keys() ^ actual.keys():
        if keys.get(key, {}).get("required") != "optional":
            side = "missing" if key in expected else "unexpected"
            problems.append(f"{path}.{key}: {side}")
    for key in expected.keys() & actual.keys():
        problems += shape_problems(expected[key], actual[key], keys.get(key), f"{path}.{key}")
    return problems


def _list_problems(expected: list[Any], actual: list[Any], spec: Any, path: str) -> list[str]:
    if expected and not actual:
        return [f"{path}: empty where Moodle answered {len(expected)} items"]
    if not expected:
        return []
    content = (spec or {}).get("content")
    problems: list[str] = []
    for index, item in enumerate(actual):
        tries = [shape_problems(e, item, content, f"{path}[{index}]") for e in expected]
        if all(tries):
            problems += min(tries, key=len)
    return problems


@pytest.fixture()
def client() -> Any:
    app = create_app(TOKEN, limited_token=LIMITED,
                     tokens={WS_LIMITED: TokenRole(LIMITED_CAPABILITIES, limited_user=True)})
    return app.test_client()


def _site(client: Any) -> Site:
    return client.application.extensions["moodle_sandbox"].site


def _send(client: Any, name: str, record: dict[str, Any]) -> Any:
    function = REPLAYED_ON.get(name, record["function"])
    fields = dict(record["params"])
    for key, pick in SUBSTITUTIONS.get(name, {}).items():
        fields[key] = str(pick(_site(client)))
    token = "" if name == "error_missing_token.json" else (
        "not-the-token" if name == "error_invalid_token.json" else TOKEN)
    token = LIMITED if name in OTHER_SERVICE else token
    token = WS_LIMITED if name in WITH_WS_LIMITED else token
    form = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json", **fields}
    method = record.get("request", {}).get("method", "POST")
    if method == "GET":
        answer = client.get("/webservice/rest/server.php", query_string=form)
    else:
        answer = client.post("/webservice/rest/server.php", data=form)
    assert answer.status_code == 200
    return json.loads(answer.get_data(as_text=True))


def _prelude(client: Any, name: str) -> None:
    for step in PRELUDES.get(name, ()):
        if isinstance(step, str):
            body = _send(client, step, _load(step))
        else:
            function, fields = step
            body = _send(client, function, {"function": function, "params": fields})
        assert not (isinstance(body, dict) and "exception" in body), (step, body)


def _check(client: Any, name: str, record: dict[str, Any]) -> None:
    body = _send(client, name, record)
    expected = record["response"]
    if isinstance(expected, dict) and "exception" in expected:
        assert body == expected
    else:
        function = REPLAYED_ON.get(name, record["function"])
        assert shape_problems(expected, body, _returns(function)) == []


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="Moodle recordings not found")
@pytest.mark.parametrize("name", _recordings())
def test_sandbox_answers_like_the_recording(client: Any, name: str) -> None:
    _prelude(client, name)
    _check(client, name, _load(name))


def _plugin_recordings() -> list[str]:
    if not PLUGIN_RECORDINGS.is_dir():
        return []
    return sorted(p.name for p in PLUGIN_RECORDINGS.glob("*.json")
                  if p.stem.split("__", 1)[0] in PLUGIN_HANDLERS)


# The answer formats the plugin documents (one row each), and a call that answers them.
PLUGIN_EXAMPLES: dict[str, tuple[dict[str, str], dict[str, Any]]] = {
    "local_profroute_get_quiz_slots": ({"quizid": "1"}, {"quizid": 1, "slots": [{
        "slot": 1, "page": 1, "questionid": 101, "qtype": "multichoice", "name": "PK-01 Q1",
        "idnumber": "PK-01-Q1", "categoryid": 3, "categoryidnumber": "PK-01",
        "categoryname": "Предметные знания", "maxmark": 1.0, "tags": ["PK-01"]}],
        "warnings": []}),
    "local_profroute_get_completions": ({"courseids[0]": "3", "courseids[1]": "4",
                                         "since": "0"}, {"completions": [{
        "userid": 3, "courseid": 3, "timeenrolled": 1795000000, "timestarted": 1795000000,
        "timecompleted": 1795549042}], "warnings": []}),
    "local_profroute_get_user_competencies": ({"frameworkid": "1"}, {"usercompetencies": [{
        "userid": 3, "competencyid": 2, "idnumber": "PK-02", "proficiency": True, "grade": 2,
        "status": 0, "timemodified": 1795665676}], "warnings": []}),
}


@pytest.mark.parametrize("function", sorted(PLUGIN_HANDLERS))
def test_plugin_functions_answer_the_documented_format(client: Any, function: str) -> None:
    fields, expected = PLUGIN_EXAMPLES[function]
    body = _send(client, function, {"function": function, "params": fields})
    assert shape_problems(expected, body) == []


@pytest.mark.parametrize("name", _plugin_recordings())
def test_sandbox_answers_like_the_plugin_recording(client: Any, name: str) -> None:
    record = json.loads((PLUGIN_RECORDINGS / name).read_text(encoding="utf-8"))
    _prelude(client, name)
    _check(client, name, record)


def test_every_served_function_has_a_recording() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip("Moodle recordings not found")
    recorded = {n.split("__", 1)[0].removesuffix(".json") for n in _recordings()}
    recorded |= {n.split("__", 1)[0].removesuffix(".json") for n in _plugin_recordings()}
    assert set(SERVED_WITHOUT_PLUGIN) <= recorded
    assert set(SERVED) <= recorded | set(PLUGIN_EXAMPLES)


def test_the_sandbox_serves_the_whole_profroute_service() -> None:
    assert SERVICE_FUNCTIONS <= set(SERVED)
    assert set(SERVED) - SERVICE_FUNCTIONS == {"core_calendar_delete_calendar_events"}
    assert set(PLUGIN_HANDLERS) == set(SERVED) - set(SERVED_WITHOUT_PLUGIN)


def test_embedded_parameter_specs_match_functions_json() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip("Moodle recordings not found")
    recorded = json.loads((RECORDINGS / "functions.json").read_text(encoding="utf-8"))

    def strip(node: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in node.items() if k in ("kind", "type", "required", "default")}
        if "keys" in node:
            kept["keys"] = {k: strip(v) for k, v in node["keys"].items()}
        if "content" in node:
            kept["content"] = strip(node["content"])
        return kept

    for function in SERVED_WITHOUT_PLUGIN:
        assert PARAMETERS[function] == strip(recorded["functions"][function]["parameters"])
    for function in PLUGIN_HANDLERS:
        assert function not in recorded["functions"]
        assert PARAMETERS[function]["kind"] == "object"


def test_xml_answers_match_the_recorded_xml(client: Any) -> None:
    if not RECORDINGS.is_dir():
        pytest.skip("Moodle recordings not found")
    error = _load("format_xml_error_invalid_token.json")
    answer = client.post("/webservice/rest/server.php",
                         data={"wstoken": "wrong", "wsfunction": error["function"]})
    assert answer.get_data(as_text=True) == error["response_raw"]
    assert answer.content_type == error["response_content_type"]
    site_info = _load("format_xml_site_info.json")["response_raw"]
    recorded = _load("core_webservice_get_site_info.json")["response"]
    recorded["usersessionscount"] = None
    recorded["policyagreed"] = recorded.pop("policyagreed")
    assert to_xml(recorded) == site_info


def test_shape_comparator_reports_differences() -> None:
    assert shape_problems({"a": 1, "b": [{"c": "x"}]}, {"a": 2.5, "b": [{"c": "y"}]}) == []
    assert shape_problems({"a": 1}, {"a": "1"}) == ["$.a: string where Moodle has number"]
    assert shape_problems({"a": 1}, {}) == ["$.a: missing"]
    assert shape_problems({"a": [1]}, {"a": []}) == ["$.a: empty where Moodle answered 1 items"]
    optional = {"keys": {"a": {"required": "optional"}}}
    assert shape_problems({"a": 1}, {}, optional) == []


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="Moodle recordings not found")
@pytest.mark.parametrize("name", sorted(WITH_WS_LIMITED))
def test_a_role_without_capabilities_is_answered_exactly_like_moodle(client: Any,
                                                                     name: str) -> None:
    folder = PLUGIN_RECORDINGS if name.startswith("local_profroute_") else RECORDINGS
    record = json.loads((folder / name).read_text(encoding="utf-8"))
    assert _send(client, name, record) == record["response"]
