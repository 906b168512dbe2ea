"""Route items and unmet needs explain themselves in the reader's language (Russian unless
the reader picks English) on /review, /teachers/<id>, /my/route and the route API; rows kept
from before the explanations show their Russian text; the teacher page lists what happened
to each item, and only to that teacher's."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support import signed_in

from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    Route,
    RouteItem,
    RouteUnmetNeed,
    School,
    Teacher,
)
from app.routes import review
from app.routes.items import recommend
from app.settings import Settings

TEACHER = ("--role", "teacher", "--teacher-moodle-id", "1")
ALFA = ("--role", "methodologist", "--municipality", "Альфа")
BETA = ("--role", "methodologist", "--municipality", "Бета")
# Teacher 1's item and unmet need, as each language writes them.
ITEM_RU, ITEM_EN = "Закрывает: PK-01: 30 % при пороге 50 %", "Covers: PK-01: 30 % against 50 %"
DATES_RU, DATES_EN = "(без дат, 36 ч)", "(no dates, 36 h)"
UNMET_RU, UNMET_EN = "нет предложения по этой компетенции", "no offer covers this competency"


def seed() -> Diagnostic:
    """«Альфа» (school A1: teachers 1, 2), «Бета» (B1: teacher 3); deficits in PK-01 (a
    course covers it) and PK-02 (nothing does)."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a1 = School(code="A1", name="Школа Альфа", municipality=alfa)
    b1 = School(code="B1", name="Школа Бета", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=name, firstname="Анна", school=school)
              for n, name, school in ((1, "Альфова", a1), (2, "Альфина", a1), (3, "Бетова", b1))]
    pk1 = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    pk2 = Competency(idnumber="PK-02", name="Методика", group="method")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    course = Offer(key="pk-a", kind="course", title="КПК А", moodle_course_id=501, seats=10,
                   hours=36, competencies=[pk1])
    db.session.add_all([a1, b1, *people, pk1, pk2, entry, course])
    db.session.flush()
    for person in people:
        for competency in (pk1, pk2):
            db.session.add(Deficit(diagnostic_id=entry.id, teacher_id=person.id,
                                   competency_id=competency.id, score=0.3, level="deficit",
                                   questions=2))
    db.session.commit()
    return entry


def item_of(moodle_id: int) -> RouteItem:
    found = db.session.scalars(select(RouteItem).join(Route).join(Teacher).where(
        Teacher.moodle_user_id == moodle_id).order_by(RouteItem.id.desc())).first()
    assert found is not None
    return found


def page(client: FlaskClient, url: str, **headers: str) -> str:
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, (url, answer.status_code)
    return answer.get_data(as_text=True)


def assert_russian(text: str, *, unmet: bool = True) -> None:
    assert ITEM_RU in text and DATES_RU in text and ITEM_EN not in text
    if unmet:
        assert UNMET_RU in text and UNMET_EN not in text


def assert_english(text: str, *, unmet: bool = True) -> None:
    assert ITEM_EN in text and DATES_EN in text and ITEM_RU not in text
    assert "“КПК А”" in text
    if unmet:
        assert UNMET_EN in text and UNMET_RU not in text


def test_items_and_unmet_needs_are_stored_with_what_their_text_is_made_of(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    assert item.explanation is not None
    assert item.explanation["offer_title"] == "КПК А" and item.explanation["undated"]
    assert [n["competency"] for n in item.explanation["covered"]] == ["PK-01"]
    assert item.reasons and ITEM_RU in item.reasons[0]  # the Russian text, for exports
    unmet = db.session.scalars(select(RouteUnmetNeed).order_by(RouteUnmetNeed.id)).all()
    assert {u.reason for u in unmet} == {"no_offer"} and len(unmet) == 3
    assert all(u.explanation and u.explanation["score"] == 0.3 for u in unmet)
    assert UNMET_RU in unmet[0].text


def test_the_review_page_speaks_russian_until_the_reader_picks_english(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    client = signed_in(app, "alfa", ALFA)
    assert_russian(page(client, "/review"), unmet=False)
    english = page(client, "/review?lang=en")
    assert_english(english, unmet=False)
    assert "no offer covers this competency" in english  # the counts of unmet needs
    assert_english(page(client, "/review"), unmet=False)  # the choice is kept
    assert 'name="lang" value="ru"' in english  # and can be taken back
    assert_russian(page(client, "/review?lang=ru"), unmet=False)
    assert_russian(page(client, "/review"), unmet=False)


def test_the_teacher_page_renders_items_and_unmet_needs_in_the_readers_language(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    client = signed_in(app, "alfa", ALFA)
    assert_russian(page(client, "/teachers/1"))
    assert_english(page(client, "/teachers/1?lang=en"))
    # a browser that prefers English, with no choice made on the site
    fresh = signed_in(app, "alfa", ALFA)
    assert_english(page(fresh, "/teachers/1", **{"Accept-Language": "en-GB,en;q=0.9"}))
    assert_russian(page(fresh, "/teachers/1", **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.8"}))


def test_my_route_renders_items_and_unmet_needs_in_the_readers_language(
        app: Flask, settings: Settings) -> None:
    recommend(seed(), settings)
    teacher = signed_in(app, "anna", TEACHER)
    assert_russian(page(teacher, "/my/route"))
    assert_english(page(teacher, "/my/route?lang=en"))
    assert_english(page(teacher, "/my/route"))


def test_the_route_api_gives_reasons_in_the_readers_language(app: Flask,
                                                              settings: Settings) -> None:
    recommend(seed(), settings)
    client = signed_in(app, "alfa", ALFA)
    (ru,) = client.get("/api/teachers/1/route").get_json()["items"]
    assert ITEM_RU in ru["reasons"][0] and ru["explanation"]["offer_key"] == "pk-a"
    (en,) = client.get("/api/teachers/1/route?lang=en").get_json()["items"]
    assert ITEM_EN in en["reasons"][0]
    (asked,) = signed_in(app, "alfa", ALFA).get(
        "/api/teachers/1/route", headers={"Accept-Language": "en"}).get_json()["items"]
    assert ITEM_EN in asked["reasons"][0]


def test_rows_kept_from_before_show_their_russian_text(app: Flask, settings: Settings
                                                       ) -> None:
    recommend(seed(), settings)
    item = item_of(1)
    item.explanation, item.reasons = None, ["Старое обоснование: курс по предмету"]
    for need in db.session.scalars(select(RouteUnmetNeed)):
        need.explanation, need.text = None, f"{need.competency}: старая причина."
    db.session.commit()
    methodologist, teacher = signed_in(app, "alfa", ALFA), signed_in(app, "anna", TEACHER)
    for client, url in ((methodologist, "/review?lang=en"), (methodologist, "/teachers/1"),
                        (methodologist, "/teachers/1?lang=en"), (teacher, "/my/route?lang=en")):
        text = page(client, url)
        assert "Старое обоснование: курс по предмету" in text, url
        if "review" not in url:  # (the review page lists teacher 2's new item too)
            assert ITEM_EN not in text and "PK-02: старая причина." in text, url
    (shown,) = methodologist.get("/api/teachers/1/route?lang=en").get_json()["items"]
    assert shown["reasons"] == ["Старое обоснование: курс по предмету"]
    assert shown["explanation"] is None
    # an explanation that cannot be read shows the stored text, not an error
    item = item_of(1)
    item.explanation = {"v": 1, "covered": "?"}
    db.session.commit()
    assert "Старое обоснование" in page(methodologist, "/teachers/1?lang=en")


def test_the_teacher_page_lists_what_happened_to_each_item(app: Flask,
                                                           settings: Settings) -> None:
    recommend(seed(), settings)
    alfa = signed_in(app, "alfa", ALFA)
    first, second = item_of(1), item_of(2)
    assert alfa.post(f"/review/items/{first.id}/approve").status_code == 302
    assert alfa.post(f"/review/items/{second.id}/reject",
                     data={"reason": "Альфина уже прошла курс"}).status_code == 302
    review.request_change(item_of(1), review.Actor("teacher", "anna"), "можно весной?")
    shown = page(alfa, "/teachers/1")
    assert "предложено → утверждено" in shown and "методист alfa" in shown
    assert "запрошено изменение" in shown and "можно весной?" in shown
    assert "Альфина уже прошла курс" not in shown  # another teacher's item
    assert "предложено → отклонено" in page(alfa, "/teachers/2")
    assert "Альфина уже прошла курс" in page(alfa, "/teachers/2")
    # the teacher sees their own history, by who acted but not by login
    own = page(signed_in(app, "anna", TEACHER), "/teachers/1")
    assert "предложено → утверждено" in own and "alfa" not in own
    assert "Альфина уже прошла курс" not in own
    assert signed_in(app, "anna", TEACHER).get("/teachers/2").status_code == 404
    assert signed_in(app, "beta", BETA).get("/teachers/1").status_code == 404
