"""Charts (issue 14): Plotly served by the app itself, figures whose data tables hold exactly
the plotted numbers, school coordinates from the schools file and their migration."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask, render_template_string
from flask_migrate import downgrade, upgrade
from sqlalchemy import select
from support import chart_figures, signed_in

from app import MIGRATIONS
from app.extensions import db
from app.models import School
from app.registry.catalogue import import_catalogue, preview_catalogue
from app.reports.indicator_texts import labelled
from app.reports.indicators import IndicatorReport
from app.web.charts import (
    PLOTLY_JS,
    dynamics_chart,
    indicator_charts,
    teacher_score_rows,
    teacher_scores_chart,
)
from app.web.import_messages import refusal_ru
from config import DEMO_DIR
from deficits.indicators import AreaIndicators, Indicator, Period

REGION = ("--role", "methodologist", "--region")
EXTERNAL = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//",
                      re.IGNORECASE)
FLAGS = ("low_results", "adverse_context", "resource_centre")
HEADER = "code;name;municipality;resource_centre;Широта;Долгота\n"


figures = chart_figures


def seed() -> None:
    """The demo's schools (placed) and partnerships."""
    import_catalogue(DEMO_DIR)


def plotted(number: str) -> float | None:
    """A data table's cell as the number it shows."""
    return None if number == "—" else float(number.replace(",", ".").replace("−", "-"))


def test_the_vendor_script_is_the_packages_own_served_by_the_app(client) -> None:
    answer = client.get("/static/vendor/plotly.min.js?v=1")
    assert answer.status_code == 200 and answer.mimetype == "text/javascript"
    assert answer.get_data() == PLOTLY_JS.read_bytes()
    assert answer.cache_control.max_age == 365 * 24 * 3600 and answer.cache_control.public
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get("/static/vendor/plotly.min.js?v=1",
                       headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    script = Path(__file__).parents[2] / "app" / "static" / "charts.js"
    text = script.read_text(encoding="utf-8")
    assert "displaylogo: false, responsive: true" in text and "http" not in text


def test_no_page_loads_a_script_or_style_from_elsewhere(app: Flask) -> None:
    seed()
    client = signed_in(app, "region", REGION)
    pages = ["/network", "/dynamics", "/indicators",
             "/indicators?compare_from=2025-09-01&compare_to=2026-08-31", "/", "/capacity"]
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert not EXTERNAL.search(page), path
        for figure, _ in figures(page):
            text = str(figure)
            assert "mapbox" not in text and "http" not in text and "topojson" not in text
    page = client.get("/network").get_data(as_text=True)
    assert re.search(r'<script src="/static/vendor/plotly\.min\.js\?v=[\d.]+" defer>', page)
    assert '<script src="/static/charts.js" defer>' in page


def indicator(code: str, numerator: int, denominator: int) -> Indicator:
    return Indicator(code, numerator, denominator, numerator / denominator if denominator else None)


def test_indicator_lines_follow_the_periods_in_time_order_and_their_table_matches() -> None:
    now, before = Period(dt.date(2026, 9, 1), dt.date(2027, 8, 31)), \
        Period(dt.date(2025, 9, 1), dt.date(2026, 8, 31))

    def blocks(period: Period, shares: list[tuple[str, int, int, int]]) -> list[AreaIndicators]:
        return labelled([AreaIndicators(area, period, (
            indicator("risk_group_pd", done, risk), indicator("partnerships", agreements, 3)))
            for area, done, risk, agreements in shares])
    report = IndicatorReport("Регион", now, blocks(now, [("Регион", 3, 8, 2), ("Альфа", 1, 0, 1)]),
                             before, blocks(before, [("Регион", 1, 8, 1), ("Альфа", 0, 4, 0)]))
    charts = indicator_charts(report)
    assert len(charts) == 2
    share, agreements = charts
    traces = share.figure["data"]
    assert [t["x"] for t in traces] == [[str(before), str(now)]] * 2
    assert {t["name"]: t["y"] for t in traces} == {"Регион": [12.5, 37.5], "Альфа": [0.0, None]}
    assert {t["name"]: t["y"] for t in agreements.figure["data"]} == {
        "Регион": [0.33, 0.67], "Альфа": [0.0, 0.33]}
    # told apart without colour: symbol and dash per line, numbers on the points
    assert len({(t["marker"]["symbol"], t["line"]["dash"]) for t in traces}) == 2
    assert traces[0]["text"] == ["12,5", "37,5"]
    for chart in charts:
        assert chart.table.columns[1:] == (str(before), str(now))
        assert {row[0]: [plotted(c) for c in row[1:]] for row in chart.table.rows} == {
            t["name"]: t["y"] for t in chart.figure["data"]}
    one = IndicatorReport("Регион", now, blocks(now, [("Регион", 3, 8, 2)]))
    assert indicator_charts(one) == []


def test_the_indicators_page_charts_the_compared_periods_with_their_numbers(app: Flask) -> None:
    seed()
    client = signed_in(app, "region", REGION)
    page = client.get("/indicators?from=2026-09-01&to=2027-08-31&compare_from=2025-09-01"
                      "&compare_to=2026-08-31").get_data(as_text=True)
    found = figures(page)
    assert found and "Показатели по периодам" in page
    for figure, rows in found:
        assert {row[0]: [plotted(c) for c in row[1:]] for row in rows} == {
            t["name"]: t["y"] for t in figure["data"]}
    assert figures(client.get("/indicators").get_data(as_text=True)) == []


def test_the_teachers_chart_compares_entry_and_final_with_patterns() -> None:
    class Level:
        def __init__(self, diagnostic_id: int, idnumber: str, score: float) -> None:
            self.diagnostic_id, self.idnumber, self.name, self.score = \
                diagnostic_id, idnumber, "Компетенция", score
    rows = teacher_score_rows([Level(1, "PK-02", 0.4), Level(1, "PK-01", 0.3),
                               Level(2, "PK-01", 0.9), Level(3, "PK-01", 0.1)], 1, 2)
    assert rows == [("PK-01 Компетенция", 0.3, 0.9), ("PK-02 Компетенция", 0.4, None)]
    chart = teacher_scores_chart(rows)
    entry, final = chart.figure["data"]
    assert (entry["name"], entry["x"], final["name"], final["x"]) == (
        "Входная", [30, 40], "Итоговая", [90, None])
    assert entry["y"] == final["y"] == ["PK-01 Компетенция", "PK-02 Компетенция"]
    assert entry["marker"]["pattern"]["shape"] != final["marker"]["pattern"]["shape"]
    assert final["text"] == ["90", "—"]
    assert [tuple(r) for r in chart.table.rows] == [("PK-01 Компетенция", "30", "90"),
                                                   ("PK-02 Компетенция", "40", "—")]


def test_the_macro_places_the_figure_with_an_accessible_table_of_its_numbers(app: Flask) -> None:
    chart = teacher_scores_chart([("PK-01 Предметные знания", 0.3, 0.9)])
    with app.test_request_context():
        page = render_template_string(
            '{% from "_charts.html" import chart, chart_scripts %}{{ chart_scripts() }}'
            "{{ chart(c.figure, c.caption, c.table) }}", c=chart)
    ((figure, rows),) = figures(page)
    assert figure == chart.figure and rows == [list(row) for row in chart.table.rows]
    assert f"<figcaption>{chart.caption}</figcaption>" in page
    assert "<details><summary>Данные графика</summary>" in page
    assert '<th scope="col">Входная</th>' in page and '<th scope="row">PK-01' in page
    assert f"<caption>{chart.table.caption}</caption>" in page


def test_the_dynamics_bars_set_entry_deficits_beside_the_closed_ones() -> None:
    assert dynamics_chart(None) is None and dynamics_chart({"competencies": []}) is None
    chart = dynamics_chart({"competencies": [
        {"competency": "PK-01", "name": "Предметные знания", "entry_deficits": 7, "closed": 3},
        {"competency": "PK-02", "name": "Методика", "entry_deficits": 2, "closed": 0}]})
    assert chart is not None
    entry, closed = chart.figure["data"]
    assert (entry["x"], closed["x"]) == ([7, 2], [3, 0])
    assert entry["marker"]["pattern"]["shape"] != closed["marker"]["pattern"]["shape"]
    assert [tuple(r) for r in chart.table.rows] == [("PK-01 Предметные знания", "7", "3"),
                                                   ("PK-02 Методика", "2", "0")]


def coordinates() -> dict[str, tuple[float | None, float | None]]:
    db.session.expire_all()
    return {s.code: (s.latitude, s.longitude) for s in db.session.scalars(select(School))}


def test_coordinates_are_imported_and_a_bad_one_refuses_only_its_row(app: Flask,
                                                                        tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text(
        HEADER + "1001;Лицей;Альфа;1;55,79;49.12\n"  # decimal comma
                 "1002;СОШ 2;Альфа;0;;\n"  # no coordinates: kept off the map
                 "1003;СОШ 3;Альфа;0;север;49\n"  # bad latitude
                 "1004;СОШ 4;Альфа;0;55.5;200\n"  # longitude out of range
                 "1005;СОШ 5;Альфа;0;55.5;\n"  # one of the two
                 "1006;СОШ 6;Альфа;0;-33.9;18.4\n", encoding="utf-8")
    result = import_catalogue(tmp_path)
    assert coordinates() == {"1001": (55.79, 49.12), "1002": (None, None),
                             "1006": (-33.9, 18.4)}
    assert result.schools == 3 and result.unread == {}
    assert [refusal_ru(line) for line in result.errors] == [
        "schools.csv, строка 4, «latitude»: «север» — не широта: нужно число градусов от −90 "
        "до 90 (например 55,79); исправьте или оставьте пустым",
        "schools.csv, строка 5, «longitude»: «200» — не долгота: нужно число градусов от −180 "
        "до 180 (например 55,79); исправьте или оставьте пустым",
        "schools.csv, строка 6, «longitude»: пусто, а широта указана; заполните обе "
        "координаты или ни одной"]
    # the preview tells the same before anything is stored
    found = preview_catalogue({"schools.csv": ("Школы.csv", (tmp_path / "schools.csv")
                                               .read_bytes(), {})})["schools.csv"]
    assert [e.row for e in found.errors] == [4, 5, 6] and {"latitude", "longitude"} <= \
        found.present and [r.code for r in found.rows] == ["1001", "1002", "1006"]


def test_a_file_without_coordinates_keeps_the_stored_ones(app: Flask, tmp_path: Path) -> None:
    import_catalogue(DEMO_DIR)
    placed = coordinates()
    assert len(placed) == 14 and all(lat and lon for lat, lon in placed.values())
    (tmp_path / "schools.csv").write_text("code;name\n16101;МБОУ «Лицей № 1»\n",
                                          encoding="utf-8")
    assert import_catalogue(tmp_path).errors == []
    assert coordinates() == placed
    # columns present but empty: the school leaves the map
    (tmp_path / "schools.csv").write_text("code;name;latitude;longitude\n"
                                          "16101;МБОУ «Лицей № 1»;;\n", encoding="utf-8")
    import_catalogue(tmp_path)
    assert coordinates()["16101"] == (None, None)


def test_the_coordinates_migration_upgrades_and_is_the_single_head(app: Flask) -> None:
    migrate = app.extensions["migrate"].migrate
    heads = ScriptDirectory.from_config(migrate.get_config(MIGRATIONS)).get_heads()
    assert len(heads) == 1  # (0028 or a later one)
    downgrade(directory=MIGRATIONS, revision="0027")
    columns = {c["name"] for c in sa.inspect(db.engine).get_columns("school")}
    assert "latitude" not in columns and "longitude" not in columns
    school = sa.table("school", sa.column("code", sa.String), sa.column("name", sa.String),
                      *(sa.column(flag, sa.Boolean) for flag in FLAGS))
    db.session.execute(school.insert(), [{"code": "1", "name": "Школа",
                                          **dict.fromkeys(FLAGS, False)}])
    db.session.commit()
    upgrade(directory=MIGRATIONS)
    db.session.expire_all()
    found = db.session.scalars(select(School)).one()
    assert (found.code, found.latitude, found.longitude) == ("1", None, None)
    found.latitude, found.longitude = 55.8, 48.5
    db.session.commit()
    assert coordinates() == {"1": (55.8, 48.5)}


def test_the_teacher_page_charts_entry_and_final_beside_the_table(app: Flask) -> None:
    from app.models import Competency, Deficit, Diagnostic, Teacher

    pk = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    person = Teacher(moodle_user_id=77, lastname="Петрова", firstname="Анна")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    db.session.add_all([pk, person, entry, final])
    db.session.flush()
    for diagnostic, score in ((entry, 0.3), (final, 0.9)):
        db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=person.id,
                               competency_id=pk.id, score=score,
                               level="deficit" if score < 0.5 else "ok", questions=2))
    db.session.commit()
    page = signed_in(app).get("/teachers/77").get_data(as_text=True)
    assert "Результаты по компетенциям: входная → итоговая диагностика" in page
    assert "Данные графика" in page and "/static/vendor/plotly.min.js" in page
