"""The OpenAPI document of the JSON API, generated from the views (flask-smorest), and its page.

- ``/api/openapi.json``: the document (OpenAPI 3.0.3); methodologists and admins may read it,
  as they may call most of the API; anonymous callers get 401 like the rest of ``/api/``.
- ``/api-docs``: Swagger UI for admins, served from this site (the ``swagger-ui-bundle``
  package, Apache License 2.0; schools' networks are closed, so no CDN), started by a static
  script: the Content-Security-Policy stays ``script-src 'self'``.

The API's blueprints are flask-smorest ones registered by :func:`init_app`; errors keep the
app's one renderer (``app.errors``: ``{code, status, message}``), and arguments that fail their
schema answer 422 with the messages of each one in ``errors``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, render_template, send_from_directory
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_smorest import Api
from flask_smorest import Blueprint as ApiBlueprint
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import UnprocessableEntity

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.web.access import allow
from app.web.openapi_schemas import ErrorSchema

F = TypeVar("F", bound=Callable[..., Any])
API_TITLE = "ProfRoute API"
API_VERSION = "1"
OPENAPI_VERSION = "3.0.3"
# Every operation may answer these; a view adds its own (404, 422...) with @bp.alt_response.
COMMON_ERRORS = {400: "The request cannot be read: a NUL character in an argument, a body "
                      "nested too deep or too large (app.web.inputs)",
                 401: "Nobody is signed in (sign in with POST /login first)",
                 403: "The signed-in user's role may not call this operation"}
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")

docs_bp = Blueprint("openapi", __name__, template_folder="templates")


class ProfRouteApi(Api):
    """flask-smorest's ``Api`` that leaves errors to the app's own handlers and serves its
    document through :data:`docs_bp` (with access rules) instead of its own blueprint."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: each operation lists every status it may answer, so a
    # status it does not list is a finding (schemathesis checks it).
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """None: ``app.errors`` renders every error of the app, the API's included."""

    def _register_doc_blueprint(self) -> None:
        """None: :data:`docs_bp` serves the document and the docs page."""


def api_blueprint(name: str, import_name: str, description: str) -> ApiBlueprint:
    """A blueprint of the JSON API: its views are documented, and arguments that fail their
    schema answer 422 naming each one."""
    blueprint = ApiBlueprint(name, import_name, description=description)
    blueprint.register_error_handler(UnprocessableEntity, refused_arguments)
    return blueprint


def refusals(blueprint: ApiBlueprint) -> Callable[[F], F]:
    """Document the refusals every operation of the API may answer: 400, 401 and 403 (a status
    the view documents itself keeps its own description)."""
    def document(view: F) -> F:
        for status, description in COMMON_ERRORS.items():
            own = getattr(view, "_apidoc", {}).get("response", {}).get("responses", {})
            if status in own:
                continue
            view = blueprint.alt_response(status, schema=ErrorSchema,
                                          description=description)(view)
        return view
    return document


def refused_arguments(err: UnprocessableEntity) -> ResponseReturnValue:
    """422 ``{code, status, message, errors}``: which argument was refused and why."""
    messages: dict[str, Any] = getattr(err, "data", {}).get("messages", {})
    named = [f"{name}: {' '.join(str(m) for m in problems)}"
             for where in messages.values() for name, problems in where.items()]
    message = ("Аргументы запроса не приняты — " + "; ".join(named) + ". Какие значения "
               "допустимы, сказано в /api/openapi.json." if named
               else err.description or "Аргументы запроса не приняты.")
    body = {"code": 422, "status": "Unprocessable Entity", "message": message,
            "errors": messages}
    return current_app.json.response(body), 422


def allow_empty_value(_converter: Any, field: Any, ret: dict[str, Any], **_: Any
                      ) -> dict[str, Any]:
    """``allowEmptyValue: true`` on a query parameter whose field's metadata says
    ``allow_empty`` (its schema takes ``?name=`` as absent): the document then admits it."""
    return {"allowEmptyValue": True} if field.metadata.get("allow_empty") else {}


def init_app(app: Flask, blueprints: list[tuple[ApiBlueprint, str]]) -> ProfRouteApi:
    """Register the API's blueprints (each at its URL prefix) in the app and the document,
    and the document's and docs page's views."""
    app.config.setdefault("API_TITLE", API_TITLE)
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", OPENAPI_VERSION)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Deficits, routes and the scoring policy of ProfRoute. "
                                "Sign in first (POST /login, a session cookie); each "
                                "operation says which roles may call it, and what a caller "
                                "sees is narrowed to their scope (others' rows answer 404)."},
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie",
                        "name": app.config["SESSION_COOKIE_NAME"]}}},
        "security": [{"session": []}]})
    api = ProfRouteApi(app)
    api.ma_plugin.converter.add_parameter_attribute_function(allow_empty_value)
    for blueprint, prefix in blueprints:
        api.register_blueprint(blueprint, url_prefix=prefix)
    app.register_blueprint(docs_bp)
    return api


@docs_bp.get("/api/openapi.json")
@allow(METHODOLOGIST, ADMIN)
def openapi_json() -> ResponseReturnValue:
    """The OpenAPI document of the JSON API."""
    api: ProfRouteApi = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    return current_app.response_class(json.dumps(api.spec.to_dict(), ensure_ascii=False),
                                      mimetype="application/json")


@docs_bp.get("/api-docs")
@allow(ADMIN)
def docs_page() -> ResponseReturnValue:
    """Swagger UI over the document (admins)."""
    return render_template("api_docs.html")


@docs_bp.get("/api-docs/swagger-ui/<name>")
@allow(ADMIN)
def swagger_ui_file(name: str) -> ResponseReturnValue:
    """The files of Swagger UI, from the ``swagger-ui-bundle`` package.

    :raise 404: not one of Swagger UI's files the page uses.
    """
    if name not in SWAGGER_FILES:
        abort(404, description=_("Нет файла Swagger UI «%(name)s».", name=name))
    return send_from_directory(str(swagger_ui_path), name)
