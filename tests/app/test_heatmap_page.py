"""The deficit heat map on ``/`` (issue 14): legend, cells with share and n, competency names,
sorting, links to the teacher list, municipality rows, filters, entry → final, XLSX, scope."""

from __future__ import annotations

import io
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support import signed_in

from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, Municipality, School, Teacher
from app.reports.heatmap import Filters, heat_map
from app.web import map_paging
from app.web.heatmap import CHANGE_BANDS, MIN_CONTRAST, SHARE_BANDS, contrast

ALFA = ("--role", "methodologist", "--municipality", "Альфа")
CSS = Path(__file__).resolve().parents[2] / "app" / "static" / "heatmap.css"
# school code → municipality, low_results, adverse_context, resource_centre
SCHOOLS = {"A1": ("Альфа", True, True, False), "A2": ("Альфа", False, False, False),
           "B1": ("Бета", False, False, True), "B2": ("Бета", False, True, False)}
COMPETENCIES = {"PK-01": ("Предметные знания", "Предметные"),
                "PK-02": ("Цифровая образовательная среда", "Цифровые"),
                "PK-03": ("Дистанционное обучение", "Цифровые")}


def _level(n: int, competency: int, final: bool) -> str:
    """A spread of levels that differs by school, competency and diagnostic."""
    value = (n * (competency + 2) + (3 if final else 0)) % 7
    return "deficit" if value < 3 else "insufficient" if value == 6 else "ok"


def seed() -> tuple[Diagnostic, Diagnostic]:
    """Four schools in «Альфа» and «Бета» (A1 is ШНОР and ШФНСУ, B2 ШФНСУ, B1 a resource
    centre), 5–12 teachers each with levels at entry and final, a teacher of no school and
    an inactive one."""
    towns = {n: Municipality(name=n) for n in ("Альфа", "Бета")}
    schools = {code: School(code=code, name=f"Школа {code}", municipality=towns[town],
                            low_results=low, adverse_context=adverse, resource_centre=rc)
               for code, (town, low, adverse, rc) in SCHOOLS.items()}
    competencies = [Competency(idnumber=c, name=n, group=g)
                    for c, (n, g) in COMPETENCIES.items()]
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая")
    people = []
    for i, code in enumerate(SCHOOLS):
        people += [Teacher(moodle_user_id=100 * (i + 1) + n, lastname=f"Педагог{code}{n}",
                           school=schools[code]) for n in range(5 + 2 * i + (i == 3))]
    people.append(Teacher(moodle_user_id=900, lastname="Безшколы"))
    people.append(Teacher(moodle_user_id=901, lastname="Ушедший", school=schools["A1"],
                          active=False))
    db.session.add_all([*towns.values(), *schools.values(), *competencies, entry, final,
                        *people])
    db.session.flush()
    for diagnostic in (entry, final):
        db.session.add_all(
            Deficit(diagnostic_id=diagnostic.id, teacher_id=t.id, competency_id=c.id,
                    level=_level(t.moodle_user_id, k, diagnostic is final),
                    thresholds={"deficit_below": 0.5, "risk_below": 0.7})
            for t in people for k, c in enumerate(competencies))
    db.session.commit()
    return entry, final


def expected(diagnostic: Diagnostic, code: str, competency: str) -> tuple[int, int]:
    """(teachers with a deficit, teachers assessed) of a school's active teachers, read from
    the levels themselves."""
    levels = db.session.scalars(
        select(Deficit.level).join(Teacher, Teacher.id == Deficit.teacher_id)
        .join(School, School.id == Teacher.school_id)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.diagnostic_id == diagnostic.id, School.code == code,
               Competency.idnumber == competency, Teacher.active.is_(True))).all()
    assessed = [lv for lv in levels if lv != "insufficient"]
    return sum(lv == "deficit" for lv in assessed), len(assessed)


class _Table(HTMLParser):
    """The heat map table's rows: per row its header text, header link, and cells (text,
    link, class, title); the column headers' text, links and aria-sort."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.depth = False, 0
        self.heads: list[dict[str, str]] = []
        self.rows: list[dict[str, object]] = []
        self.cell: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and "heatmap" in a.get("class", ""):
            self.inside = True
        if not self.inside:
            return
        if tag == "tr":
            self.rows.append({"class": a.get("class", ""), "cells": []})
        elif tag in ("th", "td"):
            self.cell = {"tag": tag, "text": "", "href": "", **a}
        elif tag == "a" and self.cell is not None and not self.cell["href"]:
            self.cell["href"] = a["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.inside:
            self.inside = False
        if self.inside and tag in ("th", "td") and self.cell is not None:
            self.cell["text"] = " ".join(self.cell["text"].split())
            if self.cell.get("scope") == "col":
                self.heads.append(self.cell)
            else:
                self.rows[-1]["cells"].append(self.cell)  # type: ignore[attr-defined]
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell["text"] += data


def table(page: str) -> _Table:
    parsed = _Table()
    parsed.feed(page)
    parsed.rows = [r for r in parsed.rows if r["cells"]]
    return parsed


def school_rows(parsed: _Table) -> list[list[dict[str, str]]]:
    return [r["cells"] for r in parsed.rows if not r["class"]]  # type: ignore[misc]


def code_of(row: list[dict[str, str]]) -> str:
    found = re.search(r"\(([^)]*)\)$", row[0]["text"])
    return found.group(1) if found else ""


def counts(title: str) -> tuple[int, int]:
    """(deficits, assessed) of a cell's title (the final's, in the change view)."""
    found = re.findall(r"дефицит у (\d+) из (\d+)", title)
    return int(found[-1][0]), int(found[-1][1])


def get(client: FlaskClient, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, (url, answer.status_code)
    return answer.get_data(as_text=True)


def test_cells_show_share_and_n_under_named_competencies_with_a_legend(app: Flask) -> None:
    _, final = seed()
    page = get(signed_in(app), "/")
    assert 'class="hm-legend"' in page and "Цвет — доля педагогов с дефицитом" in page
    for band in SHARE_BANDS:
        assert f'class="hm-swatch {band.css}"' in page and band.label in page
    parsed = table(page)
    heads = {h["text"]: h for h in parsed.heads}
    for code, (name, _) in COMPETENCIES.items():
        assert f'<abbr title="{name}">{code}</abbr>' in page
        assert f"{code}{name}" in heads  # the idnumber above the name
    assert "<caption>" in page and 'scope="row"' in page
    rows = {code_of(r): r for r in school_rows(parsed)}
    assert set(rows) == {*SCHOOLS, ""}  # "" : teachers of no school (and the inactive one)
    columns = [h["text"][:5] for h in parsed.heads][4:]
    for code in SCHOOLS:
        for competency in COMPETENCIES:
            cell = rows[code][4 + columns.index(competency)]
            deficits, assessed = expected(final, code, competency)
            assert f"n={assessed}" in cell["text"]
            assert f"{round(100 * deficits / assessed)} %" in cell["text"]
            assert counts(cell["title"]) == (deficits, assessed)
            assert cell["class"].startswith("hm-s")


def test_links_lead_to_the_teacher_list_of_the_school_and_competency(app: Flask) -> None:
    seed()
    parsed = table(get(signed_in(app), "/"))
    columns = [h["text"][:5] for h in parsed.heads][4:]
    for row in school_rows(parsed):
        code = code_of(row)
        if not code:
            assert not row[0]["href"]  # no school: no list to open
            continue
        school = urlsplit(unescape(row[0]["href"]))
        assert (school.path, parse_qs(school.query)) == ("/teachers", {"school": [code]})
        for competency, cell in zip(columns, row[4:], strict=True):
            link = urlsplit(unescape(cell["href"]))
            assert link.path == "/teachers" and parse_qs(link.query) == {
                "school": [code], "competency": [competency], "level": ["deficit"]}


def test_header_links_sort_the_rows_and_say_so_with_aria_sort(app: Flask) -> None:
    seed()
    client = signed_in(app)
    parsed = table(get(client, "/"))
    assert parsed.heads[3]["aria-sort"] == "descending"  # by need, by default
    by_head = {h["text"][:5]: unescape(h["href"]) for h in parsed.heads}

    def column(page: _Table, code: str) -> list[tuple[str, int, int]]:
        at = [h["text"][:5] for h in page.heads].index(code)
        return [(code_of(r), *counts(r[at]["title"])) for r in school_rows(page)]

    descending = table(get(client, by_head["PK-02"]))
    head = next(h for h in descending.heads if h["text"].startswith("PK-02"))
    assert head["aria-sort"] == "descending"
    values = [d / a for _, d, a in column(descending, "PK-02")]
    assert values == sorted(values, reverse=True)
    ascending = table(get(client, unescape(head["href"])))  # the same header again
    assert next(h for h in ascending.heads if h["text"].startswith("PK-02"))[
        "aria-sort"] == "ascending"
    assert [d / a for _, d, a in column(ascending, "PK-02")] == sorted(values)
    by_name = table(get(client, by_head["Образ"]))
    assert by_name.heads[0]["aria-sort"] == "ascending"
    names = [r[0]["text"] for r in school_rows(by_name)]
    assert names[:-1] == sorted(names[:-1]) and names[-1].startswith("Без образовательной")
    assert [h.get("aria-sort") for h in by_name.heads].count("ascending") == 1


def test_municipality_and_total_rows_are_the_sums_of_their_schools(app: Flask) -> None:
    _, final = seed()
    page = get(signed_in(app), "/")
    parsed = table(page)
    aggregates = [r for r in parsed.rows if r["class"]]
    assert [r["class"] for r in aggregates] == ["hm-municipality"] * 2 + ["hm-total"]
    assert page.index("hm-total") < page.index("Школа A1")  # apart, on top of the schools
    schools = school_rows(parsed)
    towns = {"Альфа": ["A1", "A2"], "Бета": ["B1", "B2"]}
    for row in aggregates:
        cells = row["cells"]
        name = cells[0]["text"]  # type: ignore[index]
        members = [s for s in schools if (code_of(s) in towns[name.split("«")[1][:-1]]
                                          if "«" in name else True)]
        for j in range(4, 4 + len(COMPETENCIES)):
            summed = [counts(s[j]["title"]) for s in members]
            assert counts(cells[j]["title"]) == (  # type: ignore[index]
                sum(d for d, _ in summed), sum(a for _, a in summed))
    alfa = next(r for r in aggregates if "Альфа" in r["cells"][0]["text"])  # type: ignore[index]
    assert counts(alfa["cells"][4]["title"]) == tuple(  # type: ignore[index]
        map(sum, zip(*(expected(final, c, "PK-01") for c in ("A1", "A2")), strict=True)))


def test_filters_by_municipality_status_and_group(app: Flask) -> None:
    seed()
    client = signed_in(app)
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())

    def codes(url: str) -> set[str]:
        return {code_of(r) for r in school_rows(table(get(client, url)))}

    assert codes("/?status=low_results") == {"A1"}
    assert codes("/?status=adverse_context") == {"A1", "B2"}  # a school may hold both
    assert codes("/?status=resource_centre") == {"B1"}
    assert codes("/?status=other") == {"A2"}
    assert codes(f"/?municipality={towns['Бета']}") == {"B1", "B2"}
    assert codes(f"/?municipality={towns['Бета']}&status=adverse_context") == {"B2"}
    grouped = table(get(client, "/?group=Цифровые"))
    assert [h["text"][:5] for h in grouped.heads][4:] == ["PK-02", "PK-03"]
    assert all(len(r) == 6 for r in school_rows(grouped))
    # The filters are kept by the sort links.
    head = unescape(table(get(client, "/?status=adverse_context")).heads[4]["href"])
    assert parse_qs(urlsplit(head).query)["status"] == ["adverse_context"]


def test_the_change_view_shows_final_minus_entry_per_cell(app: Flask) -> None:
    entry, final = seed()
    client = signed_in(app)
    page = get(client, "/")
    assert 'href="/?view=change"' in page
    changed = get(client, "/?view=change")
    assert "Цвет — изменение доли педагогов с дефицитом" in changed
    parsed = table(changed)
    columns = [h["text"][:5] for h in parsed.heads][4:]
    seen = 0
    for row in school_rows(parsed):
        code = code_of(row)
        if not code:
            continue
        for competency, cell in zip(columns, row[4:], strict=True):
            d0, a0 = expected(entry, code, competency)
            d1, a1 = expected(final, code, competency)
            change = round(100 * (d1 / a1 - d0 / a0))
            sign = "+" if change > 0 else "−" if change < 0 else "±"
            assert cell["text"].startswith(f"{sign}{abs(change)} п.п."), cell["text"]
            assert f"n={a0}→{a1}" in cell["text"]
            assert cell["class"] in {b.css for b in CHANGE_BANDS}
            seen += change != 0
    assert seen  # the seed changes some cells
    assert heat_map(final, entry=entry).entry_id == entry.id


def test_the_xlsx_file_holds_the_rows_shown_with_the_same_filters(
        app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    seed()
    client = signed_in(app)
    for query in ("", "?status=adverse_context&sort=PK-03", "?group=Цифровые&sort=name",
                  "?view=change"):
        shown = table(get(client, f"/{query}"))
        book = openpyxl.load_workbook(io.BytesIO(client.get(f"/map.xlsx{query}").data),
                                      read_only=True)
        rows = list(book.active.iter_rows(values_only=True))
        header = rows.index(next(r for r in rows if r and r[0] == "Строка"))
        body = rows[header + 1:]
        assert [r[1] for r in body] == [r["cells"][0]["text"].split(" (")[0]  # type: ignore[index]
                                        for r in shown.rows]
        assert [r[2] or "" for r in body] == [code_of(r["cells"]) for r in shown.rows]  # type: ignore[arg-type]
        width = 5 if "view=change" in query else 3
        for line, row in zip(body, shown.rows, strict=True):
            for j, cell in enumerate(row["cells"][4:]):  # type: ignore[index]
                n = line[6 + width * j + (4 if width == 5 else 1)]
                assert f"→{n}" in cell["text"] if width == 5 else f"n={n}" in cell["text"]
    # Paged: the file holds every school in the order of the pages.
    monkeypatch.setattr(map_paging, "PAGE_SIZE", 2)
    paged = [code_of(r) for n in (1, 2, 3) for r in school_rows(table(get(
        client, f"/?sort=PK-01&page={n}")))]
    book = openpyxl.load_workbook(io.BytesIO(client.get("/map.xlsx?sort=PK-01").data),
                                  read_only=True)
    assert [r[2] or "" for r in book.active.iter_rows(values_only=True)
            if r and r[0] == "Школа"] == paged


def test_a_methodologist_of_alfa_never_sees_beta(app: Flask) -> None:
    seed()
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    alfa = signed_in(app, "alfa", ALFA)
    for query in ("", "?view=change", "?status=adverse_context", "?sort=name"):
        page = get(alfa, f"/{query}")
        assert "Школа A1" in page and "Школа B" not in page and "Бета" not in page
        book = openpyxl.load_workbook(io.BytesIO(alfa.get(f"/map.xlsx{query}").data),
                                      read_only=True)
        text = " ".join(str(v) for r in book.active.iter_rows(values_only=True) for v in r)
        assert "Школа A1" in text and "B1" not in text and "Бета" not in text
    assert alfa.get(f"/?municipality={towns['Бета']}").status_code == 404
    assert alfa.get(f"/map.xlsx?municipality={towns['Бета']}").status_code == 404
    mine = heat_map(db.session.scalars(select(Diagnostic).filter_by(kind="final")).one(),
                    filters=Filters(status="adverse_context"))
    assert {s.code for s in mine.schools} == {"A1", "B2"}


def test_every_band_has_a_readable_text_colour_in_the_style_sheet() -> None:
    css = CSS.read_text(encoding="utf-8")
    for band in (*SHARE_BANDS, *CHANGE_BANDS):
        found = re.search(rf"\.{band.css} \{{ background: (#[0-9a-f]{{6}}); color: "
                          rf"(#[0-9a-f]{{6}}); \}}", css)
        assert found, band.css
        assert found.groups() == (band.background, band.text)
        assert contrast(band.text, band.background) >= MIN_CONTRAST
    assert contrast("#1a1a1a", "#ffffff") >= MIN_CONTRAST  # .hm-none


def test_the_heat_map_shares_are_the_deficit_maps_in_every_scope(app: Flask) -> None:
    _, final = seed()
    from app.accounts.roles import Scope
    from app.reports.maps import deficit_map
    towns = dict(db.session.execute(select(Municipality.name, Municipality.id)).all())
    for scope in (None, Scope(municipality_ids=frozenset({towns["Альфа"]}))):
        reference = {s["code"]: s["shares"] for s in deficit_map(final, scope).schools}
        heat = heat_map(final, scope)
        codes = [c for c, _, _ in heat.competencies]
        assert {s.code: {c: cell.share for c, cell in zip(codes, s.cells, strict=True)}
                for s in heat.schools} == reference


def test_group_filter_names_groups_in_russian_not_by_their_keys(app: Flask) -> None:
    seed()
    digital = db.session.scalars(select(Competency).filter_by(idnumber="PK-02")).one()
    digital.group = "inclusive"  # a key as Moodle's framework or a file may give it
    db.session.commit()
    page = get(signed_in(app), "/?group=inclusive")
    assert '<option value="inclusive" selected>инклюзивная</option>' in page
    assert "группа «инклюзивная»" in page and ">inclusive<" not in page
