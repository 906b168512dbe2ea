"""Scoring policy revisions: validation (the thresholds file's rules) and storage.

The overrides' TOML text is in ``app.analyse.policy_toml``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import has_app_context
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.extensions import db
from app.models import Competency, PolicyRevision
from app.settings import SettingsError
from deficits.policy import ATTEMPT_POLICIES, ThresholdPolicy
from deficits.records import Thresholds

logger = logging.getLogger(__name__)

KEYS = ("deficit_below", "risk_below", "min_questions")
SECTIONS = ("frameworks", "groups")
TOML_SECTIONS = (*SECTIONS, "competency_groups")
TOP_KEYS = ("default", *TOML_SECTIONS, "attempt_policy", "risk")
RISK_KEYS = ("min_groups", "groups")
FIELD_RU = {"deficit_below": "порог дефицита", "risk_below": "порог риска",
            "min_questions": "минимум вопросов", "label": "название"}


class PolicyError(SettingsError):
    """Raised when a scoring policy is refused; ``field`` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.reason = message


def validate_document(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document checked by the rules of the thresholds file, in a plain form.

    Overrides may name only some thresholds: the others come from ``default``. ``risk``
    (the risk-group rule) is optional: a document without it leaves the rule to the settings.

    :raise PolicyError: unknown key, a value that is not a number, a share outside 0..1,
        the deficit threshold above the risk one, negative minimum, unknown attempt policy,
        a risk rule that is not ``{min_groups: integer ≥ 1, groups: [names]}``.
    """
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise PolicyError(unknown[0], "неизвестный раздел; допустимы " + ", ".join(TOP_KEYS))
    default = _table("default", raw.get("default"))
    missing = [k for k in KEYS if k not in default]
    if missing:
        raise PolicyError(f"default.{missing[0]}", "не задан")
    doc: dict[str, Any] = {"default": _thresholds("default", default, required=True)}
    base = Thresholds(**doc["default"])
    for section in SECTIONS:
        doc[section] = {}
        for key, values in _table(section, raw.get(section, {})).items():
            where = f"{section}.{key}"
            if not str(key).strip():
                raise PolicyError(section, "пустой ключ; укажите idnumber рамки или имя группы")
            entry = _thresholds(where, _table(where, values), required=False)
            _check(where, Thresholds(**{k: entry.get(k, getattr(base, k)) for k in KEYS}))
            doc[section][str(key)] = entry
    groups = _table("competency_groups", raw.get("competency_groups", {}))
    doc["competency_groups"] = {}
    for competency, group in groups.items():
        if not isinstance(group, str) or not group.strip():
            raise PolicyError(f"competency_groups.{competency}",
                              "укажите имя группы строкой, например \"subject\"")
        doc["competency_groups"][str(competency)] = group.strip()
    attempt = raw.get("attempt_policy", "quiz")
    if attempt not in ATTEMPT_POLICIES:
        raise PolicyError("attempt_policy", f"{attempt!r} — неизвестное правило попыток; "
                          "допустимы " + ", ".join(ATTEMPT_POLICIES))
    doc["attempt_policy"] = attempt
    if raw.get("risk") is not None:
        doc["risk"] = _risk(raw["risk"])
    return doc


def policy_from_document(doc: Mapping[str, Any]) -> ThresholdPolicy:
    """The thresholds policy of a validated document (overrides filled from the default)."""
    default = Thresholds(**doc["default"])
    parts: dict[str, dict[str, Thresholds]] = {}
    labels: dict[str, str] = {}
    for section in SECTIONS:
        parts[section] = {}
        for key, values in doc.get(section, {}).items():
            if values.get("label"):
                labels[key] = str(values["label"])
            parts[section][key] = Thresholds(**{k: float(values.get(k, getattr(default, k)))
                                                for k in KEYS})
    return ThresholdPolicy(default=default, frameworks=parts["frameworks"],
                           groups=parts["groups"], labels=labels)


def newest_revision() -> PolicyRevision | None:
    """The effective revision, or None without one (or without a usable database)."""
    if not has_app_context():
        return None
    try:
        return db.session.scalars(select(PolicyRevision)
                                  .order_by(PolicyRevision.id.desc()).limit(1)).first()
    except (OperationalError, ProgrammingError) as err:  # schema not migrated yet
        logger.warning("policy revisions unavailable, using the file: %s", err.orig)
        db.session.rollback()
        return None


def revision_document(revision: PolicyRevision) -> dict[str, Any]:
    """The revision's document, validated again (it may predate a rule).

    :raise SettingsError: the stored revision breaks a rule.
    """
    try:
        return validate_document(revision.document)
    except PolicyError as err:
        raise SettingsError(f"policy revision {revision.id}: {err}") from err


def save_revision(document: Mapping[str, Any], author: str, comment: str) -> PolicyRevision:
    """Validate and store a new revision; it becomes the effective policy.

    :raise PolicyError: the document breaks a rule, or its risk rule names a group no
        competency belongs to; nothing is stored.
    """
    doc = validate_document(document)
    check_risk_groups(doc)
    revision = PolicyRevision(document=doc, author=author.strip()[:255],
                              comment=comment.strip())
    db.session.add(revision)
    db.session.commit()
    logger.info("policy revision %s saved by %s", revision.id, revision.author)
    return revision


def revisions(limit: int = 50) -> list[PolicyRevision]:
    """The revision history, newest first."""
    return list(db.session.scalars(select(PolicyRevision)
                                   .order_by(PolicyRevision.id.desc()).limit(limit)))


def known_groups(doc: Mapping[str, Any]) -> list[str]:
    """The competency groups under a document: each stored competency's group (its
    ``competency_groups`` entry, else Moodle's parent) and every group those entries name."""
    overrides = doc.get("competency_groups", {})
    stored = db.session.execute(select(Competency.idnumber, Competency.group)).all()
    found = {overrides.get(idnumber) or group or "" for idnumber, group in stored}
    return sorted((found | set(overrides.values())) - {""})


def check_risk_groups(doc: Mapping[str, Any]) -> None:
    """Refuse a risk rule naming a group that is not among ``known_groups(doc)``.

    :raise PolicyError: on ``risk.groups``, naming the group and listing the known ones.
    """
    named = doc.get("risk", {}).get("groups", [])
    known = known_groups(doc) if named else []
    unknown = [g for g in named if g not in known]
    if not unknown:
        return
    labels = {key: values.get("label", "") for key, values in doc.get("groups", {}).items()}
    listed = ", ".join(f"«{g}»" + (f" ({labels[g]})" if labels.get(g) else "") for g in known)
    raise PolicyError("risk.groups", f"группа «{unknown[0]}» не найдена среди групп "
                      "компетенций; " + (f"известные группы: {listed}" if known else
                                         "групп пока нет: загрузите компетенции из Moodle "
                                         "(profroute sync) или назовите группы в "
                                         "[competency_groups]"))


def _risk(value: object) -> dict[str, Any]:
    """``{min_groups: int ≥ 1, groups: [str]}`` (groups stripped, without repeats)."""
    table = _table("risk", value)
    unknown = sorted(set(table) - set(RISK_KEYS))
    if unknown:
        raise PolicyError(f"risk.{unknown[0]}", "неизвестный ключ; допустимы "
                          + ", ".join(RISK_KEYS))
    least = table.get("min_groups")
    if isinstance(least, float) and least.is_integer():
        least = int(least)
    if isinstance(least, bool) or not isinstance(least, int):
        raise PolicyError("risk.min_groups", f"число групп с дефицитами — целое число, "
                          f"указано {'ничего' if least is None else repr(least)}")
    if least < 1:
        raise PolicyError("risk.min_groups", f"число групп с дефицитами — не меньше 1 "
                          f"(при 0 в группу риска попали бы все педагоги), указано {least}")
    groups = table.get("groups", [])
    if isinstance(groups, str) or not isinstance(groups, list | tuple) or not all(
            isinstance(g, str) for g in groups):
        raise PolicyError("risk.groups", "укажите список имён групп, например [\"subject\"]")
    names = [g.strip() for g in groups if g.strip()]
    return {"min_groups": least, "groups": list(dict.fromkeys(names))}


def _table(where: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyError(where, "ожидается таблица (раздел) значений")
    return dict(value)


def _thresholds(where: str, values: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    allowed = set(KEYS) | (set() if required else {"label"})
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise PolicyError(f"{where}.{unknown[0]}",
                          "неизвестный ключ; допустимы " + ", ".join(sorted(allowed)))
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key == "label":
            out[key] = str(value).strip()
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{where}.{key}", f"{FIELD_RU[key]}: {value!r} — не число")
        out[key] = float(value)
    if required:
        _check(where, Thresholds(**{k: out[k] for k in KEYS}))
    return out


def _check(where: str, thresholds: Thresholds) -> None:
    """0 ≤ deficit_below ≤ risk_below ≤ 1 and min_questions ≥ 0, named in Russian."""
    for key in ("deficit_below", "risk_below"):
        value = getattr(thresholds, key)
        if not 0.0 <= value <= 1.0:
            raise PolicyError(f"{where}.{key}", f"{FIELD_RU[key]} — доля от 0 до 1 "
                              f"(0,5 = 50 %), указано {_ru(value)}")
    if thresholds.deficit_below > thresholds.risk_below:
        raise PolicyError(f"{where}.deficit_below",
                          f"порог дефицита ({_ru(thresholds.deficit_below * 100)} %) выше "
                          f"порога риска ({_ru(thresholds.risk_below * 100)} %)")
    if not thresholds.min_questions >= 0.0:
        raise PolicyError(f"{where}.min_questions",
                          f"минимум вопросов не может быть меньше 0, указано "
                          f"{_ru(thresholds.min_questions)}")


def _ru(value: float) -> str:
    return f"{round(value, 6):g}".replace(".", ",")
