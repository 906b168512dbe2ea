"""Views of the stored levels a methodologist defends: by school type, over time, ranking,
the risk group, and entry → final change."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from app.accounts.roles import Scope, school_clause
from app.analyse.levels import competency_groups
from app.analyse.outcomes import levels_frame
from app.analyse.policy import load_policy, risk_rule
from app.analyse.teacher_memo import Stored, latest_pair, teacher_change
from app.extensions import db
from app.models import Competency, Diagnostic, School, Teacher
from app.reports.map_store import school_map_frame
from app.reports.maps import policy_lines
from app.settings import Settings
from deficits.change import change_summary, deficit_changes
from deficits.maps import rank_schools, school_type_map_of, stack_maps
from deficits.risk import RiskRule, risk_group

# Ids per IN (...): PostgreSQL takes at most 65,535 parameters a statement (at 100,000
# teachers the closed deficits' teachers were more: a 500).
ID_BATCH = 10_000


def _schools(scope: Scope | None = None) -> pd.DataFrame:
    query = select(School.code, School.low_results, School.adverse_context,
                   School.resource_centre)
    if scope is not None:
        query = query.where(school_clause(scope))
    return pd.DataFrame(db.session.execute(query).all(),
                        columns=["school_code", "low_results", "adverse_context",
                                 "resource_centre"])


def _groups(settings: Settings) -> pd.DataFrame:
    return competency_groups(settings)[["competency", "group"]]


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [{k: (None if not isinstance(v, str | tuple) and pd.isna(v) else
                 v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def by_school_type(diagnostic: Diagnostic, scope: Scope | None = None
                   ) -> list[dict[str, object]]:
    """Deficit shares per school type (ШНОР, ШФНСУ, resource centre, other) and competency;
    with ``scope`` (as every view here) of the scope's teachers only. This, the ranking and
    the map over time are sums of the stored school map (``app.reports.map_store``)."""
    return _records(school_type_map_of(school_map_frame(diagnostic, scope), _schools(scope)))


def ranking(diagnostic: Diagnostic, scope: Scope | None = None) -> list[dict[str, object]]:
    """Schools ranked by need (mean deficit share), highest first."""
    return _records(rank_schools(school_map_frame(diagnostic, scope)))


def over_time(scope: Scope | None = None) -> list[dict[str, object]]:
    """The school × competency map of every diagnostic, oldest first (entry, final…)."""
    return _records(stack_maps({f"{d.kind}: {d.name}": school_map_frame(d, scope)
                                for d in db.session.scalars(select(Diagnostic)
                                                            .order_by(Diagnostic.id))}))


def risk(diagnostic: Diagnostic, settings: Settings, rule: RiskRule | None = None, *,
         scope: Scope | None = None, teacher_id: int | None = None) -> list[dict[str, object]]:
    """Teachers of the risk group with the reason (deficits in ≥ 2 groups or the subject);
    of the scope, or only the teacher ``teacher_id`` (the rule looks at one teacher at a
    time, so one teacher's answer needs only their levels)."""
    levels, _ = levels_frame(diagnostic, teacher_id, scope)
    found = risk_group(levels, _groups(settings), rule or risk_rule(settings),
                       labels=load_policy(settings).labels)
    return _records(found[found["in_risk_group"]])


def changes(entry: Diagnostic, final: Diagnostic, scope: Scope | None = None
            ) -> list[dict[str, object]]:
    """Per teacher and competency: entry and final levels and scores, rise, closed."""
    before, _ = levels_frame(entry, scope=scope)
    after, _ = levels_frame(final, scope=scope)
    return _records(deficit_changes(before, after))


def diagnostic_pair(final_id: int | None = None) -> tuple[Diagnostic, Diagnostic] | None:
    """The latest entry diagnostic and a final one (the given id, else the latest)."""
    entry = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "entry")
                               .order_by(Diagnostic.id.desc())).first()
    query = select(Diagnostic).where(Diagnostic.kind == "final")
    if final_id is not None:
        query = query.where(Diagnostic.id == final_id)
    final = db.session.scalars(query.order_by(Diagnostic.id.desc())).first()
    return (entry, final) if entry is not None and final is not None else None


def dynamics(entry: Diagnostic, final: Diagnostic, scope: Scope | None = None
             ) -> dict[str, object]:
    """Entry → final: counts per competency and per school, and the closed deficits (of the
    scope's teachers only, with ``scope``).

    Counts only pairs with enough evidence on both tests; "closed" needs the level to go
    from deficit to ok and the score to rise by more than one question's weight.
    """
    before, teachers = levels_frame(entry, scope=scope)
    after, _ = levels_frame(final, scope=scope)
    changes = deficit_changes(before, after)
    names = dict(db.session.execute(select(Competency.idnumber, Competency.name)).all())
    per_competency = _records(change_summary(changes))
    for row in per_competency:
        row["name"] = names.get(str(row["competency"]), "")
    schools = {s.code: s.name for s in db.session.scalars(select(School))}
    per_school = _records(change_summary(changes, teachers, by="school"))
    for row in per_school:
        code = row["school_code"]
        row["name"] = (schools.get(str(code), str(code)) if code
                       else "Без образовательной организации")
    ids = sorted({int(u) for u in changes.loc[changes["closed"], "user_id"]})
    people = {t.id: t for start in range(0, len(ids), ID_BATCH)
              for t in db.session.scalars(select(Teacher).where(
                  Teacher.id.in_(ids[start:start + ID_BATCH])))}
    closed = [{"moodle_user_id": people[int(r.user_id)].moodle_user_id,
               "teacher": people[int(r.user_id)].full_name, "competency": r.competency,
               "entry_score": float(r.entry_score), "final_score": float(r.final_score)}
              for r in changes[changes["closed"]].itertuples(index=False)
              if int(r.user_id) in people]
    closed.sort(key=lambda c: (str(c["teacher"]), str(c["competency"])))
    return {"entry": {"id": entry.id, "name": entry.name, "policy": policy_lines(entry)},
            "final": {"id": final.id, "name": final.name, "policy": policy_lines(final)},
            "competencies": per_competency, "schools": per_school, "closed": closed}


def teacher_changes(teacher_id: int, stored: Stored | None = None
                    ) -> dict[str, dict[str, object]]:
    """One teacher's entry → final change per competency (latest pair), keyed by idnumber
    (``stored``: the teacher's stored results, when already read)."""
    pair = latest_pair()
    return teacher_change(*pair, teacher_id, stored) if pair is not None else {}
