"""A quiz without grade items: per-slot marks with a slot → competency table, or reported."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from support import AppRunner, app_for

from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Competency, Deficit, Teacher
from app.settings import Settings


def slot_table(path: Path) -> Path:
    rows = ["slot;competency"] + [f"{slot};PK-0{(slot - 1) // 4 + 1}" for slot in range(1, 25)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def levels_after_sync(settings: Settings) -> tuple[dict[tuple[int, str], tuple[str, float]], str]:
    with app_for(settings) as app:
        runner = AppRunner(app)
        synced = runner.invoke(["sync"], catch_exceptions=False)
        assert synced.exit_code == 0, synced.output
        scored = runner.invoke(["deficits"], catch_exceptions=False)
        assert scored.exit_code == 0, scored.output
        rows = db.session.execute(
            select(Teacher.moodle_user_id, Competency.idnumber, Deficit.level, Deficit.score)
            .join(Teacher, Teacher.id == Deficit.teacher_id)
            .join(Competency, Competency.id == Deficit.competency_id)).all()
    return {(u, c): (lvl, round(s or 0, 6)) for u, c, lvl, s in rows}, synced.output


@pytest.fixture(scope="module")
def item_levels(tmp_path_factory: pytest.TempPathFactory) -> dict:
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        db_url = f"sqlite:///{tmp_path_factory.mktemp('items') / 'p.db'}"
        levels, _ = levels_after_sync(Settings(database_url=db_url, moodle_url=url,
                                               moodle_token=token))
    return levels


@pytest.fixture
def slot_moodle() -> Iterator[tuple[str, str]]:
    """A Moodle whose quiz has no grade items and no ProfRoute plugin (e.g. Moodle 4.1)."""
    token = secrets.token_hex(16)
    with running_sandbox(token, grade_items=False, plugin=False) as url:
        yield url, token


def test_with_the_plugin_slots_map_through_their_questions(
        database_url: str, tmp_path: Path, item_levels: dict) -> None:
    token = secrets.token_hex(16)
    with running_sandbox(token, grade_items=False) as url:
        levels, output = levels_after_sync(Settings(database_url=database_url,
                                                    moodle_url=url, moodle_token=token))
    assert levels == item_levels
    assert '"unmapped": []' in output


def test_per_slot_marks_with_a_table_score_like_grade_items(
        database_url: str, slot_moodle: tuple[str, str], tmp_path: Path,
        item_levels: dict) -> None:
    url, token = slot_moodle
    settings = Settings(database_url=database_url, moodle_url=url, moodle_token=token,
                        slot_map=str(slot_table(tmp_path / "slots.csv")))
    levels, _ = levels_after_sync(settings)
    assert len(levels) > 900
    assert levels == item_levels


def test_slots_without_a_table_are_reported_never_scored(
        database_url: str, slot_moodle: tuple[str, str]) -> None:
    url, token = slot_moodle
    levels, output = levels_after_sync(Settings(database_url=database_url, moodle_url=url,
                                                moodle_token=token))
    assert levels == {}
    assert '"slot 1"' in output and '"slot 24"' in output


def test_conflicting_or_unknown_rows_of_the_table_are_reported(
        database_url: str, slot_moodle: tuple[str, str], tmp_path: Path) -> None:
    url, token = slot_moodle
    table = tmp_path / "slots.csv"
    table.write_text("slot;competency\n1;PK-01\n1;PK-02\n2;PK-99\n3;PK-01\n", encoding="utf-8")
    levels, output = levels_after_sync(Settings(database_url=database_url, moodle_url=url,
                                                moodle_token=token, slot_map=str(table)))
    assert "slot 1 is mapped to PK-01 on row 2 and to PK-02 here" in output
    assert "slot 2 names PK-99" in output
    assert {c for _, c in levels} <= {"PK-01"}
    assert all(lvl == "insufficient" for lvl, _ in levels.values())  # 1 of 4 questions < 2
