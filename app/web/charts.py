"""Charts (issue 14, «Pictures»): figures built here with plotly.graph_objects, drawn in the
browser by the plotly.min.js the Python package ships, served by this app (never a CDN:
schools' networks are often closed).

Every chart is a :class:`Chart`: the figure's JSON, a caption and a :class:`DataTable` of
exactly the plotted numbers, placed by the ``chart`` macro of ``_charts.html`` (a ``<figure>``
with the table one click away). Series differ by marker symbol, dash or bar pattern as well
as by colour, and points and bars carry their numbers as labels.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
from flask import Blueprint, Response, send_file, url_for
from flask_babel import gettext

from app.reports.indicator_texts import TEXTS
from app.reports.indicators import IN_SCOPE, IndicatorReport
from app.web.access import public
from app.web.lang import reader_lang
from deficits.indicators import NO_MUNICIPALITY, REGION

# The areas an indicator report names itself (their English is in the catalog: the
# indicators page marks them).
REPORT_AREAS = frozenset({REGION, NO_MUNICIPALITY, IN_SCOPE})

bp = Blueprint("charts", __name__)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLOTLY_VERSION = plotly.__version__
YEAR = 365 * 24 * 3600
# Okabe–Ito colours (told apart with colour-blindness too), then symbols, dashes, patterns
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
PATTERNS = ("", "/", "x", ".", "\\", "+", "-", "|")
CONFIG = {"displaylogo": False, "responsive": True}  # what charts.js passes to Plotly.newPlot
# A small template of our own: plotly.py's named ones carry every trace type's defaults
# (kilobytes per chart, map styles included) into the page.
GRID = {"gridcolor": "#e5e5e5", "linecolor": "#444", "zerolinecolor": "#bbb"}
TEMPLATE = {"layout": {"paper_bgcolor": "#fff", "plot_bgcolor": "#fff", "xaxis": GRID,
                       "yaxis": GRID, "font": {"family": "system-ui, sans-serif",
                                               "color": "#222"}}}


@dataclass(frozen=True)
class DataTable:
    """The numbers behind a chart: the first column heads each row (``scope="row"``)."""

    caption: str
    columns: tuple[str, ...]
    rows: Sequence[Sequence[str]] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    """A figure as Plotly's JSON (``data``, ``layout``), its caption and its numbers."""

    figure: dict[str, Any]
    caption: str
    table: DataTable


@bp.get("/static/vendor/plotly.min.js")
@public
def plotly_script() -> Response:
    """The Plotly the installed ``plotly`` package ships, cached for a year (the page asks
    for it with ``?v=<version>``, so an upgrade is fetched anew)."""
    answer = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=YEAR, conditional=True,
                       etag=True)
    answer.cache_control.public = True
    answer.cache_control.immutable = True
    return answer


@bp.app_template_global()
def plotly_script_url() -> str:
    """The vendor script's address with the package's version (a new version, a new URL)."""
    return url_for("charts.plotly_script", v=PLOTLY_VERSION)


def figure_json(figure: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data (lists, not typed arrays: give it lists)."""
    found: dict[str, Any] = json.loads(figure.to_json())
    return found


def layout(**extra: Any) -> dict[str, Any]:
    """The house layout: Russian number separators, a legend on top, room for labels."""
    return {"separators": ", ", "margin": {"l": 56, "r": 24, "t": 40, "b": 56},
            "legend": {"orientation": "h", "y": 1.12}, "template": TEMPLATE, **extra}


def number(value: float | int | None) -> str:
    """A plotted number as the data table shows it (decimal comma, «—» for none)."""
    return "—" if value is None else f"{value:g}".replace(".", ",").replace("-", "−")


def percent(value: float | None, digits: int = 1) -> float | None:
    """A share 0..1 as the percent a chart plots."""
    return None if value is None else round(value * 100, digits)


def indicator_charts(report: IndicatorReport) -> list[Chart]:
    """A line chart per indicator over the report's periods (the period and the compared
    one, in time order), a line per area; none when only one period is computed."""
    if report.compare is None:
        return []
    periods = sorted(((report.period, report.blocks), (report.compare, report.compared)),
                     key=lambda p: p[0].start)
    labels = [str(p) for p, _ in periods]
    areas = [block.area for block in report.blocks]
    charts = []
    for at, first in enumerate(report.blocks[0].indicators if report.blocks else ()):
        ratio = first.code == "partnerships"  # agreements per school, not a share
        title = TEXTS[first.code][1 if reader_lang() == "en" else 0]
        series = [(area, [_value(blocks, area, at, ratio) for _, blocks in periods])
                  for area in areas]
        unit = gettext("на школу") if ratio else "%"
        figure = go.Figure(layout=layout(
            xaxis={"title": {"text": gettext("период")}, "type": "category"},
            yaxis={"title": {"text": unit}, "rangemode": "tozero"}, height=340))
        for n, (area, values) in enumerate(series):
            figure.add_trace(go.Scatter(
                x=labels, y=values, name=area_name(area), mode="lines+markers+text", text=[
                    number(v) for v in values], textposition="top center",
                line={"color": COLOURS[n % len(COLOURS)], "dash": DASHES[n % len(DASHES)]},
                marker={"symbol": SYMBOLS[n % len(SYMBOLS)], "size": 9}))
        table = DataTable(f"{title}, {unit}", (gettext("Территория"), *labels),
                          [(area_name(area), *(number(v) for v in values))
                           for area, values in series])
        charts.append(Chart(figure_json(figure), gettext("%(title)s: по периодам", title=title),
                            table))
    return charts


def area_name(area: str) -> str:
    """An area as the reader says it: the names the report gives itself (all
    municipalities, those in the caller's access, none) translated, a municipality's own
    name as it is."""
    return gettext(area) if area in REPORT_AREAS else area


def _value(blocks: Sequence[Any], area: str, at: int, ratio: bool) -> float | None:
    block = next((b for b in blocks if b.area == area), None)
    if block is None or block.indicators[at].value is None:
        return None
    value: float = block.indicators[at].value
    return round(value, 2) if ratio else percent(value)


def bars_chart(caption: str, categories: list[str], series: list[tuple[str, list[float | None]]],
               *, unit: str, first_column: str, horizontal: bool = False) -> Chart:
    """Bars compared side by side: a colour and a pattern per series, the number on each."""
    figure = go.Figure(layout=layout(barmode="group", height=max(320, 60 + 26 * len(
        categories) * max(1, len(series)) if horizontal else 360)))
    for n, (name, values) in enumerate(series):
        axes = {"y": categories, "x": values, "orientation": "h"} if horizontal else {
            "x": categories, "y": values}
        figure.add_trace(go.Bar(
            name=name, text=[number(v) for v in values], textposition="outside", **axes,
            marker={"color": COLOURS[n % len(COLOURS)], "line": {"color": "#222", "width": 1},
                    "pattern": {"shape": PATTERNS[n % len(PATTERNS)], "fgcolor": "#fff"}},
            cliponaxis=False))
    value_axis = {"title": {"text": unit}, "rangemode": "tozero"}
    category_axis = {"type": "category", "autorange": "reversed"} if horizontal else {
        "type": "category"}
    figure.update_layout(xaxis=value_axis if horizontal else category_axis,
                         yaxis=category_axis if horizontal else value_axis)
    table = DataTable(f"{caption}, {unit}", (first_column, *(name for name, _ in series)),
                      [(category, *(number(values[i]) for _, values in series))
                       for i, category in enumerate(categories)])
    return Chart(figure_json(figure), caption, table)


def dynamics_chart(data: dict[str, Any] | None) -> Chart | None:
    """The /dynamics page's competencies (``app.reports.analytics.dynamics``): deficits at
    entry beside those closed; None without a pair of diagnostics or a compared pair."""
    rows = list((data or {}).get("competencies") or [])
    if not rows:
        return None
    names = [f"{r['competency']} {r['name']}".strip() for r in rows]
    return bars_chart(gettext("Дефициты на входе и закрытые, по компетенциям"), names, [
        (gettext("Дефицитов на входе"), [int(r["entry_deficits"]) for r in rows]),
        (gettext("Закрыто"), [int(r["closed"]) for r in rows])],
        unit=gettext("пар «педагог × компетенция»"), first_column=gettext("Компетенция"),
        horizontal=True)


def teacher_scores_figure(rows: Iterable[tuple[str, float | None, float | None]]) -> dict[str, Any]:
    """A teacher's result per competency, entry beside final, in percent (rows: competency,
    entry score 0..1 or None, final score 0..1 or None). The figure's JSON."""
    return teacher_scores_chart(rows).figure


def teacher_scores_chart(rows: Iterable[tuple[str, float | None, float | None]]) -> Chart:
    """``teacher_scores_figure`` with its caption and data table."""
    found = list(rows)
    return bars_chart(gettext("Результаты по компетенциям: входная → итоговая диагностика"),
                      [name for name, _, _ in found], [
                          (gettext("Входная"), [percent(entry, 0) for _, entry, _ in found]),
                          (gettext("Итоговая"), [percent(final, 0) for _, _, final in found])],
                      unit="%", first_column=gettext("Компетенция"), horizontal=True)


def teacher_score_rows(levels: Iterable[Any], entry_id: int,
                       final_id: int) -> list[tuple[str, float | None, float | None]]:
    """The rows of ``teacher_scores_figure`` from the teacher page's ``TEACHER_LEVELS`` rows
    (``diagnostic_id``, ``idnumber``, ``name``, ``score``)."""
    found: dict[str, dict[int, Any]] = {}
    for row in levels:
        if row.diagnostic_id in (entry_id, final_id):
            found.setdefault(f"{row.idnumber} {row.name}", {})[row.diagnostic_id] = row.score
    return [(name, by.get(entry_id), by.get(final_id)) for name, by in sorted(found.items())]


# The pages that chart a report they already render call these from their templates.
bp.add_app_template_global(indicator_charts)
bp.add_app_template_global(dynamics_chart)
