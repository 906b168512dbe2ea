"""The network map (issue 14): resource centres and their partner schools as a
graph, on longitude/latitude axes where coordinates are known, and as a table."""

from __future__ import annotations

import datetime as dt
import math

import plotly.graph_objects as go
from flask import Blueprint, render_template
from flask_babel import gettext as _

from app.accounts.roles import ADMIN, METHODOLOGIST
from app.i18n import N_
from app.reports.network import (
    CENTRE,
    LOW,
    OTHER,
    STATUS_RU,
    NetworkReport,
    NetworkSchool,
    network_report,
)
from app.web.access import allow, current_scope
from app.web.charts import Chart, DataTable, figure_json, layout, number

bp = Blueprint("network", __name__, template_folder="templates")
# Node colour AND symbol by status: a low-results school is told from the others without colour
LOOK = {CENTRE: ("#0072B2", "square"), LOW: ("#D55E00", "diamond"), OTHER: ("#7f7f7f", "circle")}
# The graph's columns and edges (in the reader's language where a chart shows them)
COLUMNS = {0: N_("Ресурсные центры"), 1: N_("Школы-партнёры"), 2: N_("Вне сети")}
# Beyond this many schools outside the network, the graph leaves them to the table below it
OUTSIDE_SHOWN = 40
EDGE_IN_FORCE, EDGE_OTHER = N_("Соглашение действует"), N_("Соглашение не действует сегодня")


@bp.get("/network")
@allow(METHODOLOGIST, ADMIN)
def network_page() -> str:
    """The network of the caller's schools: the graph, the map (when some schools have
    coordinates) and the table of centres with their partners and agreements."""
    report = network_report(current_scope())
    today = dt.date.today()
    return render_template("network.html", report=report, graph=network_chart(report, today),
                           map=map_chart(report, today), status_ru=STATUS_RU, today=today)


def node_size(deficits: int) -> float:
    """A node's marker size: its area grows with the open deficits."""
    return round(min(12 + 4 * math.sqrt(deficits), 48), 1)


def short(name: str, width: int = 30) -> str:
    """A school's name cut for a label (the full one is in the hover and the table)."""
    return name if len(name) <= width else name[:width - 1] + "…"


def graph_positions(report: NetworkReport) -> dict[str, tuple[float, float]]:
    """Centres in the left column, their partners in the middle (by first centre), the
    schools outside the network on the right (up to ``OUTSIDE_SHOWN`` of them); top to
    bottom by name."""
    centres = report.centres()
    positions: dict[str, tuple[float, float]] = {}
    for row, (centre, _links) in enumerate(centres):
        positions[centre.code] = (0, -row)
    partners = [school for _centre, links in centres for _link, school in links]
    row = 0
    for school in partners:
        if school.code not in positions:
            positions[school.code] = (1, -row)
            row += 1
    outside = report.unpartnered()
    for row, school in enumerate(outside if len(outside) <= OUTSIDE_SHOWN else []):
        positions[school.code] = (2, -row)
    return positions


def network_chart(report: NetworkReport, today: dt.date) -> Chart | None:
    """The network as a graph: an edge per partnership, a node per school."""
    positions = graph_positions(report)
    if not positions:
        return None
    tall = max(-y for _, y in positions.values()) + 1
    columns = sorted({int(x) for x, _ in positions.values()})
    figure = go.Figure(layout=layout(
        height=max(360, 110 + 34 * tall), showlegend=True,
        legend={"orientation": "h", "y": 0, "yanchor": "top"},  # the column titles on top
        xaxis={"tickvals": columns, "ticktext": [_(COLUMNS[c]) for c in columns],
               "zeroline": False,
               "showgrid": False, "range": [-0.9, max(columns) + 0.9], "side": "top"},
        yaxis={"visible": False, "range": [-tall + 0.4, 0.6]}))
    _add_edges(figure, report, positions, today)
    _add_nodes(figure, [report.schools[c] for c in positions], positions, graph=True)
    rows = [(s.name, s.municipality or "—", _(STATUS_RU[s.status]),
             _(COLUMNS[int(positions[s.code][0])]), number(s.deficits))
            for s in (report.schools[c] for c in positions)]
    table = DataTable(_("Узлы графа: школы и их открытые дефициты"),
                      (_("Школа"), _("Муниципалитет"), _("Статус"), _("Столбец графа"),
                       _("Открытых дефицитов")), rows)
    left_out = len(report.schools) - len(positions)
    caption = _("Сеть: ресурсные центры и школы-партнёры (размер узла — число открытых "
                "дефицитов)")
    if left_out:
        caption = _("Сеть: ресурсные центры и школы-партнёры (размер узла — число открытых "
                    "дефицитов); школы вне сети (%(n)s) — в таблице ниже", n=left_out)
    return Chart(figure_json(figure), caption, table)


def map_chart(report: NetworkReport, today: dt.date) -> Chart | None:
    """The schools with coordinates on longitude/latitude axes, equal-scaled at their mean
    latitude, with the partnerships between placed schools; None when none is placed."""
    placed = report.placed()
    if not placed:
        return None
    positions = {s.code: (float(s.longitude or 0), float(s.latitude or 0)) for s in placed}
    middle = sum(y for _, y in positions.values()) / len(positions)
    ratio = 1 / max(math.cos(math.radians(middle)), 0.05)  # a degree of latitude is longer
    figure = go.Figure(layout=layout(
        height=520, xaxis={"title": {"text": _("долгота")}, "constrain": "domain"},
        yaxis={"title": {"text": _("широта")}, "scaleanchor": "x",
               "scaleratio": round(ratio, 6)}))
    _add_edges(figure, report, positions, today)
    _add_nodes(figure, placed, positions, graph=False)
    table = DataTable(_("Школы на карте"), (_("Школа"), _("Статус"), _("Широта"), _("Долгота"),
                                            _("Открытых дефицитов")),
                      [(s.name, _(STATUS_RU[s.status]), number(s.latitude), number(s.longitude),
                        number(s.deficits)) for s in placed])
    unplaced = len(report.schools) - len(placed)
    caption = _("Школы на карте (долгота и широта в одном масштабе)")
    if unplaced:
        caption = _("Школы на карте (долгота и широта в одном масштабе); без координат: "
                    "%(n)s", n=unplaced)
    return Chart(figure_json(figure), caption, table)


def _add_edges(figure: go.Figure, report: NetworkReport,
               positions: dict[str, tuple[float, float]], today: dt.date) -> None:
    """Two line traces, the agreements in force today (solid) and the others (dotted): a
    segment per partnership whose two schools are placed, ``None`` between segments."""
    for name, dash, now in ((EDGE_IN_FORCE, "solid", True), (EDGE_OTHER, "dot", False)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for link in report.links:
            if link.in_force(today) == now and link.centre in positions \
                    and link.school in positions:
                (x0, y0), (x1, y1) = positions[link.centre], positions[link.school]
                xs += [x0, x1, None]
                ys += [y0, y1, None]
        if xs:
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=_(name), hoverinfo="skip",
                                        meta="edges", line={"color": "#555", "width": 1.5,
                                                            "dash": dash}))


def _add_nodes(figure: go.Figure, schools: list[NetworkSchool],
               positions: dict[str, tuple[float, float]], *, graph: bool) -> None:
    """A marker trace per status (its colour and symbol), size and label by open deficits
    (``graph``: the centres' labels to the left of the first column, the others' right)."""
    for status in (CENTRE, LOW, OTHER):
        group = [s for s in schools if s.status == status]
        if not group:
            continue
        colour, symbol = LOOK[status]
        label = _(STATUS_RU[status])
        figure.add_trace(go.Scatter(
            x=[positions[s.code][0] for s in group], y=[positions[s.code][1] for s in group],
            mode="markers+text", name=label, meta="nodes",
            # the map's points crowd in towns: there the label is the count, the name hovers
            text=[f"{short(s.name)} · {s.deficits}" if graph else str(s.deficits)
                  for s in group],
            textposition=[("middle left" if positions[s.code][0] == 0 else "middle right")
                          if graph else "top center" for s in group],
            customdata=[[s.code, s.deficits, s.teachers, s.municipality or "—"] for s in group],
            hovertext=[s.name for s in group],
            # a plotly template (its %{…}), not a Python format: gettext without values
            hovertemplate=_("%{hovertext}<br>код %{customdata[0]}, %{customdata[3]}<br>открытых "
                            "дефицитов: %{customdata[1]}, педагогов: %{customdata[2]}")
            + f"<extra>{label}</extra>",
            marker={"color": colour, "symbol": symbol, "size": [node_size(s.deficits)
                                                                for s in group],
                    "line": {"color": "#222", "width": 1}},
            cliponaxis=False))
