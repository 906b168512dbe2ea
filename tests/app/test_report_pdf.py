"""The municipal report as a PDF (issue 14): A4 pages in Russian with the heat map, the
indicators, effectiveness and capacity of the caller's scope; /report.pdf, its audit record
and ``profroute report --pdf``."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select
from support import AppRunner, signed_in

from app.extensions import db
from app.models import (
    AuditEvent,
    Competency,
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
from app.reports.municipal_pdf import shade

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
A4 = (595.28, 841.89)  # points
TITLES = ("Карта дефицитов", "Показатели программы", "Эффективность предложений",
          "Планирование мощностей")


def seed() -> None:
    """Альфа: A1 (teachers 1–10, partner of the resource centre RC1); Бета: B1 «Школа
    Бетаград» (11–14, no partner). Entry: every teacher with a PK-01 deficit; 1–10 completed
    «КПК Альфа» and 1–7 closed it at the final (the latest diagnostic): PK-01 3 of 10 at A1,
    4 of 4 at B1; PK-02 a deficit for the even-numbered teachers (5 of 10, 2 of 4)."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    rc = School(code="RC1", name="Ресурсный центр Альфа", municipality=alfa,
                resource_centre=True)
    a1 = School(code="A1", name="Школа Альфа-1", municipality=alfa)
    b1 = School(code="B1", name="Школа Бетаград", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=f"Педагог{n}", firstname="Анна",
                      school=a1 if n <= 10 else b1) for n in range(1, 15)]
    pk1 = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    pk2 = Competency(idnumber="PK-02", name="Методика", group="methodological")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная 2026")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая 2026")
    course = Offer(key="pk-a", kind="course", title="КПК Альфа", moodle_course_id=501,
                   competencies=[pk1], provider="ИРО")
    db.session.add_all([rc, a1, b1, *people, pk1, pk2, entry, final, course,
                        Partnership(resource_centre=rc, school=a1)])
    db.session.flush()
    for person in people:
        n = person.moodle_user_id
        closed = n <= 7
        db.session.add_all([
            Deficit(diagnostic_id=entry.id, teacher_id=person.id, competency_id=pk1.id,
                    score=0.3, level="deficit", questions=2),
            Deficit(diagnostic_id=final.id, teacher_id=person.id, competency_id=pk1.id,
                    score=0.9 if closed else 0.35, level="ok" if closed else "deficit",
                    questions=2),
            Deficit(diagnostic_id=final.id, teacher_id=person.id, competency_id=pk2.id,
                    score=0.3 if n % 2 == 0 else 0.9,
                    level="deficit" if n % 2 == 0 else "ok", questions=2)])
        if n <= 10:
            route = Route(teacher_id=person.id, diagnostic_id=entry.id)
            db.session.add(route)
            db.session.flush()
            db.session.add(RouteItem(route_id=route.id, offer_id=course.id, status="completed",
                                     competencies=["PK-01"]))
    db.session.commit()


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    """The PDF's reader and its text, whitespace folded to single spaces."""
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() or "" for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def assert_a4(reader: PdfReader) -> None:
    for page in reader.pages:
        box = page.mediabox
        assert (round(float(box.width), 1), round(float(box.height), 1)) == (
            round(A4[0], 1), round(A4[1], 1))


@pytest.mark.parametrize(("share", "css"), [
    (None, "none"), (0.0, "g0"), (0.094, "g0"), (0.096, "g1"), (0.2, "g2"), (0.3, "g3"),
    (0.49, "g3"), (0.5, "g4"), (0.7, "g5"), (1.0, "g5")])
def test_shades_follow_the_rounded_percent(share: float | None, css: str) -> None:
    assert shade(share) == css


def test_the_region_report_is_an_a4_pdf_in_russian_with_the_figures(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    seed()
    caplog.set_level(logging.WARNING, logger="weasyprint")
    client = signed_in(app)  # a methodologist of the whole region and admin
    answer = client.get("/report.pdf")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "application/pdf"
    assert "attachment; filename=report-" in answer.headers["Content-Disposition"]
    reader, text = pdf_text(answer.data)
    assert len(reader.pages) >= 5  # the title page and one section a page at least
    assert_a4(reader)
    for title in TITLES:
        assert title in text
    assert "Регион: все муниципалитеты" in text and "Дата формирования:" in text
    assert f"Страница 1 из {len(reader.pages)}" in text
    # WeasyPrint took every rule of the print CSS and found the font.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    # The heat map: schools with their shares and n, the municipalities' sums.
    assert "Школа Альфа-1 (A1)" in text and "Школа Бетаград (B1)" in text
    assert "30 % 3 из 10" in text and "100 % 4 из 4" in text and "50 % 2 из 4" in text
    assert "Муниципалитет «Бета»" in text and "7 из 14" in text  # PK-01 in total
    # Effectiveness: 7 of the 10 who completed the course closed the deficit.
    assert "КПК Альфа" in text and "7 из 10 70 % (40 %–89 %)" in text
    # Indicators with numerators and denominators; capacity: B1 has no partner centre.
    assert "Доля проанализированных школ" in text and "Числитель" in text
    assert "Школы с дефицитами без ресурсного центра" in text
    capacity = text[text.rindex("Планирование мощностей"):]
    assert "Школа Бетаград (B1) 4 6" in capacity  # 4 teachers, 6 deficits
    events = db.session.scalars(select(AuditEvent).filter_by(action="export.pdf")).all()
    assert [(e.object_kind, e.details["area"]) for e in events] == [
        ("municipal_report", "Регион: все муниципалитеты")]


def test_a_municipal_methodologist_gets_only_their_schools(app: Flask) -> None:
    seed()
    client = signed_in(app, "alfa", ALFA)
    answer = client.get("/report.pdf")
    assert answer.status_code == 200
    reader, text = pdf_text(answer.data)
    assert_a4(reader)
    assert "Муниципалитет «Альфа»" in text and "Школа Альфа-1" in text
    assert "Бетаград" not in text and "Бета»" not in text
    assert "30 % 3 из 10" in text and "4 из 4" not in text
    # A teacher has no report.
    teacher = signed_in(app, "teacher1", ("--role", "teacher", "--teacher-moodle-id", "1"))
    assert teacher.get("/report.pdf").status_code == 403


def test_cli_writes_the_pdf_of_the_region_or_one_municipality(app: Flask,
                                                             tmp_path: Path) -> None:
    seed()
    runner = AppRunner(app)
    region = tmp_path / "region.pdf"
    result = runner.invoke(["municipal-report", "--pdf", str(region)])
    assert result.exit_code == 0, result.output
    reader, text = pdf_text(region.read_bytes())
    assert_a4(reader)
    assert "Школа Бетаград" in text and "Школа Альфа-1" in text
    beta = tmp_path / "beta.pdf"
    result = runner.invoke(["municipal-report", "--pdf", str(beta), "--municipality", "Бета"])
    assert result.exit_code == 0, result.output
    _, text = pdf_text(beta.read_bytes())
    assert "Муниципалитет «Бета»" in text and "Школа Бетаград" in text
    assert "Альфа-1" not in text
    wrong = runner.invoke(["municipal-report", "--pdf", str(tmp_path / "x.pdf"), "--municipality",
                           "Гамма"])
    assert wrong.exit_code != 0 and "Гамма" in wrong.output
    assert not (tmp_path / "x.pdf").exists()
    assert db.session.scalar(select(AuditEvent.details).filter_by(action="export.pdf")
                             .order_by(AuditEvent.id)) == {"area": "Регион: все муниципалитеты",
                                                           "file": str(region)}
