"""Indicators from the stored pipeline data, with numerators and denominators, and as XLSX."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
from sqlalchemy import func, select
from support import AppRunner, app_for, signed_in

from app.extensions import db
from app.models import Partnership, School, Teacher
from app.settings import Settings
from config import DEMO_DIR


def test_indicators_after_the_pipeline(database_url: str, moodle: tuple[str, str],
                                       tmp_path: Path) -> None:
    url, token = moodle
    settings = Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                        catalogue_dir=str(DEMO_DIR))
    with app_for(settings) as app:
        runner = AppRunner(app)
        for args in (["sync"], ["deficits"], ["recommend"], ["approve", "--all"], ["push"]):
            assert runner.invoke(args).exit_code == 0
        out = tmp_path / "indicators.xlsx"
        result = runner.invoke(["indicators", "--from", "2026-09-01", "--to", "2027-08-31",
                                "--xlsx", str(out)])
        assert result.exit_code == 0, result.output
        found = {i["code"]: i for i in json.loads(result.output)["indicators"]}
        client = signed_in(app)
        page = client.get("/indicators?from=2026-09-01&to=2027-08-31").get_data(as_text=True)
        assert "Доля школ, выявленных как ШНОР" in page and "Скачать XLSX" in page
        download = client.get("/indicators.xlsx?from=2026-09-01&to=2027-08-31")
        assert download.status_code == 200 and download.data == out.read_bytes()
        assert client.get("/indicators?from=26.11.2026").status_code == 400
        schools = db.session.scalar(select(func.count(School.id)))
        low = db.session.scalar(select(func.count(School.id)).where(School.low_results))
        links = db.session.scalar(select(func.count(Partnership.id)))
        low_teachers = db.session.scalar(select(func.count(Teacher.id)).join(School).where(
            School.low_results, Teacher.active))
    assert found["schools_analysed"]["denominator"] == schools
    assert 0 < found["schools_analysed"]["numerator"] <= schools
    assert (found["schools_low_results"]["numerator"], found["schools_low_results"][
        "denominator"]) == (low, schools)
    assert found["partnerships"]["numerator"] == links
    routed = found["low_results_teachers_routed"]
    assert routed["denominator"] == low_teachers and 0 < routed["numerator"] <= low_teachers
    sheet = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))["Показатели"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "schools_analysed" in cells and any("дефицит ниже 50" in str(c) for c in cells)
