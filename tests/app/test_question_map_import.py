"""A question → competency table uploaded by a methodologist maps a quiz without grade items."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from sqlalchemy import func, select
from support import AppRunner, app_for

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Deficit
from app.settings import Settings


def test_uploaded_slot_table_maps_and_conflicts_are_listed(database_url: str,
                                                           tmp_path: Path) -> None:
    table = tmp_path / "map.csv"
    rows = ["Слот;Компетенция"] + [f"{n};PK-0{(n - 1) // 4 + 1}" for n in range(1, 25)]
    table.write_bytes(("\n".join(rows) + "\n").encode("cp1251"))
    clash = tmp_path / "clash.csv"
    clash.write_text("slot;competency\n1;PK-01\n1;PK-02\n2;PK-99\n", encoding="utf-8")
    token = secrets.token_hex(16)
    with running_sandbox(token, grade_items=False, plugin=False) as url:
        settings = Settings(database_url=database_url, moodle_url=url, moodle_token=token)
        with app_for(settings) as app:
            runner = AppRunner(app)
            assert runner.invoke(["sync"]).exit_code == 0
            bad = runner.invoke(["import-question-map", str(clash)])
            assert bad.exit_code == 1
            report = json.loads(bad.output)
            assert report["conflicts"] and report["conflicts"][0].startswith("1:")
            assert report["errors"] and "row 4" in report["errors"][0]
            good = runner.invoke(["import-question-map", str(table)])
            assert good.exit_code == 0 and json.loads(good.output)["slots"] == 24
            assert runner.invoke(["sync", "--full"]).exit_code == 0
            assert runner.invoke(["deficits"]).exit_code == 0
            scored = db.session.scalar(select(func.count(Deficit.id)))
    assert scored > 900  # every teacher with a finished attempt, 6 competencies each
