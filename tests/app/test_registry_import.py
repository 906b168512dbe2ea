"""National assessment results: import (bad rows by row number, idempotent) and identification."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select
from support import AppRunner

from app.extensions import db
from app.models import School, SchoolIdentification, SchoolResult

HEADER = ("Код ОО;Наименование ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл;"
          "Доля ниже минимального порога;Число участников")


def results_file(path: Path) -> Path:
    lines = [HEADER]
    for year in (2024, 2025):
        for n in range(1, 11):  # school 30001 lowest, 30010 highest, both years
            lines.append(f"300{n:02d};МБОУ «СОШ № {n}»;{year};ВПР;Математика;5;"
                         f"{10 + n * 4},5;{max(0, 40 - n * 4)} %;{20 + n}")
    lines.append("30099;МБОУ «Ошибка»;20х4;ВПР;Математика;5;50;10 %;30")
    path.write_bytes(("\n".join(lines) + "\n").encode("cp1251"))
    return path


def run(runner: AppRunner, *args: str) -> tuple[int, object]:
    result = runner.invoke(args)
    db.session.expire_all()
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def test_results_import_and_identification(runner: AppRunner, tmp_path: Path) -> None:
    path = results_file(tmp_path / "vpr.csv")
    code, first = run(runner, "import-results", str(path))
    assert code == 1  # a bad row was refused
    assert first[0]["created"] == 20 and first[0]["errors"] == [
        f"vpr.csv, row 22, Год: '20х4' is not a year from 2001 to {dt.date.today().year}"]
    code, again = run(runner, "import-results", str(path))
    assert again[0]["created"] == 0 and again[0]["changed"] == 0
    assert db.session.scalar(select(func.count(SchoolResult.id))) == 20

    code, found = run(runner, "identify-schools", "--apply")
    assert code == 0
    flags = {f["school_code"]: f for f in found}
    assert flags["30001"]["low_results"] and "ШНОР" in flags["30001"]["reasons"]
    assert flags["30010"]["resource_centre_candidate"]
    assert not flags["30005"]["low_results"]
    school = db.session.scalars(select(School).filter_by(code="30001")).one()
    assert school.low_results is True and school.resource_centre is False
    assert db.session.get(SchoolIdentification, "30010").resource_centre_candidate


def test_cli_refuses_a_file_as_a_whole_with_exit_2_and_maps_columns_by_hand(
        runner: AppRunner, tmp_path: Path) -> None:
    koi8 = tmp_path / "koi8.csv"
    koi8.write_bytes(HEADER.encode("koi8-r") + "\n30001;Школа;2025;ВПР;Математика;5;3;10;20\n"
                     .encode("koi8-r"))
    code, out = run(runner, "import-results", str(koi8))
    assert code == 2 and out[0]["refused"] and "KOI8-R" in out[0]["errors"][0]
    worded = tmp_path / "worded.csv"
    worded.write_text("Код ОО;Год;Процедура;Предмет;Класс;Средний балл;Всего\n"
                      "30001;2025;ВПР;Математика;5;3,5;25\n", encoding="utf-8")
    result = runner.invoke(["import-results", str(worded)])
    assert result.exit_code == 0 and "«Всего»" in result.stderr
    assert "правило «ШНОР по порогу» не работает" in result.stderr
    assert db.session.scalars(select(SchoolResult)).one().participants is None
    code, out = run(runner, "import-results", "--map", "Всего=participants", str(worded))
    assert code == 0 and out[0]["changed"] == 1 and out[0]["columns"]["Всего"] == "participants"
    assert db.session.scalars(select(SchoolResult)).one().participants == 25
    bad = runner.invoke(["import-results", "--map", "Всего=pupils", str(worded)])
    assert bad.exit_code != 0 and "participants" in bad.output
