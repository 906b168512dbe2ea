"""PHP-array form encoding of web-service parameters, checked against the real recordings."""

from __future__ import annotations

import json

import pytest

from lms_connectors.exceptions import InvalidRequest
from lms_connectors.moodle.encoding import MAX_DEPTH, encode_params


def test_encode_params_reproduces_the_recorded_form_fields(structured_recording, recording):
    data = recording(structured_recording)

    fields = encode_params(data["params_structured"])

    assert fields == list(data["params"].items())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, []),
        ({"courseid": 3}, [("courseid", "3")]),
        (
            {"enrolments": [{"roleid": 5, "userid": 12, "courseid": 3}]},
            [
                ("enrolments[0][roleid]", "5"),
                ("enrolments[0][userid]", "12"),
                ("enrolments[0][courseid]", "3"),
            ],
        ),
        (
            {"options": [{"name": "limitnumber", "value": 5}]},
            [("options[0][name]", "limitnumber"), ("options[0][value]", "5")],
        ),
        (
            {"tagindex": {"tag": "PK-03", "tc": 1, "ta": 2}},
            [("tagindex[tag]", "PK-03"), ("tagindex[tc]", "1"), ("tagindex[ta]", "2")],
        ),
        (
            {"members": [{"cohorttype": {"type": "idnumber", "value": "school-16005"}}]},
            [
                ("members[0][cohorttype][type]", "idnumber"),
                ("members[0][cohorttype][value]", "school-16005"),
            ],
        ),
        ({"values": ("a", "b")}, [("values[0]", "a"), ("values[1]", "b")]),
        ({"suspend": True, "onlyactive": False}, [("suspend", "1"), ("onlyactive", "0")]),
        ({"grade": 2.5, "zero": 0, "neg": -1}, [("grade", "2.5"), ("zero", "0"), ("neg", "-1")]),
        ({"text": ""}, [("text", "")]),
        ({"a": None, "b": 1}, [("b", "1")]),
        ({"courseids": [], "options": {}, "userid": 4}, [("userid", "4")]),
        ({"e": [{"timestart": 0, "timeend": None}]}, [("e[0][timestart]", "0")]),
        ({"text": "Привет & <p>"}, [("text", "Привет & <p>")]),
    ],
    ids=lambda v: json.dumps(v, ensure_ascii=False)[:60] if isinstance(v, dict) else None,
)
def test_encode_params_table(params, expected):
    assert encode_params(params) == expected


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"values": [1, None, 2]}, "values[1] is None"),
        ({"values": {1, 2}}, "type set"),
        ({"blob": b"x"}, "type bytes"),
        ({"grade": float("nan")}, "grade is nan"),
        ({"grade": float("inf")}, "grade is inf"),
        ({"x": {None: 1}}, "not a name or index"),
        ({"x": {True: 1}}, "not a name or index"),
        ({"x": _nested(MAX_DEPTH)}, "nested deeper"),
        ({1: "x"}, "parameter name 1"),
        ({"": "x"}, "parameter name ''"),
    ],
)
def test_encode_params_refuses_what_moodle_cannot_read(params, fragment):
    with pytest.raises(InvalidRequest) as info:
        encode_params(params)

    assert fragment in str(info.value)
    assert "hint:" in str(info.value)


def test_max_depth_is_enough_for_moodle_structures():
    fields = encode_params({"x": _nested(MAX_DEPTH - 1)})

    assert fields == [("x" + "[0]" * (MAX_DEPTH - 1), "1")]
