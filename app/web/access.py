"""Who may call each view: declared once per view (``@allow``, ``@public``) or per blueprint
(``blueprint_rule``), checked before every request. A view without a rule is refused (fail
closed), and ``tests/app/test_access_map.py`` fails for it.

Anonymous callers of a closed view get the sign-in page (pages) or 401 JSON (``/api/``); a
signed-in caller without the role gets 403. What a permitted caller then sees is narrowed by
the scope of :func:`current_scope` (cross-scope reads answer 404, as for a missing row).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.accounts.roles import ADMIN, METHODOLOGIST, ROLE_RU, ROLES, Access, Scope
from app.extensions import login_manager
from app.i18n import N_

logger = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
_ATTRIBUTE = "profroute_access_rule"
NO_ACCESS = Access()


@dataclass(frozen=True)
class Rule:
    """Who may call a view: anyone (``public``), or a signed-in holder of one of ``roles``;
    with ``region`` a methodologist must hold the whole region (an admin always does)."""

    public: bool = False
    roles: frozenset[str] = frozenset()
    region: bool = False

    def permits(self, access: Access) -> bool:
        """Whether a signed-in user with ``access`` may call the view."""
        if not access.has(*self.roles):
            return False
        return not self.region or access.has(ADMIN) or access.scope.region

    def describe(self) -> str:
        """The rule in words, for logs and tests."""
        if self.public:
            return "public"
        return " | ".join(sorted(self.roles)) + (" (whole region)" if self.region else "")


PUBLIC = Rule(public=True)
_BLUEPRINT_RULES: dict[str, Rule] = {}
# Flask's own endpoint for the static folder has no view of ours to decorate.
_BUILT_IN = {"static": PUBLIC}


def allow(*roles: str, region: bool = False) -> Callable[[F], F]:
    """Let signed-in holders of ``roles`` call the view (``region``: methodologists only of
    the whole region). It only marks the view function, so its place among the route
    decorators does not matter.

    :raise ValueError: an unknown role (at import time).
    """
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"@allow needs roles among {ROLES}, got {roles!r}")

    def mark(view: F) -> F:
        setattr(view, _ATTRIBUTE, Rule(roles=frozenset(roles), region=region))
        return view
    return mark


def public(view: F) -> F:
    """Let anyone call the view, signed in or not (sign-in, health check, LTI, xAPI)."""
    setattr(view, _ATTRIBUTE, PUBLIC)
    return view


def blueprint_rule(bp: Blueprint, rule: Rule) -> None:
    """The rule of every view of ``bp`` that declares none of its own."""
    _BLUEPRINT_RULES[bp.name] = rule


def rule_of(app: Flask, endpoint: str) -> Rule | None:
    """The rule of an endpoint: its view's own, else its blueprint's, else None (refused)."""
    view = app.view_functions.get(endpoint)
    own: Rule | None = getattr(view, _ATTRIBUTE, None)
    if own is not None:
        return own
    if endpoint in _BUILT_IN:
        return _BUILT_IN[endpoint]
    blueprint = endpoint.rpartition(".")[0]
    return _BLUEPRINT_RULES.get(blueprint) if blueprint else None


def current_access() -> Access:
    """The roles and scope of the signed-in user (none for an anonymous caller)."""
    access: Access = getattr(current_user, "access", NO_ACCESS)
    return access


def current_scope() -> Scope:
    """The teachers and schools the signed-in user may see."""
    return current_access().scope


def may(endpoint: str) -> bool:
    """Whether the current user may call ``endpoint`` (the navigation shows only those)."""
    rule = rule_of(current_app, endpoint)
    if rule is None:
        return False
    return rule.public or (current_user.is_authenticated and rule.permits(current_access()))


# The navigation of every page: (endpoint, link, label); each shown to those who may call it
# (the label in the reader's language).
NAV = (("views.index", "/", N_("Карта дефицитов")),
       ("views.teachers", "/teachers", N_("Педагоги")),
       ("dynamics.dynamics_page", "/dynamics", N_("Динамика")),
       ("analytics.analytics_page", "/analytics", N_("Аналитика")),
       ("views.indicators_page", "/indicators", N_("Показатели")),
       ("views.effectiveness_page", "/effectiveness", N_("Эффективность")),
       ("capacity.capacity_page", "/capacity", N_("Мощности")),
       ("network.network_page", "/network", N_("Сеть")),
       ("report.report_pdf_file", "/report.pdf", N_("Отчёт (PDF)")),
       ("policy.policy_page", "/policy", N_("Политика оценивания")),
       ("catalogue.catalogue_page", "/catalogue", N_("Каталог")),
       ("imports.imports_page", "/imports", N_("Импорт файлов")),
       ("review.review_page", "/review", N_("Согласование маршрутов")),
       ("review.my_route", "/my/route", N_("Мой маршрут")),
       ("push.push_page", "/push", N_("Отправка в Moodle")),
       ("audit.audit_page", "/audit", N_("Журнал действий")),
       ("admin_accounts.accounts_page", "/admin/accounts", N_("Учётные записи")),
       ("admin_settings.settings_page", "/admin/settings", N_("Настройки подключений")),
       ("admin_schedules.schedules_page", "/admin/schedules", N_("Расписания")),
       ("openapi.docs_page", "/api-docs", "API"))
_NAV_CACHE = "profroute.nav"


def nav_links() -> list[tuple[str, str]]:
    """The (link, label) pairs of :data:`NAV` the current user may call. Whether a rule
    permits depends only on being signed in, the roles and the whole region, so the list is
    worked out once per process for each such combination."""
    return _nav()[0]


def nav_html() -> Markup:
    """:func:`nav_links` as the navigation's HTML (escaped once per process per combination,
    not on every page)."""
    return _nav()[1]


def _nav() -> tuple[list[tuple[str, str]], Markup]:
    signed_in = bool(current_user.is_authenticated)
    access = current_access()
    key = (signed_in, access.roles, access.scope.region, str(get_locale()))
    cache: dict[tuple[bool, frozenset[str], bool, str],
                tuple[list[tuple[str, str]], Markup]] = (
        current_app.extensions.setdefault(_NAV_CACHE, {}))
    found = cache.get(key)
    if found is None:
        links = [(href, _(label)) for endpoint, href, label in NAV if may(endpoint)]
        found = cache[key] = (links, Markup("").join(
            Markup('<a href="{}">{}</a>').format(href, label) for href, label in links))
    return found


def only_teacher() -> bool:
    """Whether the signed-in user sees no school: a teacher, and not a methodologist or admin."""
    return not current_access().has(ADMIN, METHODOLOGIST)


def check_access() -> ResponseReturnValue | None:
    """Before every request: refuse what the endpoint's rule does not permit.

    :raise 403: the endpoint has no rule (fail closed), or the user lacks the role.
    :raise 401: (API) nobody is signed in; pages redirect to the sign-in page instead.
    """
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: the 404 or 405 follows, no view runs
        return None
    rule = rule_of(current_app, endpoint)
    if rule is None:
        logger.error("endpoint %s has no access rule: refused (add @allow or @public)",
                     endpoint)
        abort(403, description=_("Для этой страницы не объявлено, кому она доступна: "
                                 "доступ закрыт."))
    if rule.public:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            return jsonify({"code": 401, "status": "Unauthorized",
                            "message": "Sign in first (POST /login); this API needs a "
                                       "signed-in user."}), 401
        return login_manager.unauthorized()
    if not rule.permits(current_access()):
        logger.warning("%s refused to %s (needs %s)", request.path, current_user.login,
                       rule.describe())
        abort(403, description=_("У вашей учётной записи нет роли для этой страницы "
                                 "(нужна: %(roles)s).", roles=_roles_ru(rule)))
    return None


def init_app(app: Flask) -> None:
    """Check every request against its endpoint's rule (before any other hook), and give
    templates ``may(endpoint)`` and the navigation's ``nav_links()``."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_access)
    app.jinja_env.globals["may"] = may
    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["nav_html"] = nav_html


def _roles_ru(rule: Rule) -> str:
    text = ", ".join(_(ROLE_RU[r]) for r in sorted(rule.roles))
    return _("%(roles)s всего региона", roles=text) if rule.region else text
