"""Grade items and slots → competency marks; unmapped sources are reported, never scored."""

from __future__ import annotations

import pytest

from deficits.mapping import competency_of_item, marks_from_attempt, merge_unmapped
from deficits.records import ItemMark, Mark, QuizAttempt, SlotMark, UnmappedSource

KNOWN = ("PK-01", "PK-02", "PK-03")


def attempt(**changes: object) -> QuizAttempt:
    """A finished attempt of user 7 on quiz 3 (attempt 100, no 1, sumgrades 5)."""
    values: dict[str, object] = {
        "attempt_id": 100, "quiz_id": 3, "user_id": 7, "attempt_no": 1, "state": "finished",
        "time_start": 1000, "time_finish": 2000, "sumgrades": 5.0,
    }
    values.update(changes)
    return QuizAttempt(**values)  # type: ignore[arg-type]


def mark(competency: str, grade: float, maxgrade: float, questions: float) -> Mark:
    return Mark(user_id=7, competency=competency, attempt_id=100, attempt_no=1, sumgrades=5.0,
                grade=grade, maxgrade=maxgrade, questions=questions, time_finish=2000)


@pytest.mark.parametrize(
    ("name", "explicit", "expected"),
    [
        ("PK-01 Предметные знания", None, "PK-01"),
        ("pk-02 методические умения", None, "PK-02"),  # case-insensitive, canonical spelling
        ("  PK-03   Оценивание", None, "PK-03"),  # first whitespace token
        ("PK-01: Предметные знания", None, "PK-01"),  # trailing ':' tolerated
        ("PK-99 Неизвестная", None, None),  # unknown idnumber
        ("Предметные знания", None, None),  # no idnumber token
        ("PK-010 Похожая", None, None),  # prefix of a known idnumber is not a match
        ("", None, None),
        ("Предметные знания", {"Предметные знания": "PK-02"}, "PK-02"),  # explicit mapping
        ("PK-01 Предметные знания", {"PK-01 Предметные знания": "pk-03"}, "PK-03"),  # wins
        ("Блок А", {"Блок А": "PK-77"}, None),  # explicit target must be a known competency
        ("PK-01 Предметные знания", {"Другое": "PK-02"}, "PK-01"),  # not in the table: token
    ],
)
def test_competency_of_item(name: str, explicit: dict[str, str] | None, expected: str | None):
    assert competency_of_item(name, KNOWN, explicit) == expected


@pytest.mark.parametrize(
    "changes",
    [
        # In progress: Moodle sends sumgrades null and 0 for every grade item.
        {"state": "inprogress", "sumgrades": None, "item_marks": (ItemMark("PK-01 X", 0, 2),)},
        {"state": "finished", "sumgrades": None, "item_marks": (ItemMark("PK-01 X", 0, 2),)},
        {"state": "abandoned", "sumgrades": 1.0, "item_marks": (ItemMark("PK-01 X", 0, 2),)},
    ],
)
def test_non_scorable_attempt_gives_nothing(changes: dict[str, object]):
    assert marks_from_attempt(attempt(**changes), known=KNOWN, item_map=None,
                              slot_map={1: "PK-01"}) == ([], [])


def test_item_marks_map_by_name_and_report_unmapped():
    items = (
        ItemMark("PK-01 Предметные знания", 1.0, 2.0),
        ItemMark("pk-02 Методика", 2.0, 2.0),
        ItemMark("Общий блок", 1.0, 1.0),  # maps to nothing: reported, its 1 mark is not scored
        ItemMark("PK-03 часть 1", 0.5, 1.0),  # two items of PK-03 sum up:
        ItemMark("PK-03 часть 2", 1.0, 2.0),  # grade 0.5 + 1 = 1.5, maxgrade 1 + 2 = 3
    )
    marks, unmapped = marks_from_attempt(attempt(item_marks=items), known=KNOWN,
                                         item_map=None, slot_map=None)
    # questions = the items' maximum in marks (ARCHITECTURE section 8).
    assert marks == [mark("PK-01", 1.0, 2.0, 2.0), mark("PK-02", 2.0, 2.0, 2.0),
                     mark("PK-03", 1.5, 3.0, 3.0)]
    assert unmapped == [UnmappedSource(quiz_id=3, kind="grade_item", key="Общий блок",
                                       users=(7,))]


def test_explicit_item_map_applies_to_attempt():
    items = (ItemMark("Блок А", 1.0, 2.0),)
    marks, unmapped = marks_from_attempt(attempt(item_marks=items), known=KNOWN,
                                         item_map={"Блок А": "PK-02"}, slot_map=None)
    assert (marks, unmapped) == ([mark("PK-02", 1.0, 2.0, 2.0)], [])


def test_item_marks_preferred_over_slots():
    marks, _ = marks_from_attempt(
        attempt(item_marks=(ItemMark("PK-01 A", 2.0, 2.0),),
                slot_marks=(SlotMark(1, 0.0, 1.0), SlotMark(2, 0.0, 1.0))),
        known=KNOWN, item_map=None, slot_map={1: "PK-02", 2: "PK-02"},
    )
    assert marks == [mark("PK-01", 2.0, 2.0, 2.0)]


def test_slots_fallback_skips_ungraded_slots_and_reports_unmapped():
    slots = (
        SlotMark(1, 1.0, 1.0),
        SlotMark(2, None, 1.0, "essay"),  # not graded yet: not evidence (neither mark nor max)
        SlotMark(3, 0.5, 1.0),
        SlotMark(4, 1.0, 1.0),
        SlotMark(5, 1.0, 1.0),  # in no map: reported, not folded into PK-01 or PK-02
        SlotMark(6, None, 2.0, "essay"),  # PK-03 only has an ungraded slot
    )
    slot_map = {1: "PK-01", 2: "PK-01", 3: "pk-02", 4: "PK-02", 6: "PK-03"}
    marks, unmapped = marks_from_attempt(attempt(slot_marks=slots), known=KNOWN,
                                         item_map=None, slot_map=slot_map)
    # PK-01: slot 1 only → 1/1, 1 question; PK-02: 0.5 + 1 = 1.5 of 2, 2 questions;
    # PK-03: no graded slot → 0/0 with 0 questions (scored later as insufficient).
    assert marks == [mark("PK-01", 1.0, 1.0, 1.0), mark("PK-02", 1.5, 2.0, 2.0),
                     mark("PK-03", 0.0, 0.0, 0.0)]
    assert unmapped == [UnmappedSource(3, "slot", "5", (7,))]


def test_slots_without_map_are_all_unmapped():
    slots = (SlotMark(1, 1.0, 1.0), SlotMark(2, 0.0, 1.0))
    marks, unmapped = marks_from_attempt(attempt(slot_marks=slots), known=KNOWN,
                                         item_map=None, slot_map=None)
    assert marks == []
    assert [u.key for u in unmapped] == ["1", "2"]


def test_slot_mapped_to_unknown_competency_is_unmapped():
    marks, unmapped = marks_from_attempt(attempt(slot_marks=(SlotMark(1, 1.0, 1.0),)),
                                         known=KNOWN, item_map=None, slot_map={1: "XX-1"})
    assert (marks, [u.key for u in unmapped]) == ([], ["1"])


def test_merge_unmapped_joins_users_per_source():
    merged = merge_unmapped([
        UnmappedSource(3, "slot", "5", (8,)),
        UnmappedSource(3, "slot", "5", (7,)),
        UnmappedSource(3, "grade_item", "Общий", (7,)),
        UnmappedSource(3, "slot", "5", (7,)),
    ])
    assert merged == [UnmappedSource(3, "grade_item", "Общий", (7,)),
                      UnmappedSource(3, "slot", "5", (7, 8))]
