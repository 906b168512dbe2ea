"""The methodologist's scoring policy: thresholds per framework and group, attempt policy.

Precedence: the newest policy revision stored in the database (``app.analyse.revisions``)
applies. A run that stores levels (``profroute deficits``, «Пересчитать дефициты») first
imports the thresholds file named by the settings as a new revision when the file changed
(``import_thresholds_file``), so the database holds the policy its levels were computed with
and readers need no file. Without any revision, the file over the settings applies, or the
settings alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.analyse.policy_schema import (
    FIELD_RU,
    KEYS,
    PolicyError,
    matching_overview,
    validate_document,
)
from app.analyse.policy_toml import SETTING_OF, file_document
from app.analyse.revisions import (
    FILE_AUTHOR,
    newest_import,
    newest_revision,
    policy_from_document,
    revision_document,
    revisions,
    save_revision,
)
from app.analyse.risk_rule import (
    FILE_RU,
    revision_risk_ru,
    risk_document,
    risk_overview,
    rule_of,
    settings_risk_rule,
)
from app.extensions import db
from app.i18n import N_
from app.models import Competency, CompetencyFramework, PolicyRevision
from app.settings import Settings, SettingsError
from deficits.policy import ThresholdPolicy
from deficits.risk import RiskRule

logger = logging.getLogger(__name__)


def load_policy(settings: Settings) -> ThresholdPolicy:
    """The newest policy revision's thresholds, or else those of the file and the settings.

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    return policy_from_document(_document(settings))


def competency_group_overrides(settings: Settings) -> dict[str, str]:
    """Competency idnumber → group, from the newest revision or the thresholds file.

    For frameworks that Moodle holds flat: the region's blocks (normative-legal, subject,
    methodological, psychological-pedagogical, digital, inclusive) without a hierarchy.
    """
    return dict(_document(settings)["competency_groups"])


def attempt_policy_of(settings: Settings) -> str:
    """The attempt policy in force: the newest revision's, else the file's, else
    ``PROFROUTE_ATTEMPT_POLICY``."""
    return str(_document(settings)["attempt_policy"])


def unrevised_document(settings: Settings) -> dict[str, Any]:
    """The policy without a revision: the thresholds file over the settings' defaults and
    attempt policy, or the settings alone; checked by the one policy schema.

    :raise SettingsError: the file is unreadable or breaks a rule, or a setting does.
    """
    inherited = {"default": {k: getattr(settings, k) for k in KEYS},
                 "attempt_policy": settings.attempt_policy}
    if settings.thresholds_file:
        return file_document(Path(settings.thresholds_file), inherited)
    try:
        return validate_document(inherited)
    except PolicyError as err:
        raise SettingsError(f"{SETTING_OF.get(err.field, err.field)}: {err.reason}") from err


def import_thresholds_file(settings: Settings) -> PolicyRevision | None:
    """Store the thresholds file's policy as the newest revision when it changed, so the
    database holds the policy its levels are computed with (for a run that stores levels).

    "Changed": it differs from the revision last imported from a file or, before any
    import, from the newest revision (none at all counts as a change). A revision saved on
    ``/policy`` after an import stays in force until the file changes again.

    Returns:
        The new revision, or None (no file, or nothing changed).

    :raise SettingsError: the file is unreadable or breaks a rule.
    """
    if not settings.thresholds_file:
        return None
    document = unrevised_document(settings)
    last = newest_import() or newest_revision()
    if last is not None and last.document == document:
        return None
    path = settings.thresholds_file
    revision = save_revision(document, author=f"{FILE_AUTHOR} {path}", comment=(
        f"Импортирована из файла порогов {path} (PROFROUTE_THRESHOLDS_FILE) при расчёте "
        "дефицитов: " + ("политика файла изменилась с прошлого импорта." if last is not None
                          else "в базе ещё не было политики.")))
    logger.info("thresholds file %s imported as policy revision %s", path, revision.id)
    return revision


def policy_source(settings: Settings) -> str:
    """Where the policy in force comes from, in Russian (for pages and reports; in the
    reader's language during a request): a revision with its date and author, or the
    server's file and settings, named without variables or paths (a methodologist reads it;
    the administrator sees those in the settings)."""
    revision = newest_revision()
    if revision is not None:
        when = revision.created_at.strftime("%d.%m.%Y")
        return _("редакция №%(id)s от %(date)s, автор %(author)s", id=revision.id, date=when,
                 author=revision.author or _("не указан"))
    defaults = Settings()
    names = {**FIELD_RU, "attempt_policy": N_("правило попыток")}
    changed = [_(names[k]) for k in (*KEYS, "attempt_policy")
               if getattr(settings, k) != getattr(defaults, k)]
    base = (_("настройки сервера (%(changed)s)", changed=", ".join(changed)) if changed
            else _("настройки по умолчанию"))
    if settings.thresholds_file:
        return _("%(file)s (пороги по умолчанию: %(base)s)", file=_(FILE_RU), base=base)
    return base


def effective_document(settings: Settings) -> dict[str, Any]:
    """The policy in force as a revision document (the starting point of an edit), with the
    risk-group rule in force (the settings' when the document has none).

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    return _with_rule(_document(settings), settings)


def risk_rule(settings: Settings) -> RiskRule:
    """The risk-group rule: deficits in ≥ N competency groups, or in any named group.

    The newest revision's ``risk`` (without a revision: the thresholds file's); without
    one, or with a revision saved before the rule was part of the policy,
    ``PROFROUTE_RISK_MIN_GROUPS`` / ``PROFROUTE_RISK_GROUPS``.

    :raise SettingsError: N below 1, or the newest revision or the file breaks a rule.
    """
    found = _document(settings).get("risk")
    if found is not None:
        return rule_of(found)
    return settings_risk_rule(settings)


def _with_rule(doc: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The document with the settings' risk-group rule when it has none of its own."""
    if "risk" not in doc:
        doc["risk"] = risk_document(settings_risk_rule(settings))
    return doc


def _document(settings: Settings) -> dict[str, Any]:
    """The newest revision's document, or else the unrevised one.

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    revision = newest_revision()
    if revision is not None:
        return revision_document(revision)
    return unrevised_document(settings)


# Russian (the API's ``attempt_policy_ru``); the page translates them where it shows them.
ATTEMPT_RU = {"quiz": N_("как в настройках теста Moodle (метод оценивания)"),
              "first": N_("первая попытка"), "last": N_("последняя попытка"),
              "best": N_("лучшая попытка"), "average": N_("среднее по попыткам")}


def policy_overview(settings: Settings) -> dict[str, Any]:
    """The policy in force for the policy page and ``/api/policy``: thresholds, overrides,
    every known competency with the group and thresholds that apply, and the history.

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    revision, doc = newest_revision(), _document(settings)
    rule_file = settings.thresholds_file if revision is None and "risk" in doc else ""
    doc = _with_rule(doc, settings)
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
            "describe": policy.describe(), "risk": risk_overview(doc, revision, file=rule_file),
            "matching": matching_overview(doc),
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
