"""recommend plans routes with the solver (issue 13): seats per session, the hours cap, a
teacher's absence, subject fit, excluded offers; unmet needs stored with their reasons; a
re-run keeps approved items and changes nothing when nothing changed."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from app.analyse.revisions import save_revision
from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Offer,
    OfferSession,
    Route,
    RouteItem,
    RouteUnmetNeed,
    Teacher,
    TeacherUnavailable,
)
from app.routes import review
from app.routes.items import recommend
from app.settings import Settings


def _teachers(*subjects: str) -> list[Teacher]:
    people = [Teacher(moodle_user_id=n + 1, lastname=f"Педагог {n + 1}", subjects=subject)
              for n, subject in enumerate(subjects)]
    db.session.add_all(people)
    return people


def _competencies(*codes: str) -> list[Competency]:
    found = [Competency(idnumber=code, name=code, group="subject") for code in codes]
    db.session.add_all(found)
    return found


def _offer(key: str, competencies: list[Competency], sessions: list[OfferSession], *,
           subjects: tuple[str, ...] = (), hours: int | None = None) -> Offer:
    offer = Offer(key=key, kind="external", title=f"Курс {key}", format="remote",
                  competencies=competencies, subjects=list(subjects), hours=hours,
                  sessions=sessions)
    db.session.add(offer)
    return offer


def _session(key: str, starts: dt.date, seats: int | None = None, hours: int | None = None
             ) -> OfferSession:
    return OfferSession(key=key, starts_on=starts, ends_on=starts + dt.timedelta(days=4),
                        seats=seats, hours=hours)


def _deficits(diagnostic: Diagnostic, people: list[Teacher], comps: list[Competency],
              score: float = 0.3) -> None:
    db.session.flush()
    for person in people:
        for comp in comps:
            db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=person.id,
                                   competency_id=comp.id, score=score, level="deficit",
                                   questions=2))
    db.session.commit()


def _diagnostic() -> Diagnostic:
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    db.session.add(diagnostic)
    return diagnostic


def _items() -> list[tuple[int, str, str | None, str, tuple[str, ...]]]:
    """(moodle id, offer key, session key, status, competencies) of every item."""
    rows = db.session.execute(
        select(Teacher.moodle_user_id, Offer.key, OfferSession.key, RouteItem.status,
               RouteItem.competencies)
        .select_from(RouteItem).join(Route).join(Teacher).join(Offer)
        .outerjoin(OfferSession, OfferSession.id == RouteItem.session_id)
        .order_by(Teacher.moodle_user_id, Offer.key))
    return [(m, o, s, st, tuple(c)) for m, o, s, st, c in rows]


def _unmet() -> list[tuple[int, str, str]]:
    rows = db.session.execute(
        select(Teacher.moodle_user_id, RouteUnmetNeed.competency, RouteUnmetNeed.reason)
        .join(Teacher, Teacher.id == RouteUnmetNeed.teacher_id)
        .order_by(Teacher.moodle_user_id, RouteUnmetNeed.competency))
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_seats_per_session_are_respected_and_the_need_left_says_why(
        app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("", "", "")
    (pk,) = _competencies("PK-01")
    _offer("k1", [pk], [_session("март", dt.date(2027, 3, 1), seats=1),
                        _session("апрель", dt.date(2027, 4, 1), seats=1)])
    _deficits(diagnostic, people, [pk])
    summary = recommend(diagnostic, settings)
    items = _items()
    assert len(items) == 2 and {s for _, _, s, _, _ in items} == {"март", "апрель"}
    assert summary.proposed == 2 and summary.unmatched == {"no_seats": 1}
    ((who, competency, reason),) = _unmet()
    assert competency == "PK-01" and reason == "no_seats"
    assert who not in {m for m, *_ in items}
    text = db.session.scalars(select(RouteUnmetNeed.text)).one()
    assert "нет свободных мест" in text and "30 % при пороге 50 %" in text
    # each item explains itself (the planner's text) and the summary says how good the plan is
    reasons = db.session.scalars(select(RouteItem.reasons)).all()
    assert all(r and "Закрывает: PK-01" in r[0] and "Курс k1" in r[0] for r in reasons)
    assert summary.method and summary.bound >= summary.objective > 0
    assert 0 < summary.ratio <= 1.0 + 1e-9


def test_the_hours_cap_holds_per_half_year(app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("")
    pk1, pk2 = _competencies("PK-01", "PK-02")
    _offer("long1", [pk1], [_session("s", dt.date(2027, 2, 1), hours=36)])
    _offer("long2", [pk2], [_session("s", dt.date(2027, 3, 1), hours=36)])
    _deficits(diagnostic, people, [pk1, pk2])
    capped = settings.model_copy(update={"plan_hours_cap": 40.0})
    recommend(diagnostic, capped)
    assert len(_items()) == 1
    assert [r for _, _, r in _unmet()] == ["hours_cap"]
    recommend(diagnostic, settings)  # 72 h: both fit
    assert len(_items()) == 2 and _unmet() == []


def test_the_policy_in_force_sets_the_planners_limits(app: Flask, settings: Settings) -> None:
    """A revision's ``[matching]`` (saved on /policy) wins over the settings and defaults:
    its hours cap, then its limit of items per competency."""
    diagnostic = _diagnostic()
    people = _teachers("")
    pk1, pk2 = _competencies("PK-01", "PK-02")
    _offer("long1", [pk1], [_session("s", dt.date(2027, 2, 1), hours=36)])
    _offer("long2", [pk2], [_session("s", dt.date(2027, 3, 1), hours=36)])
    _offer("more1", [pk1], [_session("s", dt.date(2027, 4, 1), hours=4)])
    _deficits(diagnostic, people, [pk1, pk2])
    threshold = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0}
    save_revision({"default": threshold, "matching": {"hours_cap": 40}}, "test", "cap")
    recommend(diagnostic, settings)  # the settings' 72 h would fit both long courses
    assert sorted(key for _, key, *_ in _items()) == ["long2", "more1"]
    assert [r for _, _, r in _unmet()] == []
    assert {code for *_, codes in _items() for code in codes} == {"PK-01", "PK-02"}
    save_revision({"default": threshold, "matching": {"max_items_per_competency": 2,
                                                      "hours_cap": 100}},
                  "test", "two per competency")
    recommend(diagnostic, settings)
    assert sorted(key for _, key, *_ in _items()) == ["long1", "long2", "more1"]


def test_a_teachers_absence_and_overlapping_sessions_are_avoided(
        app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("")
    pk1, pk2 = _competencies("PK-01", "PK-02")
    # PK-01: January (the teacher is away) or February; PK-02: only February, the same days.
    _offer("a", [pk1], [_session("январь", dt.date(2027, 1, 15)),
                        _session("февраль", dt.date(2027, 2, 15))])
    _offer("b", [pk2], [_session("февраль", dt.date(2027, 2, 15))])
    db.session.flush()
    db.session.add(TeacherUnavailable(teacher_id=people[0].id, starts_on=dt.date(2027, 1, 10),
                                      ends_on=dt.date(2027, 1, 31)))
    _deficits(diagnostic, people, [pk1, pk2])
    recommend(diagnostic, settings)
    # February for PK-01 would clash with PK-02's only session: one of them stays uncovered
    items = _items()
    assert len(items) == 1 and items[0][2] == "февраль"
    ((_, _, reason),) = _unmet()
    assert reason in ("dates_clash", "unavailable")
    db.session.execute(TeacherUnavailable.__table__.delete())
    db.session.commit()
    recommend(diagnostic, settings)  # back from absence: January for PK-01, both covered
    assert [(o, s) for _, o, s, _, _ in _items()] == [("a", "январь"), ("b", "февраль")]
    assert _unmet() == []


def test_subject_fit(app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("математика", "физика")
    (pk,) = _competencies("PK-01")
    _offer("math", [pk], [_session("s", dt.date(2027, 3, 1))], subjects=("математика",))
    _deficits(diagnostic, people, [pk])
    recommend(diagnostic, settings)
    assert [(m, o) for m, o, *_ in _items()] == [(1, "math")]
    assert _unmet() == [(2, "PK-01", "subject")]


def test_subject_fit_ignores_case_and_spaces(app: Flask, settings: Settings) -> None:
    """Moodle's profile menu writes «Математика», a catalogue «математика »: the same subject."""
    diagnostic = _diagnostic()
    people = _teachers("Математика", "Русский язык")
    (pk,) = _competencies("PK-01")
    _offer("math", [pk], [_session("s", dt.date(2027, 3, 1))], subjects=("математика ",))
    _offer("russian", [pk], [_session("s", dt.date(2027, 3, 1))], subjects=("РУССКИЙ ЯЗЫК",))
    _deficits(diagnostic, people, [pk])
    recommend(diagnostic, settings)
    assert [(m, o) for m, o, *_ in _items()] == [(1, "math"), (2, "russian")]
    assert _unmet() == []


def test_a_declined_offer_is_never_proposed_again(app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("")
    (pk,) = _competencies("PK-01")
    _offer("only", [pk], [_session("s", dt.date(2027, 3, 1))])
    _deficits(diagnostic, people, [pk])
    recommend(diagnostic, settings)
    item = db.session.scalars(select(RouteItem)).one()
    review.decline(item, review.Actor("teacher", "anna"), "не подходит")
    recommend(diagnostic, settings)
    assert [(o, st) for _, o, _, st, _ in _items()] == [("only", "declined")]
    assert _unmet() == [(1, "PK-01", "excluded")]


def test_a_re_run_keeps_approved_items_and_changes_nothing_when_nothing_changed(
        app: Flask, settings: Settings) -> None:
    diagnostic = _diagnostic()
    people = _teachers("", "", "")
    pk1, pk2 = _competencies("PK-01", "PK-02")
    _offer("k1", [pk1], [_session("март", dt.date(2027, 3, 1), seats=2)])
    _offer("k2", [pk2], [_session("май", dt.date(2027, 5, 1), seats=2)])
    _deficits(diagnostic, people, [pk1, pk2])
    recommend(diagnostic, settings)
    first = db.session.scalars(select(RouteItem).order_by(RouteItem.id)).first()
    assert first is not None
    review.approve_items([first], review.Actor("cli", "cli:test"))
    before = [(i.id, i.offer_id, i.session_id, i.status, i.reasons, i.updated_at)
              for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))]
    unmet = [(u.id, u.reason, u.text) for u in db.session.scalars(
        select(RouteUnmetNeed).order_by(RouteUnmetNeed.id))]
    assert len(before) == 4 and len(unmet) == 2
    summary = recommend(diagnostic, settings)
    db.session.expire_all()
    after = [(i.id, i.offer_id, i.session_id, i.status, i.reasons, i.updated_at)
             for i in db.session.scalars(select(RouteItem).order_by(RouteItem.id))]
    assert after == before and summary.kept == 1 and summary.proposed == 3
    assert [(u.id, u.reason, u.text) for u in db.session.scalars(
        select(RouteUnmetNeed).order_by(RouteUnmetNeed.id))] == unmet
    # the greedy baseline on the same data keeps the approved item too
    recommend(diagnostic, settings, solver="greedy")
    assert db.session.get(RouteItem, first.id).status == "approved"  # type: ignore[union-attr]


def test_review_counts_the_uncovered_needs_by_reason_within_scope(
        app: Flask, settings: Settings) -> None:
    from support import signed_in

    from app.models import Municipality, School

    diagnostic = _diagnostic()
    people = _teachers("математика", "физика")
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    people[0].school = School(code="A1", municipality=alfa)
    people[1].school = School(code="B1", municipality=beta)
    (pk,) = _competencies("PK-01")
    _offer("math", [pk], [_session("s", dt.date(2027, 3, 1))], subjects=("математика",))
    _deficits(diagnostic, people, [pk])
    recommend(diagnostic, settings)
    in_beta = signed_in(app, "beta", ("--role", "methodologist", "--municipality", "Бета"))
    page = in_beta.get("/review").get_data(as_text=True)
    assert "нет предложения по предмету педагога" in page
    assert 'class="unmet-subject">1<' in page
    in_alfa = signed_in(app, "alfa", ("--role", "methodologist", "--municipality", "Альфа"))
    assert "Непокрытые дефициты" not in in_alfa.get("/review").get_data(as_text=True)


def test_the_cli_plans_with_the_solver_asked_for_and_prints_the_summary(
        app: Flask, settings: Settings) -> None:
    import json

    from support import AppRunner

    from app.models import RunLog

    diagnostic = _diagnostic()
    people = _teachers("", "")
    (pk,) = _competencies("PK-01")
    _offer("k1", [pk], [_session("s", dt.date(2027, 3, 1), seats=1)])
    _deficits(diagnostic, people, [pk])
    runner = AppRunner(app)
    assert runner.invoke(["recommend", "--solver", "cplex"]).exit_code != 0
    done = runner.invoke(["recommend", "--solver", "greedy"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert summary["method"] == "greedy" and summary["proposed"] == 1
    assert summary["unmatched"] == {"no_seats": 1} and summary["bound"] >= summary["objective"]
    done = runner.invoke(["recommend"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["method"] != "greedy"
    logged = db.session.scalars(select(RunLog).where(RunLog.stage == "recommend")
                                .order_by(RunLog.id.desc())).first()
    assert logged is not None and logged.summary["ratio"] <= 1.0 + 1e-9


def test_the_risk_group_and_low_results_schools_come_first_for_scarce_seats(
        app: Flask, settings: Settings) -> None:
    from app.models import School, TeacherMemo

    diagnostic = _diagnostic()
    people = _teachers("", "", "")
    people[2].school = School(code="LOW1", low_results=True)
    (pk,) = _competencies("PK-01")
    _offer("k1", [pk], [_session("s", dt.date(2027, 3, 1), seats=2)])
    _deficits(diagnostic, people, [pk])
    db.session.add(TeacherMemo(kind="risk", diagnostic_id=diagnostic.id,
                               teacher_id=people[1].id, digest="x",
                               value={"reason": "дефициты в 2 группах"}))
    db.session.commit()
    recommend(diagnostic, settings)
    assert [m for m, *_ in _items()] == [2, 3]
    texts = {m: r[0] for m, r in db.session.execute(
        select(Teacher.moodle_user_id, RouteItem.reasons).select_from(RouteItem)
        .join(Route).join(Teacher))}
    assert "группа риска" in texts[2] and "школа с низкими результатами" in texts[3]
    assert _unmet() == [(1, "PK-01", "no_seats")]
