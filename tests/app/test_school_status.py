"""The dated history of school statuses: written when flags change, read by the indicators."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from support import AppRunner

from app.extensions import db
from app.models import School, SchoolStatus
from app.registry.statuses import record_flags

D = dt.date
HEADER = ("Код ОО;Наименование ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл;"
          "Доля ниже минимального порога;Число участников")


def results_file(path: Path) -> Path:
    """ВПР of 10 schools over two years, school 40001 the lowest (UTF-8, `;`)."""
    lines = [HEADER] + [f"400{n:02d};МБОУ «СОШ № {n}»;{year};ВПР;Математика;5;"
                        f"{10 + n * 4},5;{max(0, 40 - n * 4)} %;{20 + n}"
                        for year in (2024, 2025) for n in range(1, 11)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def history(code: str, flag: str = "low_results") -> list[tuple[dt.date, dt.date | None]]:
    return [(r.valid_from, r.valid_to) for r in db.session.scalars(
        select(SchoolStatus).filter_by(school_code=code, flag=flag)
        .order_by(SchoolStatus.valid_from))]


def test_record_flags_opens_closes_and_ignores_repeats(app: Flask) -> None:
    assert record_flags("S", {"low_results": True}, on=D(2025, 9, 1)) == 1
    assert record_flags("S", {"low_results": True}, on=D(2025, 10, 1)) == 0  # unchanged
    assert record_flags("S", {"low_results": False}, on=D(2026, 6, 1)) == 1
    assert record_flags("S", {"low_results": True}, on=D(2026, 9, 1)) == 1
    assert history("S") == [(D(2025, 9, 1), D(2026, 5, 31)), (D(2026, 9, 1), None)]
    # Switched on and off the same day: it never held a whole day, nothing is kept.
    record_flags("T", {"adverse_context": True}, on=D(2026, 9, 1))
    record_flags("T", {"adverse_context": False}, on=D(2026, 9, 1))
    assert history("T", "adverse_context") == []


def test_record_flags_refuses_an_unknown_status(app: Flask) -> None:
    try:
        record_flags("S", {"resource": True})
    except ValueError as err:
        assert "unknown school status resource" in str(err)
    else:
        raise AssertionError("an unknown status was accepted")


def run(runner: AppRunner, *args: str) -> tuple[int, object]:
    result = runner.invoke(args)
    db.session.expire_all()
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_identification_applied_on_a_date_counts_from_that_date(runner: AppRunner,
                                                                 tmp_path: Path) -> None:
    run(runner, "import-results", str(results_file(tmp_path / "vpr.csv")))
    code, found = run(runner, "identify-schools", "--apply", "--on", "2026-10-01")
    assert code == 0
    low = sorted(r["school_code"] for r in found if r["low_results"])
    assert low and history(low[0]) == [(D(2026, 10, 1), None)]
    assert {s.code for s in db.session.scalars(select(School).where(School.low_results))} \
        == set(low)
    total = db.session.query(School).count()

    def share(start: str, end: str) -> tuple[int, int]:
        _, out = run(runner, "indicators", "--from", start, "--to", end)
        region = out["areas"][0] if "areas" in out else out
        found = {i["code"]: i for i in region["indicators"]}["schools_low_results"]
        return found["numerator"], found["denominator"]

    assert share("2026-09-01", "2026-09-30") == (0, total)  # not yet identified
    assert share("2026-09-01", "2026-10-01") == (len(low), total)
    # Applying the same identification again changes no history.
    run(runner, "identify-schools", "--apply", "--on", "2026-11-01")
    assert history(low[0]) == [(D(2026, 10, 1), None)]


def test_a_bad_date_is_refused(runner: AppRunner) -> None:
    result = runner.invoke(["identify-schools", "--apply", "--on", "01.10.2026"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    assert db.session.query(SchoolStatus).count() == 0
