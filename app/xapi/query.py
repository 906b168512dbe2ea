"""Reading statements back: one by id, or a filtered query paged by a (stored, id) keyset."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import aliased

from app.common.inputs import load_json
from app.extensions import db
from app.models.xapi import XapiStatement, XapiStatementLink
from app.xapi.store import (
    STATEMENT_REF,
    StatementNotFound,
    StatementRejected,
    agent_key,
    iso,
    utc,
)

MAX_LIMIT = 500
FORMATS = ("exact", "ids", "canonical")
# A statement's ``stored`` is taken just before its transaction commits: statements stored
# earlier than this margin before the answer are all visible (X-Experience-API-Consistent-Through).
CONSISTENCY_MARGIN = dt.timedelta(seconds=2)
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


@dataclass(frozen=True)
class StatementQuery:
    """The filters of a statements query, and where the previous page stopped.

    ``after`` is the (stored, id) of the last statement already answered; ``until`` is set
    on the first page, so later pages see the same statements whatever arrives meanwhile.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    verb: str | None = None
    activity: str | None = None
    agent: dict[str, Any] | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    limit: int = 0
    ascending: bool = False
    format: str = "exact"
    after: tuple[str, str] | None = None

    def cursor(self) -> str:
        """The opaque ``more`` token that continues this query."""
        data = dataclasses.asdict(self)
        for name in ("since", "until"):
            data[name] = utc(data[name]).isoformat() if data[name] else None
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def from_cursor(cls, token: str) -> StatementQuery:
        """The query a ``more`` token continues.

        :raise StatementRejected: the token is not one this LRS gave.
        """
        try:
            data = load_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            for name in ("since", "until"):
                data[name] = utc(dt.datetime.fromisoformat(data[name])) if data[name] else None
            if data["after"]:
                stored, last_id = data["after"]
                data["after"] = (utc(dt.datetime.fromisoformat(stored)).isoformat(), str(last_id))
            query = cls(**data)
            if not (isinstance(query.limit, int) and isinstance(query.agent, dict | None)):
                raise TypeError("limit or agent")
            return query
        except (ValueError, TypeError, KeyError, OverflowError) as err:
            raise StatementRejected("the `more` token is not valid") from err


@dataclass(frozen=True)
class StatementPage:
    """A page of statements, the token of the next page (if any), and the consistency time."""

    statements: list[dict[str, Any]]
    more: str | None
    consistent_through: dt.datetime


def consistent_through() -> dt.datetime:
    """Every statement stored before this instant is visible to queries."""
    return dt.datetime.now(dt.UTC) - CONSISTENCY_MARGIN


def get_statement(statement_id: str, voided: bool = False, fmt: str = "exact",
                  languages: Sequence[str] = ()) -> dict[str, Any]:
    """One statement by id: a voided one only when ``voided`` is asked, and vice versa.

    :raise StatementNotFound: no such statement (or it is, or is not, voided) (404).
    """
    row = db.session.scalars(select(XapiStatement).where(
        XapiStatement.id == statement_id.lower(), XapiStatement.voided.is_(voided))).first()
    if row is None:
        kind = "voided statement" if voided else "statement"
        raise StatementNotFound(f"no {kind} with id {statement_id}")
    return formatted(row.statement, fmt, languages)


def query_statements(query: StatementQuery, languages: Sequence[str] = ()) -> StatementPage:
    """The statements matching the query, newest first unless ``ascending``, voided left out.

    :raise StatementRejected: the agent has no identifier, or the format is unknown (400).
    """
    if query.format not in FORMATS:
        raise StatementRejected(f"format must be one of {', '.join(FORMATS)}")
    if query.until is None:
        query = dataclasses.replace(query, until=dt.datetime.now(dt.UTC))
    limit = min(query.limit or MAX_LIMIT, MAX_LIMIT)
    order = (XapiStatement.stored, XapiStatement.id)
    stmt = (select(XapiStatement).where(*_filters(query))
            .order_by(*(c.asc() if query.ascending else c.desc() for c in order))
            .limit(limit + 1))
    rows = list(db.session.scalars(stmt))
    more = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        more = dataclasses.replace(query, after=(iso(last.stored), last.id)).cursor()
    return StatementPage([formatted(r.statement, query.format, languages) for r in rows],
                         more, consistent_through())


def _filters(query: StatementQuery) -> list[ColumnElement[bool]]:
    s = XapiStatement
    clauses: list[ColumnElement[bool]] = [s.voided.is_(False)]
    if query.since is not None:
        clauses.append(s.stored > utc(query.since))
    if query.until is not None:
        clauses.append(s.stored <= utc(query.until))
    criteria = _criteria(query, s)
    if criteria:
        # A statement targeting another (StatementRef) meets the criteria when its target
        # does, voided or not (Data 2.5.1.s1): the filters other than time and limit.
        target = aliased(XapiStatement)
        targets = select(target.id).where(*_criteria(query, target))
        clauses.append(or_(and_(*criteria), s.id.in_(
            select(XapiStatementLink.statement_id).where(
                XapiStatementLink.kind == STATEMENT_REF, XapiStatementLink.key.in_(targets)))))
    if query.after is not None:
        stored, last_id = utc(dt.datetime.fromisoformat(query.after[0])), query.after[1]
        if query.ascending:
            clauses.append(or_(s.stored > stored, and_(s.stored == stored, s.id > last_id)))
        else:
            clauses.append(or_(s.stored < stored, and_(s.stored == stored, s.id < last_id)))
    return clauses


def _criteria(query: StatementQuery, s: Any) -> list[ColumnElement[bool]]:
    """The query's filters on what a statement says (verb, activity, agent, registration)."""
    clauses: list[ColumnElement[bool]] = []
    if query.verb:
        clauses.append(s.verb_id == query.verb)
    if query.activity:
        clauses.append(_linked(s, "related_activity", query.activity)
                       if query.related_activities else s.activity_id == query.activity)
    if query.agent is not None:
        clauses.append(_agent_clause(s, query.agent, query.related_agents))
    if query.registration:
        clauses.append(s.registration == query.registration.lower())
    return clauses


def _linked(s: Any, kind: str, key: str) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], s.id.in_(select(XapiStatementLink.statement_id).where(
        XapiStatementLink.kind == kind, XapiStatementLink.key == key)))


def _agent_clause(s: Any, agent: dict[str, Any], related: bool) -> ColumnElement[bool]:
    """The agent is the actor or the object (or, if ``related``, named anywhere)."""
    key = agent_key(agent)
    if key is None:
        raise StatementRejected("agent: an Agent or identified Group with mbox, "
                                "mbox_sha1sum, openid or account is required")
    if related:
        return _linked(s, "related_agent", key)
    if key.startswith("account:"):
        account = agent["account"]
        actor = and_(s.actor_home_page == account["homePage"],
                     s.actor_account_name == str(account["name"]))
    elif key.startswith("mbox:"):
        actor = s.actor_mbox == agent["mbox"]
    else:
        return _linked(s, "agent", key)
    return or_(actor, _linked(s, "agent", key))


# --- formats ------------------------------------------------------------------------------

def formatted(statement: dict[str, Any], fmt: str, languages: Sequence[str]) -> dict[str, Any]:
    """The statement in the asked format: exact as stored, ids only, or one language."""
    if fmt == "ids":
        return _ids(statement)
    if fmt == "canonical":
        return cast(dict[str, Any], _canonical(statement, list(languages)))
    return statement


def _ids(part: dict[str, Any]) -> dict[str, Any]:
    out = dict(part)
    for name in ("actor", "authority"):
        if name in out:
            out[name] = _agent_ids(out[name])
    out["verb"] = {"id": out["verb"]["id"]}
    obj = out["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "SubStatement":
        out["object"] = _ids(obj)
    elif kind in ("Agent", "Group"):
        out["object"] = _agent_ids(obj)
    elif kind == "Activity":
        out["object"] = {"id": obj["id"]}  # an Activity: only its id
    context = out.get("context")
    if context:
        out["context"] = context = dict(context)
        for name in ("instructor", "team"):
            if name in context:
                context[name] = _agent_ids(context[name])
        if "contextActivities" in context:
            context["contextActivities"] = {
                key: [{"id": a["id"]} for a in (v if isinstance(v, list) else [v])]
                for key, v in context["contextActivities"].items()}
    return out


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    out = {k: agent[k] for k in ("objectType", *IFIS) if k in agent}
    if "member" in agent and not any(k in agent for k in IFIS):
        out["member"] = [_agent_ids(m) for m in agent["member"]]
    return out


def _canonical(value: Any, languages: list[str]) -> Any:
    """Every language map reduced to the best language of ``languages`` (extensions kept)."""
    if isinstance(value, list):
        return [_canonical(v, languages) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "extensions":
            out[key] = item
        elif key in ("display", "name", "description") and isinstance(item, dict) and item:
            out[key] = _one_language(item, languages)
        else:
            out[key] = _canonical(item, languages)
    return out


def _one_language(language_map: dict[str, str], languages: list[str]) -> dict[str, str]:
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in languages:
        for tag_lower, tag in lowered.items():
            if tag_lower == wanted.lower() or tag_lower.split("-")[0] == wanted.lower():
                return {tag: language_map[tag]}
    first = next(iter(language_map))
    return {first: language_map[first]}
