"""The plugin role holds what every function of the service needs; the generated lists are fresh."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from lms_connectors.moodle import role_build, role_supplement
from lms_connectors.moodle.functions import (
    CAPABILITIES,
    DECLARED_CAPABILITIES,
    ENROLLED_USERS,
    ROLE_CAPABILITIES,
    SERVICE_FUNCTIONS,
)
from lms_connectors.moodle.plugin_build import PLUGIN_DIR, plugin_build

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS_JSON = Path(os.environ.get(
    "PROFROUTE_RECORDINGS_DIR", REPO.parent / "shared" / "moodle-recordings" / "4.5")
) / "functions.json"
# Capabilities the 1.1.0 role (plugin version 2026112601) held: the upgrade must add the rest.
ROLE_1_1 = {
    "enrol/manual:enrol", "enrol/manual:unenrol", "gradereport/user:view",
    "mod/quiz:reviewmyattempts", "mod/quiz:view", "mod/quiz:viewreports",
    "moodle/calendar:manageentries", "moodle/category:viewhiddencategories",
    "moodle/cohort:assign", "moodle/cohort:manage", "moodle/cohort:view",
    "moodle/competency:competencygrade", "moodle/competency:competencyview",
    "moodle/competency:coursecompetencyview", "moodle/competency:planmanage",
    "moodle/competency:planmanagedraft", "moodle/competency:planview",
    "moodle/competency:planviewdraft", "moodle/competency:usercompetencyview",
    "moodle/course:managegroups", "moodle/course:view", "moodle/course:viewhiddenactivities",
    "moodle/course:viewhiddencourses", "moodle/course:viewhiddensections",
    "moodle/course:viewparticipants", "moodle/grade:view", "moodle/grade:viewall",
    "moodle/question:viewall", "moodle/role:assign", "moodle/site:accessallgroups",
    "moodle/site:messageanyuser", "moodle/site:sendmessage", "moodle/site:viewfullnames",
    "moodle/site:viewuseridentity", "moodle/user:viewalldetails", "moodle/user:viewdetails",
    "moodle/user:viewhiddendetails", "moodle/user:viewuseractivitiesreport",
    "report/completion:view", "report/progress:view", "webservice/rest:use",
}


def test_every_function_of_the_service_has_its_capabilities_in_the_role() -> None:
    assert set(DECLARED_CAPABILITIES) == set(CAPABILITIES) == SERVICE_FUNCTIONS
    role = set(ROLE_CAPABILITIES)
    for function in sorted(SERVICE_FUNCTIONS):
        lacking = set(DECLARED_CAPABILITIES[function]) - set(role_supplement.WITHHELD) - role
        assert not lacking, f"{function} declares {sorted(lacking)}, not in the role"
        assert set(CAPABILITIES[function]) <= role, function
    assert "webservice/rest:use" in role


def test_the_read_back_of_enrolments_needs_enrolreview() -> None:
    assert "moodle/course:enrolreview" in CAPABILITIES[ENROLLED_USERS]
    assert "moodle/course:enrolreview" in ROLE_CAPABILITIES


def test_supplement_and_withheld_are_documented_with_their_moodle_source() -> None:
    for function, extra in role_supplement.SUPPLEMENT.items():
        assert function in SERVICE_FUNCTIONS, function
        for capability, source in extra:
            assert re.fullmatch(r"[a-z]+/[a-z_]+:[a-z]+", capability), capability
            assert re.search(r"\w+(/\w+)*\.php", source), (capability, source)
    for capability, why in role_supplement.WITHHELD.items():
        assert capability not in ROLE_CAPABILITIES
        assert ".php" in why


def test_withheld_capabilities_are_only_those_declared_by_some_function() -> None:
    declared = {c for caps in DECLARED_CAPABILITIES.values() for c in caps}
    assert set(role_supplement.WITHHELD) <= declared


def test_a_function_lacking_a_declared_capability_is_caught() -> None:
    declared = dict(DECLARED_CAPABILITIES)
    declared[ENROLLED_USERS] = (*declared[ENROLLED_USERS], "moodle/course:enrolreview")
    assert "moodle/course:enrolreview" in role_supplement.role(role_supplement.needed(declared))
    stripped = {k: tuple(c for c in v if c != "moodle/cohort:view") for k, v in declared.items()}
    assert "moodle/cohort:view" not in role_supplement.role(role_supplement.needed(stripped))


@pytest.mark.skipif(not FUNCTIONS_JSON.is_file(), reason="Moodle recordings not found")
def test_generated_files_are_not_stale() -> None:
    functions_json = json.loads(FUNCTIONS_JSON.read_text(encoding="utf-8"))
    for path, text in role_build.render(functions_json).items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is stale: run python -m lms_connectors.moodle.role_build")


def test_service_functions_are_all_described() -> None:
    services = (PLUGIN_DIR / "db" / "services.php").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="described nowhere"):
        role_build.declared({"functions": {}}, services)


def test_upgrade_of_an_installed_role_adds_what_it_lacks() -> None:
    upgrade = (PLUGIN_DIR / "db" / "upgrade.php").read_text(encoding="utf-8")
    version = plugin_build()
    assert version > 2026112601
    assert f"if ($oldversion < {version})" in upgrade
    step = upgrade.split(f"if ($oldversion < {version})", 1)[1].split("}", 1)[0]
    assert "\\local_profroute\\local\\setup::ensure_role();" in step
    assert f"upgrade_plugin_savepoint(true, {version}, 'local', 'profroute');" in step
    assert set(ROLE_CAPABILITIES) - ROLE_1_1 >= {"moodle/course:enrolreview"}
    assert ROLE_1_1 <= set(ROLE_CAPABILITIES)
