"""Hostile input on every route of the URL map: a clear 4xx (or a page), never a 5xx.

Every rule of ``app.url_map`` is called with each of its methods, anonymously and signed in
(the xAPI endpoint with its own credential), with values drawn from a fixed seed (so every
run sends the same requests): ids past 64 bits and negative, impossible dates,
huge and odd query values, JSON and TOML nested 1,000 deep, 300-character and odd file
names, wrong content types, empty bodies. Routes added later are walked without a change
here; a parameter they read that is not in ``PARAMETERS`` should be added to it.
"""

from __future__ import annotations

import base64
import io
import json
import random
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from support import signed_in
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Municipality, School, Teacher
from app.xapi.credentials import create_credential

MIN_REQUESTS = 1500
SEED = 11
BODIES = ["files", "form", "json", "toml", "raw", "none"]

DEEP_JSON = ["[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, "[" * 100_000,
             '{"actor": ' + "[" * 5000 + "]" * 5000 + "}", json.dumps({"k": "v" * 100_000}),
             json.dumps({"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://x/v"},
                         "object": {"id": "http://x/o"}, "timestamp": "9999-12-31T23:59:59-14:00"})]
DEEP_TOML = ["a = " + "[" * 1000 + "]" * 1000, "a = " + "{b = " * 1000 + "1" + "}" * 1000,
             "[" + ".".join(["a"] * 1000) + "]\nx = 1", ".".join(["k"] * 3000) + " = 1",
             "a = [" + "1," * 20_000 + "]"]
INTS = ["0", "-1", "1", "2", str(2**31 - 1), str(2**31), str(2**63 - 1), str(2**63), str(2**64 + 1), "9" * 40,
        "-" + "9" * 40, "1e9", "0x10", " 1", "1.5", "²", "٣", "NaN", "inf", "-0"]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-13-01", "10000-01-01", "2026-1-1",
         "20260101", "0000-00-00", "2026-02-28T25:00", "9999-12-31T23:59:59-14:00",
         "0001-01-01T00:00:00+14:00", "2026-09-01", "2026-08-31"]
TEXTS = ["", " ", "\x00", "a\x00b", "x" * 5000, "%", "%00", "' OR 1=1 --", "../../etc/passwd",
         "ё" * 300, "<script>alert(1)</script>", "{{7*7}}", "\u202e", "true", "null", "[]",
         "\r\nSet-Cookie: x=1", "by-type", "risk-group", "change", "results", "quiz"]
VALUES = INTS + DATES + TEXTS + DEEP_JSON[:2] + DEEP_TOML[:2]
# The parameters the views read, each with the values most likely to break it; any value
# may still go to any parameter.
PARAMETERS = {
    **dict.fromkeys(["diagnostic", "final", "limit", "page", "id", "min_questions",
                     "risk_min_groups", "deficit_below", "risk_below"], INTS),
    **dict.fromkeys(["from", "to", "compare_from", "compare_to", "since", "until"], DATES),
    **dict.fromkeys(["agent", "content", "more"], DEEP_JSON[:3] + TEXTS[:4]),
    **dict.fromkeys(["overrides"], DEEP_TOML + TEXTS[:4]),
    **dict.fromkeys(["municipality", "school", "view", "q", "next", "statementId",
                     "voidedStatementId", "format", "attachments", "ascending", "verb",
                     "activity", "registration", "related_activities", "token", "apply",
                     "action", "comment", "attempt_policy", "risk_groups", "risk_groups_other",
                     "login", "password", "col-0-0", "col-0-1", "X-Experience-API-Version",
                     "Content-Type", "method"], TEXTS + INTS[:8])}
FILE_FIELDS = ["files", "file", "schools", "partnerships", "offers"]
FILE_NAMES = ["а" * 300 + ".csv", "b" * 300 + ".xlsx", "../../../etc/passwd", "a\x00b.csv",
              "", ".", "..", "CON", "x/" * 150 + "y.csv", "line\nbreak.csv", "name with ;\".csv",
              "\u202eslx.csv", "results.csv", "map.xml"]
FILE_BODIES = [b"", b"PK\x03\x04junk", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel",
               b"school_code;subject\n" + b"=1+1;\xff\xfe\n" * 50, b"<html></html>",
               b"<?xml version='1.0'?>" + b"<a>" * 2000, bytes(range(256)) * 8,
               "\ufeffкод;балл\n1;2\n".encode()]
CONTENT_TYPES = ["application/json", "text/plain", "application/xml", "multipart/form-data",
                 "multipart/mixed; boundary=x", "application/x-www-form-urlencoded",
                 "application/octet-stream", "", "text/html; charset=koi8-r"]


@dataclass
class Tally:
    """Requests sent and the ones that ended in a server error (or an exception)."""

    sent: int = 0
    failures: list[str] = field(default_factory=list)


class Draw:
    """Hostile values from a fixed seed: the same requests on every run.

    Each request has a focus that turns round: a URL variable, one parameter with a value
    of its own kind, a body of each kind; the rest of the request is drawn at random.
    """

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def pick(self, values: list[Any]) -> Any:
        return self.random.choice(values)

    def value(self, rule: Rule, name: str) -> str:
        """A hostile value for a URL variable, fitted to its converter only sometimes."""
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            return self.pick([*converter.items, *TEXTS[:8]])
        if isinstance(converter, IntegerConverter):
            return self.pick(INTS)
        if isinstance(converter, PathConverter):
            return self.pick(["../../etc/passwd", "x" * 300, "%2e%2e/a", "a.css"])
        return self.pick(TEXTS + DATES[:3] + INTS[4:9])

    def path(self, rule: Rule) -> str:
        """The rule's path with each variable replaced by a drawn value (URL-quoted)."""
        values = {name: urllib.parse.quote(self.value(rule, name), safe="")
                  for name in rule.arguments}
        return "".join(values[part] if is_dynamic else part
                       for is_dynamic, part in rule._trace if part != "|")

    def pairs(self, most: int, focus: str | None = None) -> list[tuple[str, str]]:
        """Parameters with hostile values: mostly of their own kind, sometimes any."""
        names = [self.pick(sorted(PARAMETERS)) for _ in range(self.random.randint(0, most))]
        pairs = [(name, self.pick(PARAMETERS[name] if self.random.random() < 0.7 else VALUES))
                 for name in names]
        return [(focus, self.pick(PARAMETERS[focus]))] + pairs if focus else pairs

    def body(self, kind: str) -> dict[str, Any]:
        """Keyword arguments of the test client's ``open`` for one body of ``kind``."""
        if kind == "none":
            return {}
        if kind == "json":
            return {"data": self.pick(DEEP_JSON), "content_type": "application/json"}
        if kind == "raw":
            return {"data": self.pick([*FILE_BODIES, b"%%%&&==&a=%zz", *DEEP_JSON[:2]]),
                    "content_type": self.pick(CONTENT_TYPES)}
        data: dict[str, Any] = {}
        for name, value in self.pairs(6):
            data.setdefault(name, []).append(value)
        if kind == "toml":
            data["overrides"] = [self.pick(DEEP_TOML)]
            data.update(deficit_below="50", risk_below="70", min_questions="2")
        if kind == "files":
            for _ in range(self.random.randint(1, 3)):
                data.setdefault(self.pick(FILE_FIELDS), []).append(
                    (io.BytesIO(self.pick(FILE_BODIES)), self.pick(FILE_NAMES)))
            return {"data": data, "content_type": "multipart/form-data"}
        return {"data": data}

    def request(self, rule: Rule, method: str, turn: int) -> tuple[str, dict[str, Any]]:
        """The URL and body of the ``turn``-th request to a rule."""
        focus = sorted(PARAMETERS)[turn % len(PARAMETERS)] if turn % 2 else None
        url = self.path(rule)
        query = urllib.parse.urlencode(self.pairs(3, focus))
        kinds = BODIES if method in ("POST", "PUT", "PATCH") else ["none", "none", "raw"]
        return (f"{url}?{query}" if query else url), self.body(kinds[turn % len(kinds)])


def _seed() -> None:
    """A municipality, a school, teachers 1 and 2 with levels in an entry and a final
    diagnostic (ids 1 and 2): valid ids lead past the «not found» of each view."""
    school = School(code="A1", name="Школа", municipality=Municipality(name="Альфа"))
    teachers = [Teacher(moodle_user_id=n, school=school, lastname=f"П{n}") for n in (1, 2)]
    competency = Competency(idnumber="PK-01", group="subject")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    db.session.add_all([school, *teachers, competency, entry, final])
    db.session.flush()
    for diagnostic, score, level in ((entry, 0.3, "deficit"), (final, 0.8, "ok")):
        db.session.add_all(Deficit(diagnostic_id=diagnostic.id, teacher_id=t.id,
                                   competency_id=competency.id, score=score, level=level)
                           for t in teachers)
    db.session.commit()


def _routes(app: Flask) -> list[tuple[Rule, str]]:
    return [(rule, method) for rule in app.url_map.iter_rules()
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]


def _send(client: FlaskClient, method: str, url: str, headers: dict[str, str],
          body: dict[str, Any], tally: Tally) -> None:
    tally.sent += 1
    where = f"{method} {url[:160]} {str(body.get('data'))[:80]!r}"
    try:
        response = client.open(url, method=method, headers=headers, **body)
    except Exception as err:  # noqa: BLE001  (the app raised: a 500 in production)
        db.session.rollback()
        tally.failures.append(f"{where}: {type(err).__name__}: {str(err)[:200]}")
        return
    if response.status_code >= 500:
        tally.failures.append(f"{where}: HTTP {response.status_code}")
    elif response.status_code >= 400 and b"Traceback" in response.data:
        tally.failures.append(f"{where}: a traceback in a {response.status_code} answer")


@pytest.mark.db
def test_no_route_answers_hostile_input_with_a_server_error(
        app: Flask, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    app.config["PROFROUTE_UPLOADS"] = str(tmp_path / "uploads")
    _seed()
    member = signed_in(app)
    anonymous = app.test_client()
    credential, secret = create_credential("https://moodle.example.org", "fuzz")
    db.session.commit()
    lrs = {"Authorization": "Basic " + base64.b64encode(
        f"{credential.key}:{secret}".encode()).decode(), "X-Experience-API-Version": "1.0.3"}
    routes = _routes(app)
    tally = Tally()
    draw = Draw(SEED)
    turn = 0
    while tally.sent < MIN_REQUESTS:
        for rule, method in routes:
            if method == "GET" and not rule.arguments and turn % 2 == 0 and turn:
                continue  # a page without variables: half its turns (the focused ones)
            for caller, client in (("anonymous", anonymous), ("signed in", member)):
                url, body = draw.request(rule, method, turn)
                headers = lrs if caller == "signed in" and rule.rule.startswith("/xapi") else {}
                _send(client, method, url, headers, body, tally)
        turn += 1
    with capsys.disabled():
        print(f"\nfuzz: {tally.sent} requests over {len(routes)} routes × methods, "
              f"{len(tally.failures)} server errors")
    assert not tally.failures, "\n".join(tally.failures[:60])
