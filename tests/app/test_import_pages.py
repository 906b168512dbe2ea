"""The imports page: results, catalogue and question map uploaded by a signed-in methodologist."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
from flask import Flask
from flask.testing import FlaskClient
from import_support import count, form_choices, items, upload, upload_applied, upload_results
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Competency,
    Diagnostic,
    DiagnosticMapping,
    Offer,
    OfferSession,
    RunLog,
    School,
    SchoolResult,
)
from config import DEMO_DIR

HEADER = ("Код ОО;Наименование ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл;"
          "Доля ниже минимального порога;Число участников")


def vpr_1251() -> bytes:
    """Ten schools × two years of ВПР, in Windows-1251 with «;», and one bad row (row 22)."""
    lines = [HEADER]
    for year in (2024, 2025):
        for n in range(1, 11):  # school 30001 lowest, 30010 highest, both years
            lines.append(f"300{n:02d};МБОУ «СОШ № {n}»;{year};ВПР;Математика;5;"
                         f"{10 + n * 4},5;{max(0, 40 - n * 4)} %;{20 + n}")
    lines.append("30099;МБОУ «Ошибка»;20х4;ВПР;Математика;5;50;10 %;30")
    return ("\n".join(lines) + "\n").encode("cp1251")


def test_a_1251_results_file_keeps_the_good_rows_names_the_bad_one_and_reimports_nothing(
        signed_in_client: FlaskClient) -> None:
    status, page = upload_results(signed_in_client, vpr_1251(), "ВПР-2025.csv")
    assert status == 200
    shown = items(page)
    assert "строк принято: 20" in shown and "новых: 20" in shown and "строк отклонено: 1" in shown
    assert ("ВПР-2025.csv, строка 22, «Год»: &#39;20х4&#39; — не год от 2001 до "
            f"{dt.date.today().year}") in shown
    assert count(SchoolResult) == 20
    stored = db.session.scalars(select(SchoolResult).filter_by(school_code="30003",
                                                               year=2025)).one()
    assert (stored.mean_score, stored.share_below_min, stored.participants) == (22.5, 0.28, 23)
    assert db.session.scalars(select(School).filter_by(code="30003")).one().name == \
        "МБОУ «СОШ № 3»"

    status, page = upload_results(signed_in_client, vpr_1251(), "ВПР-2025.csv")
    shown = items(page)
    assert status == 200 and "новых: 0" in shown and "изменено: 0" in shown
    assert "без изменений: 20" in shown and count(SchoolResult) == 20
    runs = db.session.scalars(select(RunLog).filter_by(stage="import-results")).all()
    assert [r.status for r in runs] == ["ok", "ok"]


def test_an_xlsx_results_file_is_read_too(signed_in_client: FlaskClient) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Код ОО", "Наименование ОО", "Год", "Оценочная процедура", "Предмет",
                  "Средний балл", "Число участников"])
    sheet.append(["16104", "МБОУ «СОШ № 4»", 2025, "ОГЭ", "Русский язык", 3.1, 48])
    sheet.append(["16105", "МБОУ «СОШ № 5»", 2025, "ОГЭ", "Русский язык", "три", 51])
    buffer = io.BytesIO()
    book.save(buffer)
    status, page = upload_results(signed_in_client, buffer.getvalue(), "ОГЭ.xlsx")
    shown = items(page)
    assert status == 200 and "новых: 1" in shown and count(SchoolResult) == 1
    assert any(line.startswith("ОГЭ.xlsx, строка 3, «Средний балл»") for line in shown)
    assert db.session.scalars(select(SchoolResult)).one().grade == 9  # ОГЭ is grade 9


def test_an_upload_over_the_limit_is_refused_with_the_limit(
        app: Flask, signed_in_client: FlaskClient) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    status, page = upload(signed_in_client, "/imports/results",
                          files=(b"x" * 10_000, "big.csv"))
    assert status == 413 and "Файл слишком большой" in page and "не больше 4 КБ" in page
    assert count(SchoolResult) == 0
    assert signed_in_client.get("/").status_code == 200  # the default limit is 20 MB
    app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024


def test_catalogue_upload_reports_the_bad_row_by_its_file_and_reimport_changes_nothing(
        signed_in_client: FlaskClient) -> None:
    schools = (DEMO_DIR / "schools.csv").read_text(encoding="utf-8").splitlines()
    schools.insert(2, "16199;МБОУ «СОШ № 99»;Зеленодольский муниципальный район;может быть;0;0")
    content = ("\n".join(schools) + "\n").encode("cp1251")
    offers = (DEMO_DIR / "offers.csv").read_bytes()
    files = {"schools": (content, "Школы района.csv"), "offers": (offers, "КПК.csv")}
    status, page = upload_applied(signed_in_client, "/imports/catalogue", **files)
    shown = items(page)
    assert status == 200 and f"школ в файле: {len(schools) - 2}" in shown
    assert "Школы района.csv, строка 3, «low_results»: &#39;может быть&#39; — не «да»/«нет»; " \
           "пишите 1 или 0 (да/нет)" in shown
    assert count(School) == len(schools) - 2 and "строк отклонено: 1" in shown
    _, again = upload_applied(signed_in_client, "/imports/catalogue", **files)
    shown = items(again)
    assert "школ добавлено: 0" in shown and "школ изменено: 0" in shown
    assert "предложений добавлено: 0" in shown and "предложений изменено: 0" in shown


def test_question_map_needs_a_diagnostic_then_maps_slots_and_refuses_unknown_ones(
        signed_in_client: FlaskClient) -> None:
    table = "Вопрос;Компетенция\n1;PK-01\n2;PK-02\n3;PK-99\n".encode("cp1251")
    status, page = upload(signed_in_client, "/imports/question-map", file=(table, "вопросы.csv"))
    assert status == 400 and "сначала выполните «profroute sync»" in page
    db.session.add_all([Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная"),
                        Competency(idnumber="PK-01", name="Предметные знания"),
                        Competency(idnumber="PK-02", name="Методика")])
    db.session.commit()
    status, page = upload_applied(signed_in_client, "/imports/question-map",
                                  file=(table, "вопросы.csv"))
    shown = items(page)
    assert status == 200 and "слотов сопоставлено: 2" in shown
    assert "вопросы.csv, строка 4, «компетенция»: неизвестная компетенция PK-99; укажите " \
           "idnumber компетенции из рамки" in shown
    assert count(DiagnosticMapping) == 2


def test_question_map_goes_to_the_diagnostic_chosen(signed_in_client: FlaskClient) -> None:
    table = "Вопрос;Компетенция\n1;PK-01\n".encode("cp1251")
    entry = Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная")
    final = Diagnostic(moodle_quiz_id=12, moodle_course_id=3, name="Итоговая", kind="final")
    db.session.add_all([entry, final, Competency(idnumber="PK-01", name="Предметные знания")])
    db.session.commit()
    page = signed_in_client.get("/imports").get_data(as_text=True)
    assert f'<option value="{final.id}" selected>Итоговая (итоговая)</option>' in page
    status, _ = upload_applied(signed_in_client, "/imports/question-map",
                               form={"diagnostic": str(entry.id)}, file=(table, "вопросы.csv"))
    assert status == 200
    assert [m.diagnostic_id for m in db.session.scalars(select(DiagnosticMapping))] \
        == [entry.id]
    missing = signed_in_client.post("/imports/question-map", content_type="multipart/form-data",
                          data={"diagnostic": "999", "file": (io.BytesIO(table), "в.csv")})
    assert missing.status_code == 400
    assert "нет диагностики с номером 999" in missing.get_data(as_text=True)


def test_identification_is_previewed_then_applied(signed_in_client: FlaskClient) -> None:
    upload_results(signed_in_client, vpr_1251(), "vpr.csv")
    preview = signed_in_client.post("/imports/identify", data={"apply": "0"}).get_data(as_text=True)
    assert "Предварительный результат" in preview and "Применить" in preview
    assert re.search(r"<td>30001</td><td class=\"name\">МБОУ «СОШ № 1»</td><td>да</td>", preview)
    school = db.session.scalars(select(School).filter_by(code="30001")).one()
    assert school.low_results is False
    applied = signed_in_client.post("/imports/identify", data={"apply": "1"}).get_data(as_text=True)
    assert "Признаки школ установлены" in applied
    db.session.expire_all()
    assert db.session.scalars(select(School).filter_by(code="30001")).one().low_results is True


def test_a_catalogue_table_is_previewed_mapped_by_hand_then_applied_once(
        signed_in_client: FlaskClient) -> None:
    table = ("Ключ;Тема мероприятия;Место;Компетенции;Дата;Мест\n"
             "ev-1;Семинар;ИМЦ;PK-01;15.01.2027;40\n"
             "ev-1;Семинар;ИМЦ;PK-01;15.02.2027;30\n"
             "ev-2;Вебинар;;PK-02;не дата;100\n").encode("cp1251")
    status, page = upload(signed_in_client, "/imports/table", {"kind": "events"},
                          file=(table, "Мероприятия.csv"))
    assert status == 200 and "Проверка перед загрузкой" in page
    assert "Тема мероприятия" in page  # not a known spelling: read as title by hand
    choices = form_choices(page) | {"col-0-1": "title"}
    answer = signed_in_client.post("/imports/table/apply", data=choices)
    shown = items(answer.get_data(as_text=True))
    assert answer.status_code == 200, shown
    assert "предложений в файле: 1" in shown and "сессий в файле: 2" in shown
    assert "строк отклонено: 1" in shown
    assert count(Offer) == 1 and count(OfferSession) == 2
    status, page = upload(signed_in_client, "/imports/table", {"kind": "events"},
                          file=(table, "Мероприятия.csv"))
    signed_in_client.post("/imports/table/apply", data=form_choices(page) | {"col-0-1": "title"})
    assert count(Offer) == 1 and count(OfferSession) == 2
