"""Catalogue import: bad rows refused with their row number, good rows kept, re-import idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import Offer, Partnership, School
from app.registry.catalogue import import_catalogue
from config import DEMO_DIR


def snapshot() -> tuple:
    schools = sorted((s.code, s.name, s.low_results, s.adverse_context, s.resource_centre)
                     for s in db.session.scalars(select(School)))
    links = sorted((p.resource_centre_id, p.school_id, p.agreement_no, p.starts_on)
                   for p in db.session.scalars(select(Partnership)))
    offers = sorted((o.key, o.kind, o.seats, o.moodle_course_shortname,
                     tuple(sorted(c.idnumber for c in o.competencies)))
                    for o in db.session.scalars(select(Offer)))
    return schools, links, offers


def test_reimporting_the_demo_catalogue_changes_nothing(app: Flask) -> None:
    first = import_catalogue(DEMO_DIR)
    assert first.errors == [] and first.schools >= 12
    before = snapshot()
    again = import_catalogue(DEMO_DIR)
    assert again.errors == [] and snapshot() == before


def test_the_demo_catalogues_subject_courses_carry_their_subject(app: Flask) -> None:
    import_catalogue(DEMO_DIR)
    subjects = {o.key: o.subjects for o in db.session.scalars(select(Offer))}
    assert subjects["pk-math"] == ["Математика"] and subjects["pk-russian"] == ["Русский язык"]
    assert subjects["pk-literacy"] == []  # any subject


def test_an_offers_subjects_column_is_written_only_when_the_file_has_it(
        app: Flask, tmp_path: Path) -> None:
    (tmp_path / "offers.csv").write_text(
        'Ключ;Вид;Название;Компетенции;Предметы\nk1;курс;Курс 1;PK-01;"Математика; Физика"\n',
        encoding="utf-8")
    assert import_catalogue(tmp_path).errors == []
    offer = db.session.scalars(select(Offer).filter_by(key="k1")).one()
    assert offer.subjects == ["Математика", "Физика"]
    (tmp_path / "offers.csv").write_text("key;kind;title;competencies\nk1;course;Курс 1;PK-01\n",
                                         encoding="utf-8")
    assert import_catalogue(tmp_path).errors == []
    db.session.expire_all()
    assert offer.subjects == ["Математика", "Физика"]  # a file without the column keeps them


@pytest.mark.parametrize(("encoding", "sep"), [("utf-8-sig", ";"), ("cp1251", ",")])
def test_bad_rows_are_refused_with_their_row_and_the_others_kept(
        app: Flask, tmp_path: Path, encoding: str, sep: str) -> None:
    rows = [["code", "name", "municipality", "low_results", "adverse_context", "resource_centre"],
            ["20001", "МБОУ «СОШ № 1»", "г. Казань", "1", "0", "0"],
            ["", "Без кода", "г. Казань", "0", "0", "0"],
            ["20003", "МБОУ «Лицей № 3»", "г. Казань", "может быть", "0", "1"],
            ["20004", "МБОУ «СОШ № 4»", "г. Казань", "0", "1", "0"]]
    text = "\n".join(sep.join(f'"{c}"' if sep in c else c for c in row) for row in rows) + "\n"
    (tmp_path / "schools.csv").write_bytes(text.encode(encoding))
    result = import_catalogue(tmp_path)
    codes = {s.code for s in db.session.scalars(select(School))}
    assert codes == {"20001", "20004"}
    assert [e.split(",")[1].strip() for e in result.errors] == ["row 3", "row 4"]
    again = import_catalogue(tmp_path)
    assert again.errors == result.errors and {s.code for s in db.session.scalars(
        select(School))} == codes


def test_a_file_without_optional_columns_keeps_what_is_stored(app: Flask, tmp_path: Path) -> None:
    import_catalogue(DEMO_DIR)
    before = snapshot()
    centre = db.session.scalars(select(School).filter_by(resource_centre=True)).first()
    # Russian headers, only the required columns: names may change, flags must not
    (tmp_path / "schools.csv").write_text(f"Код ОО;Наименование ОО;Примечание\n"
                                          f"{centre.code};{centre.name};новое\n",
                                          encoding="utf-8")
    result = import_catalogue(tmp_path)
    assert result.errors == [] and result.refused == []
    assert result.unread == {"schools.csv": ["Примечание"]}
    db.session.expire_all()
    assert snapshot() == before and centre.municipality is not None


def test_partnerships_with_unknown_schools_name_their_rows(app: Flask, tmp_path: Path) -> None:
    import_catalogue(DEMO_DIR)
    centre = db.session.scalars(select(School).filter_by(resource_centre=True)).first()
    (tmp_path / "partnerships.csv").write_text(
        f"Код РЦ;Код ОО\n{centre.code};99999\n{centre.code};школа 1\n", encoding="utf-8")
    result = import_catalogue(tmp_path)
    assert set(result.errors) == {
        "partnerships.csv, row 2, school_code: unknown school 99999; add it to the schools "
        "file first",
        "partnerships.csv, row 3, school_code: 'школа 1' is not a school code (expected "
        "[0-9A-Za-z][0-9A-Za-z._/-]{0,39})"}


def test_a_file_missing_a_required_column_is_refused_as_a_whole(app: Flask,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "schools.csv").write_text("code;municipality\n1;Казань\n", encoding="utf-8")
    result = import_catalogue(tmp_path)
    assert result.refused == ["schools.csv"] and db.session.scalars(select(School)).all() == []
