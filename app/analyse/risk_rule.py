"""The risk-group rule of the scoring policy: from the settings, in Russian, on the page.

Its wording is Russian; during a request it is in the reader's language (Flask-Babel's
``gettext``: outside a request, and under ``force_locale("ru")``, it stays Russian).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from app.analyse.revisions import PolicyError, known_groups, validate_document
from app.i18n import N_
from app.models import PolicyRevision
from app.settings import Settings, SettingsError
from deficits.risk import NO_GROUP_LABEL, RiskRule

# Where a rule or threshold comes from, as pages say it: never a variable's name or a path
# (the administrator reads those in the settings and the log).
SETTINGS_RU = N_("настройки сервера (задаёт администратор)")
FILE_RU = N_("файл порогов на сервере (задаёт администратор)")


def settings_risk_rule(settings: Settings) -> RiskRule:
    """The risk-group rule of ``PROFROUTE_RISK_MIN_GROUPS`` / ``PROFROUTE_RISK_GROUPS``.

    :raise SettingsError: N below 1.
    """
    try:
        return RiskRule(settings.risk_min_groups, tuple(
            g.strip() for g in settings.risk_groups.split(",") if g.strip()))
    except ValueError as err:
        raise SettingsError(f"PROFROUTE_RISK_MIN_GROUPS: {err}") from err


def rule_of(risk: Mapping[str, Any]) -> RiskRule:
    """The rule of a validated document's ``risk`` entry."""
    return RiskRule(int(risk["min_groups"]), tuple(risk["groups"]))


def risk_document(rule: RiskRule) -> dict[str, Any]:
    """A rule as a document's ``risk`` entry."""
    return {"min_groups": rule.min_groups_with_deficit, "groups": list(rule.groups_always)}


def group_labels(doc: Mapping[str, Any]) -> dict[str, str]:
    """Group key → the methodologist's name of it (``label`` of ``[groups.*]``)."""
    return {key: str(values["label"]) for key, values in doc.get("groups", {}).items()
            if values.get("label")}


# Names of the usual competency groups (blocks of the professional standard) where the
# scoring policy gives none (Russian; ``group_names`` gives them in the reader's language).
GROUP_NAMES_RU = {"subject": N_("предметная"), "methodological": N_("методическая"),
                  "psychological": N_("психолого-педагогическая"), "digital": N_("цифровая"),
                  "inclusive": N_("инклюзивная"), "normative-legal": N_("нормативно-правовая"),
                  "normative": N_("нормативно-правовая"), "": NO_GROUP_LABEL}
_NO_GROUP = N_("без группы")  # deficits.risk.NO_GROUP_LABEL (the pure core), for the catalog
assert _NO_GROUP == NO_GROUP_LABEL


def group_names(doc: Mapping[str, Any]) -> dict[str, str]:
    """Group key → what a page calls it: the policy's label, else the usual name (in the
    reader's language during a request, Russian outside one)."""
    return {**{key: _(name) for key, name in GROUP_NAMES_RU.items()}, **group_labels(doc)}


def describe_risk(rule: RiskRule, labels: Mapping[str, str] | None = None, *,
                  prefix: bool = True) -> str:
    """«Группа риска: дефициты не менее чем в 2 группах компетенций или хотя бы один дефицит
    в группе «Предметный блок»» (groups by their labels where the policy names them; without
    ``prefix``, from «дефициты»); in the reader's language during a request."""
    n = rule.min_groups_with_deficit
    text = _("дефициты не менее чем в %(n)s группе компетенций", n=n) \
        if n % 10 == 1 and n % 100 != 11 else \
        _("дефициты не менее чем в %(n)s группах компетенций", n=n)
    if rule.groups_always:
        names = ", ".join(_("«%(name)s»", name=(labels or {}).get(g) or g)
                          for g in rule.groups_always)
        text = _("%(rule)s или хотя бы один дефицит в группе %(names)s", rule=text,
                 names=names) if len(rule.groups_always) == 1 else \
            _("%(rule)s или хотя бы один дефицит в одной из групп %(names)s", rule=text,
              names=names)
    return _("Группа риска: %(rule)s", rule=text) if prefix else text


def risk_overview(doc: Mapping[str, Any], revision: PolicyRevision | None, *,
                  file: str = "") -> dict[str, Any]:
    """The rule in force for the page and ``/api/policy``: its figures, where it comes from
    (the revision, the thresholds file ``file`` when no revision applies and the file sets
    the rule, or the settings), its Russian wording, the known groups (to tick) and the
    groups it names that no competency belongs to (they put nobody in the risk group).
    The wording is in the reader's language during a request."""
    labels = group_labels(doc)
    known = known_groups(doc)
    own = revision is not None and revision.document.get("risk") is not None
    if own and revision is not None:
        source = _("редакция №%(id)s", id=revision.id)
    elif file and revision is None:
        source = _(FILE_RU)
    elif revision is not None:
        source = _("%(settings)s (редакция №%(id)s правила группы риска не задаёт)",
                   settings=_(SETTINGS_RU), id=revision.id)
    else:
        source = _(SETTINGS_RU)
    rule = rule_of(doc["risk"])
    return {"min_groups": rule.min_groups_with_deficit, "groups": list(rule.groups_always),
            "from": "revision" if own else ("file" if file and revision is None
                                            else "settings"), "source": source,
            "describe": describe_risk(rule, labels),
            "known_groups": [{"key": g, "label": labels.get(g, "")} for g in known],
            "unknown_groups": [g for g in rule.groups_always if g not in known]}


def revision_risk_ru(document: Mapping[str, Any]) -> str:
    """A stored revision's rule for the history, or that it left the rule to the settings."""
    try:
        doc = validate_document(document)
    except PolicyError:
        return "—"
    if doc.get("risk") is None:
        return _("по настройкам сервера")
    return describe_risk(rule_of(doc["risk"]), group_labels(doc), prefix=False)
