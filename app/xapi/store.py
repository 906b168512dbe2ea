"""ProfRoute as an LRS: validate, store, void and query the statements Moodle sends.

Statements are validated with Ralph's xAPI models (``ralph.models.xapi``), a whole batch in
one pass and one transaction: one rejected statement rejects the batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy import false, insert, select, text, update

from app.extensions import db
from app.models.xapi import IRI_LENGTH, LrsCredential, XapiStatement, XapiStatementLink
from app.xapi.schema import Statement

logger = logging.getLogger(__name__)

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERSION_RE = re.compile(r"^(1\.0|2\.0)(\.\d+)?$")  # "1.0" or "1.0.x" (Data 2.4.10)
WRITERS_LOCK = 0x78415049  # "xAPI": the advisory lock key of the endpoint's writers
STATEMENT_REF = "statement_ref"  # link kind: the statement a StatementRef object targets
UNSET = frozenset({"stored", "authority", "version"})  # set by the LRS, not compared
_NOISE = frozenset({"missing", "extra_forbidden", "literal_error"})


class XapiStoreError(Exception):
    """Raised when the LRS refuses a request; ``code`` is the HTTP status to answer."""

    code = 400

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class StatementRejected(XapiStoreError):
    """Raised when a statement or a request is not valid xAPI."""


class StatementConflict(XapiStoreError):
    """Raised when a statement id is already stored with another body."""

    code = 409


class StatementNotFound(XapiStoreError):
    """Raised when no (voided, if asked) statement has the id."""

    code = 404


def utc(value: dt.datetime) -> dt.datetime:
    """The instant in UTC; a naive value (as SQLite gives back) is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iso(value: dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as ``stored`` is answered."""
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def authority_of(credential: LrsCredential) -> dict[str, Any]:
    """The authority set on every statement the credential stores."""
    return {"objectType": "Agent", "name": credential.name,
            "account": {"homePage": credential.site_url, "name": credential.key}}


# --- validation ---------------------------------------------------------------------------

def validate(statements: list[Any]) -> list[Statement]:
    """Validate every statement of a batch; the first invalid one rejects the batch.

    :raise StatementRejected: which statement, which field and why.
    """
    models = []
    seen: set[str] = set()
    for index, raw in enumerate(statements):
        if not isinstance(raw, dict):
            raise _rejected(index, "", "a statement must be a JSON object")
        version = raw.get("version")
        if version is not None and not VERSION_RE.match(str(version)):
            raise _rejected(index, "version", f"unsupported xAPI version {version!r}")
        try:
            model = Statement.model_validate(
                {k: v for k, v in raw.items() if k != "version"})
        except ValidationError as err:
            reasons = _reasons(index, err)
            first = reasons[0]
            raise StatementRejected(
                f"statement {index}: {first['field']}: {first['reason']}", reasons) from err
        _check_semantics(index, raw, model, seen)
        models.append(model)
    return models


def _check_semantics(index: int, raw: dict[str, Any], model: Statement,
                     seen: set[str]) -> None:
    """What the models leave out: voiding shape, ids unique in a batch, indexable lengths,
    a timestamp that exists in UTC."""
    if model.id is not None:
        if str(model.id) in seen:
            raise _rejected(index, "id", f"id {model.id} appears twice in the batch")
        seen.add(str(model.id))
    if raw["verb"].get("id") == VOIDED and raw["object"].get("objectType") != "StatementRef":
        raise _rejected(index, "object.objectType", "a voiding statement must void a StatementRef")
    for field, value in (("verb.id", raw["verb"].get("id")),
                         ("object.id", raw["object"].get("id"))):
        if isinstance(value, str) and len(value) > IRI_LENGTH:
            raise _rejected(index, field, f"longer than {IRI_LENGTH} characters")
    if model.timestamp is not None:
        try:
            utc(model.timestamp)
        except OverflowError:
            raise _rejected(index, "timestamp", "outside the years 1–9999 once in UTC"
                            ) from None


def _rejected(index: int, field: str, reason: str) -> StatementRejected:
    detail = {"statement": index, "field": field, "reason": reason}
    return StatementRejected(f"statement {index}: {field or 'statement'}: {reason}", [detail])


def _reasons(index: int, err: ValidationError) -> list[dict[str, Any]]:
    """The few errors that say what is wrong, not every branch of every union that failed."""
    errors = err.errors(include_url=False)
    wrong = {_branch(e["loc"]) for e in errors if e["type"] == "literal_error"}
    kept = [e for e in errors if _branch(e["loc"]) not in wrong] or errors
    kept = [e for e in kept if e["type"] not in _NOISE] or kept
    out: list[dict[str, Any]] = []
    for error in kept:
        reason = error["msg"].removeprefix("Value error, ")
        item = {"statement": index, "field": _field(error["loc"]), "reason": reason}
        if item not in out:
            out.append(item)
    return out[:5]


def _is_model(part: object) -> bool:
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or part == "str")


def _branch(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location up to its last union branch (a model name in Pydantic's loc)."""
    cut = max((i for i, part in enumerate(loc) if _is_model(part)), default=-1)
    return tuple(loc[:cut + 1])


def _field(loc: tuple[Any, ...]) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if not _is_model(p)]
    return "".join(parts).lstrip(".")


# --- storage ------------------------------------------------------------------------------

def store_statements(statements: list[Any], credential: LrsCredential, version: str,
                     statement_id: str | None = None,
                     on_valid: Callable[[list[Any]], None] | None = None) -> list[str]:
    """Validate and store a batch in one transaction; answer the ids in the batch's order.

    A statement already stored with the same body is accepted again without change.

    Args:
        statements: the statements as received (JSON objects).
        credential: who sends them; sets ``authority``.
        version: the request's X-Experience-API-Version, the default statement version.
        statement_id: the PUT's ``statementId``, which the statement must carry or take.
        on_valid: called with the statements once valid, before they are stored, in the
            same transaction (the attachments' checks and data).

    :raise StatementRejected: a statement is invalid (400); nothing is stored.
    :raise StatementConflict: an id is stored with another body (409); nothing is stored.
    """
    if statement_id is not None:
        statements = [_with_put_id(statements[0], statement_id)]
    statements = [normalised(raw) for raw in statements]
    models = validate(statements)
    if on_valid is not None:
        on_valid(statements)
    _lock_writers()
    rows = [_row(raw, model, _now_ms(), credential, version)
            for raw, model in zip(statements, models, strict=True)]
    return _insert(rows)


def _now_ms() -> dt.datetime:
    """Now, to the millisecond, as ``stored`` is answered."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _lock_writers() -> None:
    """Serialise the endpoint's writers until this transaction ends.

    ``stored`` is taken after the lock and the batch commits before the next writer takes
    its own, so statements become visible in ``stored`` order: a pull that has read up to
    some ``stored`` never sees an earlier one appear later. On PostgreSQL a transaction-level
    advisory lock; on SQLite the database's write lock, taken by a write that changes nothing.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITERS_LOCK})
    else:
        session.execute(update(XapiStatement).where(false()).values(voided=False))


def normalised(raw: Any) -> Any:
    """The statement with each single context activity turned into a list of one, in the
    statement and its sub-statement, as the LRS stores and answers it (Data 2.4.6.2)."""
    if not isinstance(raw, dict):
        return raw
    out = {**raw, "context": _context_lists(raw.get("context"))} if "context" in raw else raw
    obj = out.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement" and "context" in obj:
        out = {**out, "object": {**obj, "context": _context_lists(obj["context"])}}
    return out


def _context_lists(context: Any) -> Any:
    activities = context.get("contextActivities") if isinstance(context, dict) else None
    if not isinstance(activities, dict):
        return context
    return {**context, "contextActivities": {
        key: [value] if isinstance(value, dict) else value for key, value in activities.items()}}


def _with_put_id(raw: Any, statement_id: str) -> Any:
    try:
        wanted = str(uuid.UUID(statement_id))
    except ValueError as err:
        raise StatementRejected(f"statementId is not a UUID: {statement_id}") from err
    if not isinstance(raw, dict):
        raise _rejected(0, "", "a statement must be a JSON object")
    if "id" in raw and str(raw["id"]).lower() != wanted:
        raise _rejected(0, "id", f"differs from statementId {wanted}")
    return {**raw, "id": wanted}


def _insert(rows: list[dict[str, Any]]) -> list[str]:
    """Insert the new rows, skip the identical resends, apply voiding; commit."""
    ids = [row["id"] for row in rows]
    known = dict(db.session.execute(
        select(XapiStatement.id, XapiStatement.digest).where(XapiStatement.id.in_(ids))).all())
    fresh = []
    for index, row in enumerate(rows):
        if row["id"] not in known:
            fresh.append(row)
        elif known[row["id"]] != row["digest"]:
            db.session.rollback()
            raise StatementConflict(
                f"statement {index}: id {row['id']} is already stored with another body",
                [{"statement": index, "field": "id", "reason": "stored with another body"}])
    if fresh:
        links = [link for row in fresh for link in row["links"]]
        db.session.execute(insert(XapiStatement), [
            {k: v for k, v in row.items() if k != "links"} for row in fresh])
        if links:
            db.session.execute(insert(XapiStatementLink), links)
        _apply_voiding(fresh)
    db.session.commit()
    logger.info("xAPI: %d statements stored, %d already there", len(fresh), len(rows) - len(fresh))
    return ids


def _apply_voiding(fresh: list[dict[str, Any]]) -> None:
    """Void the targets of new voiding statements, and new statements voided beforehand."""
    targets = {row["voiding_target"] for row in fresh if row["voiding_target"]}
    plain = [row["id"] for row in fresh if not row["voiding_target"]]
    if plain:
        targets.update(db.session.scalars(select(XapiStatement.voiding_target).where(
            XapiStatement.voiding_target.in_(plain))))
    if targets:  # a voiding statement itself is never voided
        db.session.execute(update(XapiStatement).where(
            XapiStatement.id.in_(targets), XapiStatement.voiding_target.is_(None),
        ).values(voided=True))


def _row(raw: dict[str, Any], model: Statement, stored: dt.datetime,
         credential: LrsCredential, version: str) -> dict[str, Any]:
    """The table row of a validated statement, its JSON completed as the LRS answers it."""
    timestamp = utc(model.timestamp) if model.timestamp else stored
    statement_id = str(model.id) if model.id else str(uuid.uuid4())
    statement = {**raw, "id": statement_id, "timestamp": raw.get("timestamp") or iso(stored),
                 "stored": iso(stored), "authority": authority_of(credential),
                 "version": raw.get("version") or ("2.0.0" if version[0] == "2" else "1.0.0")}
    actor, obj = raw["actor"], raw["object"]
    account = actor.get("account") or {}
    context = raw.get("context") or {}
    is_voiding = raw["verb"]["id"] == VOIDED
    return {
        "id": statement_id, "stored": stored, "timestamp": timestamp,
        "verb_id": raw["verb"]["id"],
        "activity_id": obj["id"] if obj.get("objectType", "Activity") == "Activity" else None,
        "actor_home_page": account.get("homePage"), "actor_account_name": account.get("name"),
        "actor_mbox": actor.get("mbox"),
        "registration": str(context["registration"]).lower() if "registration" in context
        else None,
        "voided": False, "voiding_target": str(uuid.UUID(obj["id"])) if is_voiding else None,
        "digest": digest(raw, timestamp if model.timestamp else None),
        "statement": statement, "credential_id": credential.id,
        "links": [{"statement_id": statement_id, "kind": kind, "key": key}
                  for kind, key in sorted(set(_links(statement))) if len(key) <= IRI_LENGTH],
    }


def digest(raw: dict[str, Any], timestamp: dt.datetime | None) -> str:
    """Hash of the statement as compared for conflicts: LRS-set properties left out,
    the timestamp as a UTC instant, the registration in lower case."""
    body = {k: v for k, v in raw.items() if k not in UNSET and k != "id"}
    if timestamp is not None:
        body["timestamp"] = utc(timestamp).isoformat()
    if isinstance(body.get("context"), dict) and "registration" in body["context"]:
        body["context"] = {**body["context"],
                           "registration": str(body["context"]["registration"]).lower()}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def agent_key(agent: Any) -> str | None:
    """An agent's or identified group's inverse functional identifier as one string."""
    if not isinstance(agent, dict):
        return None
    account = agent.get("account")
    if isinstance(account, dict) and account.get("homePage") and account.get("name"):
        return f"account:{account['homePage']} {account['name']}"
    for ifi in ("mbox", "mbox_sha1sum", "openid"):
        if agent.get(ifi):
            return f"{ifi}:{agent[ifi]}"
    return None


def _links(statement: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, key) of the agents and activities the statement names, for the filters."""
    actor, obj = statement["actor"], statement["object"]
    if obj.get("objectType") == "StatementRef":
        yield STATEMENT_REF, str(obj["id"]).lower()
    if obj.get("objectType") in ("Agent", "Group") and agent_key(obj):
        yield "agent", str(agent_key(obj))
    if not (actor.get("account") or actor.get("mbox")) and agent_key(actor):
        yield "agent", str(agent_key(actor))
    parts = [statement]
    if obj.get("objectType") == "SubStatement":
        parts.append(obj)
    agents = [statement["authority"]]
    for part in parts:
        context = part.get("context") or {}
        agents += [part["actor"], part["object"], context.get("instructor"), context.get("team")]
        if part["object"].get("objectType", "Activity") == "Activity":
            yield "related_activity", part["object"]["id"]
        for activities in (context.get("contextActivities") or {}).values():
            for activity in activities if isinstance(activities, list) else [activities]:
                yield "related_activity", activity["id"]
    for agent in agents:
        key = agent_key(agent)
        if key:
            yield "related_agent", key
