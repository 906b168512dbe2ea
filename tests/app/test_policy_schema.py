"""The one policy schema: what a revision or a thresholds file may hold, and TOML both ways."""

from __future__ import annotations

import pytest

from app.analyse.policy_schema import PolicyError, matching_policy, validate_document
from app.analyse.policy_toml import line_of, overrides_from_toml, overrides_to_toml
from courses.plan_model import Policy

DEFAULT = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2}


@pytest.mark.parametrize(("document", "field", "reason"), [
    ({}, "default.deficit_below", "не задан"),
    ({"default": DEFAULT | {"risk_below": True}}, "default.risk_below",
     "порог риска: True — не число"),
    ({"default": DEFAULT | {"deficit_below": "0.5"}}, "default.deficit_below",
     "порог дефицита: '0.5' — не число"),
    ({"default": DEFAULT | {"min_questions": -1}}, "default.min_questions",
     "минимум вопросов не может быть меньше 0, указано -1"),
    ({"default": DEFAULT, "policy": 1}, "policy", "неизвестный раздел; допустимы default, "),
    ({"default": DEFAULT, "groups": []}, "groups", "ожидается таблица (раздел) значений"),
    ({"default": DEFAULT, "groups": {" ": {}}}, "groups", "пустой ключ"),
    ({"default": DEFAULT, "groups": {"value": 0.4}}, "groups.value",
     "ожидается таблица (раздел) значений"),
    ({"default": DEFAULT, "frameworks": {"PKU-2026": {"risk_below": 0.4}}},
     "frameworks.PKU-2026.deficit_below", "порог дефицита (50 %) выше порога риска (40 %)"),
    ({"default": DEFAULT, "competency_groups": {"PK-01": " "}}, "competency_groups.PK-01",
     "укажите имя группы строкой"),
    ({"default": DEFAULT, "attempt_policy": 5}, "attempt_policy",
     "5 — неизвестное правило попыток; допустимы "),
    ({"default": DEFAULT, "risk": "subject"}, "risk", "ожидается таблица (раздел) значений"),
    ({"default": DEFAULT, "risk": {"min_groups": 1.5}}, "risk.min_groups",
     "целое число, указано 1.5"),
    ({"default": DEFAULT, "risk": {"min_groups": 1, "group": []}}, "risk.group",
     "неизвестный ключ; допустимы min_groups, groups"),
    ({"default": DEFAULT, "matching": {"partner_bonus": -0.1}}, "matching.partner_bonus",
     "-0.1 — ожидается число не меньше 0"),
    ({"default": DEFAULT, "matching": {"gap_weight": "1"}}, "matching.gap_weight",
     "'1' — ожидается число не меньше 0"),
    ({"default": DEFAULT, "matching": {"max_items_per_competency": 1.5}},
     "matching.max_items_per_competency", "1.5 — ожидается целое число не меньше 1"),
    ({"default": DEFAULT, "matching": {"effect_weight": 1.5}}, "matching.effect_weight",
     "1.5 — ожидается число от 0 до 1"),
    ({"default": DEFAULT, "matching": {"effect_min_pairs": 0}}, "matching.effect_min_pairs",
     "0 — ожидается целое число не меньше 1"),
    ({"default": DEFAULT, "matching": {"speed": 1}}, "matching.speed",
     "неизвестный ключ; допустимы deficit_weight"),
])
def test_a_refusal_names_the_field_path_and_the_reason_in_russian(
        document: dict, field: str, reason: str) -> None:
    with pytest.raises(PolicyError) as refused:
        validate_document(document)
    assert refused.value.field == field and reason in refused.value.reason


def test_a_document_comes_out_plain_with_overrides_left_partial() -> None:
    assert validate_document({
        "default": DEFAULT, "frameworks": None, "competency_groups": {1: " subject "},
        "groups": {"subject": {"label": " Предметный блок ", "risk_below": 0.8}},
        "risk": {"min_groups": 2.0, "groups": [" subject", "subject", ""]}}) == {
        "default": {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0},
        "frameworks": {}, "groups": {"subject": {"label": "Предметный блок",
                                                 "risk_below": 0.8}},
        "competency_groups": {"1": "subject"}, "attempt_policy": "quiz",
        "risk": {"min_groups": 2, "groups": ["subject"]}}


def test_overrides_are_written_as_toml_that_reads_back_the_same() -> None:
    doc = validate_document({
        "default": DEFAULT,
        "frameworks": {"ПКУ 2026": {"deficit_below": 0.45}},
        "groups": {"subject": {"label": 'Блок "Предмет"', "risk_below": 0.75}},
        "competency_groups": {"PK-01": "subject", "PK.02": "method"}})
    text = overrides_to_toml(doc)
    assert text.startswith('[frameworks."ПКУ 2026"]\ndeficit_below = 0.45\n\n'
                           '[groups.subject]\nlabel = "Блок \\"Предмет\\""\n')
    back = validate_document({"default": DEFAULT, **overrides_from_toml(text)})
    assert back == doc
    assert overrides_to_toml({"default": DEFAULT}) == ""


def test_the_planners_weights_read_back_the_same_and_fill_in_the_defaults() -> None:
    doc = validate_document({"default": DEFAULT, "matching": {
        "partner_bonus": 0.2, "max_items_per_competency": 2, "hours_cap": 36,
        "effect_weight": 0.25, "effect_min_pairs": 20}})
    text = overrides_to_toml(doc)
    assert "[matching]" in text
    assert validate_document({"default": DEFAULT, **overrides_from_toml(text)}) == doc
    policy = matching_policy(doc, include_risk=False)
    assert (policy.partner_bonus, policy.max_items_per_competency, policy.hours_cap) == (
        0.2, 2, 36.0)
    assert (policy.effect_weight, policy.effect_min_pairs) == (0.25, 20)
    assert policy.remote_bonus == Policy().remote_bonus  # not set: the documented default
    assert matching_policy(validate_document({"default": DEFAULT})) == Policy()


@pytest.mark.parametrize(("field", "line"), [
    ("groups.subject.risk_below", 6), ("groups.subject.min_questions", 4),
    ("frameworks.PKU-2026", 2), ("competency_groups.PK-01", 9), ("attempt_policy", 1),
    ("default.deficit_below", None), ("risk.groups", None),
])
def test_line_of_points_at_the_field_or_its_table(field: str, line: int | None) -> None:
    text = ('attempt_policy = "best"\n[frameworks.PKU-2026]\ndeficit_below = 0.4\n'
            '[groups."subject"]\nlabel = "Предметный блок"\nrisk_below = 0.8\n\n'
            '[competency_groups]\nPK-01 = "subject"\n')
    assert line_of(text, field) == line
