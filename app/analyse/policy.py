"""The methodologist's scoring policy: thresholds per framework and group, attempt policy.

The newest policy revision saved in the database (``app.analyse.revisions``) applies;
without one, the settings and the thresholds file do.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.analyse.revisions import (
    newest_revision,
    policy_from_document,
    revision_document,
    revisions,
)
from app.analyse.risk_rule import (
    revision_risk_ru,
    risk_document,
    risk_overview,
    rule_of,
    settings_risk_rule,
)
from app.extensions import db
from app.models import Competency, CompetencyFramework
from app.settings import Settings, SettingsError
from deficits.policy import ATTEMPT_POLICIES, ThresholdPolicy
from deficits.records import Thresholds
from deficits.risk import RiskRule

KEYS = ("deficit_below", "risk_below", "min_questions")
logger = logging.getLogger(__name__)


def load_policy(settings: Settings) -> ThresholdPolicy:
    """The newest policy revision's thresholds, or else those of the settings and the file.

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    revision = newest_revision()
    if revision is not None:
        return policy_from_document(revision_document(revision))
    return file_policy(settings)


def competency_group_overrides(settings: Settings) -> dict[str, str]:
    """Competency idnumber → group, from the newest revision or the thresholds file.

    For frameworks that Moodle holds flat: the region's blocks (normative-legal, subject,
    methodological, psychological-pedagogical, digital, inclusive) without a hierarchy.
    """
    revision = newest_revision()
    if revision is not None:
        return dict(revision_document(revision)["competency_groups"])
    return file_competency_groups(settings)


def attempt_policy_of(settings: Settings) -> str:
    """The attempt policy in force: the newest revision's, or ``PROFROUTE_ATTEMPT_POLICY``."""
    revision = newest_revision()
    if revision is not None:
        return str(revision_document(revision)["attempt_policy"])
    return settings.attempt_policy


def policy_source(settings: Settings) -> str:
    """Where the policy in force comes from, in Russian (for pages and reports)."""
    revision = newest_revision()
    if revision is not None:
        when = revision.created_at.strftime("%d.%m.%Y")
        return (f"редакция №{revision.id} от {when}, "
                f"автор {revision.author or 'не указан'}")
    defaults = Settings()
    changed = [f"PROFROUTE_{k.upper()}" for k in (*KEYS, "attempt_policy")
               if getattr(settings, k) != getattr(defaults, k)]
    base = ("настройки " + ", ".join(changed)) if changed else "настройки по умолчанию"
    if settings.thresholds_file:
        return f"файл {settings.thresholds_file} (пороги по умолчанию: {base})"
    return base


def effective_document(settings: Settings) -> dict[str, Any]:
    """The policy in force as a revision document (the starting point of an edit), with the
    risk-group rule in force (the settings' when the revision has none).

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    revision = newest_revision()
    if revision is not None:
        doc = revision_document(revision)
        if "risk" not in doc:  # saved before the rule was part of the policy
            doc["risk"] = risk_document(settings_risk_rule(settings))
        return doc
    policy = file_policy(settings)

    def entries(found: dict[str, Thresholds]) -> dict[str, dict[str, object]]:
        return {key: {**({"label": policy.labels[key]} if key in policy.labels else {}),
                      **{k: getattr(value, k) for k in KEYS}} for key, value in found.items()}

    return {"default": {k: getattr(policy.default, k) for k in KEYS},
            "frameworks": entries(dict(policy.frameworks)),
            "groups": entries(dict(policy.groups)),
            "competency_groups": file_competency_groups(settings),
            "attempt_policy": settings.attempt_policy,
            "risk": risk_document(settings_risk_rule(settings))}



def file_policy(settings: Settings) -> ThresholdPolicy:
    """The default thresholds from the settings, overridden per framework and per group by
    the TOML file ``PROFROUTE_THRESHOLDS_FILE``::

        [frameworks.PKU-2026]
        deficit_below = 0.45
        [groups.subject]
        label = "Предметный блок"
        deficit_below = 0.55
        risk_below = 0.8

    :raise SettingsError: unreadable file, unknown key, or inconsistent thresholds.
    """
    if settings.attempt_policy not in ATTEMPT_POLICIES:
        raise SettingsError(f"PROFROUTE_ATTEMPT_POLICY = {settings.attempt_policy!r}: write "
                            + ", ".join(ATTEMPT_POLICIES))
    default = Thresholds(settings.deficit_below, settings.risk_below, settings.min_questions)
    if not settings.thresholds_file:
        return _policy(default, {}, {}, {})
    path = Path(settings.thresholds_file)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {path}: {err}") from err
    labels: dict[str, str] = {}
    parts: dict[str, dict[str, Thresholds]] = {"frameworks": {}, "groups": {}}
    for section, found in parts.items():
        for key, values in dict(data.get(section, {})).items():
            unknown = set(values) - {*KEYS, "label"}
            if unknown:
                raise SettingsError(f"{path}: [{section}.{key}] has unknown keys "
                                    f"{', '.join(sorted(unknown))}; use {', '.join(KEYS)}, label")
            if "label" in values:
                labels[key] = str(values["label"])
            found[key] = Thresholds(**{k: float(values.get(k, getattr(default, k)))
                                                for k in KEYS})
    return _policy(default, parts["frameworks"], parts["groups"], labels)


def file_competency_groups(settings: Settings) -> dict[str, str]:
    """``[competency_groups]`` of the thresholds file: competency idnumber → group."""
    if not settings.thresholds_file:
        return {}
    try:
        data = tomllib.loads(Path(settings.thresholds_file).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {settings.thresholds_file}: {err}"
                            ) from err
    return {str(k): str(v) for k, v in dict(data.get("competency_groups", {})).items()}


def risk_rule(settings: Settings) -> RiskRule:
    """The risk-group rule: deficits in ≥ N competency groups, or in any named group.

    The newest revision's ``risk``; without a revision, or with one saved before the rule
    was part of the policy, ``PROFROUTE_RISK_MIN_GROUPS`` / ``PROFROUTE_RISK_GROUPS``.

    :raise SettingsError: N below 1, or the newest revision breaks a rule.
    """
    revision = newest_revision()
    found = revision_document(revision).get("risk") if revision is not None else None
    if found is not None:
        return rule_of(found)
    return settings_risk_rule(settings)


def _policy(default: Thresholds, frameworks: dict[str, Thresholds],
            groups: dict[str, Thresholds], labels: dict[str, str]) -> ThresholdPolicy:
    try:
        return ThresholdPolicy(default=default, frameworks=frameworks, groups=groups,
                               labels=labels)
    except ValueError as err:
        raise SettingsError(f"thresholds: {err}") from err


ATTEMPT_RU = {"quiz": "как в настройках теста Moodle (метод оценивания)",
              "first": "первая попытка", "last": "последняя попытка",
              "best": "лучшая попытка", "average": "среднее по попыткам"}


def policy_overview(settings: Settings) -> dict[str, Any]:
    """The policy in force for the policy page and ``/api/policy``: thresholds, overrides,
    every known competency with the group and thresholds that apply, and the history.

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    doc = effective_document(settings)
    policy = policy_from_document(doc)
    rows = db.session.execute(
        select(Competency.idnumber, Competency.name, CompetencyFramework.idnumber,
               Competency.group)
        .outerjoin(CompetencyFramework, CompetencyFramework.id == Competency.framework_id)
        .order_by(Competency.idnumber)).all()
    competencies = []
    for idnumber, name, framework, group in rows:
        override = doc["competency_groups"].get(idnumber)
        thresholds, source = policy.resolve(framework or "", override or group or "")
        key = (override or group) if source == "group" else framework
        competencies.append({
            "idnumber": idnumber, "name": name, "framework": framework or "",
            "moodle_group": group or "", "group_override": override or "",
            "thresholds": {k: getattr(thresholds, k) for k in KEYS},
            "thresholds_from": source, "thresholds_key": key if source != "default" else ""})
    return {"source": policy_source(settings), "default": doc["default"],
            "attempt_policy": doc["attempt_policy"],
            "attempt_policy_ru": ATTEMPT_RU.get(doc["attempt_policy"], doc["attempt_policy"]),
            "frameworks": _overrides(doc, policy, "frameworks"),
            "groups": _overrides(doc, policy, "groups"),
            "competency_groups": doc["competency_groups"], "competencies": competencies,
            "describe": policy.describe(), "risk": risk_overview(doc, newest_revision()),
            "revisions": [{"id": r.id, "created_at": r.created_at.isoformat(),
                           "created_ru": r.created_at.strftime("%d.%m.%Y %H:%M"),
                           "author": r.author, "comment": r.comment,
                           "risk_ru": revision_risk_ru(r.document)} for r in revisions()]}


def _overrides(doc: dict[str, Any], policy: ThresholdPolicy, section: str
               ) -> list[dict[str, Any]]:
    """Each override with the thresholds it resolves to and the keys it names itself."""
    found = getattr(policy, section)
    return [{"key": key, "label": values.get("label", ""),
             "explicit": sorted(k for k in KEYS if k in values),
             **{k: getattr(found[key], k) for k in KEYS}}
            for key, values in sorted(doc[section].items())]
