"""The network page (issue 14): resource centres and partner schools as a graph and a map,
from the stored partnerships, flags, coordinates and open deficits, within the caller's scope."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from flask import Flask
from sqlalchemy import select
from support import chart_figures, signed_in

from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Municipality, Partnership, School, Teacher
from app.web.network_views import OUTSIDE_SHOWN, node_size

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
REGION = ("--role", "methodologist", "--region")
TEACHER = ("--role", "teacher", "--teacher-moodle-id", "1")
TODAY = dt.date.today()


def seed() -> None:
    """Альфа: centre A0 (placed) supports A1 (ШНОР, placed; agreement in force) and A2 (no
    coordinates; agreement ended); A3 is outside the network. Бета: centre B0 supports B1.
    Open deficits on the latest diagnostic: A1 three (two teachers), A2 one, B1 two; an
    older diagnostic's deficits do not count."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    a0 = School(code="A0", name="Лицей Альфа", municipality=alfa, resource_centre=True,
                latitude=55.85, longitude=48.51)
    a1 = School(code="A1", name="СОШ Альфа", municipality=alfa, low_results=True,
                latitude=55.76, longitude=48.44)
    a2 = School(code="A2", name="ООШ Альфа", municipality=alfa, adverse_context=True)
    a3 = School(code="A3", name="Гимназия Альфа", municipality=alfa)
    b0 = School(code="B0", name="Лицей Бета", municipality=beta, resource_centre=True,
                latitude=56.0, longitude=49.0)
    b1 = School(code="B1", name="СОШ Бета", municipality=beta, low_results=True,
                latitude=56.1, longitude=49.1)
    people = [Teacher(moodle_user_id=n, lastname=f"Педагог{n}", school=school)
              for n, school in ((1, a1), (2, a1), (3, a2), (4, b1), (5, a3))]
    competencies = [Competency(idnumber=f"PK-0{n}", name=f"Компетенция {n}") for n in (1, 2)]
    old = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Старая")
    db.session.add_all([a0, a1, a2, a3, b0, b1, *people, *competencies, old])
    db.session.flush()
    current = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="entry", name="Текущая")
    db.session.add(current)
    db.session.flush()
    levels = ((current, 0, 0, "deficit"), (current, 0, 1, "deficit"), (current, 1, 0, "deficit"),
              (current, 1, 1, "ok"), (current, 2, 0, "deficit"), (current, 3, 0, "deficit"),
              (current, 3, 1, "deficit"), (current, 4, 0, "ok"), (old, 4, 1, "deficit"))
    for diagnostic, person, competency, level in levels:
        db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=people[person].id,
                               competency_id=competencies[competency].id, score=0.3,
                               level=level, questions=2))
    year = dt.timedelta(days=365)
    db.session.add_all([
        Partnership(resource_centre_id=a0.id, school_id=a1.id, agreement_no="СП-1",
                    starts_on=TODAY - year, ends_on=TODAY + year),
        Partnership(resource_centre_id=a0.id, school_id=a2.id, agreement_no="СП-2",
                    starts_on=TODAY - 2 * year, ends_on=TODAY - year),
        Partnership(resource_centre_id=b0.id, school_id=b1.id, agreement_no="СП-3")])
    db.session.commit()


figures = chart_figures


def edges(figure: dict[str, Any]) -> set[tuple[Any, ...]]:
    """The segments of the figure's edge traces: ((x0, y0), (x1, y1))."""
    out = set()
    for trace in figure["data"]:
        if trace.get("meta") == "edges":
            xs, ys = trace["x"], trace["y"]
            assert len(xs) % 3 == 0 and xs[2::3] == [None] * (len(xs) // 3)
            for at in range(0, len(xs), 3):
                out.add(((xs[at], ys[at]), (xs[at + 1], ys[at + 1]), trace["line"]["dash"]))
    return out


def nodes(figure: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each node by school code: its trace's name, position, symbol, colour, size, label."""
    out = {}
    for trace in figure["data"]:
        if trace.get("meta") != "nodes":
            continue
        for at, (code, deficits, teachers, _) in enumerate(trace["customdata"]):
            out[code] = {"group": trace["name"], "xy": (trace["x"][at], trace["y"][at]),
                         "symbol": trace["marker"]["symbol"], "colour": trace["marker"]["color"],
                         "size": trace["marker"]["size"][at], "text": trace["text"][at],
                         "deficits": deficits, "teachers": teachers}
    return out


def test_the_graph_has_an_edge_per_partnership_and_nodes_from_the_data(app: Flask) -> None:
    seed()
    page = signed_in(app, "region", REGION).get("/network").get_data(as_text=True)
    (graph, graph_rows), (chart_map, map_rows) = figures(page)
    found = nodes(graph)
    assert set(found) == {"A0", "A1", "A2", "A3", "B0", "B1"}
    assert {c: n["deficits"] for c, n in found.items()} == {
        "A0": 0, "A1": 3, "A2": 1, "A3": 0, "B0": 0, "B1": 2}
    assert {c: n["teachers"] for c, n in found.items()}["A1"] == 2
    assert all(n["size"] == node_size(n["deficits"]) for n in found.values())
    assert found["A1"]["size"] > found["A2"]["size"] > found["A3"]["size"]
    assert all(n["text"].endswith(f" · {n['deficits']}") for n in found.values())
    assert {c: n["text"] for c, n in nodes(chart_map).items()} == {
        "A0": "0", "A1": "3", "B0": "0", "B1": "2"}
    # colour AND symbol by status: centre, low results, other
    looks = {c: (n["group"], n["symbol"], n["colour"]) for c, n in found.items()}
    assert looks["A0"] == looks["B0"] and looks["A1"] == looks["B1"]
    assert looks["A2"] == looks["A3"]
    assert len({s for _, s, _ in looks.values()}) == len({c for _, _, c in looks.values()}) == 3
    assert looks["A1"][0] == "ШНОР" and looks["A0"][0] == "ресурсный центр"
    # an edge per partnership, between the nodes' positions; the ended one dotted
    xy = {c: n["xy"] for c, n in found.items()}
    assert edges(graph) == {(xy["A0"], xy["A1"], "solid"), (xy["A0"], xy["A2"], "dot"),
                            (xy["B0"], xy["B1"], "solid")}
    # the data table holds exactly the plotted numbers, node by node
    by_name = {n: c for c, n in (("A0", "Лицей Альфа"), ("A1", "СОШ Альфа"), ("A2", "ООШ Альфа"),
                                 ("A3", "Гимназия Альфа"), ("B0", "Лицей Бета"),
                                 ("B1", "СОШ Бета"))}
    assert {by_name[r[0]]: int(r[-1]) for r in graph_rows} == {
        c: n["deficits"] for c, n in found.items()}
    # the centres' table names each agreement with its partner
    assert "СП-1" in page and "СП-2" in page and "(не действует)" in page
    assert "Школы вне сети (1)" in page
    del map_rows


def test_the_map_places_schools_equal_scaled_with_the_edges_between_them(app: Flask) -> None:
    seed()
    page = signed_in(app, "region", REGION).get("/network").get_data(as_text=True)
    _, (chart_map, rows) = figures(page)
    layout = chart_map["layout"]
    assert layout["xaxis"]["title"]["text"] == "долгота"
    assert layout["yaxis"]["title"]["text"] == "широта"
    assert layout["yaxis"]["scaleanchor"] == "x"
    middle = (55.85 + 55.76 + 56.0 + 56.1) / 4
    assert layout["yaxis"]["scaleratio"] == round(1 / math.cos(math.radians(middle)), 6)
    found = nodes(chart_map)
    assert {c: n["xy"] for c, n in found.items()} == {
        "A0": (48.51, 55.85), "A1": (48.44, 55.76), "B0": (49.0, 56.0), "B1": (49.1, 56.1)}
    # A2 has no coordinates: its edge is left out of the map, not drawn to nowhere
    assert edges(chart_map) == {((48.51, 55.85), (48.44, 55.76), "solid"),
                                ((49.0, 56.0), (49.1, 56.1), "solid")}
    table = {r[0]: (float(r[2].replace(",", ".")), float(r[3].replace(",", ".")), int(r[4]))
             for r in rows}
    assert table == {"Лицей Альфа": (55.85, 48.51, 0), "СОШ Альфа": (55.76, 48.44, 3),
                     "Лицей Бета": (56.0, 49.0, 0), "СОШ Бета": (56.1, 49.1, 2)}
    assert "без координат: 2" in page


def test_a_methodologist_sees_only_the_network_of_their_municipality(app: Flask) -> None:
    seed()
    page = signed_in(app, "alfa", ALFA).get("/network").get_data(as_text=True)
    assert "Бета" not in page and "СП-3" not in page
    for mark in ("B0", "B1"):  # as whole words: a random CSRF token may hold them
        assert not re.search(rf"(?<![\w.-]){mark}(?![\w.-])", page), mark
    (graph, _), (chart_map, _) = figures(page)
    assert set(nodes(graph)) == {"A0", "A1", "A2", "A3"} and len(edges(graph)) == 2
    assert set(nodes(chart_map)) == {"A0", "A1"}


def test_without_coordinates_there_is_no_map_and_teachers_may_not_look(app: Flask) -> None:
    seed()
    db.session.query(School).update({School.latitude: None, School.longitude: None})
    db.session.commit()
    page = signed_in(app, "region", REGION).get("/network").get_data(as_text=True)
    assert len(figures(page)) == 1 and "Карта появится" in page
    assert signed_in(app, "teacher", TEACHER).get("/network").status_code == 403
    assert app.test_client().get("/network").status_code == 302


def test_many_schools_outside_the_network_are_left_to_the_table(app: Flask) -> None:
    seed()
    town = db.session.scalars(select(Municipality).filter_by(name="Альфа")).one()
    db.session.add_all([School(code=f"X{n:02}", name=f"Школа {n:02}", municipality=town)
                        for n in range(OUTSIDE_SHOWN)])
    db.session.commit()
    page = signed_in(app, "region", REGION).get("/network").get_data(as_text=True)
    (graph, rows), _ = figures(page)
    assert set(nodes(graph)) == {"A0", "A1", "A2", "B0", "B1"} and len(rows) == 5
    assert f"школы вне сети ({OUTSIDE_SHOWN + 1}) — в таблице ниже" in page
    assert f"Школы вне сети ({OUTSIDE_SHOWN + 1})" in page


def test_an_empty_scope_shows_no_chart(app: Flask) -> None:
    page = signed_in(app, "region", REGION).get("/network").get_data(as_text=True)
    assert "В вашей зоне видимости нет школ." in page and figures(page) == []
