"""The one schema of a scoring policy document: the thresholds file and every revision.

A document has ``default`` thresholds, partial overrides per framework and per competency
group (``frameworks``, ``groups``: the keys they leave out come from ``default``; ``label``
names them), ``competency_groups`` (competency idnumber → group), ``attempt_policy`` and the
optional risk-group rule ``risk`` and ``matching``, the route planner's weights and limits
(``courses.plan_model.Policy``; a weight left out keeps its documented default). A refusal
is a ``PolicyError`` naming the field by its path (``groups.subject.deficit_below``) with the
reason in Russian — in the reader's language when it is refused during a request (Flask-Babel's
``gettext``; the CLI and the thresholds file's checks outside a request stay Russian).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, pre_load, validates_schema

from app.i18n import N_
from app.settings import SettingsError
from courses.plan_model import Policy
from deficits.policy import ATTEMPT_POLICIES

KEYS = ("deficit_below", "risk_below", "min_questions")
SECTIONS = ("frameworks", "groups")
TOML_SECTIONS = (*SECTIONS, "competency_groups", "matching")
TOP_KEYS = ("default", *TOML_SECTIONS, "attempt_policy", "risk")
RISK_KEYS = ("min_groups", "groups")
FIELD_RU = {"deficit_below": N_("порог дефицита"), "risk_below": N_("порог риска"),
            "min_questions": N_("минимум вопросов"), "label": N_("название")}
TABLE_RU = N_("ожидается таблица (раздел) значений")
MIN_GROUPS_RU = N_("число групп с дефицитами — целое число, указано %(value)s")
NOT_SET_RU = N_("не задан")
# The refusals marshmallow gives as they were declared (``error_messages``): the Russian text
# → its msgid and values, translated when the refusal is raised (``validate_document``).
_DECLARED: dict[str, tuple[str, dict[str, str]]] = {}


def _declared(msgid: str, **values: str) -> str:
    """A declared refusal in Russian, kept to be translated when it is given."""
    text = msgid % values if values else msgid
    _DECLARED[text] = (msgid, values)
    return text


class PolicyError(SettingsError):
    """Raised when a scoring policy is refused; ``field`` names the offending field."""

    for_admins = False  # the methodologist's own policy: they read why it was refused

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


UNKNOWN_KEY_RU = N_("неизвестный ключ; допустимы %(allowed)s")
UNKNOWN_SECTION_RU = N_("неизвестный раздел; допустимы %(allowed)s")


def _unknown(msgid: str, allowed: tuple[str, ...]) -> dict[str, str]:
    return {"unknown": _declared(msgid, allowed=", ".join(allowed))}


def localised(reason: str) -> str:
    """A refusal in the reader's language: a declared one translated now, any other as it
    is (those made while checking are translated already)."""
    declared = _DECLARED.get(reason)
    if declared is None:
        return reason
    msgid, values = declared
    return _(msgid, **values) if values else _(msgid)


class Threshold(fields.Field):
    """A share or a count: an integer or a float (not a bool, not text), loaded as float."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            # Bound to a schema field, so named (an unbound field fails on the lookup).
            raise ValidationError(_("%(field)s: %(value)s — не число",
                                    field=_(FIELD_RU[cast(str, self.name)]), value=repr(value)))
        return float(value)


class Label(fields.Field):
    """The methodologist's name of an override, as text without outer spaces."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return str(value).strip()


class OverrideKey(fields.Field):
    """A framework idnumber or a group name: not blank."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not str(value).strip():
            raise ValidationError(_("пустой ключ; укажите idnumber рамки или имя группы"))
        return str(value)


class GroupName(fields.Field):
    """A competency's group in ``competency_groups``: a non-blank string, stripped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(_("укажите имя группы строкой, например \"subject\""))
        return value.strip()


class MinGroups(fields.Field):
    """The risk rule's N: an integer (2.0 is 2) of at least 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(_(MIN_GROUPS_RU, value=repr(value)))
        if value < 1:
            raise ValidationError(_("число групп с дефицитами — не меньше 1 (при 0 в группу "
                                    "риска попали бы все педагоги), указано %(value)s",
                                    value=value))
        return value


class GroupList(fields.Field):
    """The risk rule's named groups: a list of strings, stripped, blanks and repeats dropped."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any
                     ) -> list[str]:
        if not isinstance(value, list | tuple) or not all(isinstance(g, str) for g in value):
            raise ValidationError(_("укажите список имён групп, например [\"subject\"]"))
        return list(dict.fromkeys(g.strip() for g in value if g.strip()))


class _Table(Schema):
    error_messages = {"type": _declared(TABLE_RU)}  # merged with each subclass's


class DefaultSchema(_Table):
    """``default``: all three thresholds."""

    error_messages = _unknown(UNKNOWN_KEY_RU, tuple(sorted(KEYS)))
    deficit_below = Threshold(required=True, error_messages={"required": _declared(NOT_SET_RU)})
    risk_below = Threshold(required=True, error_messages={"required": _declared(NOT_SET_RU)})
    min_questions = Threshold(required=True,
                              error_messages={"required": _declared(NOT_SET_RU)})


class OverrideSchema(_Table):
    """``frameworks.<idnumber>`` or ``groups.<group>``: some thresholds and a label."""

    error_messages = _unknown(UNKNOWN_KEY_RU, tuple(sorted((*KEYS, "label"))))
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
            raise ValidationError(_("%(value)s — ожидается число не меньше 0", value=repr(value)))
        return float(value)


class UnitShare(fields.Field):
    """A weight between 0 and 1 (not a bool, not text)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0 <= value <= 1:
            raise ValidationError(_("%(value)s — ожидается число от 0 до 1", value=repr(value)))
        return float(value)


class AtLeastOne(fields.Field):
    """A count: how many items may cover one deficit competency, how many pairs make
    evidence; an integer ≥ 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(_("%(value)s — ожидается целое число не меньше 1",
                                    value=repr(value)))
        return value


class MatchingSchema(_Table):
    """``matching``: the planner's weights and limits (``courses.plan_model.Policy``)."""

    error_messages = _unknown(UNKNOWN_KEY_RU, MATCHING_KEYS)
    deficit_weight, risk_weight = Weight(), Weight()
    entry_weight, final_weight = Weight(), Weight()
    low_results_weight, risk_group_weight, gap_weight = Weight(), Weight(), Weight()
    partner_bonus, municipality_bonus, remote_bonus = Weight(), Weight(), Weight()
    item_penalty, keep_bonus = Weight(), Weight()
    max_items_per_competency = AtLeastOne()
    hours_cap = Weight()
    effect_weight = UnitShare()
    effect_min_pairs = AtLeastOne()


# Russian (the API's ``ru``); pages translate them where they show them.
MATCHING_RU = {
    "deficit_weight": N_("вес дефицита"), "risk_weight": N_("вес уровня «риск»"),
    "entry_weight": N_("вес входной диагностики"),
    "final_weight": N_("вес итоговой диагностики"),
    "low_results_weight": N_("надбавка: школа с низкими результатами"),
    "risk_group_weight": N_("надбавка: педагог в группе риска"),
    "gap_weight": N_("надбавка за каждую долю ниже порога"),
    "partner_bonus": N_("бонус: ресурсный центр-партнёр"), "municipality_bonus":
    N_("бонус: свой муниципалитет"), "remote_bonus": N_("бонус: дистанционно"),
    "item_penalty": N_("штраф за каждую позицию маршрута"),
    "keep_bonus": N_("бонус за сохранение прежнего предложения"),
    "max_items_per_competency": N_("позиций на одну компетенцию, не более"),
    "hours_cap": N_("часов на педагога за полугодие, не более"),
    "effect_weight": N_("вес эффективности предложения по итогам прошлого периода (0–1)"),
    "effect_min_pairs": N_("пар «вход → итог», с которых эффективность учитывается")}


def matching_overview(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The planner's weights and limits in force, each with whether the policy sets it."""
    policy, given = matching_policy(doc), dict(doc.get("matching") or {})
    return [{"key": name, "ru": MATCHING_RU[name], "value": getattr(policy, name),
             "set": name in given} for name in MATCHING_KEYS]


def matching_policy(doc: Mapping[str, Any], **fixed: Any) -> Policy:
    """The planner's policy of a document: its ``matching`` over the documented defaults
    (``fixed``: what the settings decide, e.g. ``include_risk``)."""
    return Policy(**{**dict(doc.get("matching") or {}), **fixed})


MIN_GROUPS_NONE_RU = N_("число групп с дефицитами — целое число, указано ничего")


class RiskSchema(_Table):
    """``risk``: deficits in at least ``min_groups`` groups, or one in any of ``groups``."""

    error_messages = _unknown(UNKNOWN_KEY_RU, RISK_KEYS)
    min_groups = MinGroups(required=True, error_messages={
        "required": _declared(MIN_GROUPS_NONE_RU), "null": _declared(MIN_GROUPS_NONE_RU)})
    groups = GroupList(load_default=list)


def _overrides() -> fields.Dict:
    return fields.Dict(keys=OverrideKey(), values=fields.Nested(OverrideSchema),
                       load_default=dict, error_messages={"invalid": _declared(TABLE_RU)})


def _attempt_policy(value: Any) -> None:
    """One of ``deficits.policy.ATTEMPT_POLICIES``."""
    if value not in ATTEMPT_POLICIES:
        raise ValidationError(_("%(value)s — неизвестное правило попыток; допустимы %(allowed)s",
                                value=repr(value), allowed=", ".join(ATTEMPT_POLICIES)))


class PolicySchema(_Table):
    """The whole document; thresholds are checked after each field has its type."""

    error_messages = _unknown(UNKNOWN_SECTION_RU, TOP_KEYS)
    default = fields.Nested(DefaultSchema, required=True)
    frameworks = _overrides()
    groups = _overrides()
    competency_groups = fields.Dict(keys=fields.Raw(), values=GroupName(), load_default=dict,
                                    error_messages={"invalid": _declared(TABLE_RU)})
    attempt_policy = fields.Raw(load_default="quiz", validate=_attempt_policy)
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
        raise PolicyError(field, localised(reason)) from None


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
            _refuse((*where, key), _("%(field)s — доля от 0 до 1 (0,5 = 50 %%), указано "
                                     "%(value)s", field=_(FIELD_RU[key]),
                                     value=_ru(values[key])))
    if values["deficit_below"] > values["risk_below"]:
        _refuse((*where, "deficit_below"),
                _("порог дефицита (%(deficit)s %%) выше порога риска (%(risk)s %%)",
                  deficit=_ru(values["deficit_below"] * 100),
                  risk=_ru(values["risk_below"] * 100)))
    if not values["min_questions"] >= 0.0:
        _refuse((*where, "min_questions"), _("минимум вопросов не может быть меньше 0, "
                                             "указано %(value)s",
                                             value=_ru(values["min_questions"])))


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
