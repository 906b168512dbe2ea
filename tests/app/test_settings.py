"""Settings: defaults, environment over file, typed values, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, SettingsError


def test_defaults_follow_the_recorded_moodle() -> None:
    settings = Settings.load({})
    assert settings.diagnostic_course == "diag-2026"
    assert settings.field_school_code == "schoolcode" and settings.field_subject == "subject"
    assert (settings.deficit_below, settings.risk_below, settings.min_questions) == (0.5, 0.7, 2)


def test_environment_wins_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "profroute.toml"
    config.write_text('[profroute]\nmoodle_url = "https://file.example"\n'
                      'deficit_below = 0.4\ninclude_risk = true\n', encoding="utf-8")
    settings = Settings.load({"PROFROUTE_CONFIG": str(config),
                              "PROFROUTE_MOODLE_URL": "https://env.example",
                              "PROFROUTE_ENROL_BATCH_SIZE": "50"})
    assert settings.moodle_url == "https://env.example"
    assert settings.deficit_below == 0.4 and settings.include_risk is True
    assert settings.enrol_batch_size == 50


@pytest.mark.parametrize(("key", "value"), [("PROFROUTE_ENROL_BATCH_SIZE", "many"),
                                            ("PROFROUTE_INCLUDE_RISK", "perhaps"),
                                            ("PROFROUTE_RISK_BELOW", "70%")])
def test_bad_values_name_the_variable(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.load({key: value})


def test_secrets_are_masked_everywhere() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    settings = Settings.load({"PROFROUTE_MOODLE_TOKEN": secret})
    assert secret not in repr(settings)
    assert settings.public()["moodle_token"] == "***"
    with pytest.raises(SettingsError) as err:
        Settings.load({"PROFROUTE_MOODLE_TOKEN": secret, "PROFROUTE_PAGE_SIZE": "x"})
    assert secret not in str(err.value)


def test_unreadable_config_file_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("moodle_url = ", encoding="utf-8")
    with pytest.raises(SettingsError, match="cannot read config file"):
        Settings.load({"PROFROUTE_CONFIG": str(bad)})


@pytest.fixture(autouse=True)
def _no_dotenv_of_the_developer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in an empty directory: a `.env` of the checkout cannot leak in."""
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_precedence_is_arguments_environment_dotenv_file_default(tmp_path: Path) -> None:
    config = write(tmp_path / "profroute.toml",
                   'moodle_url = "file"\nstudent_role = "file"\npage_size = 10\n'
                   'field_subject = "file"\n')
    write(tmp_path / ".env", "PROFROUTE_MOODLE_URL=dotenv\nPROFROUTE_STUDENT_ROLE=dotenv\n"
                             "PROFROUTE_PAGE_SIZE=20\n")
    env = {"PROFROUTE_CONFIG": config, "PROFROUTE_MOODLE_URL": "env",
           "PROFROUTE_STUDENT_ROLE": "env"}
    settings = Settings.load(env, moodle_url="argument", teacher_cohort=None)
    assert settings.moodle_url == "argument"
    assert settings.student_role == "env"
    assert settings.page_size == 20
    assert settings.field_subject == "file"
    assert settings.field_school_code == "schoolcode" and settings.teacher_cohort == ""


def test_dotenv_may_name_the_config_file_and_can_be_switched_off(tmp_path: Path) -> None:
    config = write(tmp_path / "profroute.toml", '[profroute]\nrisk_groups = "from-file"\n')
    write(tmp_path / ".env", f"PROFROUTE_CONFIG={config}\nPROFROUTE_SYNC_WORKERS=2\n")
    settings = Settings.load({})
    assert (settings.risk_groups, settings.sync_workers) == ("from-file", 2)
    assert Settings.load({}, env_file=None) == Settings()


def test_a_plain_settings_value_reads_no_environment(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".env", "PROFROUTE_PAGE_SIZE=20\n")
    monkeypatch.setenv("PROFROUTE_MOODLE_URL", "https://env.example")
    assert Settings().moodle_url == "" and Settings().page_size == 200
    assert Settings.load().moodle_url == "https://env.example" and Settings.load().page_size == 20


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("PROFROUTE_MOODLE_TIMEOUT", "soon", "valid number"),
    ("PROFROUTE_ATTEMPT_POLICY", "median", "'quiz', 'first', 'last', 'best' or 'average'"),
    ("PROFROUTE_DIAGNOSTIC_KIND", "middle", "'entry' or 'final'"),
    ("PROFROUTE_CANCEL_ACTION", "delete", "'suspend' or 'unenrol'"),
    ("PROFROUTE_LRS_VERSION", "1.0.0", "'1.0.3' or '2.0.0'")])
def test_a_bad_value_names_the_variable_the_value_and_the_problem(
        key: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.load({key: value})
    assert str(err.value).startswith(f"setting {key} = {value!r}: ")
    assert problem in str(err.value)


def test_a_bad_value_in_the_config_file_names_its_key_and_file(tmp_path: Path) -> None:
    config = write(tmp_path / "p.toml", "[profroute]\nenrol_batch_size = \"many\"\n")
    with pytest.raises(SettingsError, match="PROFROUTE_ENROL_BATCH_SIZE") as err:
        Settings.load({"PROFROUTE_CONFIG": config})
    assert f"enrol_batch_size in {config}" in str(err.value)


def test_values_are_typed_and_words_trimmed() -> None:
    settings = Settings.load({"PROFROUTE_INCLUDE_RISK": " Yes ", "PROFROUTE_PD_CATEGORY": "7",
                              "PROFROUTE_ATTEMPT_POLICY": "best ", "PROFROUTE_RISK_BELOW": "0.8"})
    assert settings.include_risk is True and settings.attempt_policy == "best"
    assert (settings.pd_category, settings.risk_below) == ("7", 0.8)
    assert Settings(pd_category=3).pd_category == "3"  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["moodle_token", "secret_key", "sandbox_token", "lrs_password"])
def test_a_secret_never_shows_in_repr_or_errors(name: str, tmp_path: Path) -> None:
    secret = "s3cr3t-" + name + "-0123456789abcdef0123456789abcdef"  # a secret_key is >= 32
    settings = Settings.load({f"PROFROUTE_{name.upper()}": secret})
    assert getattr(settings, name) == secret
    assert secret not in repr(settings) and secret not in str(settings)
    assert settings.public()[name] == "***"
    config = write(tmp_path / "p.toml", f"{name} = [\"{secret}\"]\n")
    with pytest.raises(SettingsError) as err:
        Settings.load({"PROFROUTE_CONFIG": config})
    assert secret not in str(err.value) and secret not in str(err.value.__cause__)
    assert f"PROFROUTE_{name.upper()}" in str(err.value) and "***" in str(err.value)


def test_settings_are_frozen_hashable_values() -> None:
    one, two = Settings(page_size=5), Settings(page_size=5)
    assert one == two and hash(one) == hash(two) and one != Settings()
    with pytest.raises(ValueError, match="frozen"):
        one.page_size = 6  # type: ignore[misc]


def test_replace_checks_like_the_constructor() -> None:
    settings = Settings(moodle_url="https://m.example")
    changed = settings.replace(page_size="50")
    assert (changed.page_size, changed.moodle_url, settings.page_size) == (50, settings.moodle_url,
                                                                           200)
    with pytest.raises(SettingsError, match="PROFROUTE_CANCEL_ACTION"):
        settings.replace(cancel_action="delete")
    with pytest.raises(TypeError, match="moodle_uri"):
        settings.replace(moodle_uri="x")


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file .*PROFROUTE_CONFIG"):
        Settings.load({"PROFROUTE_CONFIG": str(tmp_path / "absent.toml")})
