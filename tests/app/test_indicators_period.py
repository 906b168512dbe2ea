"""Indicators from the database per municipality and period, through the CLI, page and XLSX.

Events sit on the edges of the period 2026-01-01 – 2026-06-30 in Moscow time; the expected
numbers are worked out by hand beside them.
"""

from __future__ import annotations

import datetime as dt
import io
import json

import openpyxl
import pytest
from flask.testing import FlaskClient
from support import AppRunner

from app.extensions import db
from app.models import (
    Attempt,
    Competency,
    CourseCompletion,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
)


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client

MSK = dt.timezone(dt.timedelta(hours=3))


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=MSK).timestamp())


FIRST = msk(2026, 1, 1)                      # the period's first second (31 Dec 21:00 UTC)
JUST_BEFORE = msk(2025, 12, 31, 23, 59, 59)  # one second before it
LAST = msk(2026, 6, 30, 23, 59, 59)          # its last second
JUST_AFTER = msk(2026, 7, 1)                 # one second after it (still 30 June in UTC)
FEB, MARCH = msk(2026, 2, 1, 12), msk(2026, 3, 1, 12)
PERIOD = ["--from", "2026-01-01", "--to", "2026-06-30"]
COMPARE = ["--compare-from", "2025-01-01", "--compare-to", "2025-12-31"]


def utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def seed() -> None:
    """«Альфа»: A1 (low-results; teachers 1, 2), A2 (resource centre; teacher 4).
    «Бета»: B1 (low-results; teacher 3)."""
    alpha, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a1 = School(code="A1", municipality=alpha, low_results=True)
    a2 = School(code="A2", municipality=alpha, resource_centre=True)
    b1 = School(code="B1", municipality=beta, low_results=True)
    t = [Teacher(moodle_user_id=n, school=s) for n, s in ((1, a1), (2, a1), (3, b1), (4, a2))]
    pk = Competency(idnumber="PK-01", group="subject")  # a deficit here is the risk group
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final")
    offer = Offer(key="pk", kind="course", title="КПК", moodle_course_id=501)
    db.session.add_all([a1, a2, b1, *t, pk, entry, final, offer])
    db.session.flush()
    for moodle_id, diagnostic, teacher, finished in (
            (101, entry, t[0], FIRST), (102, entry, t[1], JUST_BEFORE), (103, entry, t[2], FEB),
            (104, final, t[0], LAST), (105, final, t[2], JUST_AFTER)):
        db.session.add(Attempt(moodle_attempt_id=moodle_id, diagnostic_id=diagnostic.id,
                               teacher_id=teacher.id, attempt_no=1, state="finished",
                               time_finish=finished, sumgrades=1.0))
    for diagnostic, teacher, score, level, attempt in (
            (entry, t[0], 0.4, "deficit", 101), (entry, t[1], 0.3, "deficit", 102),
            (entry, t[2], 0.2, "deficit", None),  # an average: dated by attempt 103
            (final, t[0], 0.6, "ok", 104), (final, t[2], 0.9, "ok", 105)):
        db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=teacher.id,
                               competency_id=pk.id, score=score, level=level,
                               moodle_attempt_id=attempt))
    for teacher, when in ((t[0], LAST), (t[2], JUST_BEFORE), (t[1], MARCH)):
        db.session.add(CourseCompletion(teacher_id=teacher.id, moodle_course_id=501,
                                        completed=True, time_completed=when))
    db.session.add_all([
        Partnership(resource_centre_id=a2.id, school_id=a1.id, starts_on=dt.date(2026, 6, 30)),
        Partnership(resource_centre_id=a2.id, school_id=b1.id, starts_on=dt.date(2025, 9, 1),
                    ends_on=dt.date(2025, 12, 31))])
    for teacher, created, status, updated in (
            (t[0], FEB, "approved", FEB), (t[2], JUST_AFTER, "proposed", JUST_AFTER),
            (t[1], msk(2025, 10, 1), "completed", JUST_BEFORE)):
        db.session.add(Route(teacher_id=teacher.id, diagnostic_id=entry.id,
                             created_at=utc(created), items=[RouteItem(
                                 offer_id=offer.id, status=status, updated_at=utc(updated))]))
    db.session.commit()


CODES = ("schools_analysed", "schools_low_results", "risk_group_pd", "score_rose",
         "schools_in_network", "partnerships", "low_results_teachers_routed")
EXPECTED = {
    # attempts in the period: 1 (first and last second, A1), 3 (February, B1); 2's is one
    # second before: A1, B1 of 3. Risk group: 1 (entry on the first second), 3 (average,
    # dated by its February attempt); completed in the period: 1 (last second), not 3 (one
    # second before). Score: 1 rose 0.4 → 0.6; 3's final is one second after. A2–A1 starts
    # on the last day (A1, A2 involved); A2–B1 ended the day before. Low-results teachers
    # 1, 2, 3: 1 routed; 3's route is one second late, 2's item completed one second early.
    None: [(2, 3), (2, 3), (1, 2), (1, 1), (2, 3), (1, 1), (1, 3)],
    "Альфа": [(1, 2), (1, 2), (1, 1), (1, 1), (2, 2), (1, 1), (1, 2)],
    "Бета": [(1, 1), (1, 1), (0, 1), (0, 0), (0, 1), (0, 0), (0, 1)],
}
EXPECTED_2025 = {
    # 2's entry one second before 2026 is in 2025: A1 analysed, 2 in the risk group without a
    # completion in 2025; A2–B1 active (A2, B1 involved); 2's item completed in 2025 is live
    None: [(1, 3), (2, 3), (0, 1), (0, 0), (2, 3), (1, 1), (1, 3)],
    "Альфа": [(1, 2), (1, 2), (0, 1), (0, 0), (1, 2), (0, 1), (1, 2)],
    "Бета": [(0, 1), (1, 1), (0, 0), (0, 0), (1, 1), (1, 0), (0, 1)],
}


def numbers(indicators: list[dict]) -> list[tuple[int, int]]:
    found = {i["code"]: i for i in indicators}
    return [(found[c]["numerator"], found[c]["denominator"]) for c in CODES]


def by_area(part: dict) -> dict[str | None, list[tuple[int, int]]]:
    return {None: numbers(part["indicators"]),
            **{m["municipality"]: numbers(m["indicators"]) for m in part["municipalities"]}}


def run(runner: AppRunner, *args: str) -> dict:
    result = runner.invoke(args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_region_and_each_municipality_with_a_comparison(runner: AppRunner, tmp_path) -> None:
    seed()
    out = tmp_path / "indicators.xlsx"
    found = run(runner, "indicators", *PERIOD, *COMPARE, "--xlsx", str(out))
    assert found["period"] == "2026-01-01 – 2026-06-30" and found["municipality"] is None
    assert by_area(found) == EXPECTED
    assert found["compare"]["period"] == "2025-01-01 – 2025-12-31"
    assert by_area(found["compare"]) == EXPECTED_2025
    assert "Знаменатель" in found["definitions"]["risk_group_pd"]["ru"]
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["Показатели"]
    rows = [r for r in sheet.iter_rows(values_only=True) if r[2] == "risk_group_pd"]
    assert [(r[0], r[1], r[4], r[5], r[6]) for r in rows] == [
        ("Все муниципалитеты", "2026-01-01 – 2026-06-30", 1, 2, 0.5),
        ("Альфа", "2026-01-01 – 2026-06-30", 1, 1, 1.0),
        ("Бета", "2026-01-01 – 2026-06-30", 0, 1, 0.0),
        ("Все муниципалитеты", "2025-01-01 – 2025-12-31", 0, 1, 0.0),
        ("Альфа", "2025-01-01 – 2025-12-31", 0, 1, 0.0),
        ("Бета", "2025-01-01 – 2025-12-31", 0, 0, None),
    ]


def test_cli_one_municipality(runner: AppRunner) -> None:
    seed()
    found = run(runner, "indicators", *PERIOD, "--municipality", "Бета")
    assert found["municipality"] == "Бета" and found["municipalities"] == []
    assert numbers(found["indicators"]) == EXPECTED["Бета"]


def test_cli_municipality_without_schools(runner: AppRunner) -> None:
    seed()
    db.session.add(Municipality(name="Гамма"))
    db.session.commit()
    found = run(runner, "indicators", *PERIOD, *COMPARE, "--municipality", "Гамма")
    assert numbers(found["indicators"]) == [(0, 0)] * len(CODES)
    assert numbers(found["compare"]["indicators"]) == [(0, 0)] * len(CODES)
    assert all(i["value"] is None for i in found["indicators"])


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-07-01", "--to", "2026-06-30"], "after it ends"),
    (["--compare-from", "2025-01-01"], "give both dates"),
    (["--municipality", "Гамма"], "no municipality named 'Гамма'; known: Альфа, Бета"),
])
def test_cli_refusals(runner: AppRunner, args: list[str], message: str) -> None:
    seed()
    result = runner.invoke(["indicators", *args])
    assert result.exit_code == 2 and message in result.output


def test_page_and_download(client: FlaskClient) -> None:
    seed()
    query = "from=2026-01-01&to=2026-06-30&compare_from=2025-01-01&compare_to=2025-12-31"
    page = client.get(f"/indicators?{query}").get_data(as_text=True)
    assert page.index("Все муниципалитеты") < page.index(">Альфа<") < page.index(">Бета<")
    assert "2025-01-01 – 2025-12-31" in page and "Изменение" in page
    assert "Как считаются показатели" in page and "Знаменатель" in page
    assert "Denominator" not in page  # the English definitions are for an English reader
    english = client.get(f"/indicators?{query}&lang=en").get_data(as_text=True)
    assert "How the indicators are calculated" in english and "Denominator" in english
    # «Альфа», risk group: 1 of 1 = 100.0 % now, 0 of 1 = 0.0 % in 2025: +100.0 p. p.
    assert "+100.0 п. п." in page
    plain = client.get("/indicators?from=2026-01-01&to=2026-06-30").get_data(as_text=True)
    assert "compare_from=2025-01-01" in plain and "Изменение" not in plain
    download = client.get(f"/indicators.xlsx?{query}&municipality=Альфа")
    sheet = openpyxl.load_workbook(io.BytesIO(download.data))["Показатели"]
    areas = {r[0] for r in sheet.iter_rows(values_only=True) if r[2] in CODES}
    assert download.status_code == 200 and areas == {"Альфа"}
    assert client.get("/indicators?compare_to=2025-12-31").status_code == 400
    assert client.get("/indicators.xlsx?from=1.1.2026").status_code == 400
