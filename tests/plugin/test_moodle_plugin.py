"""The Moodle plugin local_profroute: PHP syntax, service and role contents, lang files, the zip."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lms_connectors.moodle.functions import (
    CAPABILITIES,
    DECLARED_CAPABILITIES,
    PLUGIN_COMPLETIONS,
    PLUGIN_FUNCTIONS,
    PLUGIN_QUIZ_SLOTS,
    PLUGIN_USER_COMPETENCIES,
    ROLE_CAPABILITIES,
    SERVICE_FUNCTIONS,
)
from lms_connectors.moodle.plugin_build import PLUGIN_DIR, build_zip, plugin_build, plugin_version

RECORDINGS = Path(__file__).resolve().parent / "recordings"
PHP_FILES = sorted(PLUGIN_DIR.rglob("*.php"))
QUOTED = re.compile(r"'([^']*)'")


def read(relative: str) -> str:
    return (PLUGIN_DIR / relative).read_text(encoding="utf-8")


def php_array_after(text: str, start: str) -> str:
    """The body of the first PHP ``[...]`` literal that follows ``start`` (brackets balanced)."""
    begin = text.index(start)
    opening = text.index("[", begin)
    depth = 0
    for pos in range(opening, len(text)):
        depth += {"[": 1, "]": -1}.get(text[pos], 0)
        if depth == 0:
            return text[opening + 1:pos]
    raise AssertionError(f"unbalanced brackets after {start!r}")


def lang_strings(lang: str) -> dict[str, str]:
    text = read(f"lang/{lang}/local_profroute.php")
    return dict(re.findall(r"^\$string\['([^']+)'\] = '((?:[^'\\]|\\.)*)';$", text, re.M))


def test_plugin_has_php_files_to_check():
    names = {p.relative_to(PLUGIN_DIR).as_posix() for p in PHP_FILES}
    assert {"version.php", "settings.php", "db/services.php", "db/install.php",
            "lang/en/local_profroute.php", "lang/ru/local_profroute.php",
            "classes/external/get_quiz_slots.php",
            "classes/external/get_completions.php",
            "classes/external/get_user_competencies.php"} <= names


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: p.relative_to(PLUGIN_DIR).as_posix())
def test_php_file_passes_php_lint(path: Path):
    php = shutil.which("php")
    if php is None:
        if os.environ.get("CI") == "true":
            pytest.fail("php (php-cli) is not installed: under CI the PHP syntax check never skips")
        pytest.skip("php (php-cli) not installed")
    result = subprocess.run([php, "-l", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_php_file_is_guarded_or_bootstraps_moodle():
    for path in PHP_FILES:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<?php\n"), path
        if path.parts[-2] in {"external", "local", "privacy"}:
            continue  # autoloaded classes
        assert ("defined('MOODLE_INTERNAL') || die();" in text
                or "define('CLI_SCRIPT', true);" in text), path


def test_service_holds_exactly_the_service_functions():
    services = php_array_after(read("db/services.php"), "$services")
    functions = QUOTED.findall(php_array_after(services, "'functions'"))
    assert len(functions) == len(set(functions))
    assert set(functions) == SERVICE_FUNCTIONS


def test_service_is_predefined_enabled_and_restricted():
    services = php_array_after(read("db/services.php"), "$services")
    assert services.lstrip().startswith("'ProfRoute' => [")
    for setting in ("'shortname' => 'profroute'", "'restrictedusers' => 1", "'enabled' => 1",
                    "'downloadfiles' => 0"):
        assert setting in services


def test_plugin_declares_its_functions_with_their_capabilities():
    declared = php_array_after(read("db/services.php"), "$functions")
    names = set(re.findall(r"^    '(\w+)' => \[", declared, re.M))
    assert names == PLUGIN_FUNCTIONS
    for name, classname in ((PLUGIN_QUIZ_SLOTS, "get_quiz_slots"),
                            (PLUGIN_COMPLETIONS, "get_completions"),
                            (PLUGIN_USER_COMPETENCIES, "get_user_competencies")):
        body = php_array_after(declared, f"'{name}'")
        assert f"'classname' => 'local_profroute\\external\\{classname}'" in body
        assert "'type' => 'read'" in body
        caps = re.search(r"'capabilities' => '([^']*)'", body).group(1)
        assert tuple(c.strip() for c in caps.split(",")) == DECLARED_CAPABILITIES[name]
        assert set(DECLARED_CAPABILITIES[name]) <= set(CAPABILITIES[name])
        code = read(f"classes/external/{classname}.php")
        for cap in DECLARED_CAPABILITIES[name]:
            assert f"require_capability('{cap}'" in code


def test_role_holds_exactly_the_role_capabilities():
    setup = read("classes/local/setup.php")
    generated = read("classes/local/role_capabilities.php")
    capabilities = QUOTED.findall(php_array_after(generated, "const ALL"))
    assert tuple(capabilities) == ROLE_CAPABILITIES
    assert "const CAPABILITIES = role_capabilities::ALL;" in setup
    assert "const ROLE_SHORTNAME = 'profroute';" in setup
    assert "const ASSIGNABLE_ARCHETYPE = 'student';" in setup
    assert "set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);" in setup


def test_install_and_upgrade_create_the_role():
    for relative in ("db/install.php", "db/upgrade.php"):
        assert "\\local_profroute\\local\\setup::ensure_role();" in read(relative)


def test_lang_files_define_the_same_strings():
    english, russian = lang_strings("en"), lang_strings("ru")
    assert english
    assert set(english) == set(russian)
    for text in (read("lang/en/local_profroute.php"), read("lang/ru/local_profroute.php")):
        keys = re.findall(r"^\$string\['([^']+)'\]", text, re.M)
        assert keys == sorted(keys), "Moodle keeps lang strings in alphabetical order"
    for key in english:
        assert re.findall(r"\{\$a[^}]*\}", english[key]) == re.findall(r"\{\$a[^}]*\}", russian[key]), key


def test_every_string_the_code_uses_is_defined():
    english = lang_strings("en")
    used = set()
    for path in PHP_FILES:
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"(?:get_string|lang_string)\('([\w:]+)', 'local_profroute'", text))
        used |= set(re.findall(r"self::row\('(\w+)'", text))
        used |= set(re.findall(r"self::warning\(\$row\['slot'\], '\w+', '(\w+)'\)", text))
    used |= {"pluginname", "privacy:metadata"}
    assert used - set(english) == set()


def test_version_requires_moodle_41_lts():
    version = read("version.php")
    assert "$plugin->component = 'local_profroute';" in version
    assert re.search(r"\$plugin->requires\s*=\s*2022112800;", version)
    assert re.fullmatch(r"\d+\.\d+\.\d+", plugin_version())
    assert str(plugin_build()).startswith("20")


def test_build_zip_puts_everything_under_profroute(tmp_path: Path):
    path = build_zip(tmp_path)
    assert path.name == f"local_profroute-{plugin_version()}.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert archive.read("profroute/db/services.php") == (PLUGIN_DIR / "db/services.php").read_bytes()
    assert all(name.startswith("profroute/") for name in names)
    assert "profroute/version.php" in names
    assert names == sorted(names)
    assert not any("__pycache__" in name or "/." in name for name in names)
    assert {n for n in names if not n.endswith("/")} == {
        "profroute/" + p.relative_to(PLUGIN_DIR).as_posix()
        for p in PLUGIN_DIR.rglob("*") if p.is_file()}


def test_build_zip_is_byte_identical_on_two_builds(tmp_path: Path):
    first = build_zip(tmp_path / "a").read_bytes()
    second = build_zip(tmp_path / "b").read_bytes()
    assert first == second


def test_build_zip_refuses_a_folder_without_version_php(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        build_zip(tmp_path / "out", plugin_dir=tmp_path)


def recording(name: str) -> dict:
    return json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))


def declared_return_keys(classname: str, structure: str) -> set[str]:
    """Keys of one ``external_single_structure`` inside execute_returns()."""
    returns = read(f"classes/external/{classname}.php").split("function execute_returns", 1)[1]
    body = php_array_after(returns, structure)
    return set(re.findall(r"^\s{16}'(\w+)' => new external_", body, re.M))


def test_recordings_have_the_shared_format_and_no_token():
    files = sorted(RECORDINGS.glob("*.json"))
    assert len(files) >= 4
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert {"function", "params", "response", "description"} <= set(doc), path
        assert doc["function"] in PLUGIN_FUNCTIONS
        assert doc["request"]["body"].startswith("wstoken=REDACTED"), path
        assert re.search(r"\b[0-9a-f]{32}\b", path.read_text(encoding="utf-8")) is None, path


def test_quiz_slots_recording_matches_the_declared_structure():
    response = recording(PLUGIN_QUIZ_SLOTS)["response"]
    assert set(response) == {"quizid", "slots", "warnings"}
    keys = declared_return_keys("get_quiz_slots", "new external_multiple_structure(new external_single_structure(")
    assert len(response["slots"]) == 12
    assert all(set(slot) == keys for slot in response["slots"])
    by_category = {}
    for slot in response["slots"]:
        by_category.setdefault(slot["categoryidnumber"], []).append(slot["slot"])
        assert slot["categoryidnumber"] in slot["tags"]
    assert by_category == {f"PK-0{n}": [2 * n - 1, 2 * n] for n in range(1, 7)}


def test_completions_recording_matches_the_declared_structure():
    response = recording(PLUGIN_COMPLETIONS)["response"]
    keys = declared_return_keys("get_completions", "'completions'")
    assert response["warnings"] == []
    assert all(set(row) == keys for row in response["completions"])
    order = [(r["timecompleted"], r["userid"], r["courseid"]) for r in response["completions"]]
    assert order == sorted(order)
    assert {(r["userid"], r["courseid"]) for r in response["completions"]} == {
        (3, 3), (5, 3), (10, 3), (6, 4), (15, 4), (7, 5), (14, 5), (18, 6)}


def test_completions_for_a_forbidden_course_are_warnings_not_errors():
    response = recording(f"{PLUGIN_COMPLETIONS}__limited_user")["response"]
    assert response["completions"] == []
    assert {w["warningcode"] for w in response["warnings"]} == {"nopermissions"}


def test_user_competencies_recording_matches_the_declared_structure():
    response = recording(PLUGIN_USER_COMPETENCIES)["response"]
    keys = declared_return_keys("get_user_competencies", "'usercompetencies'")
    assert response["warnings"] == []
    rows = response["usercompetencies"]
    assert rows and all(set(row) == keys for row in rows)
    order = [(r["timemodified"], r["userid"], r["competencyid"]) for r in rows]
    assert order == sorted(order)
    # Competent (grade 2) is proficient, Not yet competent (grade 1) is not.
    assert {(r["grade"], r["proficiency"]) for r in rows} == {(2, True), (1, False)}


def test_user_competencies_since_and_userids_filter_on_moodle():
    everything = recording(PLUGIN_USER_COMPETENCIES)["response"]["usercompetencies"]
    since = recording(f"{PLUGIN_USER_COMPETENCIES}__since")
    later = [r for r in everything if r["timemodified"] > int(since["params"]["since"])]
    assert since["response"]["usercompetencies"] == later
    chosen = recording(f"{PLUGIN_USER_COMPETENCIES}__userids")["response"]["usercompetencies"]
    assert chosen == [r for r in everything if r["userid"] in (4, 8)]


def test_user_competencies_need_the_view_capability():
    response = recording(f"{PLUGIN_USER_COMPETENCIES}__limited_user")["response"]
    assert response["errorcode"] == "nopermissions"
