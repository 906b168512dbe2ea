"""Web UI (Russian, or English for whoever chooses it): the deficit map, the indicators
and the teachers in the caller's scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import Connection, bindparam, or_, select

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST, TEACHER, Scope
from app.analyse.policy import competency_group_overrides, effective_document
from app.analyse.risk_rule import GROUP_NAMES_RU, group_names
from app.analyse.teacher_memo import (
    diagnostic_ids,
    kept_risk_inputs,
    stored_for,
    teacher_change,
    teacher_risk,
)
from app.common import audit
from app.common.marker import current_version, kept
from app.extensions import db
from app.i18n import N_
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Offer,
    Route,
    RouteItem,
    RouteItemEvent,
    RouteUnmetNeed,
    School,
    Teacher,
)
from app.reports.effectiveness import (
    BY_RU,
    EffectReport,
    effectiveness_report,
    effectiveness_workbook,
)
from app.reports.heatmap import heat_map
from app.reports.indicators import (
    compare_period,
    indicator_report,
    levels_policy,
    municipality_names,
    period_from,
    previous_year,
    report_workbook,
)
from app.reports.maps import map_policy
from app.routes.explain import item_reasons, unmet_reason
from app.settings import SettingsError
from app.web.access import allow, current_scope, only_teacher
from app.web.charts import teacher_score_rows, teacher_scores_chart
from app.web.heatmap import (
    CHANGE_BANDS,
    SCHOOL_STATUS_RU,
    SHARE_BANDS,
    HeatLinks,
    heat_request,
)
from app.web.heatmap import HELPERS as HEAT_HELPERS
from app.web.inputs import date_args, id_arg
from app.web.lang import in_russian, reader_lang
from app.web.map_paging import heat_workbook, municipality_filter, paged_heat
from app.web.review_views import ACTION_RU, ACTOR_RU
from app.web.teacher_list import (
    RISK_RU,
    ROUTE_RU,
    SORT_RU,
    choices,
    filters_from,
    grouped,
    teacher_page,
)
from deficits.effectiveness import MIN_PAIRS

bp = Blueprint("views", __name__, template_folder="templates")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Labels stay plain Russian strs (other modules import them, and XLSX files show them);
# each is translated where a page shows it.
LEVEL_RU = {"deficit": N_("дефицит"), "risk": N_("риск"), "ok": N_("норма"),
            "insufficient": N_("недостаточно данных")}
STATUS_RU = {"proposed": N_("предложено"), "approved": N_("утверждено"),
             "enrolled": N_("зачислен"), "completed": N_("завершено"),
             "rejected": N_("отклонено"), "cancelled": N_("отменено"),
             "declined": N_("отклонено педагогом"), "verified": N_("дефицит закрыт"),
             "replanned": N_("перепланировано")}
KIND_RU = {"course": N_("КПК"), "internship": N_("Стажировка"),
           "mentoring": N_("Наставничество"), "resource_centre": N_("ресурсный центр"),
           "low_results": N_("ШНОР"), "adverse_context": N_("ШФНСУ"), "other": N_("другая"),
           "unknown": "—"}
PERIOD_ARGS = ("from", "to", "compare_from", "compare_to")


@bp.get("/")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def index() -> ResponseReturnValue:
    """The schools × competencies deficit heat map of the latest diagnostic (or
    ``?diagnostic=``, or ``?view=change``: the latest final against the latest entry), of
    the schools in the caller's scope; a teacher is sent to their own page.

    The schools come a page at a time (``?page=``, ``?sort=need|name|<competency>``,
    ``?dir=asc|desc``), filtered by ``?municipality=<id>`` of the caller's, ``?status=``
    and ``?group=``, the municipalities' rows and the total on top of each
    (``app.web.heatmap.heat_request``).

    :raise 404: an unknown diagnostic id or municipality (or one out of scope); a teacher
        whose page does not exist yet.
    """
    scope = current_scope()
    if only_teacher():
        if scope.teacher_moodle_id is None:
            abort(404)
        return redirect(f"/teachers/{scope.teacher_moodle_id}")
    asked = heat_request(request.args, scope)
    others = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all()
    if asked is None:
        return render_template("index.html", data=None, diagnostics=others)
    data, page = paged_heat(asked.diagnostic, asked.scope, asked.page, entry=asked.entry,
                            filters=asked.filters, sort=asked.sort,
                            descending=asked.descending, groups=_group_overrides())
    thresholds, policy = map_policy(asked.diagnostic)
    named = {m.id: m.name for m in asked.municipalities}

    def municipality_row(row: Any) -> str:
        """A municipality's row heading (the reports name it in Russian for the files)."""
        if row.municipality_id in named:
            return _("Муниципалитет «%(name)s»", name=named[row.municipality_id])
        return str(row.name)

    return render_template(
        "index.html", asked=asked, diagnostic=asked.diagnostic, data=data, page=page,
        diagnostics=others, policy=policy, thresholds=thresholds, kinds=KIND_RU,
        statuses=SCHOOL_STATUS_RU, group_names=_group_names(),
        links=HeatLinks(asked.args, data.sort, data.descending), municipality_row=municipality_row,
        bands=CHANGE_BANDS if data.entry_id else SHARE_BANDS, **HEAT_HELPERS)


@bp.get("/map.xlsx")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def map_xlsx() -> Response:
    """The deficit heat map as an XLSX file, as the page shows it with the same arguments
    (filters, view, order) but every school rather than one page: the municipalities'
    rows, the total, then the schools, each competency's share and n.

    :raise 404: no diagnostic yet, an unknown diagnostic id, or a municipality out of scope.
    """
    asked = heat_request(request.args, current_scope())
    if asked is None:
        abort(404, description=_("Данных пока нет: выполните profroute sync и profroute "
                                 "deficits"))
    data = heat_map(asked.diagnostic, asked.scope, entry=asked.entry, filters=asked.filters,
                    sort=asked.sort, descending=asked.descending, groups=_group_overrides())
    audit.record("export.xlsx", ("deficit_map", asked.diagnostic.id),
                 {"municipality": asked.municipality.name if asked.municipality else None,
                  **{k: asked.args.get(k) for k in ("view", "status", "group", "sort")}},
                 commit=True)
    notes = [f"Изменение: «{asked.entry.name}» → «{asked.diagnostic.name}» (итоговая − "
             "входная доля педагогов с дефицитом)" if asked.entry
             else f"Диагностика: «{asked.diagnostic.name}»", *map_policy(asked.diagnostic)[1]]
    if asked.municipality:
        notes.append(f"Отбор: муниципалитет «{asked.municipality.name}»")
    if asked.filters.status:
        notes.append(f"Отбор: {SCHOOL_STATUS_RU[asked.filters.status]}")
    if asked.filters.group:
        notes.append(f"Отбор: группа компетенций «{asked.filters.group}»")
    name = f"deficit-map-{asked.diagnostic.id}" + (
        f"-{asked.municipality.id}" if asked.municipality else "") + (
        f"-change-{asked.entry.id}" if asked.entry else "")
    return Response(heat_workbook("Карта дефицитов", notes, data), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename={name}.xlsx"})


def _group_names() -> dict[str, str]:
    """Group key → its name on the page (the policy's label, else the usual Russian one)."""
    try:
        return group_names(effective_document(settings_of(current_app)))
    except SettingsError:  # a broken policy is reported on /policy; the names fall back
        return dict(GROUP_NAMES_RU)


def _group_overrides() -> dict[str, str]:
    """Competency → group where the policy in force names it."""
    return competency_group_overrides(settings_of(current_app))


@bp.get("/indicators")
@allow(METHODOLOGIST, ADMIN)
def indicators_page() -> str:
    """The indicators of the region and each municipality for the school year (or ?from=&to=).

    ``municipality`` narrows to one municipality; ``compare_from``/``compare_to`` add a period
    beside. Each indicator's numerator and denominator are defined on the page.

    :raise 400: a date is not YYYY-MM-DD, a period ends before it starts, only one comparison
        date is given, or the municipality is unknown.
    """
    args = request.args
    start, end, compare_from, compare_to = date_args(args, *PERIOD_ARGS)
    period = period_from(start, end)
    compare = compare_period(compare_from, compare_to)
    report = indicator_report(settings_of(current_app), period,
                              args.get("municipality") or None, compare, current_scope())
    return render_template("indicators.html", report=report, previous=previous_year(period),
                           municipality=args.get("municipality") or "",
                           municipalities=municipality_names(current_scope()),
                           query=request.query_string.decode(), policy=levels_policy())


@bp.get("/indicators.xlsx")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def indicators_xlsx_file() -> Response:
    """The same indicators as an XLSX file: one long table to filter by municipality.

    :raise 400: as the indicators page.
    """
    args = request.args
    start, end, compare_from, compare_to = date_args(args, *PERIOD_ARGS)
    period = period_from(start, end)
    compare = compare_period(compare_from, compare_to)
    settings = settings_of(current_app)
    report = indicator_report(settings, period, args.get("municipality") or None, compare,
                              current_scope())
    audit.record("export.xlsx", ("indicators", period.start),
                 {k: args.get(k) for k in ("municipality", "from", "to")}, commit=True)
    return Response(report_workbook(settings, report), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=indicators-{period.start}.xlsx"})


@bp.get("/effectiveness")
@allow(METHODOLOGIST, ADMIN)
def effectiveness_page() -> str:
    """Which offers close deficits: per offer (``?by=kind|provider|centre``) and competency,
    the closed share among teachers who completed it beside those who took nothing for it,
    between the latest entry and final diagnostics (or ``?entry=&final=``), in the caller's
    scope.

    :raise 400: an id that is not a number or not a diagnostic of its kind, an unknown
        grouping, or a minimum of pairs below 1.
    """
    report = _effectiveness(request.args)
    diagnostics = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all()
    return render_template("effectiveness.html", report=report, groups=BY_RU,
                           entries=[d for d in diagnostics if d.kind == "entry"],
                           finals=[d for d in diagnostics if d.kind == "final"])


@bp.get("/effectiveness.xlsx")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def effectiveness_xlsx() -> Response:
    """The effectiveness table as an XLSX file (the page's arguments).

    :raise 400: as the page.
    """
    report = _effectiveness(request.args)
    audit.record("export.xlsx", ("effectiveness", report.by),
                 {k: request.args.get(k) for k in ("by", "entry", "final", "min_pairs")},
                 commit=True)
    return Response(effectiveness_workbook(report), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=effectiveness-{report.by}.xlsx"})


def _effectiveness(args: Any) -> EffectReport:
    by = args.get("by") or "offer"
    raw = args.get("min_pairs") or str(MIN_PAIRS)
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        abort(400, description=f"min_pairs must be a whole number of at least 1, got {raw!r}")
    try:
        return effectiveness_report(current_scope(), by, id_arg(args, "entry"),
                                    id_arg(args, "final"), int(raw))
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/teachers")
@allow(METHODOLOGIST, ADMIN)
def teachers() -> str:
    """The teachers in the caller's scope, a page at a time (``?page=``), in name order
    (``?sort=school``: by school), searched by name, login or Moodle id (``?q=``, case and
    «ё» ignored) and filtered by ``?municipality=<id>``, ``?school=<code>``, ``?subject=``,
    ``?risk=yes|no``, ``?competency=<idnumber>&level=<level>`` on the latest diagnostic
    and ``?route=any|proposed|approved|enrolled|completed|none`` (app.web.teacher_list).

    :raise 400: an unknown risk, level, route or sort value.
    :raise 404: a municipality out of the caller's scope or unknown.
    """
    narrowed, municipality, municipalities = municipality_filter(request.args, current_scope())
    filters = filters_from(request.args, municipality.id if municipality else None)
    connection = db.session.connection()
    version = current_version(connection)
    current = kept("diagnostic_ids", version, diagnostic_ids)[0]
    page = teacher_page(filters, narrowed, current, lambda: kept_risk_inputs(
        settings_of(current_app), version))
    return render_template("teachers.html", filters=filters, args=filters.args(), page=page,
                           choices=choices(narrowed, municipalities), levels=LEVEL_RU,
                           routes=ROUTE_RU, risks=RISK_RU, sorts=SORT_RU, grouped=grouped,
                           diagnostic=current)


# The teacher page's statements, built once (SQLAlchemy compiles each once per dialect and
# reuses it: no statement is constructed per request) and run on the session's connection,
# returning plain rows (no ORM objects to hydrate).
_teacher_t, _school_t = Teacher.__table__, School.__table__
_deficit_t, _competency_t = Deficit.__table__, Competency.__table__
_route_t, _item_t, _offer_t = Route.__table__, RouteItem.__table__, Offer.__table__
_event_t, _unmet_t = RouteItemEvent.__table__, RouteUnmetNeed.__table__
_TEACHER_COLUMNS = (_teacher_t.c.id, _teacher_t.c.moodle_user_id, _teacher_t.c.lastname,
                    _teacher_t.c.firstname, _teacher_t.c.middlename, _teacher_t.c.subjects,
                    _school_t.c.name.label("school_name"))
_TEACHER_FROM = _teacher_t.outerjoin(_school_t, _school_t.c.id == _teacher_t.c.school_id)
TEACHER_OF_REGION = (select(*_TEACHER_COLUMNS).select_from(_TEACHER_FROM)
                     .where(_teacher_t.c.moodle_user_id == bindparam("moodle_user_id")))
TEACHER_IN_SCOPE = TEACHER_OF_REGION.where(or_(
    _teacher_t.c.school_id.in_(select(_school_t.c.id).where(
        _school_t.c.municipality_id.in_(bindparam("municipalities", expanding=True)))),
    _teacher_t.c.moodle_user_id == bindparam("own")))
TEACHER_LEVELS = (
    select(_deficit_t.c.diagnostic_id, _competency_t.c.idnumber, _competency_t.c.name,
           _deficit_t.c.score, _deficit_t.c.level, _deficit_t.c.moodle_proficient,
           _deficit_t.c.agreement, _deficit_t.c.questions)
    .join_from(_deficit_t, _competency_t, _competency_t.c.id == _deficit_t.c.competency_id)
    .where(_deficit_t.c.teacher_id == bindparam("teacher_id"),
           # current, entry, final (repeated when fewer): fixed SQL, no expanding list
           _deficit_t.c.diagnostic_id.in_([bindparam("d1"), bindparam("d2"), bindparam("d3")]))
    .order_by(_competency_t.c.idnumber))
# Each item once per event (what happened to it: who, when, from → to, why), or once.
TEACHER_ROUTES = (
    select(_route_t.c.id, _item_t.c.id.label("item_id"), _item_t.c.status, _item_t.c.reasons,
           _item_t.c.explanation, _offer_t.c.title, _offer_t.c.kind, _offer_t.c.starts_on,
           _offer_t.c.ends_on, _event_t.c.at, _event_t.c.action, _event_t.c.from_status,
           _event_t.c.to_status, _event_t.c.actor_kind, _event_t.c.actor,
           _event_t.c.reason.label("event_reason"))
    .select_from(_route_t.outerjoin(_item_t, _item_t.c.route_id == _route_t.c.id)
                 .outerjoin(_offer_t, _offer_t.c.id == _item_t.c.offer_id)
                 .outerjoin(_event_t, _event_t.c.route_item_id == _item_t.c.id))
    .where(_route_t.c.teacher_id == bindparam("teacher_id"))
    .order_by(_route_t.c.id, _item_t.c.id, _event_t.c.id))
# The needs the last recommend runs left uncovered, of the diagnostics the page shows (the
# index on diagnostic and teacher finds them).
TEACHER_UNMET = (
    select(_unmet_t.c.competency, _unmet_t.c.reason, _unmet_t.c.text, _unmet_t.c.explanation)
    .where(_unmet_t.c.teacher_id == bindparam("teacher_id"),
           _unmet_t.c.diagnostic_id.in_([bindparam("d1"), bindparam("d2"), bindparam("d3")]))
    .order_by(_unmet_t.c.diagnostic_id.desc(), _unmet_t.c.competency))


@dataclass(frozen=True)
class TeacherHeader:
    """What a page or the API shows of a teacher besides their results."""

    id: int
    moodle_user_id: int
    full_name: str
    school_name: str | None
    subjects: str


@bp.get("/teachers/<int:moodle_user_id>")
@allow(METHODOLOGIST, ADMIN, TEACHER)
def teacher(moodle_user_id: int) -> str:
    """A teacher's scores per competency and route.

    :raise 404: no teacher with this Moodle user id in the caller's scope (one out of scope
        is not told apart from one that does not exist).
    """
    connection = db.session.connection()  # the session's: one transaction, looked up once
    person = teacher_in_scope(moodle_user_id, current_scope(), connection)
    teacher_id = person.id
    # The diagnostics and the risk group's inputs (policy, competency groups) change
    # rarely: kept per process while the change counters, read first, stay the same.
    version = current_version(connection)
    current, pair = kept("diagnostic_ids", version, diagnostic_ids)
    wanted = [d for d in {current, *(pair or ())} if d is not None]
    levels = connection.execute(TEACHER_LEVELS, {"teacher_id": teacher_id, "d1": wanted[0],
                                                 "d2": wanted[-1], "d3": wanted[len(wanted) // 2]}
                                ).all() if wanted else []
    scores = [(r.idnumber, r.name, r.score, r.level, r.moodle_proficient, r.agreement)
              for r in levels if r.diagnostic_id == current]
    # The risk group and the change come stored per teacher (a few rows, not the whole
    # population); read before the routes, as storing a recomputed one commits.
    stored = stored_for(teacher_id, connection)
    settings = settings_of(current_app)
    risky = teacher_risk(current, teacher_id, [(s[0], s[3]) for s in scores],
                         kept_risk_inputs(settings, version), stored) if current else None
    changes = teacher_change(*pair, teacher_id, stored, levels=[
        (r.diagnostic_id, r.idnumber, r.score, r.level, r.questions) for r in levels]
                             ) if pair else {}
    # Storing a recomputed result committed (and released ``connection``): ask again.
    connection, lang = db.session.connection(), reader_lang()
    unmet = connection.execute(TEACHER_UNMET, {
        "teacher_id": teacher_id, "d1": wanted[0], "d2": wanted[-1],
        "d3": wanted[len(wanted) // 2]}).all() if wanted else []
    # With an entry and a final diagnostic: both side by side (the final column says when
    # the teacher has not taken it yet); else the latest diagnostic's results alone.
    both = pair_rows(levels, *pair, changes) if pair else []
    return render_template(
        "teacher.html", t=person, scores=[] if both else score_rows(scores), both=both,
        final_taken=pair is not None and any(r.diagnostic_id == pair[1] for r in levels),
        routes=route_rows(connection.execute(TEACHER_ROUTES, {"teacher_id": teacher_id}),
                          lang, logins=not only_teacher()),
        unmet=[unmet_reason(r.competency, r.reason, r.text, r.explanation, lang)
               for r in unmet],
        risk=risky,
        scores_chart=teacher_scores_chart(teacher_score_rows(levels, *pair))
        if both and pair else None)


def _percent(score: float | None) -> str:
    return "—" if score is None else f"{round(score * 100):d} %"


def _label(labels: dict[str, str], key: str) -> str:
    """``labels[key]`` in the reader's language (an unknown key as it is)."""
    return _(labels[key]) if key in labels else key


def _moodle_mark(proficient: bool | None) -> str:
    """Moodle's mark of a competency in words (the reader's language)."""
    return "—" if proficient is None else _("освоена") if proficient else _("не освоена")


def score_rows(scores: list[tuple[Any, ...]]) -> list[tuple[str, str, str, str, bool]]:
    """The results table's cells as the page shows them (the reader's language): competency,
    result, level, Moodle's mark, whether Moodle's mark disagrees with the diagnostic."""
    return [(f"{code} {name}", _percent(score), _label(LEVEL_RU, level),
             _moodle_mark(proficient), agreement == "disagrees")
            for code, name, score, level, proficient, agreement in scores]


@dataclass(frozen=True)
class PairRow:
    """A competency's entry and final results side by side, as the teacher page shows them:
    each «40 % (дефицит)», «—» without a result, or «не пройдена» while the teacher has no
    final result at all; the change (bold when a deficit closed) and Moodle's mark."""

    name: str
    entry: str
    final: str
    change: str
    closed: bool
    moodle: str
    disagrees: bool


def _result(row: Any | None) -> str:
    return "—" if row is None else f"{_percent(row.score)} ({_label(LEVEL_RU, row.level)})"


def pair_rows(levels: Iterable[Any], entry_id: int, final_id: int,
              changes: dict[str, dict[str, Any]]) -> list[PairRow]:
    """The rows of every competency the teacher has a result in, in either diagnostic, from
    ``TEACHER_LEVELS``'s rows and the change per competency (``teacher_change``)."""
    by_code: dict[str, dict[int, Any]] = {}
    for row in levels:
        if row.diagnostic_id in (entry_id, final_id):
            by_code.setdefault(row.idnumber, {})[row.diagnostic_id] = row
    taken = any(final_id in found for found in by_code.values())
    shown = {code: (change, closed) for code, _, _, change, closed in change_rows_shown(changes)}
    rows = []
    for code, found in sorted(by_code.items()):
        entry, final = found.get(entry_id), found.get(final_id)
        latest: Any = final or entry  # one of them, as the code is in ``by_code``
        change, closed = shown.get(code, ("", False))
        rows.append(PairRow(
            f"{code} {latest.name}", _result(entry),
            _result(final) if taken else _("не пройдена"), change, closed,
            _moodle_mark(latest.moodle_proficient), latest.agreement == "disagrees"))
    return rows


def change_rows_shown(changes: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str,
                                                                        bool]]:
    """The entry → final table's cells by competency: entry, final, the change (and whether
    it is a closed deficit, shown in bold), in the reader's language."""
    shown = []
    for code, c in sorted(changes.items()):
        entry_level, final_level = str(c.get("entry_level")), str(c.get("final_level"))
        entry = f"{_percent(c.get('entry_score'))} ({_label(LEVEL_RU, entry_level)})"
        final = f"{_percent(c.get('final_score'))} ({_label(LEVEL_RU, final_level)})"
        if c.get("closed"):
            change = _("дефицит закрыт")
        elif c.get("level_up"):
            change = _("уровень выше")
        elif c.get("rise") is not None:
            change = f"{c['rise'] * 100:+.0f} " + _("п.п.")
        else:
            change = ""
        shown.append((code, entry, final, change, bool(c.get("closed"))))
    return shown


@dataclass(frozen=True)
class ItemRow:
    """A route item as the teacher page shows it: title, kind, dates, status, reasons (in the
    reader's language) and what happened to it (``ItemEvent``, oldest first)."""

    title: str
    kind: str
    dates: str
    status: str
    reasons: str
    events: list[ItemEvent]


@dataclass(frozen=True)
class ItemEvent:
    """One change of an item as the page shows it: when, who, from → to (or the step that
    kept the status), why."""

    at: str
    who: str
    change: str
    reason: str


def route_rows(rows: Iterable[Any], lang: str = "ru", *,
               logins: bool = True) -> list[list[ItemRow]]:
    """Each route's items (in route order, each route's in item order) as the page shows
    them, from ``TEACHER_ROUTES``'s rows (an item once per event); a route without items is
    an empty list. ``logins``: name who acted by login (methodologists, admins), else only
    by kind (a teacher reading their own page)."""
    routes: dict[int, list[ItemRow]] = {}
    last: int | None = None
    for row in rows:
        items = routes.setdefault(row.id, [])
        if row.status is None:
            continue
        if row.item_id != last:
            last = row.item_id
            dates = (f"{row.starts_on:%d.%m.%Y}–"
                     f"{f'{row.ends_on:%d.%m.%Y}' if row.ends_on else ''}"
                     if row.starts_on else "")
            items.append(ItemRow(row.title, _label(KIND_RU, row.kind), dates,
                                 _label(STATUS_RU, row.status), "; ".join(
                                     item_reasons(row.explanation, row.reasons, lang)), []))
        if row.at is not None:
            items[-1].events.append(_event(row, logins))
    return list(routes.values())


def _event(row: Any, logins: bool) -> ItemEvent:
    kind = _label(ACTOR_RU, row.actor_kind)
    if row.from_status == row.to_status:
        change = _label(ACTION_RU, row.action)
    else:
        change = f"{_label(STATUS_RU, row.from_status)} → {_label(STATUS_RU, row.to_status)}"
        if row.action not in (row.to_status, row.from_status):
            change += f" ({_label(ACTION_RU, row.action)})"
    return ItemEvent(f"{row.at:%d.%m.%Y %H:%M}", f"{kind} {row.actor}" if logins else kind,
                     change, row.event_reason or "")


def teacher_in_scope(moodle_user_id: int, scope: Scope,
                     connection: Connection | None = None) -> TeacherHeader:
    """The teacher with this Moodle user id, if the scope holds them (``connection``: the
    session's, when the caller has it already).

    :raise 404: no such teacher, or one out of scope (the same answer: existence is not told).
    """
    connection = connection or db.session.connection()
    if scope.region:
        found = connection.execute(TEACHER_OF_REGION, {"moodle_user_id": moodle_user_id}).first()
    else:
        found = connection.execute(TEACHER_IN_SCOPE, {
            "moodle_user_id": moodle_user_id, "municipalities": list(scope.municipality_ids),
            "own": scope.teacher_moodle_id}).first()
    if found is None:
        abort(404, description=_("Нет педагога с Moodle id %(id)s", id=moodle_user_id))
    return TeacherHeader(found.id, found.moodle_user_id, " ".join(
        p for p in (found.lastname, found.firstname, found.middlename) if p),
                         found.school_name, found.subjects or "")
