"""One page of the deficit map's school list: sorted, filtered by municipality, paged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from app.accounts.roles import Scope
from app.extensions import db
from app.models import Municipality
from app.reports.maps import DeficitMap
from app.web.inputs import id_arg

PAGE_SIZE = 50
NEED = "need"  # the mean deficit share over the competencies, highest first
NAME = "name"


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


def page_of(data: DeficitMap, values: Mapping[str, str], size: int | None = None) -> MapPage:
    """The page ``?page=`` (from 1) of the schools sorted by ``?sort=``: ``need`` (the mean
    deficit share, as the map always ranked them), ``name``, or a competency's idnumber
    (its share, highest first; schools without it last). An unknown sort is ``need``; a page
    past the last is the last; ``size`` defaults to ``PAGE_SIZE``."""
    size = size or PAGE_SIZE
    codes = {code for code, _ in data.competencies}
    sort = values.get("sort", NEED)
    sort = sort if sort in codes or sort == NAME else NEED
    schools = data.schools  # already by need, highest first
    if sort == NAME:
        schools = sorted(schools, key=lambda s: (s["code"] is None, str(s["name"])))
    elif sort != NEED:
        schools = sorted(schools, key=lambda s: _by_share(s["shares"].get(sort)))
    pages = max(1, -(-len(schools) // size))
    raw = values.get("page", "1").strip()
    number = min(int(raw), pages) if raw.isascii() and raw.isdigit() and int(raw) > 0 else 1
    first = (number - 1) * size
    return MapPage(schools[first:first + size], number, pages, len(schools), sort, first)


def _by_share(value: float | None) -> tuple[bool, float]:
    return value is None, -(value or 0.0)
