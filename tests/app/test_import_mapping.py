"""Catalogue and question-map tables on /imports: a preview first, columns mapped by hand, then
the import; the same through ``profroute import-catalogue`` / ``import-question-map --map``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from import_support import count, form_choices, items, upload
from sqlalchemy import select
from support import PASSWORD, AppRunner

from app.extensions import db
from app.models import (
    Competency,
    Diagnostic,
    DiagnosticMapping,
    Partnership,
    RunLog,
    School,
)

# «Ресурсный цент» is a misspelt «Ресурсный центр»: no alias reads it.
SCHOOLS = ("Код ОО;Наименование ОО;Ресурсный цент\r\n"
           "16101;МБОУ «Лицей № 1»;1\r\n16102;МБОУ «СОШ № 2»;0\r\n")
# «Код партнёра» is no spelling of the partner school's code: the file lacks a required column.
PARTNERSHIPS = "Код РЦ;Код партнёра;Дата начала\r\n16101;16102;01.09.2025\r\n"


@pytest.fixture
def web(app: Flask, signed_in_client: FlaskClient, tmp_path: Path) -> FlaskClient:
    app.config["PROFROUTE_UPLOADS"] = str(tmp_path / "uploads")
    return signed_in_client


def error_box(page: str) -> str:
    found = re.findall(r'<(?:div|p) class="error"[^>]*>(.*?)</(?:div|p)>', page, re.S)
    return " ".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", f)) for f in found)


def field_of(page: str, cell: str) -> str:
    """The form field of the select that maps the header cell ``cell``."""
    return re.search(rf'<select name="([^"]+)" aria-label="{re.escape(cell)}">', page)[1]


def read_as(page: str, cell: str) -> str:
    """The meaning the preview reads a header cell with (``""``: not read)."""
    return form_choices(page)[field_of(page, cell)]


def apply(client: FlaskClient, upload_path: str, page: str,
          **changes: str) -> tuple[int, str]:
    answer = client.post(f"{upload_path}/apply", data=form_choices(page) | changes)
    return answer.status_code, answer.get_data(as_text=True)


def centres() -> dict[str, bool]:
    db.session.expire_all()
    return {s.code: s.resource_centre for s in db.session.scalars(select(School))}


def test_a_catalogue_preview_shows_each_column_and_stores_nothing(web: FlaskClient) -> None:
    status, page = upload(web, "/imports/catalogue", schools=(SCHOOLS.encode(), "Школы.csv"))
    assert status == 200 and "Проверка перед загрузкой" in page
    assert 'action="/imports/catalogue/apply"' in page
    assert (read_as(page, "Код ОО"), read_as(page, "Наименование ОО")) == ("code", "name")
    assert read_as(page, "Ресурсный цент") == ""
    assert '<option value="resource_centre">Ресурсный центр (да/нет)</option>' in page
    assert "«Ресурсный цент» — сопоставьте их вручную" in page
    assert "нет столбца «Ресурсный центр (да/нет)»: он не загружается, сохранённые значения " \
           "не меняются" in items(page)
    assert "строк с верными данными — 2" in page
    assert count(School) == 0
    assert db.session.scalars(select(RunLog).filter_by(stage="import-catalogue")).all() == []


def test_a_misspelt_catalogue_column_mapped_by_hand_is_imported(web: FlaskClient) -> None:
    status, page = upload(web, "/imports/catalogue", schools=(SCHOOLS.encode(), "Школы.csv"))
    status, done = apply(web, "/imports/catalogue", page,
                         **{field_of(page, "Ресурсный цент"): "resource_centre"})
    assert status == 200 and "школ добавлено: 2" in items(done)
    assert centres() == {"16101": True, "16102": False}


def test_without_the_mapping_the_column_is_reported_and_stored_flags_are_kept(
        web: FlaskClient) -> None:
    _, page = upload(web, "/imports/catalogue", schools=(SCHOOLS.encode(), "Школы.csv"))
    apply(web, "/imports/catalogue", page,
          **{field_of(page, "Ресурсный цент"): "resource_centre"})
    renamed = SCHOOLS.replace("«Лицей № 1»", "«Лицей № 1 имени Тукая»").encode()
    _, page = upload(web, "/imports/catalogue", schools=(renamed, "Школы-2.csv"))
    status, done = apply(web, "/imports/catalogue", page)
    shown = items(done)
    assert status == 200 and "школ изменено: 1" in shown
    assert "Школы-2.csv: столбцы не прочитаны: «Ресурсный цент» — сопоставьте их вручную или " \
           "уберите" in shown
    assert 'class="flash partial"' in done and 'class="flash saved"' not in done
    assert centres() == {"16101": True, "16102": False}  # not erased by the unread column
    assert db.session.scalars(select(School).filter_by(code="16101")).one().name == \
        "МБОУ «Лицей № 1 имени Тукая»"


def test_one_meaning_chosen_twice_is_refused_and_the_preview_shown_again(
        web: FlaskClient) -> None:
    _, page = upload(web, "/imports/catalogue", schools=(SCHOOLS.encode(), "Школы.csv"))
    status, again = apply(web, "/imports/catalogue", page,
                          **{field_of(page, "Ресурсный цент"): "code"})
    assert status == 400 and count(School) == 0
    assert "Одно значение выбрано для нескольких столбцов: «Код ОО» (Школы.csv)" in \
        error_box(again)
    assert "Проверка перед загрузкой" in again and read_as(again, "Ресурсный цент") == "code"
    status, done = apply(web, "/imports/catalogue", again,
                         **{field_of(again, "Ресурсный цент"): "resource_centre"})
    assert status == 200 and centres() == {"16101": True, "16102": False}


def test_a_file_lacking_a_required_column_is_refused_until_it_is_mapped(
        web: FlaskClient) -> None:
    files = {"schools": (SCHOOLS.encode(), "Школы.csv"),
             "partnerships": (PARTNERSHIPS.encode("cp1251"), "Партнёрства.csv")}
    status, page = upload(web, "/imports/catalogue", **files)
    assert status == 200 and "в таком виде файл не будет загружен" in page
    assert "нет обязательного столбца «Код школы-партнёра»: без него файл не загружается — " \
           "сопоставьте столбец вручную" in items(page)
    assert field_of(page, "Код партнёра").startswith("col-1-")  # the second file's columns
    status, as_is = apply(web, "/imports/catalogue", page,
                          **{field_of(page, "Ресурсный цент"): "resource_centre"})
    assert status == 200 and count(Partnership) == 0 and count(School) == 2
    assert "Файл не загружен: Партнёрства.csv" in error_box(as_is)
    _, page = upload(web, "/imports/catalogue", **files)
    status, done = apply(web, "/imports/catalogue", page,
                         **{field_of(page, "Код партнёра"): "school_code",
                            field_of(page, "Ресурсный цент"): "resource_centre"})
    assert status == 200 and "партнёрств добавлено: 1" in items(done)
    link = db.session.scalars(select(Partnership)).one()
    assert (link.resource_centre.code, link.school.code, str(link.starts_on)) == \
        ("16101", "16102", "2025-09-01")


def test_another_users_token_is_refused(app: Flask, web: FlaskClient) -> None:
    _, page = upload(web, "/imports/catalogue", schools=(SCHOOLS.encode(), "Школы.csv"))
    result = AppRunner(app).invoke(["web-user", "add", "petrov", "--name", "Петров", "--role",
                                    "methodologist", "--region", "--password-stdin"],
                                   input=PASSWORD + "\n")
    assert result.exit_code == 0
    other = app.test_client()
    assert other.post("/login", data={"login": "petrov", "password": PASSWORD}
                      ).status_code == 302
    status, refused = apply(other, "/imports/catalogue", page)
    assert status == 400 and "Загрузка не найдена или устарела" in error_box(refused)
    assert count(School) == 0
    status, _ = apply(web, "/imports/results", page)  # a catalogue token on the results form
    assert status == 400 and count(School) == 0
    status, _ = apply(web, "/imports/catalogue", page)  # still the owner's to apply
    assert status == 200 and count(School) == 2


def diagnostics() -> tuple[Diagnostic, Diagnostic]:
    entry = Diagnostic(moodle_quiz_id=11, moodle_course_id=2, name="Входная")
    final = Diagnostic(moodle_quiz_id=12, moodle_course_id=3, name="Итоговая", kind="final")
    db.session.add_all([entry, final, Competency(idnumber="PK-01", name="Предметные знания"),
                        Competency(idnumber="PK-02", name="Методика")])
    db.session.commit()
    return entry, final


def test_a_question_map_table_is_previewed_mapped_and_applied_to_the_diagnostic_chosen(
        web: FlaskClient) -> None:
    entry, _ = diagnostics()
    table = "№;Код компетенци\n1;PK-01\n2;PK-02\n3;PK-99\n".encode("cp1251")
    status, page = upload(web, "/imports/question-map", form={"diagnostic": str(entry.id)},
                          file=(table, "карта.csv"))
    assert status == 200 and 'action="/imports/question-map/apply"' in page
    assert "в таком виде файл не будет загружен" in page and count(DiagnosticMapping) == 0
    assert "нет обязательного столбца «Вопрос (номер слота, idnumber или название)»: без " \
           "него файл не загружается — сопоставьте столбец вручную" in items(page)
    status, again = apply(web, "/imports/question-map", page,
                          **{field_of(page, "№"): "key", field_of(page, "Код компетенци"): "key"})
    assert status == 400 and "«Вопрос (номер слота, idnumber или название)»" in error_box(again)
    status, done = apply(web, "/imports/question-map", page,
                         **{field_of(page, "№"): "key",
                            field_of(page, "Код компетенци"): "competency"})
    shown = items(done)
    assert status == 200 and "слотов сопоставлено: 2" in shown
    assert "карта.csv, строка 4, «код компетенци»: неизвестная компетенция PK-99; укажите " \
           "idnumber компетенции из рамки" in shown
    stored = set(db.session.execute(
        select(DiagnosticMapping.diagnostic_id, DiagnosticMapping.key, Competency.idnumber)
        .join(Competency, Competency.id == DiagnosticMapping.competency_id)).all())
    assert stored == {(entry.id, "1", "PK-01"), (entry.id, "2", "PK-02")}


def test_a_moodle_xml_question_bank_is_imported_at_once(web: FlaskClient) -> None:
    diagnostics()
    bank = ('<?xml version="1.0" encoding="UTF-8"?><quiz>'
            '<question type="multichoice"><name><text>Дроби</text></name>'
            '<idnumber>Q-7</idnumber><tags><tag><text>PK-02</text></tag></tags></question>'
            '</quiz>').encode()
    status, page = upload(web, "/imports/question-map", file=(bank, "банк.xml"))
    assert status == 200 and "Проверка перед загрузкой" not in page
    assert "вопросов сопоставлено: 1" in items(page)
    assert db.session.execute(
        select(DiagnosticMapping.key, Competency.idnumber)
        .join(Competency, Competency.id == DiagnosticMapping.competency_id)).all() == \
        [("Q-7", "PK-02")]


def run(runner: AppRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(args)
    db.session.expire_all()
    return result.exit_code, result.stdout, result.stderr


def test_cli_import_catalogue_maps_a_column_by_hand_and_refuses_an_unknown_column(
        runner: AppRunner, tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
    (tmp_path / "partnerships.csv").write_text(PARTNERSHIPS, encoding="utf-8")
    code, _, err = run(runner, "import-catalogue", "--map", "Ресурсный цент=resource_centre",
                       "--map", "Код партнёра=school_code", str(tmp_path))
    assert code == 0, err
    assert centres() == {"16101": True, "16102": False} and count(Partnership) == 1
    code, out, err = run(runner, "import-catalogue", "--map", "Ресурсный цент=centre",
                         str(tmp_path))
    assert code == 2 and out == "" and "'Ресурсный цент=centre'" in err
    assert "resource_centre" in err and "school_code" in err and "hours" in err
    code, _, err = run(runner, "import-catalogue", str(tmp_path))
    assert code == 2 and "schools.csv: столбцы не прочитаны: «Ресурсный цент»" in err
    assert centres() == {"16101": True, "16102": False}


def test_cli_import_question_map_maps_a_column_by_hand_and_refuses_an_unknown_column(
        runner: AppRunner, tmp_path: Path) -> None:
    diagnostics()
    table = tmp_path / "карта.csv"
    table.write_text("№;Компетенци\n1;PK-01\n2;PK-02\n", encoding="utf-8")
    code, out, _ = run(runner, "import-question-map", str(table))
    assert code == 2 and json.loads(out)["refused"] and count(DiagnosticMapping) == 0
    code, out, err = run(runner, "import-question-map", "--map", "№=key",
                         "--map", "Компетенци=competency", str(table))
    assert code == 0, err
    assert json.loads(out)["slots"] == 2 and count(DiagnosticMapping) == 2
    code, _, err = run(runner, "import-question-map", "--map", "Компетенци=competence",
                       str(table))
    assert code == 2 and "key, competency" in err
