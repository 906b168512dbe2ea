"""Views of the stored levels a methodologist defends: by school type, over time, ranking,
the risk group, and entry → final change."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from app.extensions import db
from app.models import Diagnostic, School
from app.services.report import levels_frame
from deficits.aggregate import school_map
from deficits.change import deficit_changes
from deficits.maps import map_over_time, rank_schools, school_type_map
from deficits.risk import RiskRule, risk_group


def _schools() -> pd.DataFrame:
    return pd.DataFrame(db.session.execute(select(
        School.code, School.low_results, School.adverse_context, School.resource_centre)).all(),
        columns=["school_code", "low_results", "adverse_context", "resource_centre"])


def _groups() -> pd.DataFrame:
    from flask import current_app

    from app import settings_of
    from app.services.analyse import competency_groups

    return competency_groups(settings_of(current_app))[["competency", "group"]]


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{k: (None if not isinstance(v, str | tuple) and pd.isna(v) else
                 v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def by_school_type(diagnostic: Diagnostic) -> list[dict[str, object]]:
    """Deficit shares per school type (ШНОР, ШФНСУ, resource centre, other) and competency."""
    levels, teachers = levels_frame(diagnostic)
    return _records(school_type_map(levels, teachers, _schools()))


def ranking(diagnostic: Diagnostic) -> list[dict[str, object]]:
    """Schools ranked by need (mean deficit share), highest first."""
    levels, teachers = levels_frame(diagnostic)
    return _records(rank_schools(school_map(levels, teachers)))


def over_time() -> list[dict[str, object]]:
    """The school × competency map of every diagnostic, oldest first (entry, final…)."""
    periods: dict[str, pd.DataFrame] = {}
    teachers = pd.DataFrame(columns=["user_id", "school_code"])
    for diagnostic in db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)):
        levels, teachers = levels_frame(diagnostic)
        periods[f"{diagnostic.kind}: {diagnostic.name}"] = levels
    return _records(map_over_time(periods, teachers))


def risk(diagnostic: Diagnostic, rule: RiskRule | None = None) -> list[dict[str, object]]:
    """Teachers of the risk group with the reason (deficits in ≥ 2 groups or the subject)."""
    from flask import current_app

    from app import settings_of
    from app.services.policy import risk_rule

    levels, _ = levels_frame(diagnostic)
    found = risk_group(levels, _groups(), rule or risk_rule(settings_of(current_app)))
    return _records(found[found["in_risk_group"]])


def changes(entry: Diagnostic, final: Diagnostic) -> list[dict[str, object]]:
    """Per teacher and competency: entry and final levels and scores, rise, closed."""
    before, _ = levels_frame(entry)
    after, _ = levels_frame(final)
    return _records(deficit_changes(before, after))
