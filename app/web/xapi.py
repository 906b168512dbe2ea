"""The xAPI Statements resource: the endpoint Moodle's xAPI log store sends statements to."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import Authorization, Headers, MultiDict
from werkzeug.exceptions import HTTPException

from app.common.inputs import load_json
from app.web.access import PUBLIC, blueprint_rule
from app.xapi import attachments
from app.xapi.credentials import NotAuthenticated, authenticate
from app.xapi.query import (
    StatementQuery,
    consistent_through,
    get_statement,
    query_statements,
)
from app.xapi.store import StatementRejected, XapiStoreError, iso, store_statements

bp = Blueprint("xapi", __name__)
# Moodle's log store sends with its own HTTP basic credentials (checked below), never a session.
blueprint_rule(bp, PUBLIC)

VERSIONS = ("1.0.3", "2.0.0")
VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_HEADER = "X-Experience-API-Consistent-Through"
_VERSION_RE = re.compile(r"^(1\.0|2\.0)(\.\d+)?$")
FORM_HEADERS = ("Authorization", "X-Experience-API-Version", "Content-Type", "Content-Length",
                "If-Match", "If-None-Match")  # form fields that stand for headers
_SINGLE = {"statementId", "voidedStatementId", "format", "attachments"}
_QUERY = {"since", "until", "verb", "activity", "agent", "registration", "related_activities",
          "related_agents", "limit", "ascending", "format", "attachments"}


@bp.before_request
def authenticate_and_negotiate() -> None:
    """Every resource but /about needs a site's credential and a supported xAPI version.

    :raise 401: no credential, or a wrong or inactive one.
    :raise 400: the X-Experience-API-Version header is missing or not supported.
    """
    if request.endpoint == "xapi.about":
        return
    g.xapi_request = _alternate_request() if "method" in request.args else XapiRequest(
        request.method, request.args, request.headers,
        request.get_data(cache=False) if request.method in ("POST", "PUT") else b"")
    headers = g.xapi_request.headers
    version = headers.get(VERSION_HEADER, "").strip()
    supported = bool(_VERSION_RE.match(version))
    g.xapi_version = VERSIONS[1] if supported and version.startswith("2") else VERSIONS[0]
    auth = Authorization.from_header(headers.get("Authorization"))
    g.lrs_credential = authenticate(auth.username if auth else None,
                                    auth.password if auth else None)
    if not supported:
        raise StatementRejected(
            f"{VERSION_HEADER} {version!r} is not supported (supported: {', '.join(VERSIONS)})"
            if version else f"the {VERSION_HEADER} header is required")


@dataclass(frozen=True)
class XapiRequest:
    """A request to the Statement resource as sent, or as an Alternate Request Syntax POST
    stands for it (Communication 1.3): its method, parameters, headers and body."""

    method: str
    args: MultiDict[str, str]
    headers: Headers
    body: bytes

    @property
    def mimetype(self) -> str:
        """The body's media type, without its parameters."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()


def _alternate_request() -> XapiRequest:
    """The request a ``POST ?method=…`` form stands for (xAPI 1.0.3, Communication 1.3).

    :raise 400: not a POST, other query parameters, not a form, or an unknown method.
    """
    method = request.args["method"].upper()
    if request.method != "POST" or set(request.args) != {"method"}:
        raise StatementRejected("the alternate request syntax is a POST with only the method "
                                "parameter in its query")
    if request.mimetype != "application/x-www-form-urlencoded":
        raise StatementRejected("the alternate request syntax sends a form "
                                "(application/x-www-form-urlencoded)")
    if method not in ("GET", "PUT", "POST"):
        raise StatementRejected(f"method {method} is not allowed on statements")
    form = request.form
    headers = Headers([(k, v) for k, v in request.headers.items()
                       if k.lower() not in ("content-type", "content-length")])
    for name in FORM_HEADERS:
        if name in form:
            headers[name] = form[name]
    headers.setdefault("Content-Type", "application/json")
    args = MultiDict([(k, v) for k, v in form.items(multi=True)
                      if k not in FORM_HEADERS and k != "content"])
    return XapiRequest(method, args, headers, form.get("content", "").encode())


@bp.after_request
def version_header(response: Response) -> Response:
    """Every answer says the xAPI version it speaks; every GET of statements, whatever its
    status (a refusal, a 404 included), says how far its answers are consistent."""
    response.headers[VERSION_HEADER] = (
        VERSIONS[-1] if request.endpoint == "xapi.about" else g.get("xapi_version", VERSIONS[0]))
    sent = g.get("xapi_request")
    method = sent.method if sent is not None else request.method
    if request.endpoint != "xapi.about" and method == "GET" \
            and CONSISTENT_HEADER not in response.headers:
        response.headers[CONSISTENT_HEADER] = iso(consistent_through())
    return response


@bp.get("/about")
def about() -> ResponseReturnValue:
    """The xAPI versions this LRS speaks (no credential needed)."""
    return jsonify({"version": list(VERSIONS)})


@bp.post("/statements")
def post_statements() -> ResponseReturnValue:
    """Store one statement or a list; answer the list of their ids.

    :raise 400: invalid JSON or statement (which one, which field, why); nothing stored.
    :raise 409: a statement id is already stored with another body; nothing stored.
    """
    method = g.xapi_request.method
    if method != "POST":
        return get_statements() if method == "GET" else put_statement()
    body, parts = _statements_body()
    statements = body if isinstance(body, list) else [body]
    if not statements:
        raise StatementRejected("the request holds no statement")
    return jsonify(store_statements(statements, g.lrs_credential, g.xapi_version,
                                    on_valid=attachments.receiver(parts)))


@bp.put("/statements")
def put_statement() -> ResponseReturnValue:
    """Store one statement under ``statementId``; 204 (also when it was stored already).

    :raise 400: no statementId, invalid JSON or statement.
    :raise 409: the id is already stored with another body.
    """
    statement_id = g.xapi_request.args.get("statementId")
    if not statement_id:
        raise StatementRejected("PUT needs the statementId parameter")
    body, parts = _statements_body()
    store_statements([body], g.lrs_credential, g.xapi_version, statement_id,
                     on_valid=attachments.receiver(parts))
    return Response(status=204)


@bp.get("/statements")
def get_statements() -> ResponseReturnValue:
    """One statement (statementId, voidedStatementId) or a page of a query, newest first.

    :raise 400: unknown or malformed parameter, or a `more` token this LRS did not give.
    :raise 404: no such statement (a voided one only answers to voidedStatementId).
    """
    args = g.xapi_request.args
    languages = [tag for tag, _ in request.accept_languages]
    if "statementId" in args or "voidedStatementId" in args:
        _only(args, _SINGLE, "with statementId or voidedStatementId")
        if "statementId" in args and "voidedStatementId" in args:
            raise StatementRejected("give statementId or voidedStatementId, not both")
        voided = "voidedStatementId" in args
        statement = get_statement(args["voidedStatementId" if voided else "statementId"],
                                  voided, args.get("format", "exact"), languages)
        return _answer(statement, [statement], _flag(args, "attachments"))
    query = StatementQuery.from_cursor(args["more"]) if "more" in args else _query(args)
    page = query_statements(query, languages)
    more = url_for(".get_statements", more=page.more) if page.more else ""
    response = _answer({"statements": page.statements, "more": more}, page.statements,
                       _flag(args, "attachments"))
    response.headers[CONSISTENT_HEADER] = iso(page.consistent_through)
    return response


def _answer(body: Any, statements: list[dict[str, Any]], with_attachments: bool) -> Response:
    """JSON, or with ``attachments=true`` multipart/mixed: the JSON, then the data."""
    if not with_attachments:
        return jsonify(body)
    data, content_type = attachments.multipart_answer(body, statements)
    return Response(data, content_type=content_type)


@bp.errorhandler(XapiStoreError)
def xapi_error(err: XapiStoreError) -> ResponseReturnValue:
    """Refusals as {code, status, message, errors}; 401 asks for basic credentials."""
    response = _error(err.code, str(err), err.errors)
    if isinstance(err, NotAuthenticated):
        response.headers["WWW-Authenticate"] = 'Basic realm="ProfRoute xAPI"'
    return response


@bp.errorhandler(HTTPException)
def http_error(err: HTTPException) -> ResponseReturnValue:
    """Werkzeug's errors in the same shape."""
    return _error(err.code or 500, err.description or "", [])


def _error(code: int, message: str, errors: list[dict[str, Any]]) -> Response:
    body: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    return response


def _statements_body() -> tuple[Any, dict[str, attachments.Part]]:
    """The request's statements (JSON) and, from a multipart/mixed request, the attachments'
    data by hash.

    :raise 400: not JSON, or a malformed or other multipart request.
    """
    sent = g.xapi_request
    if sent.mimetype == "multipart/mixed":
        return attachments.parse_multipart(sent.headers["Content-Type"], sent.body)
    if sent.mimetype.startswith("multipart/"):
        raise StatementRejected("statements with attachments are sent as multipart/mixed")
    try:
        return load_json(sent.body or b"null"), {}
    except ValueError as err:
        raise StatementRejected(f"the body is not JSON: {err}") from err


def _only(args: MultiDict[str, str], allowed: set[str], where: str) -> None:
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise StatementRejected(f"parameters not allowed {where}: {', '.join(unknown)}")


def _query(args: MultiDict[str, str]) -> StatementQuery:
    """The query's filters, checked one by one.

    :raise 400: an unknown parameter or a malformed value.
    """
    _only(args, _QUERY, "in a statements query")
    agent = None
    if "agent" in args:
        try:
            agent = load_json(args["agent"])
        except ValueError as err:
            raise StatementRejected("agent must be a JSON Agent or Group") from err
        if not isinstance(agent, dict):
            raise StatementRejected("agent must be a JSON Agent or Group")
    return StatementQuery(
        since=_time(args, "since"), until=_time(args, "until"), verb=args.get("verb"),
        activity=args.get("activity"), agent=agent, registration=args.get("registration"),
        related_activities=_flag(args, "related_activities"),
        related_agents=_flag(args, "related_agents"), limit=_limit(args),
        ascending=_flag(args, "ascending"), format=args.get("format", "exact"))


def _time(args: MultiDict[str, str], name: str) -> dt.datetime | None:
    if name not in args:
        return None
    try:
        value = dt.datetime.fromisoformat(args[name])
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as err:  # Overflow: beyond year 1–9999 in UTC
        raise StatementRejected(f"{name} is not an ISO 8601 time: {args[name]}") from err


def _flag(args: MultiDict[str, str], name: str) -> bool:
    value = args.get(name, "false").lower()
    if value not in ("true", "false"):
        raise StatementRejected(f"{name} must be true or false")
    return value == "true"


def _limit(args: MultiDict[str, str]) -> int:
    try:
        limit = int(args.get("limit", "0"))
    except ValueError as err:
        raise StatementRejected("limit must be a non-negative integer") from err
    if limit < 0:
        raise StatementRejected("limit must be a non-negative integer")
    return limit
