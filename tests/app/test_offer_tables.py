"""The catalogue's own tables: external courses, internships, mentoring, methodical events
(each row a session) and teachers' availability. Bad rows refused with their row number and
reason, good rows kept, UTF-8 or Windows-1251, ``;`` or ``,``, CSV or XLSX, re-import no-op."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy import select

from app.extensions import db
from app.models import Offer, OfferSession, School, Teacher, TeacherUnavailable
from app.registry.offerings import import_table
from tests.support import AppRunner


def _csv(rows: list[list[str]], encoding: str = "utf-8", sep: str = ";") -> bytes:
    text = "\n".join(sep.join(f'"{c}"' if sep in c or "," in c else c for c in row)
                     for row in rows)
    return (text + "\n").encode(encoding)


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _offers() -> list[tuple]:
    db.session.expire_all()
    return sorted((o.key, o.kind, o.title, o.provider, o.hours, o.format, o.place, o.seats,
                   tuple(o.subjects), o.mentor_name, o.capacity,
                   o.host_school.code if o.host_school else None,
                   tuple(sorted(c.idnumber for c in o.competencies)),
                   tuple((s.key, s.starts_on, s.ends_on, s.place, s.seats) for s in o.sessions))
                  for o in db.session.scalars(select(Offer)))


EXTERNAL = [
    ["Код программы", "Наименование программы", "Организатор", "Объём программы",
     "Форма обучения", "Место проведения", "Компетенции", "Предметы", "Поток",
     "Дата начала", "Дата окончания", "Количество мест"],
    ["fr-101", "Формирующее оценивание", "ИРО РТ", "36", "очно", "Казань", "PK-01, PK-02",
     "математика; физика", "1", "01.02.2027", "20.02.2027", "25"],
    ["fr-101", "Формирующее оценивание", "ИРО РТ", "36", "очно", "Набережные Челны",
     "PK-01, PK-02", "математика; физика", "2", "01.03.2027", "20.03.2027", "20"],
    ["fr-102", "Читательская грамотность", "ФГАОУ ДПО", "72", "заочно-по-переписке", "",
     "PK-03", "", "", "", "", ""],
    ["fr-103", "Цифровая дидактика", "ФГАОУ ДПО", "24", "дистанционно", "", "PK-04", "", "",
     "10.03.2027", "01.03.2027", "100"],
    ["fr-101", "Формирующее оценивание", "ИРО РТ", "36", "очно", "Казань", "PK-01, PK-02",
     "", "1", "01.04.2027", "20.04.2027", "25"],
    ["fr-104", "Смешанный курс", "ЦНППМ", "18", "смешанно", "", "PK-05", "", "", "", "", ""],
]


@pytest.mark.parametrize(("encoding", "sep", "xlsx"), [
    ("utf-8-sig", ";", False), ("cp1251", ",", False), ("utf-8", ";", True)])
def test_external_courses_keep_good_rows_refuse_bad_ones_and_reimport_changes_nothing(
        app: Flask, encoding: str, sep: str, xlsx: bool) -> None:
    data = _xlsx(EXTERNAL) if xlsx else _csv(EXTERNAL, encoding, sep)
    first = import_table("external_courses", data, name="fr.csv")
    assert [e.split(",")[1].strip() for e in first.errors] == ["row 4", "row 5", "row 6"]
    assert "format" in first.errors[0] and "ends_on" in first.errors[1]
    assert "session_key" in first.errors[2]
    stored = _offers()
    assert [o[0] for o in stored] == ["fr-101", "fr-104"]
    course = stored[0]
    assert course[1:8] == ("external", "Формирующее оценивание", "ИРО РТ", 36, "in_person",
                           "Казань", 45)
    assert course[8] == ("математика", "физика") and course[12] == ("PK-01", "PK-02")
    assert course[13] == (("1", dt.date(2027, 2, 1), dt.date(2027, 2, 20), "Казань", 25),
                          ("2", dt.date(2027, 3, 1), dt.date(2027, 3, 20), "Набережные Челны", 20))
    assert stored[1][5] == "mixed" and stored[1][13] == (("default", None, None, "", None),)
    again = import_table("external_courses", data, name="fr.csv")
    assert again.errors == first.errors and _offers() == stored


def test_a_session_no_longer_listed_is_removed_and_the_seats_summed_again(app: Flask) -> None:
    import_table("external_courses", _csv(EXTERNAL[:3]))
    import_table("external_courses", _csv(EXTERNAL[:2]))
    offer = db.session.scalars(select(Offer).filter_by(key="fr-101")).one()
    assert [s.key for s in offer.sessions] == ["1"] and offer.seats == 25
    assert offer.ends_on == dt.date(2027, 2, 20)


def _schools() -> None:
    db.session.add_all([School(code="16001", name="Лицей № 1", resource_centre=True),
                        School(code="16002", name="СОШ № 2")])
    db.session.commit()


def test_internships_need_a_known_host_school(app: Flask) -> None:
    _schools()
    rows = [["key", "title", "host_school_code", "mentor_name", "subjects", "competencies",
             "session_key", "starts_on", "ends_on", "seats"],
            ["st-1", "Стажировка: урок математики", "16001", "Иванова А. П.", "математика",
             "PK-01", "весна", "2027-03-01", "2027-03-05", "6"],
            ["st-1", "Стажировка: урок математики", "16001", "Иванова А. П.", "математика",
             "PK-01", "осень", "2027-10-01", "2027-10-05", "4"],
            ["st-2", "Стажировка без школы", "", "", "", "PK-02", "", "", "", "5"],
            ["st-3", "Стажировка в чужой школе", "99999", "", "", "PK-02", "", "", "", "5"]]
    found = import_table("internships", _csv(rows, "cp1251", ","))
    assert [e.split(",")[1].strip() for e in found.errors] == ["row 4", "row 5"]
    assert "host_school_code" in found.errors[0] and "unknown school 99999" in found.errors[1]
    (offer,) = _offers()
    assert offer[:2] == ("st-1", "internship") and offer[7] == 10 and offer[11] == "16001"
    assert offer[9] == "Иванова А. П." and [s[0] for s in offer[13]] == ["весна", "осень"]
    again = import_table("internships", _csv(rows, "cp1251", ","))
    assert again.errors == found.errors and _offers() == [offer]


def test_mentoring_takes_as_many_mentees_as_its_capacity(app: Flask) -> None:
    _schools()
    rows = [["Ключ", "Наставник", "Код школы наставника", "Компетенции",
             "Наставляемых одновременно", "Предмет"],
            ["m-1", "Петрова Е. В.", "16001", "PK-01", "3", "русский язык"],
            ["m-2", "", "16001", "PK-01", "3", ""],
            ["m-3", "Сидоров И. И.", "16002", "PK-02", "ноль", ""]]
    found = import_table("mentoring", _csv(rows))
    assert [e.split(",")[1].strip() for e in found.errors] == ["row 3", "row 4"]
    (offer,) = _offers()
    assert offer[:3] == ("m-1", "mentoring", "Наставничество: Петрова Е. В.")
    assert offer[7] == 3 and offer[10] == 3 and offer[11] == "16001"
    assert import_table("mentoring", _csv(rows)).errors == found.errors and _offers() == [offer]


def test_methodical_events_are_one_day_by_default(app: Flask) -> None:
    rows = [["key", "title", "format", "place", "competencies", "starts_on", "seats"],
            ["ev-1", "Семинар по ФГОС", "очно", "ИМЦ", "PK-01", "15.01.2027", "40"],
            ["ev-1", "Семинар по ФГОС", "очно", "ИМЦ", "PK-01", "15.02.2027", "40"],
            ["ev-2", "Вебинар", "дистанционно", "", "PK-02", "", "100"],
            ["ev-3", "Круглый стол", "очно", "", "PK-02", "31.02.2027", "10"]]
    found = import_table("events", _csv(rows))
    assert [e.split(",")[1].strip() for e in found.errors] == ["row 4", "row 5"]
    (offer,) = _offers()
    assert offer[1] == "event" and offer[7] == 80
    assert offer[13] == (("2027-01-15", dt.date(2027, 1, 15), dt.date(2027, 1, 15), "ИМЦ", 40),
                         ("2027-02-15", dt.date(2027, 2, 15), dt.date(2027, 2, 15), "ИМЦ", 40))


def _teachers() -> None:
    db.session.add_all([
        Teacher(moodle_user_id=5, username="ivanova", email="Ivanova@school.ru",
                subjects="математика"),
        Teacher(moodle_user_id=6, username="petrov", email="petrov@school.ru")])
    db.session.commit()


def _unavailable() -> list[tuple]:
    db.session.expire_all()
    return sorted((u.teacher.moodle_user_id, u.starts_on, u.ends_on, u.reason)
                  for u in db.session.scalars(select(TeacherUnavailable)))


@pytest.mark.parametrize(("encoding", "sep"), [("utf-8", ";"), ("cp1251", ",")])
def test_availability_excludes_dates_and_may_set_subjects(
        app: Flask, encoding: str, sep: str) -> None:
    _teachers()
    rows = [["Педагог", "Недоступен с", "Недоступен по", "Причина", "Предметы"],
            ["5", "01.03.2027", "15.03.2027", "курсы в другом регионе", ""],
            ["ivanova@school.ru", "01.05.2027", "", "", ""],
            ["petrov", "", "", "", "физика; информатика"],
            ["nobody@school.ru", "01.03.2027", "02.03.2027", "", ""],
            ["6", "10.03.2027", "01.03.2027", "", ""],
            ["6", "", "", "", ""]]
    data = _csv(rows, encoding, sep)
    found = import_table("availability", data)
    assert [e.split(",")[1].strip() for e in found.errors] == ["row 5", "row 6", "row 7"]
    assert "unknown teacher" in found.errors[0]
    assert _unavailable() == [
        (5, dt.date(2027, 3, 1), dt.date(2027, 3, 15), "курсы в другом регионе"),
        (5, dt.date(2027, 5, 1), dt.date(2027, 5, 1), "")]
    teachers = {t.moodle_user_id: t for t in db.session.scalars(select(Teacher))}
    assert teachers[6].subject_list == ["физика", "информатика"]
    assert teachers[5].subject_list == ["математика"]  # Moodle's profile kept
    before = _unavailable()
    assert import_table("availability", data).errors == found.errors
    assert _unavailable() == before


def test_a_teacher_listed_again_keeps_only_the_ranges_the_file_gives(app: Flask) -> None:
    _teachers()
    import_table("availability", _csv([["teacher", "starts_on", "ends_on"],
                                       ["5", "2027-03-01", "2027-03-15"]]))
    import_table("availability", _csv([["teacher", "starts_on", "ends_on"],
                                       ["5", "2027-04-01", "2027-04-02"]]))
    assert _unavailable() == [(5, dt.date(2027, 4, 1), dt.date(2027, 4, 2), "")]


def test_the_cli_imports_each_kind_and_exits_1_on_refused_rows(
        app: Flask, runner: AppRunner, tmp_path: Path) -> None:
    _teachers()
    (tmp_path / "fr.csv").write_bytes(_csv(EXTERNAL, "cp1251", ","))
    result = runner.invoke(["import-catalogue", "--kind", "external_courses",
                            str(tmp_path / "fr.csv")])
    assert result.exit_code == 1 and '"offers": 2' in result.output
    (tmp_path / "away.csv").write_bytes(_csv([["teacher", "starts_on", "ends_on"],
                                              ["5", "2027-03-01", "2027-03-15"]]))
    result = runner.invoke(["import-availability", str(tmp_path / "away.csv")])
    assert result.exit_code == 0 and '"exclusions": 1' in result.output
    assert db.session.scalars(select(OfferSession)).all()
