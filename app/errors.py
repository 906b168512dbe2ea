"""Every domain error rendered in one place: a page, the API's JSON, or one CLI line.

A domain error is one a person can act on: a setting or policy that breaks a rule, Moodle or
the LRS refusing or not answering, input that cannot be accepted. :func:`problem_of` gives
each its HTTP status and message once; :func:`init_app` renders it for pages and the API, and
the CLI group (``app.cli``) prints the same message in one line and exits 2. The xAPI
endpoint keeps its own handlers: the xAPI specification fixes its error bodies.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from app.i18n import N_
from app.settings import SettingsError
from lms_connectors.exceptions import ConnectorError, MoodleUnavailable
from xapi.exceptions import LRSUnavailable, XAPIError

logger = logging.getLogger(__name__)
# Rendered by the web handler; the CLI also reports a plain ValueError (bad input) this way.
WEB_ERRORS: tuple[type[Exception], ...] = (SettingsError, ConnectorError, XAPIError)
CLI_ERRORS: tuple[type[Exception], ...] = (*WEB_ERRORS, ValueError)

TITLES_RU = {400: N_("Запрос не принят"), 401: N_("Нужен вход"), 403: N_("Нет доступа"),
             404: N_("Не найдено"), 405: N_("Метод не поддерживается"),
             413: N_("Слишком большой запрос"), 422: N_("Данные не приняты"),
             500: N_("Внутренняя ошибка сервера"),
             502: N_("Внешняя система не ответила как нужно"),
             504: N_("Внешняя система не отвечает")}

# What a page says for an HTTP error raised without a message of its own (werkzeug's
# default text is English): what went wrong and what to do.
MESSAGES_RU = {
    400: N_("Запрос не удалось разобрать: проверьте адрес, параметры и данные формы."),
    401: N_("Войдите, чтобы открыть эту страницу."),
    403: N_("У вас нет доступа к этой странице."),
    404: N_("Такой страницы или записи нет: проверьте адрес."),
    405: N_("Этот адрес не принимает такой запрос (метод HTTP)."),
    415: N_("Такой тип данных здесь не принимается."),
    500: N_("Внутренняя ошибка сервера: запрос не выполнен."),
}


@dataclass(frozen=True)
class Problem:
    """What went wrong, as the caller is told: HTTP status, a Russian title, the message."""

    status: int
    message: str

    @property
    def title(self) -> str:
        """The page title (Russian: translated where it is shown)."""
        return TITLES_RU.get(self.status, N_("Ошибка"))

    def as_json(self) -> dict[str, object]:
        """The API's error body ``{code, status, message}``."""
        return {"code": self.status, "status": HTTP_STATUS_CODES.get(self.status, "Error"),
                "message": self.message}


def problem_of(err: BaseException) -> Problem:
    """The status and message of an error: settings and bad input 400, an upstream system
    that did not answer 504, one that refused 502, an HTTP error its own code."""
    if isinstance(err, HTTPException):
        return Problem(err.code or 500, err.description or err.name)
    if isinstance(err, MoodleUnavailable | LRSUnavailable):
        return Problem(504, str(err))
    if isinstance(err, ConnectorError | XAPIError):
        return Problem(502, str(err))
    if isinstance(err, ValueError):  # SettingsError included
        return Problem(400, str(err))
    return Problem(500, "internal error")


def wants_json() -> bool:
    """API requests get JSON; pages get the error page."""
    return request.blueprint == "api" or request.path.startswith("/api/")


def render_problem(err: Exception) -> ResponseReturnValue:
    """Render a domain or HTTP error for the page or API that raised it."""
    problem = problem_of(err)
    if wants_json():
        return jsonify(problem.as_json()), problem.status
    message = problem.message
    if isinstance(err, HTTPException) and err.description == type(err).description:
        message = _(MESSAGES_RU[problem.status]) if problem.status in MESSAGES_RU else message
    elif isinstance(err, SettingsError) and err.for_admins and not _admin():
        message = _setup_problem(err)
    return render_template("error.html", title=_(problem.title), message=message), problem.status


def _admin() -> bool:
    """Whether the signed-in user is an administrator (who may read settings' details)."""
    access = getattr(current_user, "access", None)
    has = getattr(access, "has", None)
    return bool(has and has("admin"))


def _setup_problem(err: SettingsError) -> str:
    """What a methodologist or teacher reads of a settings error: no variable names, file
    paths or values, a reference for the administrator, who finds the details in the log."""
    reference = uuid.uuid4().hex[:12]
    logger.warning("settings error %s on %s %s: %s", reference, request.method, request.path,
                   err)
    return _("ProfRoute настроен не полностью или с ошибкой (код %(reference)s), поэтому "
             "страница не может быть построена. Сообщите код администратору: подробности — в "
             "журнале и на странице «Настройки подключений».", reference=reference)


def render_internal_error(err: InternalServerError) -> ResponseReturnValue:
    """An unexpected error: logged with its traceback under a reference; the answer says
    only that reference, never the error's text or where it happened."""
    reference = uuid.uuid4().hex[:12]
    cause = err.original_exception or err
    logger.error("internal error %s on %s %s", reference, request.method, request.path,
                 exc_info=(type(cause), cause, cause.__traceback__))
    message = _("Внутренняя ошибка сервера (код %(reference)s): запрос не выполнен. "
                "Сообщите этот код администратору ProfRoute — по нему он найдёт подробности "
                "в журнале.", reference=reference)
    problem = Problem(500, message)
    if wants_json():
        return jsonify(problem.as_json()), 500
    return render_template("error.html", title=_(problem.title), message=message), 500


def init_app(app: Flask) -> None:
    """Register the one handler for domain errors and HTTP errors (4xx, 5xx); an unexpected
    error is logged and answered without any of its details."""
    for kind in (*WEB_ERRORS, HTTPException):
        app.register_error_handler(kind, render_problem)
    app.register_error_handler(InternalServerError, render_internal_error)
