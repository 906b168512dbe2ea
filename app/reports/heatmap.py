"""The deficit heat map: schools × competencies with each cell's teachers with a deficit and
teachers assessed (n), filtered by school status and competency group, sorted, with the
municipalities' and the scope's rows summed from the schools shown, and the change from the
entry diagnostic to the final one.

Sums of the counts stored per school (``app.reports.map_store``): no level is read. A row's
figures are its numerators and denominators; a municipality's row is the sum of its schools'
rows as the map lists them (a teacher no longer active counts under "no school", as in
:func:`app.reports.maps.deficit_map`), the total the sum of every row shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from app.accounts.roles import Scope
from app.extensions import db
from app.i18n import N_
from app.models import Competency, Diagnostic, Municipality
from app.reports.map_store import (
    ADVERSE_CONTEXT,
    AGREES,
    ASSESSED,
    DEFICIT,
    DISAGREES,
    LOW_RESULTS,
    RESOURCE_CENTRE,
    MapCounts,
    Scoped,
    map_counts,
    scoped,
    stripped,
)

NEED, NAME = "need", "name"  # the orders besides a competency's value
# The statuses to filter the schools by: the bit a school must hold (``other``: none).
STATUSES = {"low_results": LOW_RESULTS, "adverse_context": ADVERSE_CONTEXT,
            "resource_centre": RESOURCE_CENTRE, "other": 0}
NO_SCHOOL = N_("Без образовательной организации")  # translated where a page shows it


@dataclass(frozen=True)
class Cell:
    """One competency of a row: teachers with a deficit among those assessed (``assessed``,
    the n) and their share; in the change view also the entry's, and the change (final share
    − entry share)."""

    deficits: int
    assessed: int
    share: float | None
    entry_deficits: int | None = None
    entry_assessed: int | None = None
    entry_share: float | None = None
    change: float | None = None

    @property
    def value(self) -> float | None:
        """What the cell shows: the change in the change view, else the share."""
        return self.change if self.entry_assessed is not None else self.share


@dataclass(frozen=True)
class Row:
    """A school (``code`` None: teachers of no school), a municipality or the whole scope."""

    code: str | None
    name: str
    kind: str  # School.kind; "unknown" for no school, "" for a sum of schools
    municipality_id: int | None
    teachers: int  # the most assessed in one shown competency
    cells: tuple[Cell, ...]
    need: float | None  # the mean of the cells' values (None: no value)


@dataclass(frozen=True)
class Filters:
    """Which schools and competencies the map shows: a status of ``STATUSES`` (None: all),
    a competency group (None: all)."""

    status: str | None = None
    group: str | None = None


ALL = Filters()  # every school and competency


@dataclass
class HeatMap:
    """The rows of the map (``schools``: the window asked) and how they were chosen."""

    diagnostic_id: int
    entry_id: int | None = None  # the change view's entry diagnostic
    competencies: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, group
    groups: list[str] = field(default_factory=list)  # of the measured competencies
    municipalities: list[Row] = field(default_factory=list)
    total: Row | None = None
    schools: list[Row] = field(default_factory=list)
    school_count: int = 0
    sort: str = NEED
    descending: bool = True
    # Moodle's own ratings beside the levels, of the scope: competency → agrees, disagrees
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)


def heat_map(diagnostic: Diagnostic, scope: Scope | None = None, *,
             entry: Diagnostic | None = None, filters: Filters = ALL,
             sort: str = NEED, descending: bool | None = None,
             groups: Mapping[str, str] | None = None,
             window: tuple[int, int] | None = None) -> HeatMap:
    """The heat map of ``diagnostic`` in ``scope`` (or the change since ``entry``).

    ``sort``: ``need`` (the mean value of the shown competencies), ``name``, or a shown
    competency's idnumber (anything else is ``need``); ``descending`` defaults to True but
    for names; rows without a value come last either way. ``groups``: competency → group
    where the policy overrides the competency's own. ``window``: (start, stop) of the
    ordered schools to keep (a page); ``school_count`` counts them all.
    """
    counts = map_counts(diagnostic)
    sums = scoped(counts, scope, diagnostic.id)
    before = scoped(map_counts(entry), scope, entry.id) if entry is not None else None
    measured = set(sums.competencies) | set(before.competencies if before else ())
    known = _competencies(groups or {})
    out = HeatMap(diagnostic.id, entry.id if entry else None,
                  groups=sorted({g for c, _, g in known if c in measured and g}),
                  ratings={c: {"agrees": int(n[AGREES]), "disagrees": int(n[DISAGREES])}
                           for c, n in zip(sums.competencies, sums.total.tolist(), strict=True)
                           if n[AGREES] or n[DISAGREES]})
    out.competencies = [c for c in known if c[0] in measured
                        and (filters.group is None or c[2] == filters.group)]
    columns = [c for c, _, _ in out.competencies]
    out.sort = sort if sort in (NAME, *columns) else NEED
    out.descending = out.sort != NAME if descending is None else descending
    codes = list(dict.fromkeys([*sums.codes, *(before.codes if before else ())]))
    schools = _schools(counts)
    codes = [c for c in codes if _wanted(schools.get(c) if c else None, c, filters.status)]
    at = {c: i for i, c in enumerate(codes)}
    grid = _Grid(*_matrix(sums, at, columns), *(_matrix(before, at, columns) if before
                                                 else (None, None)))
    names = [schools[c][0] if c in schools else NO_SCHOOL if c is None else c for c in codes]
    towns = [schools[c][1] if c in schools else None for c in codes]
    order = _order(grid.values(), names, codes, sort=out.sort, columns=columns,
                   descending=out.descending)
    out.school_count = len(order)
    for i in order[slice(*window) if window else slice(None)]:
        code = codes[i]
        out.schools.append(grid.row(i, i + 1, code, names[i], town=towns[i],
                                    kind=schools[code][3] if code in schools else "unknown"))
    out.municipalities = _municipalities(grid, towns)
    if codes:
        out.total = grid.row(0, len(codes), None, "Всего", kind="", town=None)
    return out


def _competencies(groups: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(idnumber, name, group) of every competency, by idnumber."""
    return [(c, n, groups.get(c, g or "")) for c, n, g in db.session.execute(
        select(Competency.idnumber, Competency.name, Competency.group)
        .order_by(Competency.idnumber))]


def _schools(counts: MapCounts) -> dict[str, tuple[str, int | None, int, str]]:
    """Stripped school code → name, municipality id, status bits, kind (kept with the
    counts)."""
    def build() -> dict[str, tuple[str, int | None, int, str]]:
        found: dict[str, tuple[str, int | None, int, str]] = {}
        for code, name, town, flags, kind in zip(
                counts.school_codes, counts.school_names, counts.school_municipality.tolist(),
                counts.school_flags.tolist(), counts.school_kinds, strict=True):
            key = stripped(code)
            if key is not None:
                found.setdefault(key, (name, None if town < 0 else int(town), int(flags), kind))
        return found

    return counts.derived("heat_schools", build)


def _wanted(school: tuple[str, int | None, int, str] | None, code: str | None,
            status: str | None) -> bool:
    """Whether the filter by status keeps a row (teachers of no school only without one)."""
    if status is None or status not in STATUSES:
        return True
    if code is None or school is None:
        return False
    bit = STATUSES[status]
    return bool(school[2] & bit) if bit else school[2] == 0


def _matrix(sums: Scoped, at: dict[str | None, int], columns: list[str]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Teachers with a deficit and teachers assessed, rows ``at`` × ``columns``."""
    deficits = np.zeros((len(at), len(columns)), "int64")
    assessed = np.zeros((len(at), len(columns)), "int64")
    kept = [(i, at[c]) for i, c in enumerate(sums.codes) if c in at]
    if not kept:
        return deficits, assessed
    source, target = (np.array(x, "int64") for x in zip(*kept, strict=True))
    for j, code in enumerate(columns):
        if code in sums.competencies:
            k = sums.competencies.index(code)
            deficits[target, j] = sums.rows[source, k, DEFICIT]
            assessed[target, j] = sums.rows[source, k, ASSESSED]
    return deficits, assessed


def _shares(deficits: np.ndarray, assessed: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(assessed > 0, deficits / np.maximum(assessed, 1), np.nan)


def _known(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


@dataclass(frozen=True)
class _Grid:
    """The rows' counts (and the entry's in the change view), rows × shown competencies."""

    deficits: np.ndarray
    assessed: np.ndarray
    entry_deficits: np.ndarray | None
    entry_assessed: np.ndarray | None

    def values(self) -> np.ndarray:
        """What each cell shows: the share, or the change since the entry."""
        share = _shares(self.deficits, self.assessed)
        if self.entry_deficits is None or self.entry_assessed is None:
            return share
        return share - _shares(self.entry_deficits, self.entry_assessed)

    def row(self, start: int, stop: int, code: str | None, name: str, *, kind: str,
            town: int | None, rows: np.ndarray | None = None) -> Row:
        """Rows ``start:stop`` (or the positions ``rows``) summed as one row."""
        pick = rows if rows is not None else slice(start, stop)
        summed = _Grid(self.deficits[pick].sum(axis=0, keepdims=True),
                       self.assessed[pick].sum(axis=0, keepdims=True),
                       None if self.entry_deficits is None
                       else self.entry_deficits[pick].sum(axis=0, keepdims=True),
                       None if self.entry_assessed is None
                       else self.entry_assessed[pick].sum(axis=0, keepdims=True))
        values = summed.values()[0]
        cells = []
        for j, (d, a) in enumerate(zip(summed.deficits[0].tolist(), summed.assessed[0].tolist(),
                                       strict=True)):
            share = d / a if a else None
            if summed.entry_deficits is None or summed.entry_assessed is None:
                cells.append(Cell(d, a, share))
                continue
            d0, a0 = int(summed.entry_deficits[0, j]), int(summed.entry_assessed[0, j])
            cells.append(Cell(d, a, share, d0, a0, d0 / a0 if a0 else None,
                              _known(values[j])))
        known = values[~np.isnan(values)]
        return Row(code, name, kind, town, int(summed.assessed.max(initial=0)), tuple(cells),
                   float(known.mean()) if len(known) else None)


def _order(values: np.ndarray, names: list[str], codes: list[str | None], *, sort: str,
           columns: list[str], descending: bool) -> list[int]:
    """The rows' positions: by name, by the mean of the shown values or by one competency's
    value; rows without a value (and teachers of no school, by name) last."""
    positions = range(len(codes))
    if sort == NAME:
        named = sorted((i for i in positions if codes[i] is not None),
                       key=lambda i: (names[i].casefold(), str(codes[i])), reverse=descending)
        return named + [i for i in positions if codes[i] is None]
    if sort in columns:
        column = values[:, columns.index(sort)]
    else:
        with np.errstate(invalid="ignore"):
            known = (~np.isnan(values)).sum(axis=1)
            column = np.where(known > 0, np.nansum(values, axis=1) / np.maximum(known, 1),
                              np.nan)
    keys = column.tolist()
    sign = -1.0 if descending else 1.0
    return sorted(positions, key=lambda i: (keys[i] != keys[i], sign * keys[i]
                                            if keys[i] == keys[i] else 0.0, names[i]))


def _municipalities(grid: _Grid, towns: list[int | None]) -> list[Row]:
    """One row per municipality of the rows, the sum of its schools' rows, by name."""
    ids = sorted({t for t in towns if t is not None})
    if not ids:
        return []
    named = dict(db.session.execute(select(Municipality.id, Municipality.name)
                                    .where(Municipality.id.in_(ids))).all())
    where = np.array([-1 if t is None else t for t in towns], "int64")
    rows = [grid.row(0, 0, None, f"Муниципалитет «{named.get(m, m)}»", kind="", town=m,
                     rows=np.flatnonzero(where == m)) for m in ids]
    return sorted(rows, key=lambda r: r.name.casefold())
