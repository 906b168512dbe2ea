"""The scoring policy page: thresholds, attempt policy, minimum evidence, history, recompute."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST
from app.analyse.levels import recompute_all
from app.analyse.policy import effective_document, policy_overview
from app.analyse.policy_schema import FIELD_RU, KEYS, MATCHING_KEYS, MATCHING_RU
from app.analyse.policy_toml import (
    TomlSyntaxError,
    line_of,
    overrides_from_toml,
    overrides_to_toml,
)
from app.analyse.revisions import PolicyError, save_revision
from app.i18n import N_
from app.settings import SettingsError
from app.web.access import allow
from app.web.openapi import api_blueprint, refusals
from app.web.openapi_schemas import ErrorSchema, PolicySchema

bp = Blueprint("policy", __name__, template_folder="templates")
# /api/policy: the policy as JSON, documented in the OpenAPI document
api_bp = api_blueprint("policy_api", __name__, "The scoring policy in force.")
# Russian, marked for the catalog; translated where shown (``_()`` here and in policy.html).
FORM_LABELS = {"default.deficit_below": N_("Порог дефицита по умолчанию"),
               "default.risk_below": N_("Порог риска по умолчанию"),
               "default.min_questions": N_("Минимум вопросов на компетенцию"),
               "attempt_policy": N_("Какая попытка учитывается"),
               "risk.min_groups": N_("Группа риска, число групп компетенций с дефицитами"),
               "risk.groups": N_("Группа риска, группы, где хватает одного дефицита")}
KIND_RU = {"entry": N_("входная"), "final": N_("итоговая")}
LEVEL_RU = {"deficit": N_("дефицит"), "risk": N_("риск"), "ok": N_("норма"),
            "insufficient": N_("недостаточно данных")}


@bp.app_template_filter("percent_ru")
def percent_ru(share: float) -> str:
    """0.475 → «47,5 %»."""
    return f"{round(share * 100, 4):g}".replace(".", ",") + " %"


@bp.app_template_filter("number_ru")
def number_ru(value: float) -> str:
    """2.0 → «2», 1.5 → «1,5»."""
    return f"{round(value, 6):g}".replace(".", ",")


@bp.get("/policy")
@allow(METHODOLOGIST, ADMIN)
def policy_page() -> ResponseReturnValue:
    """The policy in force, where it comes from, the competencies' groups and the history."""
    return _render()


@bp.post("/policy")
@allow(METHODOLOGIST, ADMIN, region=True)
def save_policy() -> ResponseReturnValue:
    """Save the form as a new revision, which applies from the next deficits run.

    :raise 422: a value breaks a rule; the page names the field and nothing is saved.
    """
    try:
        document = document_from_form(request.form)
        revision = save_revision(document, author=current_user.name,
                                 comment=request.form.get("comment", ""))
    except PolicyError as err:
        return _render(error=error_text(err, request.form.get("overrides", "")),
                       form=request.form, status=422)
    flash(_("Сохранена редакция №%(id)s. Уровни пересчитываются при следующем запуске "
            "«profroute deficits» — или нажмите «Пересчитать дефициты».", id=revision.id),
          "saved")
    return redirect("/policy")


@bp.post("/policy/recompute")
@allow(METHODOLOGIST, ADMIN, region=True)
def recompute() -> ResponseReturnValue:
    """Run the deficits stage for every stored diagnostic, oldest first, each logged as
    ``profroute deficits`` logs it; the page lists each one's figures or why it failed.

    :raise 409: no diagnostic synced yet, or every one failed (their levels are unchanged).
    """
    results = recompute_all(settings_of(current_app))
    if not results:
        return _render(error=_("Диагностика ещё не загружена из Moodle: сначала выполните "
                               "«profroute sync»."), status=409)
    failed = [r for r in results if "error" in r]
    error = " ".join(_("Дефициты диагностики «%(name)s» (%(kind)s) не пересчитаны: %(error)s.",
                       name=r["name"], kind=_(KIND_RU.get(r["kind"], r["kind"])),
                       error=r["error"]) for r in failed)
    if failed and len(failed) < len(results):
        error += " " + _("Уровни остальных диагностик пересчитаны.")
    return _render(error=error or None, recomputed=results, kinds=KIND_RU,
                   status=409 if len(failed) == len(results) else 200)


@api_bp.route("/policy")
@allow(METHODOLOGIST, ADMIN)
@refusals(api_bp)
@api_bp.response(200, PolicySchema)
@api_bp.alt_response(500, schema=ErrorSchema, description="The thresholds file or the newest "
                                                          "revision breaks a rule")
def api_policy() -> Any:
    """The policy in force as JSON, the same content as the page (methodologists, admins).

    :raise 500: the thresholds file or the newest revision breaks a rule.

    Its texts are Russian whatever the reader's language (the ``*_ru`` fields say so).
    """
    try:
        with force_locale("ru"):
            return policy_overview(settings_of(current_app))
    except SettingsError as err:
        return jsonify({"code": 500, "status": "Internal Server Error",
                        "message": str(err)}), 500


def document_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The policy form as a revision document (percent → share, comma decimals accepted).

    The risk-group rule is ``risk_min_groups``, the ticked ``risk_groups`` and the comma
    list ``risk_groups_other``; a form without ``risk_min_groups`` leaves it to the settings.

    :raise PolicyError: a value is not a number, or the overrides are not valid TOML.
    """
    default = {"deficit_below": _percent(form, "deficit_below"),
               "risk_below": _percent(form, "risk_below"),
               "min_questions": _number(form, "min_questions")}
    overrides = overrides_from_toml(form.get("overrides", ""))
    if form.get("structured"):  # the page's fields: they set these sections entirely
        overrides.update(structured_overrides(form))
    document = {"default": default, **overrides,
                "attempt_policy": form.get("attempt_policy", "quiz")}
    if "risk_min_groups" in form:
        raw = form["risk_min_groups"]
        try:
            least = int(raw.replace("\u00a0", "").replace(" ", ""))
        except ValueError:
            raise PolicyError("risk.min_groups",
                              _("«%(value)s» — не целое число", value=raw)) from None
        other = form.get("risk_groups_other", "").split(",")
        document["risk"] = {"min_groups": least,
                            "groups": [*_ticked(form, "risk_groups"), *other]}
    return document


# The page's rows of thresholds: ``<section>-<n>-<field>`` (key, label, the two thresholds
# in percent, the minimum of questions); blank thresholds keep the defaults.
ROW_SECTIONS = {"groups": N_("Группа"), "frameworks": N_("Рамка")}
NO_KEY_RU = {"groups": N_("группа без ключа: укажите ключ (как в Moodle) или очистите строку"),
             "frameworks": N_("рамка без ключа: укажите ключ (как в Moodle) или очистите "
                              "строку")}
ROW_FIELDS = ("key", "label", *KEYS)
BLANK_ROWS = 2  # empty rows the page offers for new groups or frameworks
INTEGER_WEIGHTS = ("max_items_per_competency", "effect_min_pairs")


def structured_overrides(form: Mapping[str, str]) -> dict[str, Any]:
    """The page's fields as overrides: thresholds per group and framework (rows), each
    competency's group (``cg-<idnumber>``) and the planner's weights (``matching-<key>``).

    :raise PolicyError: a row with values and no key, or a value that is not a number.
    """
    out: dict[str, Any] = {"frameworks": {}, "groups": {}, "competency_groups": {},
                           "matching": {}}
    for section in ROW_SECTIONS:
        rows: dict[str, dict[str, str]] = {}
        for name, value in form.items():
            head, _dash, rest = name.partition("-")
            index, _dash, field = rest.partition("-")
            if head == section and field in ROW_FIELDS and value.strip():
                rows.setdefault(index, {})[field] = value.strip()
        for index in sorted(rows, key=lambda i: int(i) if i.isdigit() else 0):
            row = rows[index]
            key = row.pop("key", "")
            if not key:
                raise PolicyError(f"{section}.#{index}", _(NO_KEY_RU[section]))
            entry: dict[str, Any] = {"label": row["label"]} if "label" in row else {}
            for field in KEYS:
                if field in row:
                    entry[field] = _form_number(row[field], f"{section}.{key}.{field}",
                                                percent=field != "min_questions")
            out[section][key] = entry
    for name, value in form.items():
        if name.startswith("cg-") and value.strip():
            out["competency_groups"][name[3:]] = value.strip()
        elif name.startswith("matching-") and value.strip():
            key = name[len("matching-"):]
            number = _form_number(value, f"matching.{key}", percent=False)
            out["matching"][key] = int(number) if key in INTEGER_WEIGHTS and \
                number.is_integer() else number
    return {k: v for k, v in out.items() if v}


def _form_number(raw: str, field: str, *, percent: bool) -> float:
    """A number of the form (comma decimals, spaces); a percent as a share."""
    text = raw.replace("%", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PolicyError(field, _("«%(value)s» — не число", value=raw))
    if percent:
        if not 0 <= value <= 100:
            raise PolicyError(field, _("укажите процент от 0 до 100, указано %(value)s",
                                       value=number_ru(value)))
        return round(value / 100, 6)
    return value


def field_label(field: str) -> str | None:
    """A structured field's name on the page: «Группа «subject», порог дефицита» (in the
    reader's language)."""
    head, _dot, rest = field.partition(".")
    if head in ROW_SECTIONS:
        key, _dot, name = rest.rpartition(".")
        if key.startswith("#") or not key:
            return _("%(what)s, строка %(row)s", what=_(ROW_SECTIONS[head]),
                     row=rest.lstrip("#"))
        return _("%(what)s «%(key)s», %(field)s", what=_(ROW_SECTIONS[head]), key=key,
                 field=_(FIELD_RU[name]) if name in FIELD_RU else name)
    if head == "competency_groups":
        return _("Компетенция %(code)s, группа", code=rest)
    if head == "matching":
        return _("Подбор маршрутов, %(weight)s",
                 weight=_(MATCHING_RU[rest]) if rest in MATCHING_RU else rest)
    return None


def error_text(err: PolicyError, overrides: str) -> str:
    """The refusal with the form field's name, or the overrides' line it is on (in the
    reader's language)."""
    if err.field in FORM_LABELS:
        return f"{_(FORM_LABELS[err.field])}: {err.reason}"
    if not overrides.strip() and (label := field_label(err.field)) is not None:
        return f"{label}: {err.reason}"
    if isinstance(err, TomlSyntaxError) and err.field != "TOML":  # at its line and column
        return _("Переопределения, %(field)s: %(reason)s", field=err.field, reason=err.reason)
    line = line_of(overrides, err.field)
    if line:
        return _("Переопределения, строка %(line)s, %(field)s: %(reason)s", line=line,
                 field=err.field, reason=err.reason)
    return _("Переопределения, %(field)s: %(reason)s", field=err.field, reason=err.reason)


def _number(form: Mapping[str, str], name: str) -> float:
    return _form_number(form.get(name, ""), f"default.{name}", percent=False)


def _percent(form: Mapping[str, str], name: str) -> float:
    return _form_number(form.get(name, ""), f"default.{name}", percent=True)


def _render(*, error: str | None = None, form: Mapping[str, str] | None = None,
            status: int = 200, **extra: object) -> ResponseReturnValue:
    settings = settings_of(current_app)
    posted: dict[str, Any] | None = None
    if form is not None:
        posted = {**form, "risk_groups": _ticked(form, "risk_groups")}
        for section in ROW_SECTIONS:  # as many rows as were posted, and the blank ones
            numbers = [int(k.split("-")[1]) for k in form if k.startswith(f"{section}-")
                       and k.split("-")[1].isdigit()]
            posted[f"{section}-count"] = max(numbers, default=-1) + 1 + (
                0 if numbers else BLANK_ROWS)
    try:
        overview = policy_overview(settings)
        values = posted or _form_values(effective_document(settings), overview,
                                        overrides_to_toml)
    except SettingsError as err:
        overview, values = None, posted or {}
        error, status = _("Политика не читается: %(error)s", error=str(err)), 500
    return render_template("policy.html", overview=overview, values=values, error=error,
                           levels=LEVEL_RU, matching_keys=MATCHING_KEYS,
                           matching_ru=MATCHING_RU, row_fields=KEYS, **extra), status


def _form_values(doc: Mapping[str, Any], overview: Mapping[str, Any], to_toml: Any
                 ) -> dict[str, Any]:
    """The form filled with the policy in force; the rule's groups that no competency
    belongs to go to the comma list (saving them is refused until they are known)."""
    unknown = overview["risk"]["unknown_groups"]
    rows: dict[str, Any] = {}
    for section in ROW_SECTIONS:
        for n, (key, entry) in enumerate(sorted(doc.get(section, {}).items())):
            rows[f"{section}-{n}-key"] = key
            rows[f"{section}-{n}-label"] = entry.get("label", "")
            for field in KEYS:
                if field in entry:
                    value = entry[field] * (1 if field == "min_questions" else 100)
                    rows[f"{section}-{n}-{field}"] = number_ru(value)
        rows[f"{section}-count"] = len(doc.get(section, {})) + BLANK_ROWS
    for idnumber, group in doc.get("competency_groups", {}).items():
        rows[f"cg-{idnumber}"] = group
    for key, value in (doc.get("matching") or {}).items():
        rows[f"matching-{key}"] = number_ru(value)
    return {**rows, "deficit_below": number_ru(doc["default"]["deficit_below"] * 100),
            "risk_below": number_ru(doc["default"]["risk_below"] * 100),
            "min_questions": number_ru(doc["default"]["min_questions"]),
            "attempt_policy": doc["attempt_policy"], "overrides": to_toml(doc), "comment": "",
            "risk_min_groups": str(doc["risk"]["min_groups"]),
            "risk_groups": [g for g in doc["risk"]["groups"] if g not in unknown],
            "risk_groups_other": ", ".join(unknown)}


def _ticked(form: Mapping[str, str], name: str) -> list[str]:
    """Every value of a repeated field (checkboxes) of a ``MultiDict`` or a plain dict."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    return [form[name]] if name in form else []
