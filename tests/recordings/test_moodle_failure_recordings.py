"""The failure replies recorded on a real Moodle 4.5 (tests/recordings/moodle): format, no token."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent / "moodle"
FILES = sorted(FOLDER.glob("*.json"))


def test_the_folder_holds_the_recordings_its_readme_lists():
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert len(FILES) >= 8
    for path in FILES:
        assert f"`{path.stem}`" in readme or path.stem.split("__")[1] in readme, path.name


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_recording_has_the_shared_format_and_no_token(path: Path):
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert {"function", "params", "http_status", "response", "description", "request",
            "params_structured"} <= set(doc)
    assert path.stem.split("__")[0] == doc["function"]
    assert doc["request"]["body"].startswith("wstoken=REDACTED")
    assert re.search(r"\b[0-9a-f]{32}\b", text) is None


def test_the_read_back_refusal_names_the_enrolreview_title():
    doc = json.loads((FOLDER / "core_enrol_get_enrolled_users__onlyactive_without_enrolreview.json")
                     .read_text(encoding="utf-8"))
    assert doc["params_structured"]["options"][1] == {"name": "onlyactive", "value": 1}
    assert doc["response"]["errorcode"] == "nopermissions"
    assert doc["response"]["message"].endswith("(Review course enrolments).")


def test_the_failed_message_batch_stored_its_good_messages():
    doc = json.loads((FOLDER / "core_message_send_instant_messages__batch50_one_invalid_recipient.json")
                     .read_text(encoding="utf-8"))
    assert len(doc["params_structured"]["messages"]) == 50
    assert doc["response"]["errorcode"] == "formatnotsupported"
    assert doc["messages_stored_during_failed_call"] == 49
