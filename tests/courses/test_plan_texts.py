"""An item's and an unmet need's records hold all their texts need: rendered from the record
(as stored, through JSON) they read as the planner wrote them, in Russian or English."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from courses.plan_model import (
    LEVEL_RISK,
    PLACE_PARTNER,
    REASON_HOURS_CAP,
    REASON_NO_SEATS,
    STAGE_FINAL,
    Alternative,
    CoveredNeed,
    PlanItem,
    PlanNeed,
    PlanOffer,
    PlanSession,
)
from courses.plan_texts import (
    item_record,
    item_text,
    need_record,
    record_text,
    unmet_record_text,
    unmet_text,
)

OFFER = PlanOffer("int-1", "internship", "Стажировка в лицее", ("PK-01", "PK-02"))
SESSION = PlanSession("int-1", "int-1/весна", dt.date(2027, 3, 22), dt.date(2027, 3, 26),
                      seats=4, hours=24.0)
ITEM = PlanItem(
    teacher_id=7, offer_key="int-1", session_key="int-1/весна", competencies=("PK-01", "PK-02"),
    fixed=False, value=2.1, place=PLACE_PARTNER,
    covered=(CoveredNeed("PK-01", "deficit", 0.3, 0.5, "entry"),
             CoveredNeed("PK-02", LEVEL_RISK, 0.6, 0.7, STAGE_FINAL)),
    priority=("low_results_school", "risk_group"),
    better_blocked=(Alternative("int-2", "int-2/весна", 2.4, PLACE_PARTNER, REASON_NO_SEATS),),
    alternatives=())


def stored(record: dict[str, object]) -> dict[str, object]:
    """The record as a JSON column gives it back."""
    return dict(json.loads(json.dumps(record)))


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_an_item_record_renders_as_the_planner_wrote_it(lang: str) -> None:
    record = stored(item_record(ITEM, OFFER, SESSION))
    assert record_text(record, lang) == item_text(ITEM, OFFER, SESSION, lang)


def test_an_item_record_reads_in_both_languages() -> None:
    record = stored(item_record(ITEM, OFFER, SESSION, titles={"int-2": "Стажировка в гимназии"}))
    assert record_text(record) == (
        "«Стажировка в лицее» (22.03.2027–26.03.2027, 24 ч), в ресурсном центре-партнёре "
        "школы. Закрывает: PK-01: 30 % при пороге 50 % — дефицит (входная); PK-02: 60 % при "
        "пороге 70 % — риск (итоговая). Приоритет: школа с низкими результатами, группа риска."
        " Лучшие варианты недоступны: «Стажировка в гимназии» int-2/весна (мест нет).")
    assert record_text(record, "en") == (
        "“Стажировка в лицее” (22.03.2027–26.03.2027, 24 h), at the school's partner resource "
        "centre. Covers: PK-01: 30 % against 50 % — deficit (entry); PK-02: 60 % against 70 % "
        "— risk (final). Priority: low-results school, risk group. Better options unavailable: "
        "“Стажировка в гимназии” int-2/весна (full).")


def test_an_undated_session_reads_as_such() -> None:
    record = stored(item_record(ITEM, OFFER, SESSION, undated=True))
    assert "(без дат, 24 ч)" in record_text(record)
    assert "(no dates, 24 h)" in record_text(record, "en")


def test_a_broken_record_is_refused_not_half_rendered() -> None:
    record = stored(item_record(ITEM, OFFER, SESSION))
    del record["covered"]
    with pytest.raises(KeyError):
        record_text(record)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_an_unmet_need_record_renders_as_the_planner_wrote_it(lang: str) -> None:
    need = PlanNeed(7, "PK-03", score=0.2, threshold=0.5)
    record = stored(need_record(need))
    assert unmet_record_text("PK-03", REASON_HOURS_CAP, record, lang) == unmet_text(
        "PK-03", need, REASON_HOURS_CAP, lang)
    assert unmet_record_text("PK-03", REASON_HOURS_CAP, record, "en") == (
        "PK-03: 20 % against 50 % — deficit (entry): the teacher's hours cap for the half-year "
        "would be exceeded.")
