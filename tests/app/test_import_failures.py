"""The import failures a methodologist found on /imports, each replayed with a small real file.

A KOI8-R schools file, UTF-16 and fake .xlsx results, a misspelt header, headers worded as
the national assessments' exports word them, out-of-range values, a bad question-map row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from import_support import count, form_choices, items, upload, upload_applied, upload_results
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Competency,
    Diagnostic,
    DiagnosticMapping,
    Municipality,
    School,
    SchoolResult,
)

SCHOOLS = ("code;name;municipality;low_results;adverse_context;resource_centre\r\n"
           "16101;МБОУ \"Лицей N 1\";Зеленодольский муниципальный район;0;0;1\r\n"
           "16102;МБОУ \"СОШ N 2\";Зеленодольский муниципальный район;0;1;0\r\n")
# A regional ВПР table as ФИС ОКО reports word it: none of ProfRoute's own headers.
FIS_OKO = ("Логин ОО;Наименование ОО;АТЕ;Год;Процедура;Предмет;Класс;Кол-во участников;"
           "Средний балл;% не преодолевших минимальный порог\r\n")


def fis_oko_rows() -> str:
    """Ten schools × two years; sch160101 and sch160102 have a third of pupils below the
    minimum every year (the threshold rule), the others far fewer."""
    lines = []
    for year in (2024, 2025):
        for n in range(1, 11):
            below = 34 if n <= 2 else 5
            lines.append(f"sch1601{n:02d};МБОУ «СОШ № {n}»;Зеленодольский;{year};ВПР;"
                         f"Математика;5;{20 + n};{2.5 + n / 5:.1f};{below}".replace(".", ","))
    return "\r\n".join(lines) + "\r\n"


@pytest.fixture
def web(app: Flask, signed_in_client: FlaskClient, tmp_path: Path) -> FlaskClient:
    app.config["PROFROUTE_UPLOADS"] = str(tmp_path / "uploads")
    return signed_in_client


def error_box(page: str) -> str:
    found = re.findall(r'<div class="error"[^>]*>(.*?)</div>', page, re.S) + \
        re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
    return " ".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", f)) for f in found)


def test_a_koi8_r_schools_file_is_refused_naming_the_encodings_and_stores_nothing(web):
    status, page = upload(web, "/imports/catalogue",
                          schools=(SCHOOLS.encode("koi8-r"), "Школы.csv"))
    assert status == 400
    box = error_box(page)
    assert "Школы.csv" in box and "KOI8-R" in box and "Windows-1251" in box and "UTF-8" in box
    assert 'class="flash saved"' not in page
    assert count(School) == 0 and count(Municipality) == 0  # no garbled filter value


def test_utf16_results_with_a_bom_are_read_and_without_one_refused_by_name(web):
    text = FIS_OKO + fis_oko_rows()
    status, page = upload_results(web, text.encode("utf-16"), "ВПР.csv")  # Excel's «Unicode»
    assert status == 200 and "новых: 20" in items(page) and count(SchoolResult) == 20
    status, page = upload(web, "/imports/results", files=(text.encode("utf-16-le"), "ВПР2.csv"))
    assert status == 400 and "Проверка перед загрузкой" not in page
    assert "UTF-16 без метки BOM" in error_box(page) and "ВПР2.csv" in error_box(page)


@pytest.mark.parametrize(("data", "said"), [
    ((FIS_OKO + fis_oko_rows()).encode("cp1251"), "не книга Excel"),  # a CSV renamed
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(2000), "Excel 97–2003 (.xls)"),
    (b"<html><table><tr><td>\xd0\x9a\xd0\xbe\xd0\xb4</td></tr></table></html>", "HTML"),
])
def test_a_fake_xlsx_gets_an_error_box_saying_what_it_is(web, data, said):
    status, page = upload(web, "/imports/results", files=(data, "Результаты.xlsx"))
    assert status == 400 and said in error_box(page) and "нет столбцов" not in page
    assert count(SchoolResult) == 0


def test_a_misspelt_header_keeps_the_stored_mean_scores_and_warns(web):
    good = ("Код ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл;Доля ниже порога, %\r\n"
            "16101;2025;ВПР;Математика;5;3,9;5\r\n16102;2025;ВПР;Математика;5;3,5;12\r\n"
            "16103;2025;ВПР;Математика;5;3,1;30\r\n")
    upload_results(web, good.encode(), "ВПР.csv")
    misspelt = good.replace("Средний балл", "Средний бал").replace(";5\r\n", ";6\r\n")
    status, page = upload(web, "/imports/results", files=(misspelt.encode(), "ВПР-2.csv"))
    assert status == 200
    assert "не распознан" in page and "«Средний бал»" in page
    assert "правило «ШНОР по среднему результату» не работает" in page
    status, page = web.post("/imports/results/apply", data=form_choices(page)).status_code, ""
    assert status == 200
    db.session.expire_all()
    stored = {r.school_code: (r.mean_score, r.share_below_min)
              for r in db.session.scalars(select(SchoolResult))}
    assert stored == {"16101": (3.9, 0.06), "16102": (3.5, 0.12), "16103": (3.1, 0.3)}


def test_headers_worded_as_the_exports_feed_the_threshold_rule(web):
    status, page = upload(web, "/imports/results",
                          files=((FIS_OKO + fis_oko_rows()).encode("cp1251"), "ВПР.csv"))
    assert status == 200 and "не распознан" not in page
    assert re.search(r"<td>Кол-во участников</td><td><select[^>]*>.*?"
                     r'<option value="participants" selected>', page, re.S)
    web.post("/imports/results/apply", data=form_choices(page))
    stored = db.session.scalars(select(SchoolResult).filter_by(school_code="sch160101",
                                                               year=2025)).one()
    assert (stored.participants, stored.share_below_min) == (21, 0.34)
    assert db.session.scalars(select(School).filter_by(code="sch160101")).one() \
        .municipality.name == "Зеленодольский"
    found = web.post("/imports/identify", data={"apply": "0"}).get_data(as_text=True)
    low = re.findall(r"<td>(sch\d+)</td><td class=\"name\">[^<]*</td><td>да</td>", found)
    assert low == ["sch160101", "sch160102"]


def test_an_unknown_column_is_mapped_by_hand_before_applying(web):
    text = (FIS_OKO + fis_oko_rows()).replace("Кол-во участников", "Всего писавших")
    status, page = upload(web, "/imports/results", files=(text.encode(), "ВПР.csv"))
    assert "«Всего писавших»" in page and "усредняются без весов" in page
    fields = form_choices(page)
    column = next(k for k, v in fields.items() if k.startswith("col-") and not v)
    twice = web.post("/imports/results/apply", data=fields | {column: "year"})
    assert twice.status_code == 400 and "«Год»" in error_box(twice.get_data(as_text=True))
    assert count(SchoolResult) == 0
    applied = web.post("/imports/results/apply", data=fields | {column: "participants"})
    assert applied.status_code == 200 and count(SchoolResult) == 20
    assert {r.participants for r in db.session.scalars(select(SchoolResult))} == \
        set(range(21, 31))
    again = web.post("/imports/results/apply", data=fields)  # applied once only
    assert again.status_code == 400 and "не найдена" in error_box(again.get_data(as_text=True))


def test_out_of_range_values_refuse_their_rows_by_number_and_keep_the_others(web):
    text = ("Код ОО;Год;Оценочная процедура;Предмет;Класс;Средняя отметка;Доля «2», %;Писали\r\n"
            "16101;2025;ВПР;Математика;5;3,9;5;40\r\n"
            "16102;2025;ВПР;Математика;5;7;5;40\r\n"      # 3: a mark above 5
            "16103;2025;ВПР;Математика;5;3,1;120;40\r\n"  # 4: a share above 100 %
            "16104;2025;ВПР;Математика;5;3,1;10;-3\r\n"   # 5: negative participants
            "16105;1925;ВПР;Математика;5;3,1;10;30\r\n"   # 6: implausible year
            "16 106;2025;ВПР;Математика;5;3,1;10;30\r\n")  # 7: not a school code
    status, page = upload_results(web, text.encode(), "ВПР.csv")
    shown = items(page)
    assert status == 200 and "строк принято: 1" in shown and "строк отклонено: 5" in shown
    assert [line.split(":")[0] for line in shown if line.startswith("ВПР.csv")] == [
        "ВПР.csv, строка 3, «Средняя отметка»", "ВПР.csv, строка 4, «Доля ниже минимального "
        "порога»", "ВПР.csv, строка 5, «Число участников»", "ВПР.csv, строка 6, «Год»",
        "ВПР.csv, строка 7, «Код ОО»"]
    assert "&#39;7&#39; — не средняя отметка от 2 до 5 (ВПР)" in page
    assert [r.school_code for r in db.session.scalars(select(SchoolResult))] == ["16101"]


def test_a_bad_question_map_row_is_reported(web):
    db.session.add_all([Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная"),
                        Competency(idnumber="PK-01", name="Предметные знания")])
    db.session.commit()
    table = "№ задания;Компетенция\n1;PK-01\n0;PK-01\n2,5;PK-01\n".encode("cp1251")
    status, page = upload_applied(web, "/imports/question-map", file=(table, "карта.csv"))
    shown = items(page)
    assert status == 200 and "слотов сопоставлено: 1" in shown
    assert "карта.csv, строка 3, «№ задания»: &#39;0&#39; — не номер вопроса (слота); " \
           "пишите 1, 2, 3…" in shown
    assert any(line.startswith("карта.csv, строка 4") for line in shown)
    assert count(DiagnosticMapping) == 1
    status, page = upload(web, "/imports/question-map", file=(table, "карта.xlsx"))
    assert status == 400 and "не книга Excel" in error_box(page)


def test_the_preview_is_kept_for_its_user_and_applying_needs_the_csrf_token(app, web):
    status, page = upload(web, "/imports/results",
                          files=((FIS_OKO + fis_oko_rows()).encode(), "ВПР.csv"))
    token = form_choices(page)["token"]
    assert len(list((Path(app.config["PROFROUTE_UPLOADS"]) / token).iterdir())) == 2
    app.config["WTF_CSRF_ENABLED"] = True
    refused = web.post("/imports/results/apply", data=form_choices(page))
    assert refused.status_code == 400 and count(SchoolResult) == 0
    app.config["WTF_CSRF_ENABLED"] = False
    assert web.post("/imports/results/apply", data={"token": "../../etc"}).status_code == 400


def test_a_file_refused_for_its_columns_is_still_previewed_and_can_be_mapped(web):
    text = ("Логин ОО;Год;Процедура;Предмет;Класс;Средний бал\r\n"
            "sch1;2025;ВПР;Химия;8;3,5\r\nsch2;2025;ВПР;Химия;8;61\r\n")
    status, page = upload(web, "/imports/results", files=(text.encode(), "v.csv"))
    assert status == 200 and "сопоставьте столбцы вручную" in page
    assert "нет столбцов: Средний балл или Доля ниже минимального порога" in error_box(page)
    fields = form_choices(page)
    as_is = web.post("/imports/results/apply", data=fields)
    assert as_is.status_code == 400 and count(SchoolResult) == 0
    status, page = upload(web, "/imports/results", files=(text.encode(), "v.csv"))
    fields = form_choices(page) | {"col-0-5": "mean_score"}
    applied = web.post("/imports/results/apply", data=fields).get_data(as_text=True)
    assert "v.csv, строка 3, «Средний балл»: &#39;61&#39; — не средняя отметка 2–5 и не " \
           "первичный балл до 60 (ВПР)" in applied
    assert [r.mean_score for r in db.session.scalars(select(SchoolResult))] == [3.5]
