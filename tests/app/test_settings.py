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
