"""Scoring policy revisions: storage, history and the risk rule's groups.

A revision is checked by the one policy schema (``app.analyse.policy_schema``), the
thresholds file's too; the overrides' TOML text is in ``app.analyse.policy_toml``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import has_app_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.analyse.policy_schema import KEYS, SECTIONS, PolicyError, validate_document
from app.common import audit
from app.extensions import db
from app.models import Competency, PolicyRevision
from app.settings import SettingsError
from deficits.policy import ThresholdPolicy
from deficits.records import Thresholds

logger = logging.getLogger(__name__)

# A revision imported from the thresholds file is signed «файл порогов <path>».
FILE_AUTHOR = "файл порогов"


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


def newest_import() -> PolicyRevision | None:
    """The newest revision imported from a thresholds file, or None."""
    return db.session.scalars(select(PolicyRevision)
                              .where(PolicyRevision.author.startswith(f"{FILE_AUTHOR} "))
                              .order_by(PolicyRevision.id.desc()).limit(1)).first()


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
        competency belongs to; nothing is stored (the reason in the reader's language).
    """
    doc = validate_document(document)
    check_risk_groups(doc)
    revision = PolicyRevision(document=doc, author=author.strip()[:255],
                              comment=comment.strip())
    db.session.add(revision)
    db.session.flush()
    audit.record("policy.revision", ("policy_revision", revision.id),
                 {"author": revision.author, "comment": revision.comment[:500]})
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
    listed = ", ".join(_("«%(key)s» (%(label)s)", key=g, label=labels[g]) if labels.get(g)
                       else _("«%(key)s»", key=g) for g in known)
    raise PolicyError("risk.groups", _(
        "группа «%(group)s» не найдена среди групп компетенций; известные группы: %(known)s",
        group=unknown[0], known=listed) if known else _(
        "группа «%(group)s» не найдена среди групп компетенций; групп пока нет: загрузите "
        "компетенции из Moodle (profroute sync) или назовите группы в [competency_groups]",
        group=unknown[0]))
