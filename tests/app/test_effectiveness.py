"""Offer effectiveness (issue 14): the report from stored routes and diagnostics, its page,
XLSX, API and CLI, within the caller's scope."""

from __future__ import annotations

import io
import json

from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select
from support import AppRunner, signed_in

from app.accounts.roles import REGION, Scope
from app.analyse.outcomes import evidence_period, offer_effects
from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Route,
    RouteItem,
    School,
    Teacher,
)
from app.reports.effectiveness import effectiveness_report
from app.routes.items import recommend
from app.routes.plan_input import plan_input
from app.settings import Settings
from courses.plan_texts import record_text

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
BETA = ("--role", "methodologist", "--municipality", "Бета")


def seed() -> tuple[Diagnostic, Diagnostic]:
    """Альфа: teachers 1–12, Бета: 13–20, each with a deficit in PK-01 at entry.
    - 1–10 (Альфа) completed «КПК А»; 1–7 closed it (scores 0.3 → 0.9).
    - 11, 12 (Альфа) completed the internship at RC1; 11 closed it.
    - 13 (Бета) is enrolled in «КПК А», not finished: in neither group.
    - 14–20 (Бета) took nothing; 14 and 15 closed it anyway.
    - 21 (Бета) had no deficit at entry: in no pair.
    """
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a1 = School(code="A1", name="Школа Альфа", municipality=alfa)
    rc = School(code="RC1", name="Ресурсный центр", municipality=alfa)
    b1 = School(code="B1", name="Школа Бета", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=f"Педагог{n}", firstname="Анна",
                      school=a1 if n <= 12 else b1) for n in range(1, 22)]
    pk = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    course = Offer(key="pk-a", kind="course", title="КПК А", moodle_course_id=501,
                   competencies=[pk], provider="ИРО")
    internship = Offer(key="rc-1", kind="internship", title="Стажировка в РЦ", host_school=rc,
                       competencies=[pk], provider="РЦ")
    db.session.add_all([a1, rc, b1, *people, pk, entry, final, course, internship])
    db.session.flush()
    for person in people:
        n = person.moodle_user_id
        at_entry = "ok" if n == 21 else "deficit"
        closed = n <= 7 or n in (11, 14, 15)
        db.session.add_all([
            Deficit(diagnostic_id=entry.id, teacher_id=person.id, competency_id=pk.id,
                    score=0.3, level=at_entry, questions=2),
            Deficit(diagnostic_id=final.id, teacher_id=person.id, competency_id=pk.id,
                    score=0.9 if closed else 0.35, level="ok" if closed else "deficit",
                    questions=2)])
        offer, status = (course, "completed") if n <= 10 else (internship, "verified") \
            if n <= 12 else (course, "enrolled") if n == 13 else (None, None)
        if offer is not None:
            route = Route(teacher_id=person.id, diagnostic_id=entry.id)
            db.session.add(route)
            db.session.flush()
            db.session.add(RouteItem(route_id=route.id, offer_id=offer.id, status=status,
                                     competencies=["PK-01"]))
    db.session.commit()
    return entry, final


def test_report_counts_completers_beside_those_who_took_nothing(app: Flask) -> None:
    seed()
    report = effectiveness_report(REGION)
    rows = {r.group: r for r in report.rows}
    assert set(rows) == {"pk-a", "rc-1"}
    course = rows["pk-a"].completed
    assert (course.pairs, course.closed, course.share) == (10, 7, 0.7)
    assert course.low is not None and course.high is not None
    assert 0.39 < course.low < 0.7 < course.high < 0.92
    assert course.mean_rise is not None
    assert abs(course.mean_rise - (7 * 0.6 + 3 * 0.05) / 10) < 1e-9
    # Teachers 14–20 took nothing for PK-01 (13 started and did not finish: in neither).
    others = rows["pk-a"].others
    assert (others.pairs, others.closed, others.share) == (7, 2, None)  # below 10 pairs
    assert rows["rc-1"].completed.share is None and rows["rc-1"].completed.pairs == 2
    assert rows["pk-a"].label == "КПК А (pk-a)"
    by_centre = {r.group: r for r in effectiveness_report(REGION, "centre", min_pairs=2).rows}
    assert by_centre["RC1"].label == "Ресурсный центр" and by_centre["RC1"].completed.share == 0.5
    assert by_centre["—"].completed.pairs == 10
    by_kind = effectiveness_report(REGION, "kind", min_pairs=5).rows
    assert [(r.label, r.completed.pairs) for r in by_kind] == [("КПК (Moodle)", 10),
                                                                ("Стажировка", 2)]
    assert effectiveness_report(REGION, min_pairs=7).rows[0].others.share == 2 / 7


def test_scope_keeps_other_municipalities_teachers_out(app: Flask) -> None:
    seed()
    beta = db.session.scalars(db.select(Municipality).filter_by(name="Бета")).one()
    rows = effectiveness_report(Scope(municipality_ids=frozenset({beta.id}))).rows
    assert rows == []  # nobody of Бета completed anything
    client = signed_in(app, "beta", BETA)
    page = client.get("/effectiveness").get_data(as_text=True)
    assert "Пока никто не завершил" in page and "КПК А" not in page
    data = client.get("/api/effectiveness").get_json()
    assert data["rows"] == []


def test_page_xlsx_api_and_cli(app: Flask) -> None:
    entry, final = seed()
    client = signed_in(app, "alfa", ALFA)
    page = client.get("/effectiveness").get_data(as_text=True)
    assert "КПК А (pk-a)" in page and "70 %" in page and "7 из 10" in page
    assert "мало данных (1 из 2)" in page  # the internship: two pairs
    assert "наивное сравнение" in page
    book = load_workbook(io.BytesIO(client.get("/effectiveness.xlsx").data))
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[-2][:5] == ("КПК А (pk-a)", "PK-01 Предметные знания", 10, 7, 0.7)
    assert rows[-1][:5] == ("Стажировка в РЦ (rc-1)", "PK-01 Предметные знания", 2, 1, None)
    api = client.get("/api/effectiveness?by=provider&min_pairs=2").get_json()
    assert {r["group"]: r["completed"]["share"] for r in api["rows"]} == {"ИРО": 0.7, "РЦ": 0.5}
    assert api["entry_diagnostic"] == entry.id and api["final_diagnostic"] == final.id
    # Bad arguments: what was wrong.
    wrong = client.get(f"/effectiveness?entry={final.id}")
    assert wrong.status_code == 400
    assert "is a final diagnostic, not an entry one" in wrong.get_data(as_text=True)
    assert client.get("/effectiveness?by=school").status_code == 400
    assert client.get("/effectiveness?min_pairs=0").status_code == 400
    assert client.get("/api/effectiveness?by=school").status_code == 422
    teacher = signed_in(app, "anna", ("--role", "teacher", "--teacher-moodle-id", "1"))
    assert teacher.get("/effectiveness").status_code == 403
    assert teacher.get("/api/effectiveness").status_code == 403
    result = AppRunner(app).invoke(["effectiveness", "--by", "kind", "--min-pairs", "2"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {r["group"]: r["completed"]["closed"] for r in out["rows"]} == {
        "course": 7, "internship": 1}
    bad = AppRunner(app).invoke(["effectiveness", "--final", str(entry.id)])
    assert bad.exit_code != 0 and "is an entry diagnostic, not a final one" in bad.output


def test_rows_go_by_competency_then_share_with_too_few_pairs_last() -> None:
    from app.reports.effectiveness import EffectRow, Share, _by_share

    def row(label: str, competency: str, share: float | None) -> EffectRow:
        given = Share(10, 0, share, None, None, None)
        return EffectRow(label, label, competency, "", given, given)

    rows = [row("few", "A", None), row("none closed", "A", 0.0), row("half", "A", 0.5),
            row("first", "B", 0.9), row("early", "0", None)]
    assert [r.label for r in sorted(rows, key=_by_share)] == [
        "early", "half", "none closed", "few", "first"]


def test_the_next_plan_weighs_and_cites_the_finished_periods_evidence(
        app: Flask, settings: Settings) -> None:
    entry, final = seed()
    # The next period: a new entry diagnostic after the final one; teachers 14–20 of Бета
    # have the deficit again. «КПК А» is remote: they can take it.
    course = db.session.scalars(select(Offer).filter_by(key="pk-a")).one()
    course.format = "remote"
    following = Diagnostic(moodle_quiz_id=3, moodle_course_id=9, kind="entry", name="Входная 2")
    db.session.add(following)
    db.session.flush()
    pk = db.session.scalars(select(Competency)).one()
    again = db.session.scalars(select(Teacher).where(Teacher.moodle_user_id.between(14, 20)))
    db.session.add_all([Deficit(diagnostic_id=following.id, teacher_id=t.id,
                                competency_id=pk.id, score=0.3, level="deficit", questions=2)
                        for t in again])
    db.session.commit()
    assert evidence_period() == (entry, final)
    effects = {(e.offer_key, e.competency): e for e in offer_effects()}
    assert set(effects) == {("pk-a", "PK-01"), ("rc-1", "PK-01")}
    assert (effects[("pk-a", "PK-01")].pairs, effects[("pk-a", "PK-01")].closed) == (10, 7)
    assert plan_input(following, settings).input.effects == tuple(effects.values())
    recommend(following, settings)
    items = db.session.scalars(select(RouteItem).join(Route).where(
        Route.diagnostic_id == following.id)).all()
    assert len(items) == 7
    for item in items:
        [cited] = item.explanation["evidence"]
        assert (cited["competency"], cited["pairs"], cited["closed"]) == ("PK-01", 10, 7)
        assert "закрыт у 7 из 10 педагогов" in record_text(item.explanation)
    # The internship has two pairs: below the policy's 10, cited nowhere, weighed by nothing.
    assert effects[("rc-1", "PK-01")].pairs == 2


def test_without_a_finished_period_there_is_no_evidence(app: Flask) -> None:
    db.session.add(Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="В"))
    db.session.commit()
    assert evidence_period() is None and offer_effects() == ()
    db.session.add(Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="И"))
    db.session.commit()
    assert evidence_period() is not None and offer_effects() == ()  # nobody took anything
