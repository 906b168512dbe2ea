"""Flask app factory of the Moodle sandbox: the REST endpoint and the test hooks."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from lms_connectors.moodle.functions import ROLE_CAPABILITIES

from . import access, errors, protocol
from .context import Context
from .errors import MoodleError
from .functions import (
    HANDLERS,
    KNOWN_MOODLE_FUNCTIONS,
    PARAMETERS,
    SERVED,
    SERVED_WITHOUT_PLUGIN,
)
from .hooks import Controls, hooks
from .seed import generate
from .store import Site

logger = logging.getLogger(__name__)

LIMITED_FUNCTIONS = ("core_webservice_get_site_info",)
# The plugin's role (what the main token holds), and what the recordings' ws_limited held.
PLUGIN_ROLE: frozenset[str] = frozenset(ROLE_CAPABILITIES)
LIMITED_CAPABILITIES: frozenset[str] = frozenset({"webservice/rest:use"})
_HTML_PAGE = ("<!DOCTYPE html><html><head><title>Site under maintenance</title></head><body>"
              "<h1>This site is undergoing maintenance and is currently not available</h1>"
              "</body></html>")


@dataclass
class TokenInfo:
    """What one token may do: its service's functions and its user's role.

    ``capabilities`` is a set a test may change while the app runs (a role edited by an
    administrator); ``app.extensions["moodle_sandbox_tokens"]`` holds every token's info.
    """

    userid: int
    functions: tuple[str, ...]
    capabilities: set[str] = field(default_factory=lambda: set(PLUGIN_ROLE))
    privatekey: str = field(default_factory=lambda: secrets.token_hex(16), repr=False)


@dataclass(frozen=True)
class TokenRole:
    """A further token for ``create_app(tokens=...)``: the whole service, a chosen role.

    Attributes:
        capabilities: What the token's user holds (e.g. the plugin role less one).
        limited_user: Owned by the limited user instead of the main WS user.
    """

    capabilities: Iterable[str]
    limited_user: bool = False


def create_app(token: str, *, limited_token: str | None = None, site: Site | None = None,
               seed: int = 2026, teachers: int = 180, grade_items: bool = True,
               limited_functions: Iterable[str] = LIMITED_FUNCTIONS,
               timeout_seconds: float = 30.0, plugin: bool = True,
               capabilities: Iterable[str] = PLUGIN_ROLE,
               tokens: Mapping[str, TokenRole] | None = None) -> Flask:
    """Create the sandbox app.

    Args:
        token: The service token (all served functions); also guards ``/_sandbox/``.
        limited_token: Optional second token whose service has only ``limited_functions``.
        site: A prepared site; generated from ``seed`` and ``teachers`` when omitted.
        seed: Seed of the demo data.
        teachers: Number of seeded teachers.
        grade_items: False seeds a quiz without grade items (per-slot marks only).
        limited_functions: Functions of the limited token's service.
        timeout_seconds: How long a ``timeout`` fault stalls a call.
        plugin: False plays a Moodle without the ProfRoute plugin: its functions are
            neither in site info nor known (answered like any unknown function).
        capabilities: The role of the main token's user: the plugin's role by default.
            The limited token holds ``LIMITED_CAPABILITIES`` (only ``webservice/rest:use``).
            A role lacking a capability is refused where Moodle refuses, and answered
            short where Moodle answers short without an error (separate groups, hidden
            courses, user details: users.py, courses.py, views.py).
        tokens: Further tokens, each with the whole service and its own role.

    Returns:
        The Flask app; ``app.extensions["moodle_sandbox"]`` holds the site and controls.
    """
    if not token:
        raise ValueError("the sandbox needs a non-empty token")
    site = site if site is not None else generate(seed=seed, teachers=teachers,
                                                        grade_items=grade_items)
    service = SERVED if plugin else SERVED_WITHOUT_PLUGIN
    infos = {token: TokenInfo(site.ws_userid, service, set(capabilities))}
    if limited_token:
        infos[limited_token] = TokenInfo(site.limited_userid, tuple(limited_functions),
                                         set(LIMITED_CAPABILITIES))
    for key, chosen in (tokens or {}).items():
        owner = site.limited_userid if chosen.limited_user else site.ws_userid
        infos[key] = TokenInfo(owner, service, set(chosen.capabilities))
    controls = Controls(site=site, token=token, timeout_seconds=timeout_seconds)
    app = Flask(__name__)
    app.extensions["moodle_sandbox"] = controls
    app.extensions["moodle_sandbox_tokens"] = infos
    app.register_blueprint(hooks)
    known = KNOWN_MOODLE_FUNCTIONS | frozenset(SERVED if plugin else SERVED_WITHOUT_PLUGIN)

    @app.route("/webservice/rest/server.php", methods=["GET", "POST"])
    def server() -> Response:
        return _serve(controls, infos, known)

    return app


def _serve(controls: Controls, tokens: dict[str, TokenInfo], known: frozenset[str]) -> Response:
    started = time.perf_counter()
    response = _answer_call(controls, tokens, known)
    controls.delay(started)
    return response


def _answer_call(controls: Controls, tokens: dict[str, TokenInfo],
                 known: frozenset[str]) -> Response:
    pairs = list(request.args.items(multi=True)) + list(request.form.items(multi=True))
    fields = dict(pairs)
    as_json = fields.get("moodlewsrestformat") == "json"
    function = fields.get("wsfunction", "")
    reserved = ("wstoken", "wsfunction", "moodlewsrestformat")
    params = protocol.decode_form((k, v) for k, v in pairs if k not in reserved)
    controls.count(function)
    try:
        info = tokens.get(fields.get("wstoken", ""))
        if info is None:
            raise errors.invalid_token()
        _check_function(function, info, known)
        fault = controls.take_fault(function)
        if fault is not None:
            return _fault(fault, controls)
        result = _call(controls.site, function, params, info)
    except MoodleError as error:
        outcome = error.body.get("errorcode", error.body["exception"])
        logger.info("Sandbox %s -> %s", function, outcome)
        body = protocol.error_json(error) if as_json else protocol.error_xml(error)
        return _answer(body, as_json)
    return _answer(protocol.to_json(result) if as_json else protocol.to_xml(result), as_json)


def _check_function(function: str, info: TokenInfo, known: frozenset[str]) -> None:
    if function not in known:
        raise errors.unknown_function()
    if function not in info.functions:
        raise errors.access_exception()


def _call(site: Site, function: str, params: dict[str, Any], info: TokenInfo) -> Any:
    cleaned = protocol.validate(PARAMETERS[function], params)
    host = request.host_url.rstrip("/")
    ctx = Context(site=site, userid=info.userid, functions=info.functions, siteurl=host,
                  privatekey=info.privatekey, capabilities=frozenset(info.capabilities))
    access.check(function, ctx, cleaned)
    return HANDLERS[function](ctx, cleaned)


def _fault(mode: str, controls: Controls) -> Response:
    logger.info("Sandbox injected fault %s", mode)
    if mode == "http500":
        return Response("<h1>500 Internal Server Error</h1>", status=500, mimetype="text/html")
    if mode == "html":
        return Response(_HTML_PAGE, status=200, mimetype="text/html")
    if mode == "timeout":
        time.sleep(controls.timeout_seconds)
        return Response("", status=504, mimetype="text/plain")
    if mode == "nopermissions":  # as recorded: error_missing_capability.json
        return _answer(protocol.error_json(errors.no_permission("Review course enrolments")),
                       True)
    return _answer(protocol.error_json(errors.invalid_token()), True)


def _answer(body: str, as_json: bool) -> Response:
    if as_json:
        return Response(body, status=200, mimetype="application/json")
    return Response(body, status=200, content_type="application/xml; charset=utf-8")


__all__ = ["LIMITED_CAPABILITIES", "PLUGIN_ROLE", "TokenRole", "create_app"]
