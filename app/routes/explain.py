"""Route items' and unmet needs' reasons in the reader's language.

Each is rendered from the record stored with it (``explanation``, see
``courses.plan_texts``) in Russian or English; a row older than the records, or one a person
made (a swap), shows the Russian text it was stored with.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Competency, Diagnostic, RouteUnmetNeed
from courses.plan_texts import UNMET_TEXTS, record_text, unmet_record_text

logger = logging.getLogger(__name__)
LANGS = ("ru", "en")


def item_reasons(explanation: Mapping[str, Any] | None, reasons: Sequence[str] | None,
                 lang: str = "ru") -> list[str]:
    """An item's reasons as the reader reads them: its explanation rendered in ``lang``, or
    its stored (Russian) reasons when it has none or one that cannot be read."""
    if explanation:
        try:
            return [record_text(explanation, lang)]
        except (KeyError, TypeError, ValueError) as err:
            logger.warning("route item explanation not readable (%s): stored text shown",
                           type(err).__name__)
    return list(reasons or ())


def unmet_reason(competency: str, reason: str, text: str | None,
                 explanation: Mapping[str, Any] | None, lang: str = "ru") -> str:
    """Why a need stays uncovered, as the reader reads it: rendered in ``lang`` from its
    record, else its stored (Russian) text, else the reason code's sentence."""
    if explanation:
        try:
            return unmet_record_text(competency, reason, explanation, lang)
        except (KeyError, TypeError, ValueError) as err:
            logger.warning("unmet need explanation not readable (%s): stored text shown",
                           type(err).__name__)
    if text:
        return text
    pair = UNMET_TEXTS.get(reason, (reason, reason))
    return f"{competency}: {pair[1] if lang == 'en' else pair[0]}."


def unmet_needs(teacher_id: int, lang: str = "ru") -> list[tuple[str, str, str, str]]:
    """The teacher's needs the last recommend runs left uncovered, newest diagnostic first:
    (diagnostic name, competency code, competency name, why in ``lang``)."""
    rows = db.session.execute(
        select(Diagnostic.name, RouteUnmetNeed.competency, Competency.name,
               RouteUnmetNeed.reason, RouteUnmetNeed.text, RouteUnmetNeed.explanation)
        .join(Diagnostic, Diagnostic.id == RouteUnmetNeed.diagnostic_id)
        .outerjoin(Competency, Competency.idnumber == RouteUnmetNeed.competency)
        .where(RouteUnmetNeed.teacher_id == teacher_id)
        .order_by(RouteUnmetNeed.diagnostic_id.desc(), RouteUnmetNeed.competency))
    return [(diagnostic, code, name or "", unmet_reason(code, reason, text, explanation, lang))
            for diagnostic, code, name, reason, text, explanation in rows]
