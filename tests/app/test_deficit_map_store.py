"""The deficit map from counts the database aggregates and stores: equal to the pandas path
for every scope, and counted again after every change of its inputs."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from typing import Any

import openpyxl
import pandas as pd
import pytest
from flask import Flask
from sqlalchemy import delete, event, select, text, update
from support import signed_in

from app.accounts.roles import Scope
from app.analyse.revisions import save_revision
from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    DeficitMapStore,
    Diagnostic,
    Municipality,
    School,
    Teacher,
)
from app.reports import analytics
from app.reports.analytics import _records as records
from app.reports.heatmap import heat_map
from app.reports.map_store import MapCounts, forget_kept, marker, school_map_frame
from app.reports.maps import computed_map, deficit_map, levels_frame
from app.web import map_paging
from deficits.aggregate import school_map
from deficits.maps import map_over_time, rank_schools, school_type_map

LEVELS = ("deficit", "risk", "ok", "insufficient")
AGREEMENTS = (None, "agrees", "disagrees", "compatible")
THRESHOLDS = ({"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0,
               "source": "default", "attempts": "лучшая попытка", "label": ""},
              {"deficit_below": 0.4, "risk_below": 0.6, "min_questions": 2.0,
               "source": "group", "attempts": "лучшая попытка", "label": "Цифровые"})


def seed(teachers: int = 240, seed_value: int = 7) -> Diagnostic:
    """Three municipalities, schools among them (one of none, one whose code has blanks
    around it, one with no teacher scored), teachers without a school, inactive teachers
    with levels, teachers without levels, every level kind, Moodle's agreements."""
    rnd = random.Random(seed_value)
    towns = [Municipality(name=n) for n in ("Альфа", "Бета", "Гамма")]
    db.session.add_all(towns)
    db.session.flush()
    schools = [School(code=f"S{i:02d}", name=f"Школа {i}", municipality_id=towns[i % 3].id,
                      low_results=i % 4 == 0, resource_centre=i == 5) for i in range(1, 11)]
    schools += [School(code="NOMUN", name="Без муниципалитета"),
                School(code=" S99 ", name="Код с пробелами", municipality_id=towns[0].id),
                School(code="EMPTY", name="Нет оценённых", municipality_id=towns[1].id)]
    db.session.add_all(schools)
    competencies = [Competency(idnumber=f"PK-0{i}", name=f"Компетенция {i}") for i in range(1, 6)]
    db.session.add_all(competencies)
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=2, name="Входная", kind="entry")
    db.session.add(diagnostic)
    db.session.flush()
    people = []
    for number in range(teachers):
        school = None if number % 17 == 0 else schools[number % (len(schools) - 1)]
        people.append(Teacher(moodle_user_id=100 + number, username=f"t{number}",
                              lastname=f"Учитель{number}", school_id=school.id if school else None,
                              active=number % 13 != 0))
    people.append(Teacher(moodle_user_id=99, username="empty", school_id=schools[-1].id))
    db.session.add_all(people)
    db.session.flush()
    rows = []
    for person in people[:-1]:
        if person.moodle_user_id % 11 == 0:
            continue  # not scored
        for competency in competencies[: 4 if person.moodle_user_id % 5 else 5]:
            rows.append(Deficit(diagnostic_id=diagnostic.id, teacher_id=person.id,
                                competency_id=competency.id, score=rnd.random(),
                                level=rnd.choice(LEVELS), agreement=rnd.choice(AGREEMENTS),
                                thresholds=THRESHOLDS[competency.id % 2]))
    db.session.add_all(rows)
    db.session.commit()
    return diagnostic


def scopes() -> list[Scope | None]:
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    alfa, beta = towns["Альфа"], towns["Бета"]
    return [None, Scope(region=True), Scope(municipality_ids=frozenset({alfa})),
            Scope(municipality_ids=frozenset({alfa, beta})), Scope(),
            # a methodologist of «Альфа» who also teaches in «Бета», one with no school
            Scope(municipality_ids=frozenset({alfa}), teacher_moodle_id=101),
            Scope(municipality_ids=frozenset({alfa}), teacher_moodle_id=100)]


def same(diagnostic: Diagnostic, scope: Scope | None) -> dict[str, Any]:
    """The stored map, after checking it equals the pandas map field by field."""
    stored = deficit_map(diagnostic, scope).__dict__
    reference = computed_map(diagnostic, scope).__dict__
    reference.pop("municipalities")
    reference.pop("school_count")
    assert {k: v for k, v in stored.items() if k not in ("municipalities", "school_count")
            } == reference
    return stored


def test_the_stored_map_equals_the_pandas_map_in_every_scope(app: Flask) -> None:
    diagnostic = seed()
    for scope in scopes():
        first = same(diagnostic, scope)  # counted (first one) or read from the store
        assert same(diagnostic, scope) == first  # read from the store
    region = deficit_map(diagnostic).__dict__
    names = [s["name"] for s in region["schools"]]
    assert "Без образовательной организации" in names and "Нет оценённых" in names
    assert region["ratings"] and len(region["policy"]) >= 2


def test_a_scope_sees_only_its_schools_and_totals_of_its_own(app: Flask) -> None:
    diagnostic = seed()
    alfa = db.session.scalar(select(Municipality.id).where(Municipality.name == "Альфа"))
    mine = deficit_map(diagnostic, Scope(municipality_ids=frozenset({alfa})))
    codes = {s["code"] for s in mine.schools} - {None}
    expected = {(s.code or "").strip() for s in db.session.scalars(
        select(School).where(School.municipality_id == alfa))}
    assert codes == expected
    assert [m["name"] for m in mine.municipalities] == ["Альфа"]
    assert mine.municipalities[0]["shares"] == mine.municipality
    region = deficit_map(diagnostic)
    assert region.municipality != mine.municipality
    assert [m["name"] for m in region.municipalities] == ["Альфа", "Бета", "Гамма"]


def test_the_store_is_read_while_nothing_changed(app: Flask) -> None:
    diagnostic = seed()
    deficit_map(diagnostic)
    stored = db.session.get(DeficitMapStore, diagnostic.id)
    assert stored is not None and stored.marker == marker()
    # A store that no longer matches the levels, but whose marker still does, is believed:
    # proof that the view reads the store instead of the levels. (Stored anew: another
    # time of storing, as another worker's row has; the process's decoded row was the old.)
    db.session.execute(update(DeficitMapStore).values(
        value=MapCounts().as_json(), computed_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    db.session.commit()
    assert deficit_map(diagnostic).schools == []


def test_a_repeated_view_reads_neither_the_levels_nor_the_stored_value(app: Flask) -> None:
    diagnostic = seed()
    region = deficit_map(diagnostic)
    alfa = Scope(municipality_ids=frozenset(db.session.scalars(
        select(Municipality.id).where(Municipality.name == "Альфа"))))
    mine = deficit_map(diagnostic, alfa)
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert deficit_map(diagnostic).__dict__ == region.__dict__
        assert deficit_map(diagnostic, alfa).__dict__ == mine.__dict__
        assert deficit_map(diagnostic, sort="name", window=(0, 3)).schools == sorted(
            region.schools, key=lambda s: (s["code"] is None, s["name"]))[:3]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert seen and not [s for s in seen if " deficit." in s or "deficit_map_store.value" in s]
    # A process that has not decoded the row yet (another worker) reads it, once.
    forget_kept()
    seen.clear()
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert deficit_map(diagnostic).__dict__ == region.__dict__
        assert deficit_map(diagnostic).__dict__ == region.__dict__
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in seen if "deficit_map_store.value" in s]) == 1


def test_a_store_replaced_by_another_process_is_read_again(app: Flask) -> None:
    diagnostic = seed()
    before = deficit_map(diagnostic).__dict__
    _change_level(diagnostic)
    # another worker (a cache of its own) views the map first: it counts and stores
    mine = app.extensions.pop("profroute.map_counts")
    after = deficit_map(diagnostic).__dict__
    app.extensions["profroute.map_counts"] = mine
    assert after != before
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert deficit_map(diagnostic).__dict__ == after  # its row, not a count of our own
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert [s for s in seen if "deficit_map_store.value" in s]
    assert not [s for s in seen if " deficit." in s]
    assert after == same(diagnostic, None)


def _change_level(diagnostic: Diagnostic) -> None:
    row = db.session.scalars(select(Deficit).where(Deficit.level == "ok")
                             .order_by(Deficit.id)).first()
    assert row is not None
    row.level = "deficit"
    db.session.commit()


def _rate(diagnostic: Diagnostic) -> None:
    # as the push's ratings do: the agreement updated in place, no row added or removed
    for row in db.session.scalars(select(Deficit).where(Deficit.agreement.is_(None)).limit(3)):
        row.agreement = "disagrees"
    db.session.commit()


def _move_teacher(diagnostic: Diagnostic) -> None:
    person = db.session.scalars(select(Teacher).where(Teacher.active.is_(True),
                                                      Teacher.school_id.is_not(None))
                                .order_by(Teacher.id)).first()
    assert person is not None
    person.school_id = db.session.scalar(select(School.id).where(School.code == "EMPTY"))
    db.session.commit()


def _deactivate_teacher(diagnostic: Diagnostic) -> None:
    db.session.execute(update(Teacher).where(Teacher.moodle_user_id == 102).values(active=False))
    db.session.commit()


def _erase_levels(diagnostic: Diagnostic) -> None:
    db.session.execute(delete(Deficit).where(Deficit.teacher_id == db.session.scalar(
        select(Teacher.id).where(Teacher.moodle_user_id == 103))))
    db.session.commit()


def _rename_school(diagnostic: Diagnostic) -> None:
    db.session.execute(update(School).where(School.code == "S01").values(code="S01-new"))
    db.session.commit()


def _move_school(diagnostic: Diagnostic) -> None:
    beta = db.session.scalar(select(Municipality.id).where(Municipality.name == "Бета"))
    db.session.execute(update(School).where(School.code == "S03").values(municipality_id=beta))
    db.session.commit()


def _raw_sql_level(diagnostic: Diagnostic) -> None:
    db.session.execute(text("UPDATE deficit SET level = 'insufficient' WHERE id IN "
                            "(SELECT id FROM deficit WHERE level = 'deficit' LIMIT 5)"))
    db.session.commit()


@pytest.mark.parametrize("change", [_change_level, _rate, _move_teacher, _deactivate_teacher,
                                    _erase_levels, _rename_school, _move_school, _raw_sql_level])
def test_each_change_of_an_input_is_seen_by_the_next_map(app: Flask, change: Any) -> None:
    diagnostic = seed()
    scope_list = scopes()
    before = [same(diagnostic, scope) for scope in scope_list]
    change(diagnostic)
    after = [same(diagnostic, scope) for scope in scope_list]
    assert after != before


def test_a_policy_revision_counts_again(app: Flask) -> None:
    diagnostic = seed()
    deficit_map(diagnostic)
    was = marker()
    save_revision({"default": {"deficit_below": 0.45, "risk_below": 0.7, "min_questions": 2}},
                  "Иванова", "ниже")
    assert marker() != was
    deficit_map(diagnostic)
    stored = db.session.get(DeficitMapStore, diagnostic.id)
    assert stored is not None and stored.marker == marker()


def _rows(page: str) -> list[str]:
    """The schools' codes of a map page, in order."""
    return re.findall(r'<span class="muted">\(([^)]*)\)</span></th>', page)


def test_the_page_shows_a_page_of_schools_sorted_with_the_totals_on_top(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    diagnostic = seed()
    monkeypatch.setattr(map_paging, "PAGE_SIZE", 5)
    client = signed_in(app)
    everything = [s.code for s in heat_map(diagnostic).schools if s.code]
    seen: list[str] = []
    for number in (1, 2, 3):
        page = client.get(f"/?page={number}").get_data(as_text=True)
        assert page.index("Муниципалитет «Альфа»") < page.index("<span class=\"muted\">(")
        assert "Всего" in page and f"страница {number} из 3" in page
        seen += _rows(page)
    assert seen == everything  # by need, each school once, "no school" (no code) aside
    assert _rows(client.get("/?page=99").get_data(as_text=True)) == _rows(
        client.get("/?page=3").get_data(as_text=True))
    by_name = _rows(client.get("/?sort=name").get_data(as_text=True))
    assert by_name == sorted(everything, key=lambda c: next(
        s["name"] for s in deficit_map(diagnostic).schools if s["code"] == c
        ) if c != "S99" else "Код с пробелами")[:5]  # deficit_map names S99 by its exact code
    shares = {s["code"]: s["shares"]["PK-02"] for s in deficit_map(diagnostic).schools}
    top = _rows(client.get("/?sort=PK-02").get_data(as_text=True))
    assert [shares[c] for c in top] == sorted((v for v in shares.values() if v is not None),
                                              reverse=True)[:5]


def test_the_municipality_filter_narrows_to_one_of_the_callers(app: Flask) -> None:
    seed()
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    client = signed_in(app)
    page = client.get(f"/?municipality={towns['Бета']}").get_data(as_text=True)
    codes = set(_rows(page))
    assert codes and codes <= {s.code for s in db.session.scalars(
        select(School).where(School.municipality_id == towns["Бета"]))}
    assert "Муниципалитет «Бета»" in page and "Муниципалитет «Альфа»" not in page
    alfa = signed_in(app, "alfa", ("--role", "methodologist", "--municipality", "Альфа"))
    assert alfa.get(f"/?municipality={towns['Бета']}").status_code == 404
    assert alfa.get(f"/?municipality={towns['Альфа']}").status_code == 200
    own = alfa.get("/").get_data(as_text=True)
    assert "S02" not in own and "Муниципалитет «Альфа»" in own  # S02 is in «Гамма»


def test_the_school_map_and_the_views_built_on_it_equal_the_pandas_path(app: Flask) -> None:
    diagnostic = seed()
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=2, name="Итоговая", kind="final")
    db.session.add(final)
    db.session.flush()
    rnd = random.Random(3)
    db.session.add_all(Deficit(diagnostic_id=final.id, teacher_id=d.teacher_id,
                               competency_id=d.competency_id, level=rnd.choice(LEVELS),
                               thresholds=THRESHOLDS[0])
                       for d in db.session.scalars(select(Deficit)).all()[::3])
    db.session.commit()
    for scope in scopes():
        periods, teachers = {}, None
        for one in (diagnostic, final):
            levels, teachers = levels_frame(one, scope=scope)
            periods[f"{one.kind}: {one.name}"] = levels
            expected = school_map(levels, teachers)
            if expected.empty:
                assert school_map_frame(one, scope).empty
                continue
            pd.testing.assert_frame_equal(school_map_frame(one, scope), expected)
            assert analytics.ranking(one, scope) == records(rank_schools(expected))
            schools = analytics._schools(scope)
            assert analytics.by_school_type(one, scope) == records(
                school_type_map(levels, teachers, schools))
        assert analytics.over_time(scope) == records(map_over_time(periods, teachers))


def test_the_xlsx_file_holds_every_school_of_the_scope(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    diagnostic = seed()
    monkeypatch.setattr(map_paging, "PAGE_SIZE", 2)
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    answer = signed_in(app).get("/map.xlsx")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.data), read_only=True)
    codes = [row[2] for row in book.active.iter_rows(values_only=True) if row[0] == "Школа"]
    assert [c for c in codes if c] == [s.code for s in heat_map(diagnostic).schools if s.code]
    alfa = signed_in(app, "alfa", ("--role", "methodologist", "--municipality", "Альфа"))
    assert alfa.get(f"/map.xlsx?municipality={towns['Бета']}").status_code == 404
    mine = openpyxl.load_workbook(io.BytesIO(alfa.get("/map.xlsx").data), read_only=True)
    codes = {row[2] for row in mine.active.iter_rows(values_only=True)
             if row[0] == "Школа" and row[2]}
    assert codes == {(s.code or "").strip() for s in db.session.scalars(
        select(School).where(School.municipality_id == towns["Альфа"]))}
