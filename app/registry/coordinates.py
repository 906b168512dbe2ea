"""Optional school coordinates in the schools file: «широта» and «долгота» columns.

The schools file's reader (``courses.catalogue.read_schools``) knows the programme's columns;
the coordinates only place a school on the network map, so they are read here beside it from
the same bytes: a row with a bad coordinate is refused on its row and column like any other
bad cell (the other rows are kept), and the header cells read as coordinates are no longer
reported as unread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

from flask_babel import gettext as _

from app.i18n import N_
from courses.catalogue import CatalogueFile, SchoolRow, read_schools
from tabular import SCHOOL_CODE_PATTERN, RowError, header_aliases, read_table

# Header spellings of the coordinate columns (kept here rather than in tabular/headers.toml:
# the «schools» kind there must list exactly the reader's SCHOOL_COLUMNS).
COORDINATE_ALIASES = {
    "latitude": ("latitude", "lat", "широта", "широта (lat)", "широта, °", "географическая широта"),
    "longitude": ("longitude", "lon", "lng", "долгота", "долгота (lon)", "долгота, °",
                  "географическая долгота"),
}
_LIMITS = {"latitude": 90.0, "longitude": 180.0}  # degrees either side of zero
_NOT_RU = {"latitude": N_("«%(value)s» — не широта: нужно число градусов от −%(limit)s до "
                          "%(limit)s (например 55,79); исправьте или оставьте пустым"),
           "longitude": N_("«%(value)s» — не долгота: нужно число градусов от −%(limit)s до "
                           "%(limit)s (например 55,79); исправьте или оставьте пустым")}
_EMPTY_RU = {"latitude": N_("пусто, а долгота указана; заполните обе координаты или ни одной"),
             "longitude": N_("пусто, а широта указана; заполните обе координаты или ни одной")}
Coordinates = tuple[float | None, float | None]  # latitude, longitude


def read_schools_placed(
    data: bytes, *, name: str = "", code_pattern: str = SCHOOL_CODE_PATTERN,
    mapping: Mapping[str, str] | None = None,
) -> tuple[CatalogueFile[SchoolRow], dict[str, Coordinates]]:
    """``read_schools`` and the coordinates of its valid rows.

    Returns:
        The schools file as read, its rows with a bad coordinate refused (a RowError each),
        ``latitude``/``longitude`` among ``present`` when the file holds them; and by school
        code the (latitude, longitude) in degrees (None, None for empty cells). A file
        without coordinate columns gives no coordinates at all (the stored ones are kept).
    """
    found = read_schools(data, name=name, code_pattern=code_pattern, mapping=mapping)
    if found.refused:
        return found, {}
    aliases = {**header_aliases("schools"), **COORDINATE_ALIASES}
    table = read_table(data, aliases=aliases, strict_width=True, name=name, mapping=mapping)
    held = [column for column in COORDINATE_ALIASES if column in table.columns]
    if not held:
        return found, {}
    placed: dict[int, Coordinates] = {}
    errors = list(found.errors)
    for row in table.rows:
        point, problems = _coordinates(row.number, row.fields, held)
        errors += problems
        if not problems:
            placed[row.number] = point
    by_code: dict[str, int] = {}  # a repeated code: its first row is the one read_schools keeps
    for row in table.rows:
        by_code.setdefault(row.fields.get("code", ""), row.number)
    rows = [school for school in found.rows if by_code.get(school.code) in placed]
    coordinates = {school.code: placed[by_code[school.code]] for school in rows}
    unread = [cell for cell in found.unread if cell not in table.read_as]
    return replace(found, rows=rows, errors=sorted(errors, key=lambda e: e.row),
                   present=found.present | set(held), unread=unread), coordinates


def _coordinates(line: int, cells: Mapping[str, str],
                 held: list[str]) -> tuple[Coordinates, list[RowError]]:
    """The row's (latitude, longitude) and the problems of its cells (Russian reasons; in the
    reader's language during a request)."""
    values: dict[str, float | None] = {}
    problems: list[RowError] = []
    for column in held:
        text = cells.get(column, "").replace(",", ".").replace("−", "-").replace(" ", "")
        limit = _LIMITS[column]
        try:
            value = float(text) if text else None
        except ValueError:
            value = math.nan
        if value is not None and not (math.isfinite(value) and -limit <= value <= limit):
            degrees = format(limit, "g")
            problems.append(RowError(line, column, _(_NOT_RU[column],
                                                     value=cells.get(column, ""),
                                                     limit=degrees)))
            continue
        values[column] = value
    point = (values.get("latitude"), values.get("longitude"))
    if not problems and len(held) == 2 and (point[0] is None) != (point[1] is None):
        missing = "latitude" if point[0] is None else "longitude"
        problems.append(RowError(line, missing, _(_EMPTY_RU[missing])))
    return point, problems

