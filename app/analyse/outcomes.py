"""What earlier periods say (issue 14): stored levels, the items teachers took part in, and the
offers' effectiveness the planner weighs.

A period is a pair of diagnostics: an entry one (whose routes the teachers took part in) and a
final one (which says whether each entry deficit closed). Exposures are the items of the entry
diagnostic's routes that reached enrolment; completed, verified and re-planned items count as
completed (re-planned ones were completed and their deficit stayed). ``app.reports`` builds the
effectiveness and capacity reports on these; ``app.routes.plan_input`` hands the effects to the
planner.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, select

from app.accounts.roles import Scope, teacher_clause
from app.extensions import db
from app.i18n import N_
from app.models import Competency, Deficit, Diagnostic, Offer, Route, RouteItem, School, Teacher
from app.models.route import COMPLETED, ENROLLED, REPLANNED, VERIFIED
from courses.plan_model import OfferEffect
from deficits.change import deficit_changes
from deficits.effectiveness import PRIOR_PAIRS, shrunk_shares

TOOK_PART = (ENROLLED, COMPLETED, VERIFIED, REPLANNED)
COMPLETED_STATUSES = (COMPLETED, VERIFIED, REPLANNED)
NO_CENTRE = N_("без ресурсного центра")  # an exposure's centre_name without a host school
EXPOSURE_FRAME = ["user_id", "competency", "offer_key", "title", "kind", "provider", "centre",
                  "centre_name", "completed"]


def levels_frame(diagnostic: Diagnostic, teacher_id: int | None = None,
                 scope: Scope | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stored levels (user_id, competency, score, level) and teachers (user_id, school_code);
    with ``teacher_id`` only that teacher's levels; with ``scope`` only the levels and
    teachers in it (every aggregate built on them is then the scope's own)."""
    query = (select(Deficit.teacher_id, Competency.idnumber, Deficit.score, Deficit.level,
                    Deficit.questions)
             .join(Competency, Competency.id == Deficit.competency_id)
             .where(Deficit.diagnostic_id == diagnostic.id))
    if teacher_id is not None:
        query = query.where(Deficit.teacher_id == teacher_id)
    people = select(Teacher.id, School.code).outerjoin(School, School.id == Teacher.school_id)\
        .where(Teacher.active.is_(True))
    if scope is not None and not scope.region:
        query = query.where(Deficit.teacher_id.in_(in_scope(scope)))
        people = people.where(teacher_clause(scope))
    connection = db.session.connection()
    levels = read_frame(connection, query, LEVEL_COLUMNS, text=("competency", "level"))
    teachers = read_frame(connection, people, ["user_id", "school_code"],
                          text=("school_code",))
    return levels, teachers


LEVEL_COLUMNS = ["user_id", "competency", "score", "level", "questions"]


def read_frame(connection: Connection, query: Select[*tuple[Any, ...]],
               columns: list[str], *, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of ``query`` as a frame of ``columns`` (``text``: the string ones, kept as
    they are; a NULL is missing, NaN, as pandas makes it of a None row value).

    On PostgreSQL through ``COPY (query) TO STDOUT`` on the session's own connection and
    transaction, parsed by pandas' CSV reader: a million levels in about a second, where
    fetching them as rows into Python took five. Elsewhere (SQLite) as plain tuples on the
    session's connection: pandas asks each SQLAlchemy row for namedtuple attributes it lacks
    (a lookup that raises and is caught per row: most of the time of a large frame
    otherwise).
    """
    if connection.dialect.name != "postgresql":
        return pd.DataFrame(list(map(tuple, connection.execute(query).all())),
                            columns=columns)
    sql = str(query.compile(dialect=connection.dialect,
                            compile_kwargs={"literal_binds": True}))
    buffer = io.BytesIO()
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY ({sql}) TO STDOUT (FORMAT csv, NULL '\\N')") as copy:
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    # A NULL is written \N, and only that reads as missing: an empty string stays one, and
    # text such as "NA" stays text.
    frame = pd.read_csv(buffer, names=columns, header=None, keep_default_na=False,
                        na_values={c: ["\\N"] for c in columns},
                        dtype=dict.fromkeys(text, object), encoding="utf-8")
    return frame


def in_scope(scope: Scope) -> Select[Any]:
    """The ids of the teachers in ``scope``, as a subquery."""
    return select(Teacher.id).where(teacher_clause(scope))


def exposures(entry: Diagnostic, scope: Scope | None = None) -> pd.DataFrame:
    """One row per teacher, competency and item of the entry diagnostic's routes that reached
    enrolment, with the offer's key, title, kind, provider and host school (``centre``)."""
    query = (select(Route.teacher_id, RouteItem.competencies, RouteItem.status, Offer.key,
                    Offer.title, Offer.kind, Offer.provider, School.code, School.name)
             .join(RouteItem, RouteItem.route_id == Route.id)
             .join(Offer, Offer.id == RouteItem.offer_id)
             .join(Teacher, Teacher.id == Route.teacher_id)
             .outerjoin(School, School.id == Offer.host_school_id)
             .where(Route.diagnostic_id == entry.id, RouteItem.status.in_(TOOK_PART)))
    if scope is not None and not scope.region:
        query = query.where(teacher_clause(scope))
    rows = pd.DataFrame(list(map(tuple, db.session.connection().execute(query).all())),
                        columns=["user_id", "competencies", "status", "offer_key", "title",
                                 "kind", "provider", "centre", "centre_name"])
    # One row per item and competency it covers (an item with none: no row), built by
    # columns: 200,000 items at a dict per row took seconds.
    out = rows.explode("competencies").dropna(subset=["competencies"])
    out = out.rename(columns={"competencies": "competency"})
    out["provider"] = out["provider"].fillna("—").replace("", "—")
    out["centre"] = out["centre"].fillna("—").replace("", "—")
    out["centre_name"] = out["centre_name"].fillna(NO_CENTRE).replace("", NO_CENTRE)
    out["completed"] = out["status"].isin(COMPLETED_STATUSES)
    return out[EXPOSURE_FRAME].reset_index(drop=True)


def evidence_period() -> tuple[Diagnostic, Diagnostic] | None:
    """The latest finished period: the latest final diagnostic and the latest entry one
    before it (by id), or None when there is no such pair yet."""
    final = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "final")
                               .order_by(Diagnostic.id.desc())).first()
    if final is None:
        return None
    entry = db.session.scalars(select(Diagnostic).where(Diagnostic.kind == "entry",
                                                        Diagnostic.id < final.id)
                               .order_by(Diagnostic.id.desc())).first()
    return None if entry is None else (entry, final)


def offer_effects(prior_pairs: float = PRIOR_PAIRS) -> tuple[OfferEffect, ...]:
    """Per offer and competency, what the latest finished period says of it over the whole
    region (``deficits.effectiveness.shrunk_shares``); empty without such a period."""
    period = evidence_period()
    if period is None:
        return ()
    entry, final = period
    changes = deficit_changes(levels_frame(entry)[0], levels_frame(final)[0])
    shares = shrunk_shares(changes, exposures(entry), prior_pairs)
    return tuple(OfferEffect(str(r["offer_key"]), str(r["competency"]), int(r["pairs"]),
                             int(r["closed"]), float(r["shrunk"]), float(r["kind_share"]))
                 for r in shares.to_dict("records"))
