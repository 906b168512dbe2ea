"""Capacity planning (issue 14): what the next period asks of the resource centres
and course providers, its assumptions with a form to override them, and the XLSX."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.common import audit
from app.reports.capacity import (
    KIND_RU,
    RATE_NAMES,
    SOURCE_RU,
    CapacityReport,
    capacity_report,
    capacity_workbook,
    parse_overrides,
)
from app.web.access import allow, current_scope
from app.web.inputs import date_arg
from app.web.lang import in_russian
from app.web.views import XLSX

bp = Blueprint("capacity", __name__, template_folder="templates")


def report_of(args: Mapping[str, str]) -> CapacityReport:
    """The report of a request's arguments: ``from``, ``to`` (ISO days) and rate overrides
    ``<kind>.<rate>`` (a share 0..1 or a percent).

    :raise 400: a bad day, an unknown rate or a share outside 0..1, a period ending before it
        starts.
    """
    rates = {k: v for k, v in args.items() if "." in k and v.strip()}
    try:
        return capacity_report(current_scope(), start=date_arg(args, "from"),
                               end=date_arg(args, "to"), overrides=parse_overrides(rates))
    except ValueError as exc:
        abort(400, description=str(exc))


@bp.get("/capacity")
@allow(METHODOLOGIST, ADMIN)
def capacity_page() -> str:
    """The forecast of the next period for the caller's scope.

    :raise 400: as ``report_of``.
    """
    report = report_of(request.args)
    return render_template("capacity.html", report=report,
                           kinds={k: _(v) for k, v in KIND_RU.items()},
                           sources={k: _(v) for k, v in SOURCE_RU.items()},
                           rate_names=RATE_NAMES, args=request.args)


@bp.get("/capacity.xlsx")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def capacity_xlsx() -> Response:
    """The forecast as an XLSX file (the page's arguments).

    :raise 400: as the page.
    """
    report = report_of(request.args)
    audit.record("export.xlsx", ("capacity", report.period[0].isoformat()),
                 {k: v for k, v in request.args.items() if k in ("from", "to") or (
                     k.partition(".")[0] in KIND_RU and k.partition(".")[2] in RATE_NAMES)},
                 commit=True)
    return Response(capacity_workbook(report), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename=capacity-{report.period[0]}.xlsx"})
