"""LRSSettings: a plain value from its arguments, or read from PROFROUTE_LRS_* by from_env."""

from __future__ import annotations

import pytest

from xapi.settings import XAPI_VERSIONS, LRSSettings

SECRET = "Sup3r-secret-pw"
ENDPOINT = "http://lrs.test/xAPI/"


def test_from_env_reads_every_setting_by_its_variable() -> None:
    settings = LRSSettings.from_env({
        "PROFROUTE_LRS_ENDPOINT": "https://lrs.test/x", "PROFROUTE_LRS_USERNAME": "key",
        "PROFROUTE_LRS_PASSWORD": SECRET, "PROFROUTE_LRS_TIMEOUT": "2.5",
        "PROFROUTE_LRS_RETRIES": "0", "PROFROUTE_LRS_BACKOFF": "1", "OTHER": "x"})
    assert settings == LRSSettings("https://lrs.test/x/", username="key", password=SECRET,
                                   timeout=2.5, retries=0, backoff=1.0)
    assert hash(settings) == hash(LRSSettings.from_env({
        "PROFROUTE_LRS_ENDPOINT": "https://lrs.test/x", "PROFROUTE_LRS_USERNAME": "key",
        "PROFROUTE_LRS_PASSWORD": SECRET, "PROFROUTE_LRS_TIMEOUT": "2.5",
        "PROFROUTE_LRS_RETRIES": "0", "PROFROUTE_LRS_BACKOFF": "1"}))


def test_a_plain_value_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFROUTE_LRS_VERSION", "2.0.0")
    assert LRSSettings(ENDPOINT).version == "1.0.3"
    assert LRSSettings.from_env({"PROFROUTE_LRS_ENDPOINT": ENDPOINT}).version == "1.0.3"
    monkeypatch.setenv("PROFROUTE_LRS_ENDPOINT", ENDPOINT)
    assert LRSSettings.from_env().version == "2.0.0"


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("PROFROUTE_LRS_TIMEOUT", "soon", "PROFROUTE_LRS_TIMEOUT = 'soon': "),
    ("PROFROUTE_LRS_VERSION", "1.0.0", "PROFROUTE_LRS_VERSION = '1.0.0': "),
    ("PROFROUTE_LRS_RETRIES", "-1", "PROFROUTE_LRS_RETRIES = '-1': "),
    ("PROFROUTE_LRS_ENDPOINT", f"http://u:{SECRET}@lrs.test/", "PROFROUTE_LRS_ENDPOINT: ")])
def test_a_bad_variable_is_named_without_a_credential(key: str, value: str, shown: str) -> None:
    env = {"PROFROUTE_LRS_ENDPOINT": ENDPOINT, "PROFROUTE_LRS_PASSWORD": SECRET, key: value}
    with pytest.raises(ValueError) as err:
        LRSSettings.from_env(env)
    assert str(err.value).startswith(shown)
    assert SECRET not in str(err.value) and SECRET not in str(err.value.__cause__)


def test_settings_are_frozen_and_refuse_unknown_names() -> None:
    settings = LRSSettings(ENDPOINT, password=SECRET)
    with pytest.raises(ValueError, match="frozen"):
        settings.timeout = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError, match="passwd"):
        LRSSettings(ENDPOINT, passwd=SECRET)
    assert XAPI_VERSIONS == ("1.0.3", "2.0.0")
