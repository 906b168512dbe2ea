"""The admin's connection settings page: the effective Moodle, LRS, retention and scheduler
settings and where each comes from (secrets only as set / not set), and the Moodle check."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app import settings_of
from app.accounts.roles import ADMIN
from app.common.audit import record
from app.common.moodle import moodle_api
from app.settings import ENV_PREFIX, ORIGIN_RU, SECRET_FIELDS, Settings, origins
from app.sync.check import check_moodle
from app.web.access import allow

bp = Blueprint("admin_settings", __name__, template_folder="templates")
GROUPS = (
    ("Moodle", "Moodle", ("moodle_url", "moodle_token", "moodle_timeout", "moodle_retries",
                          "diagnostic_course", "diagnostic_quiz", "diagnostic_kind",
                          "student_role", "pd_category", "enrol_role_id")),
    ("LRS и xAPI", "LRS and xAPI", ("lrs_endpoint", "lrs_version", "lrs_username",
                                   "lrs_password", "lrs_timeout")),
    ("Хранение персональных данных", "Retention", ("retention_days",)),
    ("Планировщик и сайт", "Scheduler and site", ("schedule_timezone", "database_url",
                                                   "secret_key", "trusted_proxies",
                                                   "frame_ancestors", "lti_tool_url")),
)


def rows(settings: Settings) -> list[tuple[str, str, list[dict[str, str]]]]:
    """The settings shown, by group (titles in Russian and English): variable, value
    (secrets: задан / не задан, in the reader's language), origin."""
    found = origins(settings)
    out = []
    for title_ru, title_en, names in GROUPS:
        shown = []
        for name in names:
            value = getattr(settings, name)
            if name in SECRET_FIELDS:
                text = _("задан") if value else _("не задан")
            elif name == "database_url":
                text = _without_password(str(value))
            else:
                text = str(value) if value != "" else "—"
            shown.append({"variable": ENV_PREFIX + name.upper(), "value": text,
                          "origin": _(ORIGIN_RU[found[name]]),
                          "secret": str(name in SECRET_FIELDS)})
        out.append((title_ru, title_en, shown))
    return out


@bp.get("/admin/settings")
@allow(ADMIN)
def settings_page() -> ResponseReturnValue:
    """The effective connection settings and where each comes from."""
    return render_template("admin_settings.html", groups=rows(settings_of(current_app)),
                           report=None)


@bp.post("/admin/settings/check-moodle")
@allow(ADMIN)
def check_moodle_page() -> ResponseReturnValue:
    """Run the Moodle check (as ``profroute check-moodle``) and show its report.

    :raise 400: Moodle's URL or token is not set.
    :raise 502/504: Moodle refused or did not answer.
    """
    settings = settings_of(current_app)
    report = check_moodle(moodle_api(settings), settings)
    record("site.check_moodle", None, {"ok": report.ok}, commit=True)
    return render_template("admin_settings.html", groups=rows(settings), report=report)


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _("(не разобран)")
