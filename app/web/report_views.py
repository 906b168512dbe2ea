"""The municipal report as a PDF (issue 14): ``GET /report.pdf`` of the caller's scope."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST
from app.common import audit
from app.reports.municipal_pdf import municipal_report, report_pdf
from app.web.access import allow, current_scope
from app.web.lang import in_russian

bp = Blueprint("report", __name__)
PDF = "application/pdf"


@bp.get("/report.pdf")
@allow(METHODOLOGIST, ADMIN)
@in_russian
def report_pdf_file() -> Response:
    """The municipal report of the caller's scope as a PDF download: the deficit heat map,
    the indicators, offer effectiveness and capacity (``app.reports.municipal_pdf``).

    :raise 400: the indicators' policy cannot be read (``SettingsError``, rendered by
        ``app.errors``).
    """
    scope = current_scope()
    report = municipal_report(settings_of(current_app), scope)
    pdf = report_pdf(report)
    audit.record("export.pdf", ("municipal_report", report.day.isoformat()),
                 {"area": report.area, "bytes": len(pdf)}, commit=True)
    return Response(pdf, mimetype=PDF, headers={
        "Content-Disposition": f"attachment; filename=report-{report.day}.pdf"})
