"""A question → competency table uploaded by a methodologist maps a quiz without grade items."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from app import create_app
from app.cli import main, prepare_schema
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
        app = create_app(Settings(database_url=database_url, moodle_url=url,
                                  moodle_token=token), {"TESTING": True})
        runner = CliRunner()
        with app.app_context():
            prepare_schema()
            assert runner.invoke(main, ["sync"], obj=app).exit_code == 0
            bad = runner.invoke(main, ["import-question-map", str(clash)], obj=app)
            assert bad.exit_code == 1
            report = json.loads(bad.output)
            assert report["conflicts"] and report["conflicts"][0].startswith("1:")
            assert report["errors"] and "row 4" in report["errors"][0]
            good = runner.invoke(main, ["import-question-map", str(table)], obj=app)
            assert good.exit_code == 0 and json.loads(good.output)["slots"] == 24
            assert runner.invoke(main, ["sync", "--full"], obj=app).exit_code == 0
            assert runner.invoke(main, ["deficits"], obj=app).exit_code == 0
            scored = db.session.scalar(select(func.count(Deficit.id)))
            db.session.remove()
            db.engine.dispose()
    assert scored > 900  # every teacher with a finished attempt, 6 competencies each
