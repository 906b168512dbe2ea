"""One page of the deficit map's school list (sorted, filtered by municipality, paged), and
the whole list as an XLSX file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.accounts.roles import Scope
from app.extensions import db
from app.models import Diagnostic, Municipality
from app.reports.maps import NAME, NEED, DeficitMap, deficit_map
from app.reports.xlsx import table_workbook
from app.web.inputs import id_arg

PAGE_SIZE = 50


@dataclass
class MapPage:
    """The schools of one page and how to reach the others."""

    schools: list[dict[str, Any]] = field(default_factory=list)
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
        raise NotFound(f"Нет муниципалитета с id {chosen}")
    return Scope(municipality_ids=frozenset({picked.id})), picked, choices


def paged_map(diagnostic: Diagnostic, scope: Scope, values: Mapping[str, str],
              size: int | None = None) -> tuple[DeficitMap, MapPage]:
    """The map with the schools of page ``?page=`` (from 1) only, sorted by ``?sort=``:
    ``need`` (the mean deficit share, as the map always ranked them), ``name``, or a
    competency's idnumber (its share, highest first; schools without it last). An unknown
    sort is ``need``; a page past the last is the last; ``size`` defaults to ``PAGE_SIZE``."""
    size = size or PAGE_SIZE
    sort = values.get("sort", NEED)
    raw = values.get("page", "1").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10**6 else 1
    data = deficit_map(diagnostic, scope, sort=sort, window=((number - 1) * size, number * size))
    pages = max(1, -(-data.school_count // size))
    if number > pages:  # past the last: the last
        number = pages
        data = deficit_map(diagnostic, scope, sort=sort,
                           window=((number - 1) * size, number * size))
    codes = {code for code, _ in data.competencies}
    return data, MapPage(data.schools, number, pages, data.school_count,
                         sort if sort in codes or sort == NAME else NEED, (number - 1) * size)


KIND_RU = {"resource_centre": "ресурсный центр", "low_results": "ШНОР",
           "adverse_context": "ШФНСУ", "other": "другая", "unknown": "—"}


def map_workbook(diagnostic: Diagnostic, data: DeficitMap,
                 municipality: Municipality | None) -> bytes:
    """Every school of ``data`` (by need, highest first) under the municipalities' rows and
    the total, with the thresholds the levels were scored by."""
    codes = [code for code, _ in data.competencies]
    notes = [f"Диагностика: «{diagnostic.name}»", *data.policy]
    if municipality is not None:
        notes.append(f"Отбор: муниципалитет «{municipality.name}»")
    rows: list[list[Any]] = [
        [f"Муниципалитет «{m['name']}»", "", "", m["teachers"],
         *(m["shares"].get(c) for c in codes)]  # type: ignore[attr-defined]
        for m in data.municipalities]
    rows.append(["Всего", "", "", "", *(data.municipality.get(c) for c in codes)])
    rows += [[s["name"], s["code"] or "", KIND_RU.get(str(s["kind"]), str(s["kind"])),
              s["teachers"], *(s["shares"].get(c) for c in codes)]  # type: ignore[attr-defined]
             for s in data.schools]
    return table_workbook("Карта дефицитов", notes, [
        "Образовательная организация", "Код", "Тип", "Педагогов", *codes], rows)
