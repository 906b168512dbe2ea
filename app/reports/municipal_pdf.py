"""The municipal report as a PDF (issue 14): the deficit heat map, the programme's indicators,
offer effectiveness and capacity, each within the caller's scope, printed by WeasyPrint.

The HTML comes from ``app/reports/templates/municipal_report.html`` (its own Jinja
environment: the report prints from the CLI as well as from the web, with no request); the
print CSS ``municipal_report.css`` beside it sets A4, the page numbers and DejaVu Sans
(Cyrillic on any machine with ``fonts-dejavu-core``). Heat map cells carry a grey shade by
band and their figures, so a black-and-white print reads the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from app.accounts.roles import REGION, Scope
from app.analyse.policy import competency_group_overrides
from app.extensions import db
from app.models import Municipality
from app.reports.capacity import KIND_RU as CAPACITY_KIND_RU
from app.reports.capacity import SOURCE_RU, CapacityReport, capacity_report
from app.reports.effectiveness import EffectReport, effectiveness_report
from app.reports.heatmap import HeatMap, heat_map
from app.reports.indicators import IndicatorReport, academic_year, indicator_report
from app.reports.maps import current_diagnostic
from app.settings import Settings, SettingsError
from deficits.indicators import MOSCOW

logger = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
STYLESHEET = TEMPLATES / "municipal_report.css"  # A4, page numbers, DejaVu Sans, the shades
COLUMNS_PER_TABLE = 8  # competencies per heat map table: a portrait A4 page's width
# Grey shades of the share of teachers with a deficit, lightest first: (lowest percent, CSS
# class, legend). The print CSS gives each class its shade and a readable text colour.
SHADES = ((0, "g0", "менее 10 %"), (10, "g1", "10–19 %"), (20, "g2", "20–29 %"),
          (30, "g3", "30–49 %"), (50, "g4", "50–69 %"), (70, "g5", "70 % и более"))
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class MunicipalReport:
    """Everything the PDF prints, of one scope on one day."""

    area: str  # the municipality (or municipalities, or the region) the report is of
    day: dt.date
    heat: HeatMap | None  # None: no diagnostic yet
    diagnostic_name: str
    indicators: IndicatorReport
    effectiveness: EffectReport
    capacity: CapacityReport


def area_name(scope: Scope) -> str:
    """What the title page names: the region, or the scope's municipalities by name."""
    if scope.region:
        return "Регион: все муниципалитеты"
    names = sorted(db.session.scalars(select(Municipality.name).where(
        Municipality.id.in_(scope.municipality_ids))).all(), key=str.casefold)
    if not names:
        return "Нет муниципалитетов в зоне видимости"
    return ("Муниципалитет " if len(names) == 1 else "Муниципалитеты ") + ", ".join(
        f"«{n}»" for n in names)


def municipality_scope(name: str | None) -> Scope:
    """The whole region (no ``name``), or the one municipality named ``name``.

    :raise SettingsError: no municipality has that name.
    """
    if not name:
        return REGION
    found = db.session.scalar(select(Municipality.id).where(Municipality.name == name))
    if found is None:
        raise SettingsError(f"unknown municipality {name!r}")
    return Scope(municipality_ids=frozenset({found}))


def municipal_report(settings: Settings, scope: Scope, day: dt.date | None = None
                     ) -> MunicipalReport:
    """The report's figures for ``scope``: the latest diagnostic's heat map, this school
    year's indicators, the latest finished period's effectiveness by offer and the capacity
    forecast of the year from ``day`` (default: today in Moscow).

    :raise SettingsError: the indicators' policy cannot be read (as ``indicator_report``).
    """
    day = day or dt.datetime.now(MOSCOW).date()
    diagnostic = current_diagnostic()
    heat = None if diagnostic is None else heat_map(
        diagnostic, scope, groups=competency_group_overrides(settings))
    return MunicipalReport(
        area=area_name(scope), day=day, heat=heat,
        diagnostic_name=diagnostic.name if diagnostic is not None else "",
        indicators=indicator_report(settings, academic_year(day), scope=scope),
        effectiveness=effectiveness_report(scope),
        capacity=capacity_report(scope, start=day))


def shade(share: float | None) -> str:
    """The CSS class of a share's grey band ("" for no value)."""
    if share is None:
        return "none"
    percent = round(share * 100)
    return next(css for low, css, _ in reversed(SHADES) if percent >= low or low == 0)


def report_html(report: MunicipalReport) -> str:
    """The report as one HTML document (the print CSS is :data:`STYLESHEET`)."""
    competencies = report.heat.competencies if report.heat else []
    chunks = [list(range(i, min(i + COLUMNS_PER_TABLE, len(competencies))))
              for i in range(0, len(competencies), COLUMNS_PER_TABLE)]
    return _ENV.get_template("municipal_report.html").render(
        report=report, chunks=chunks, shade=shade, shades=SHADES, capacity_kinds=CAPACITY_KIND_RU,
        sources=SOURCE_RU)


def report_pdf(report: MunicipalReport) -> bytes:
    """The report as PDF bytes (A4, page numbers in the footer)."""
    from weasyprint import CSS, HTML  # noqa: PLC0415  (loads pango: only when a PDF is asked for)

    html = report_html(report)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET))])
    logger.info("municipal report of %s: %d bytes of PDF", report.area, len(pdf))
    return pdf
