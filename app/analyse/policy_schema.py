"""The one schema of a scoring policy document: the thresholds file and every revision.

A document has ``default`` thresholds, partial overrides per framework and per competency
group (``frameworks``, ``groups``: the keys they leave out come from ``default``; ``label``
names them), ``competency_groups`` (competency idnumber → group), ``attempt_policy`` and the
optional risk-group rule ``risk`` and ``matching``, the route planner's weights and limits
(``courses.plan_model.Policy``; a weight left out keeps its documented default). A refusal
is a ``PolicyError`` naming the field by its path (``groups.subject.deficit_below``) with the
reason in Russian.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from app.settings import SettingsError
from courses.plan_model import Policy
from deficits.policy import ATTEMPT_POLICIES

KEYS = ("deficit_below", "risk_below", "min_questions")
SECTIONS = ("frameworks", "groups")
TOML_SECTIONS = (*SECTIONS, "competency_groups", "matching")
TOP_KEYS = ("default", *TOML_SECTIONS, "attempt_policy", "risk")
RISK_KEYS = ("min_groups", "groups")
FIELD_RU = {"deficit_below": "порог дефицита", "risk_below": "порог риска",
            "min_questions": "минимум вопросов", "label": "название"}
TABLE_RU = "ожидается таблица (раздел) значений"
MIN_GROUPS_RU = "число групп с дефицитами — целое число, указано {}"


class PolicyError(SettingsError):
    """Raised when a scoring policy is refused; ``field`` names the offending field."""

    for_admins = False  # the methodologist's own policy: they read why it was refused

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


def _unknown(word: str, allowed: tuple[str, ...]) -> dict[str, str]:
    return {"unknown": f"неизвестный {word}; допустимы " + ", ".join(allowed)}


class Threshold(fields.Field):
    """A share or a count: an integer or a float (not a bool, not text), loaded as float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            # Bound to a schema field, so named (an unbound field fails on the lookup).
            raise ValidationError(f"{FIELD_RU[cast(str, self.name)]}: {value!r} — не число")
        return float(value)


class Label(fields.Field):
    """The methodologist's name of an override, as text without outer spaces."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(value).strip()


class OverrideKey(fields.Field):
    """A framework idnumber or a group name: not blank."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not str(value).strip():
            raise ValidationError("пустой ключ; укажите idnumber рамки или имя группы")
        return str(value)


class GroupName(fields.Field):
    """A competency's group in ``competency_groups``: a non-blank string, stripped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("укажите имя группы строкой, например \"subject\"")
        return value.strip()


class MinGroups(fields.Field):
    """The risk rule's N: an integer (2.0 is 2) of at least 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(MIN_GROUPS_RU.format(repr(value)))
        if value < 1:
            raise ValidationError(f"число групп с дефицитами — не меньше 1 (при 0 в группу "
                                  f"риска попали бы все педагоги), указано {value}")
        return value


class GroupList(fields.Field):
    """The risk rule's named groups: a list of strings, stripped, blanks and repeats dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> list[str]:
        if not isinstance(value, list | tuple) or not all(isinstance(g, str) for g in value):
            raise ValidationError("укажите список имён групп, например [\"subject\"]")
        return list(dict.fromkeys(g.strip() for g in value if g.strip()))


class _Table(Schema):
    error_messages = {"type": TABLE_RU}  # merged with each subclass's


class DefaultSchema(_Table):
    """``default``: all three thresholds."""

    error_messages = _unknown("ключ", tuple(sorted(KEYS)))
    deficit_below = Threshold(required=True, error_messages={"required": "не задан"})
    risk_below = Threshold(required=True, error_messages={"required": "не задан"})
    min_questions = Threshold(required=True, error_messages={"required": "не задан"})


class OverrideSchema(_Table):
    """``frameworks.<idnumber>`` or ``groups.<group>``: some thresholds and a label."""

    error_messages = _unknown("ключ", tuple(sorted((*KEYS, "label"))))
    label = Label()
    deficit_below = Threshold()
    risk_below = Threshold()
    min_questions = Threshold()


# The planner's weights a policy may set (each ≥ 0), its integer limit and the hours cap.
MATCHING_WEIGHTS = ("deficit_weight", "risk_weight", "entry_weight", "final_weight",
                    "low_results_weight", "risk_group_weight", "gap_weight", "partner_bonus",
                    "municipality_bonus", "remote_bonus", "item_penalty", "keep_bonus")
MATCHING_KEYS = (*MATCHING_WEIGHTS, "max_items_per_competency", "hours_cap", "effect_weight",
                 "effect_min_pairs")


class Weight(fields.Field):
    """A planner weight or the hours cap: a number ≥ 0 (not a bool, not text)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValidationError(f"{value!r} — ожидается число не меньше 0")
        return float(value)


class UnitShare(fields.Field):
    """A weight between 0 and 1 (not a bool, not text)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0 <= value <= 1:
            raise ValidationError(f"{value!r} — ожидается число от 0 до 1")
        return float(value)


class AtLeastOne(fields.Field):
    """A count: how many items may cover one deficit competency, how many pairs make
    evidence; an integer ≥ 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{value!r} — ожидается целое число не меньше 1")
        return value


class MatchingSchema(_Table):
    """``matching``: the planner's weights and limits (``courses.plan_model.Policy``)."""

    error_messages = _unknown("ключ", MATCHING_KEYS)
    deficit_weight, risk_weight = Weight(), Weight()
    entry_weight, final_weight = Weight(), Weight()
    low_results_weight, risk_group_weight, gap_weight = Weight(), Weight(), Weight()
    partner_bonus, municipality_bonus, remote_bonus = Weight(), Weight(), Weight()
    item_penalty, keep_bonus = Weight(), Weight()
    max_items_per_competency = AtLeastOne()
    hours_cap = Weight()
    effect_weight = UnitShare()
    effect_min_pairs = AtLeastOne()


MATCHING_RU = {
    "deficit_weight": "вес дефицита", "risk_weight": "вес уровня «риск»",
    "entry_weight": "вес входной диагностики", "final_weight": "вес итоговой диагностики",
    "low_results_weight": "надбавка: школа с низкими результатами",
    "risk_group_weight": "надбавка: педагог в группе риска",
    "gap_weight": "надбавка за каждую долю ниже порога",
    "partner_bonus": "бонус: ресурсный центр-партнёр", "municipality_bonus":
    "бонус: свой муниципалитет", "remote_bonus": "бонус: дистанционно",
    "item_penalty": "штраф за каждую позицию маршрута",
    "keep_bonus": "бонус за сохранение прежнего предложения",
    "max_items_per_competency": "позиций на одну компетенцию, не более",
    "hours_cap": "часов на педагога за полугодие, не более",
    "effect_weight": "вес эффективности предложения по итогам прошлого периода (0–1)",
    "effect_min_pairs": "пар «вход → итог», с которых эффективность учитывается"}


def matching_overview(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The planner's weights and limits in force, each with whether the policy sets it."""
    policy, given = matching_policy(doc), dict(doc.get("matching") or {})
    return [{"key": name, "ru": MATCHING_RU[name], "value": getattr(policy, name),
             "set": name in given} for name in MATCHING_KEYS]


def matching_policy(doc: Mapping[str, Any], **fixed: Any) -> Policy:
    """The planner's policy of a document: its ``matching`` over the documented defaults
    (``fixed``: what the settings decide, e.g. ``include_risk``)."""
    return Policy(**{**dict(doc.get("matching") or {}), **fixed})


class RiskSchema(_Table):
    """``risk``: deficits in at least ``min_groups`` groups, or one in any of ``groups``."""

    error_messages = _unknown("ключ", RISK_KEYS)
    min_groups = MinGroups(required=True, error_messages={
        "required": MIN_GROUPS_RU.format("ничего"), "null": MIN_GROUPS_RU.format("ничего")})
    groups = GroupList(load_default=list)


def _overrides() -> fields.Dict:
    return fields.Dict(keys=OverrideKey(), values=fields.Nested(OverrideSchema),
                       load_default=dict, error_messages={"invalid": TABLE_RU})


class PolicySchema(_Table):
    """The whole document; thresholds are checked after each field has its type."""

    error_messages = _unknown("раздел", TOP_KEYS)
    default = fields.Nested(DefaultSchema, required=True)
    frameworks = _overrides()
    groups = _overrides()
    competency_groups = fields.Dict(keys=fields.Raw(), values=GroupName(), load_default=dict,
                                    error_messages={"invalid": TABLE_RU})
    attempt_policy = fields.Raw(load_default="quiz", validate=validate.OneOf(
        ATTEMPT_POLICIES, error="{input!r} — неизвестное правило попыток; допустимы "
                                + ", ".join(ATTEMPT_POLICIES)))
    risk = fields.Nested(RiskSchema)
    matching = fields.Nested(MatchingSchema)

    @pre_load
    def _absent_is_empty(self, data: Any, **kwargs: Any) -> Any:
        """A section set to nothing is left out; ``default`` is then checked key by key."""
        if not isinstance(data, Mapping):
            return data
        found = {str(k): v for k, v in data.items() if v is not None}
        found.setdefault("default", {})
        if "competency_groups" in found:
            found["competency_groups"] = _str_keys(found["competency_groups"])
        return found

    @validates_schema
    def _thresholds_in_order(self, data: dict[str, Any], **kwargs: Any) -> None:
        """The default, and each override filled from it, are consistent thresholds."""
        default = data["default"]
        _check(("default",), default)
        for section in SECTIONS:
            for key, values in data[section].items():
                _check((section, key), {k: values.get(k, default[k]) for k in KEYS})


POLICY_SCHEMA = PolicySchema()


def validate_document(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document checked by the schema, in a plain form.

    Overrides may name only some thresholds: the others come from ``default``. ``risk``
    (the risk-group rule) is optional: a document without it leaves the rule to the settings.

    :raise PolicyError: unknown key, a value that is not a number, a share outside 0..1,
        the deficit threshold above the risk one, negative minimum, unknown attempt policy,
        a risk rule that is not ``{min_groups: integer ≥ 1, groups: [names]}``.
    """
    try:
        return dict(POLICY_SCHEMA.load(raw))
    except ValidationError as err:
        field, reason = first_error(err.messages)
        raise PolicyError(field, reason) from None


def first_error(messages: Any, path: tuple[str, ...] = ()) -> tuple[str, str]:
    """The first refusal in marshmallow's nested messages: its dotted path and its text.

    A ``Dict`` field nests each entry's errors under ``key`` (the key is refused: the
    section is named) or ``value``; a nested schema's own errors are under ``_schema``.
    """
    if isinstance(messages, list):
        first = messages[0] if messages else ""
        if isinstance(first, dict | list):
            return first_error(first, path)
        return ".".join(path), str(first)
    key, value = next(iter(messages.items()))
    if key == "_schema":
        return first_error(value, path)
    if len(path) == 1 and path[0] in TOML_SECTIONS and isinstance(value, dict) \
            and value and set(value) <= {"key", "value"}:
        if "key" in value:
            return first_error(value["key"], path)
        value = value["value"]
    return first_error(value, (*path, str(key)))


def _check(where: tuple[str, ...], values: Mapping[str, float]) -> None:
    """0 ≤ deficit_below ≤ risk_below ≤ 1 and min_questions ≥ 0, named in Russian."""
    for key in ("deficit_below", "risk_below"):
        if not 0.0 <= values[key] <= 1.0:
            _refuse((*where, key), f"{FIELD_RU[key]} — доля от 0 до 1 (0,5 = 50 %), "
                                   f"указано {_ru(values[key])}")
    if values["deficit_below"] > values["risk_below"]:
        _refuse((*where, "deficit_below"),
                f"порог дефицита ({_ru(values['deficit_below'] * 100)} %) выше порога риска "
                f"({_ru(values['risk_below'] * 100)} %)")
    if not values["min_questions"] >= 0.0:
        _refuse((*where, "min_questions"), "минимум вопросов не может быть меньше 0, "
                                           f"указано {_ru(values['min_questions'])}")


def _refuse(path: tuple[str, ...], reason: str) -> None:
    messages: Any = [reason]
    for part in reversed(path):
        messages = {part: messages}
    raise ValidationError(messages)


def _str_keys(value: Any) -> Any:
    """``competency_groups`` with its keys as text (a TOML or JSON key may be a number)."""
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else value


def _ru(value: float) -> str:
    return f"{round(value, 6):g}".replace(".", ",")
