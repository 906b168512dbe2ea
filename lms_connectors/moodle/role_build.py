"""Generates the plugin role's capability list from Moodle's own function descriptions.

Run ``python -m lms_connectors.moodle.role_build [FUNCTIONS_JSON]`` after a change to the
service (``functions.SERVICE_FUNCTIONS``), to the supplement below or to Moodle's
descriptions (``functions.json`` of the recordings, made by ``external_function_info()``).
It writes two files that are checked in, and a test fails when they are stale:

* ``role_capabilities.py`` (Python: what each function declares, what it needs, the role);
* ``plugin/local_profroute/classes/local/role_capabilities.php`` (the list the plugin's
  ``setup::ensure_role()`` grants on install and on every upgrade).

A function needs what Moodle declares for it (the plugin's own functions: what its
``db/services.php`` declares), less ``WITHHELD``, plus ``SUPPLEMENT``: what Moodle's code
checks though the description omits it, each with the Moodle source file that checks it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from . import functions as fn

HERE = Path(__file__).resolve().parent
PLUGIN_DIR = HERE / "plugin" / "local_profroute"
PYTHON_OUT = HERE / "role_capabilities.py"
PHP_OUT = PLUGIN_DIR / "classes" / "local" / "role_capabilities.php"
DEFAULT_FUNCTIONS_JSON = HERE.parents[2] / "shared" / "moodle-recordings" / "4.5" / "functions.json"

EVERY_CALL = "webservice/rest:use"  # webservice/lib.php: webservice_server::authenticate_user
COURSE_VIEW = ("moodle/course:view",
               "lib/moodlelib.php: require_login() lets a user who is not enrolled into a course "
               "only with it (is_viewing, lib/accesslib.php); external_api::validate_context "
               "calls require_login for a course or module context")

# Capabilities Moodle's code checks though the function's description omits them.
SUPPLEMENT: dict[str, tuple[tuple[str, str], ...]] = {
    fn.ENROLLED_USERS: (
        COURSE_VIEW,
        ("moodle/course:viewparticipants",
         "enrol/externallib.php: get_enrolled_users calls course_require_view_participants "
         "(course/lib.php)"),
        ("moodle/course:enrolreview",
         "enrol/externallib.php: get_enrolled_users requires it for the onlyactive option, "
         "which the push's read-back of enrolments sends"),
        ("moodle/site:viewuseridentity",
         "user/lib.php: user_get_user_details returns the identity fields (idnumber, email) "
         "only with it"),
        ("moodle/site:viewfullnames", "user/lib.php: user_get_user_details (fullname)"),
        ("moodle/user:viewalldetails", "user/lib.php: user_can_view_profile"),
    ),
    fn.USERS_BY_FIELD: (
        ("moodle/site:viewuseridentity",
         "user/lib.php: user_get_user_details returns the identity fields only with it"),
        ("moodle/user:viewalldetails", "user/lib.php: user_can_view_profile"),
    ),
    fn.COURSES_BY_FIELD: (
        COURSE_VIEW,
        ("moodle/course:viewhiddencourses",
         "course/externallib.php: get_courses_by_field leaves hidden courses out without it"),
        ("moodle/category:viewhiddencategories",
         "course/classes/category.php: hidden categories (and their courses) need it"),
    ),
    fn.QUIZZES_BY_COURSES: (
        COURSE_VIEW,
        ("moodle/course:viewhiddenactivities",
         "course/lib.php / lib/modinfolib.php: cm_info::uservisible of hidden modules"),
        ("moodle/course:viewhiddensections",
         "lib/modinfolib.php: section_info::uservisible of hidden sections"),
    ),
    fn.USER_ATTEMPTS: (
        COURSE_VIEW,
        ("mod/quiz:viewreports",
         "mod/quiz/classes/external.php: get_user_attempts of another user requires it"),
    ),
    fn.ATTEMPT_REVIEW: (
        COURSE_VIEW,
        ("mod/quiz:viewreports",
         "mod/quiz/classes/quiz_attempt.php: check_review_capability for others' attempts"),
    ),
    fn.USERS_COURSES: (
        COURSE_VIEW,
        ("moodle/user:viewuseractivitiesreport",
         "lib/completionlib.php: completion_can_view_data for another user"),
    ),
    fn.COURSE_COMPLETION: (
        COURSE_VIEW,
        ("report/progress:view", "lib/completionlib.php: completion_can_view_data"),
    ),
    fn.COURSE_COMPETENCIES: (COURSE_VIEW,),
    fn.GRADE_ITEMS: (
        COURSE_VIEW,
        ("moodle/grade:viewall",
         "grade/report/user/classes/external/user.php: grades of other users require it"),
        ("moodle/grade:view", "grade/report/user/lib.php: grade_report_user access check"),
    ),
    fn.COURSE_GROUPS: (COURSE_VIEW,),
    fn.GROUP_MEMBERS: (COURSE_VIEW,),
    fn.CREATE_GROUPS: (COURSE_VIEW,),
    fn.ADD_GROUP_MEMBERS: (
        COURSE_VIEW,
        ("moodle/site:accessallgroups", "group/lib.php: groups of separate-groups courses"),
    ),
    fn.USER_PLANS: (
        ("moodle/competency:planview",
         "competency/classes/plan.php: can_read_user (plans of other users)"),
        ("moodle/competency:planviewdraft",
         "competency/classes/plan.php: can_read_user_draft (draft plans of other users)"),
    ),
    fn.PLAN_COMPETENCIES: (
        ("moodle/competency:planview", "competency/classes/plan.php: can_read_user"),
        ("moodle/competency:planviewdraft", "competency/classes/plan.php: can_read_user_draft"),
    ),
    fn.CREATE_PLAN: (
        ("moodle/competency:planmanagedraft",
         "competency/classes/plan.php: can_manage_user_draft (a plan in draft status)"),
    ),
    fn.ADD_PLAN_COMPETENCY: (
        ("moodle/competency:planmanagedraft",
         "competency/classes/plan.php: can_manage_user_draft (a plan in draft status)"),
    ),
    fn.GRADE_COMPETENCY: (
        ("moodle/competency:usercompetencyview",
         "competency/classes/api.php: grade_competency reads the user competency first"),
    ),
    fn.ENROL: (
        COURSE_VIEW,
        ("moodle/role:assign",
         "enrol/manual/externallib.php: the role must be in get_assignable_roles "
         "(lib/accesslib.php), which needs it"),
    ),
    fn.UNENROL: (COURSE_VIEW,),
    fn.SEND_MESSAGES: (
        ("moodle/site:messageanyuser",
         "message/classes/api.php: can_send_message to users who accept messages from "
         "contacts only"),
    ),
    fn.CREATE_EVENTS: (COURSE_VIEW,),
    fn.CALENDAR_EVENTS: (COURSE_VIEW,),
    fn.PLUGIN_QUIZ_SLOTS: (COURSE_VIEW,),
    fn.PLUGIN_COMPLETIONS: (COURSE_VIEW,),
}

# Declared by Moodle but never granted: each would give the token more power than the
# reads need, and the function works without it (the recordings' role did not hold it).
WITHHELD: dict[str, str] = {
    "moodle/user:update": "user/lib.php: user_get_user_details only shows more profile fields "
                          "with it (auth, lang, timezone...); ProfRoute reads none of them, "
                          "and it would let the token's user edit every profile",
}


def plugin_declared(services_php: str) -> dict[str, tuple[str, ...]]:
    """The ``capabilities`` the plugin's ``db/services.php`` declares for each function."""
    found = re.findall(r"'(local_profroute_\w+)' => \[[^\]]*?'capabilities' => '([^']*)'",
                       services_php, re.S)
    return {name: _split(caps) for name, caps in found}


def _split(caps: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in caps.split(",") if c.strip())


def declared(functions_json: Mapping[str, object], services_php: str) -> dict[str, tuple[str, ...]]:
    """What Moodle declares for every function of the service.

    Raises:
        ValueError: a service function is described nowhere.
    """
    described = functions_json["functions"]
    assert isinstance(described, dict)
    plugin = plugin_declared(services_php)
    result: dict[str, tuple[str, ...]] = {}
    for name in sorted(fn.SERVICE_FUNCTIONS):
        if name in plugin:
            result[name] = plugin[name]
        elif name in described:
            result[name] = _split(str(described[name].get("capabilities") or ""))
        else:
            raise ValueError(f"{name} is in the service but described nowhere")
    return result


def needed(declared_caps: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Per function: declared less withheld, plus the supplement, in that order."""
    result = {}
    for name, caps in declared_caps.items():
        kept = [c for c in caps if c not in WITHHELD]
        kept += [c for c, _ in SUPPLEMENT.get(name, ()) if c not in kept]
        result[name] = tuple(kept)
    return result


def role(needed_caps: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Every capability any function needs, and the one every call needs, sorted."""
    return tuple(sorted({EVERY_CALL} | {c for caps in needed_caps.values() for c in caps}))


def _py_mapping(name: str, mapping: Mapping[str, tuple[str, ...]]) -> str:
    lines = [f"{name}: dict[str, tuple[str, ...]] = {{"]
    for key, caps in mapping.items():
        lines.append(f"    {key!r}: (")
        lines += [f"        {cap!r}," for cap in caps]
        lines.append("    ),")
    return "\n".join(lines + ["}"])


def render_python(release: str, declared_caps: Mapping[str, tuple[str, ...]]) -> str:
    """The text of ``role_capabilities.py``."""
    needed_caps = needed(declared_caps)
    head = ('"""GENERATED by ``python -m lms_connectors.moodle.role_build``: do not edit.\n\n'
            f"From the function descriptions of Moodle {release},\nthe plugin's "
            "db/services.php and the documented supplement of role_build.py.\n"
            '"""\n\nfrom __future__ import annotations\n\n'
            "# What Moodle declares for each function of the service.\n")
    role_lines = "".join(f"    {cap!r},\n" for cap in role(needed_caps))
    return (head + _py_mapping("DECLARED", declared_caps) + "\n\n"
            "# What each function needs: declared, less withheld, plus the supplement.\n"
            + _py_mapping("NEEDED", needed_caps) + "\n\n"
            "# The plugin role: everything any function needs, and webservice/rest:use.\n"
            f"ROLE: tuple[str, ...] = (\n{role_lines})\n")


def render_php(release: str, declared_caps: Mapping[str, tuple[str, ...]]) -> str:
    """The text of the plugin's ``classes/local/role_capabilities.php``."""
    caps = "".join(f"        '{cap}',\n" for cap in role(needed(declared_caps)))
    license_head = (PLUGIN_DIR / "classes" / "local" / "setup.php").read_text(
        encoding="utf-8").split("namespace", 1)[0]
    return (f"{license_head}namespace local_profroute\\local;\n\n"
            "/**\n"
            " * GENERATED by ProfRoute's lms_connectors/moodle/role_build.py: do not edit.\n"
            " *\n"
            f" * The capabilities of the \"ProfRoute integration\" role: what Moodle {release}\n"
            " * declares for every function of the service, with a documented supplement.\n"
            " *\n"
            " * @package    local_profroute\n"
            " * @copyright  2026 ProfRoute\n"
            " * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later\n"
            " */\n"
            "class role_capabilities {\n\n"
            "    /** Every capability the role allows in the system context, sorted. */\n"
            f"    const ALL = [\n{caps}    ];\n}}\n")


def render(functions_json: Mapping[str, object]) -> dict[Path, str]:
    """Both generated files, by path, from Moodle's function descriptions."""
    services = (PLUGIN_DIR / "db" / "services.php").read_text(encoding="utf-8")
    caps = declared(functions_json, services)
    release = str(functions_json.get("moodle_release", "?"))
    return {PYTHON_OUT: render_python(release, caps), PHP_OUT: render_php(release, caps)}


def main(argv: list[str]) -> int:
    """Write the generated files; ``argv[0]`` may name functions.json."""
    source = Path(argv[0]) if argv else DEFAULT_FUNCTIONS_JSON
    functions_json = json.loads(source.read_text(encoding="utf-8"))
    for path, text in render(functions_json).items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
