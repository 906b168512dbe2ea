"""One page of the deficit heat map's school list (sorted, filtered, paged), the caller's
municipality filter, and the whole list as an XLSX file's rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.accounts.roles import Scope
from app.extensions import db
from app.models import Diagnostic, Municipality
from app.reports.heatmap import ALL, NEED, Filters, HeatMap, heat_map
from app.reports.xlsx import table_workbook
from app.web.inputs import id_arg

PAGE_SIZE = 50


@dataclass
class MapPage:
    """The schools of one page and how to reach the others."""

    schools: list[Any] = field(default_factory=list)  # the page's rows
    number: int = 1
    pages: int = 1
    total: int = 0
    sort: str = NEED
    first: int = 0  # the position of the page's first school among all (0-based)


def municipality_filter(values: Mapping[str, str], scope: Scope
                        ) -> tuple[Scope, Municipality | None, list[Municipality]]:
    """The scope narrowed to ``?municipality=<id>`` (one of the caller's), that municipality,
    and the caller's municipalities to choose from.

    :raise 404: a municipality out of the caller's scope or unknown (the same answer).
    """
    query = select(Municipality).order_by(Municipality.name)
    if not scope.region:
        query = query.where(Municipality.id.in_(scope.municipality_ids))
    choices = list(db.session.scalars(query))
    chosen = id_arg(values, "municipality")
    if chosen is None:
        return scope, None, choices
    picked = next((m for m in choices if m.id == chosen), None)
    if picked is None:
        raise NotFound(gettext("Нет муниципалитета с id %(id)s", id=chosen))
    return Scope(municipality_ids=frozenset({picked.id})), picked, choices


def paged_heat(diagnostic: Diagnostic, scope: Scope, page: int, *,
               entry: Diagnostic | None = None, filters: Filters = ALL,
               sort: str = NEED, descending: bool | None = None,
               groups: Mapping[str, str] | None = None,
               size: int | None = None) -> tuple[HeatMap, MapPage]:
    """The heat map with the schools of page ``page`` (from 1) only, in the order asked
    (:func:`app.reports.heatmap.heat_map`); a page past the last is the last; ``size``
    defaults to ``PAGE_SIZE``."""
    size = size or PAGE_SIZE

    def one(number: int) -> HeatMap:
        return heat_map(diagnostic, scope, entry=entry, filters=filters, sort=sort,
                        descending=descending, groups=groups,
                        window=((number - 1) * size, number * size))

    data = one(page)
    pages = max(1, -(-data.school_count // size))
    if page > pages:  # past the last: the last
        page = pages
        data = one(page)
    return data, MapPage(data.schools, page, pages, data.school_count, data.sort,
                         (page - 1) * size)


KIND_RU = {"resource_centre": "ресурсный центр", "low_results": "ШНОР",
           "adverse_context": "ШФНСУ", "other": "другая", "unknown": "—", "": ""}


def heat_rows(data: HeatMap) -> list[list[Any]]:
    """The rows of the XLSX file, as the page shows them: the municipalities' rows, the
    total, then the schools; per competency its share and n (the change view: the change,
    the entry's and the final's shares and n)."""
    out = []
    for kind, row in ([("Муниципалитет", m) for m in data.municipalities]
                      + ([("Всего", data.total)] if data.total else [])
                      + [("Школа", s) for s in data.schools]):
        values: list[Any] = [kind, row.name, row.code or "",
                             KIND_RU.get(row.kind, row.kind), row.teachers, row.need]
        for cell in row.cells:
            if data.entry_id is None:
                values += [cell.share, cell.assessed, cell.deficits]
            else:
                values += [cell.change, cell.entry_share, cell.share, cell.entry_assessed,
                           cell.assessed]
        out.append(values)
    return out


def heat_headers(data: HeatMap) -> list[str]:
    """The XLSX file's column headers, one per value of :func:`heat_rows`."""
    headers = ["Строка", "Образовательная организация", "Код", "Тип", "Педагогов",
               "Изменение в среднем" if data.entry_id else "Средняя доля дефицитов"]
    for code, _, _ in data.competencies:
        if data.entry_id is None:
            headers += [f"{code}: доля", f"{code}: n", f"{code}: с дефицитом"]
        else:
            headers += [f"{code}: изменение, п.п.", f"{code}: входная", f"{code}: итоговая",
                        f"{code}: n входной", f"{code}: n итоговой"]
    return headers


def heat_workbook(title: str, notes: list[str], data: HeatMap) -> bytes:
    """The XLSX file of ``data`` (every school it holds), its competencies named in the
    notes."""
    names = [f"{code} — {name}" + (f" ({group})" if group else "")
             for code, name, group in data.competencies]
    return table_workbook(title, [*notes, *names], heat_headers(data), heat_rows(data))
