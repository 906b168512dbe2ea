"""The deficit heat map page's parts: its arguments, its colour scales (each band with the
text colour readable on it), its links (sorting, the teacher list) and what the legend says.

The colours live in ``app/static/heatmap.css`` (the pages allow no inline style); a test
checks that file against ``SHARE_BANDS`` and ``CHANGE_BANDS`` and every band's contrast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, url_for
from flask_babel import gettext as _

from app.accounts.roles import Scope
from app.analyse.teacher_memo import latest_pair
from app.extensions import db
from app.i18n import N_
from app.models import Diagnostic, Municipality
from app.reports.heatmap import NAME, NEED, STATUSES, Cell, Filters
from app.reports.maps import current_diagnostic
from app.web.inputs import id_arg
from app.web.map_paging import municipality_filter

MIN_CONTRAST = 4.5  # WCAG 2 AA for normal text
DARK, LIGHT = "#1a1a1a", "#ffffff"
SCHOOL_STATUS_RU = {"low_results": N_("ШНОР"), "adverse_context": N_("ШФНСУ"),
                    "resource_centre": N_("ресурсные центры"), "other": N_("остальные")}
# The arguments a link of the page carries on (besides the page number).
KEPT = ("diagnostic", "view", "municipality", "status", "group", "sort", "dir")


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    high, low = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_text(background: str) -> str:
    """The text colour (dark or white) with the higher contrast on ``background``."""
    return max((DARK, LIGHT), key=lambda text: contrast(text, background))


@dataclass(frozen=True)
class Band:
    """A band of a colour scale: cells whose rounded percent (or change in points) is at
    least ``low`` (and below the next band's)."""

    css: str
    low: int
    label: str
    background: str
    sample: str  # what the legend's swatch shows

    @property
    def text(self) -> str:
        """The text colour on this band."""
        return readable_text(self.background)

    @property
    def shown(self) -> str:
        """The legend's label in the reader's language (its ``%`` kept out of Jinja's
        formatting)."""
        return _(self.label)


# Sequential (share of teachers with a deficit), ColorBrewer YlOrRd.
SHARE_BANDS = (Band("hm-s0", 0, N_("менее 10 %"), "#ffffcc", "5 %"),
               Band("hm-s1", 10, N_("10–19 %"), "#ffeda0", "15 %"),
               Band("hm-s2", 20, N_("20–29 %"), "#fed976", "25 %"),
               Band("hm-s3", 30, N_("30–49 %"), "#feb24c", "40 %"),
               Band("hm-s4", 50, N_("50–69 %"), "#fc4e2a", "60 %"),
               Band("hm-s5", 70, N_("70 % и более"), "#bd0026", "85 %"))
# Diverging (final share − entry share, percentage points), ColorBrewer RdBu reversed:
# blue where the share fell, red where it rose.
CHANGE_BANDS = (Band("hm-c0", -100, N_("снизилась на 20 п.п. и более"), "#2166ac",
                     "−25"),
                Band("hm-c1", -19, N_("снизилась на 10–19 п.п."), "#67a9cf", "−15"),
                Band("hm-c2", -9, N_("снизилась на 3–9 п.п."), "#d1e5f0", "−5"),
                Band("hm-c3", -2, N_("почти не изменилась (±2 п.п.)"), "#f7f7f7",
                     "±0"),
                Band("hm-c4", 3, N_("выросла на 3–9 п.п."), "#fddbc7", "+5"),
                Band("hm-c5", 10, N_("выросла на 10–19 п.п."), "#ef8a62", "+15"),
                Band("hm-c6", 20, N_("выросла на 20 п.п. и более"), "#b2182b",
                     "+25"))


def band_of(value: float | None, bands: tuple[Band, ...]) -> Band | None:
    """The band of a share or change (None: no value), by its rounded percent."""
    if value is None:
        return None
    percent = round(value * 100)
    return next(b for b in reversed(bands) if percent >= b.low or b is bands[0])


@dataclass(frozen=True)
class HeatRequest:
    """What the page's arguments ask for, checked against the caller's scope."""

    diagnostic: Diagnostic
    entry: Diagnostic | None  # the change view's entry diagnostic
    pair: tuple[int, int] | None  # the latest entry and final, when both exist
    scope: Scope
    municipality: Municipality | None
    municipalities: list[Municipality]
    filters: Filters
    sort: str
    descending: bool | None
    page: int
    args: dict[str, str] = field(default_factory=dict)  # the kept arguments as given


def heat_request(values: Mapping[str, str], scope: Scope) -> HeatRequest | None:
    """The page's arguments: ``diagnostic`` (else the latest), ``view=change`` (the latest
    final against the latest entry, when both exist), ``municipality`` (one of the
    caller's), ``status`` (a key of ``STATUSES``), ``group``, ``sort`` (``need``, ``name``
    or a competency's idnumber), ``dir`` (``asc``/``desc``), ``page``. Unknown values of
    ``status``, ``sort`` and ``dir`` are ignored. None: no diagnostic yet.

    :raise 404: an unknown diagnostic id, or a municipality unknown or out of scope.
    """
    chosen = id_arg(values, "diagnostic")
    diagnostic = db.session.get(Diagnostic, chosen) if chosen else current_diagnostic()
    if chosen and diagnostic is None:
        abort(404, description=_("Нет диагностики с id %(id)s", id=chosen))
    if diagnostic is None:
        return None
    pair, entry = latest_pair(), None
    if values.get("view") == "change" and pair is not None:
        entry, diagnostic = db.session.get(Diagnostic, pair[0]), db.session.get(
            Diagnostic, pair[1])
        assert diagnostic is not None  # latest_pair found it
    narrowed, municipality, municipalities = municipality_filter(values, scope)
    status = values.get("status") or None
    raw = values.get("page", "1").strip()
    direction = values.get("dir")
    return HeatRequest(
        diagnostic, entry, pair, narrowed, municipality, municipalities,
        Filters(status if status in STATUSES else None, values.get("group") or None),
        values.get("sort") or NEED,
        {"asc": False, "desc": True}.get(direction or ""),
        int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10**6 else 1,
        {k: values[k] for k in KEPT if values.get(k)})


@dataclass(frozen=True)
class HeatLinks:
    """The page's links from its arguments: sorting by a column, the views, the teachers."""

    args: dict[str, str]
    sort: str
    descending: bool

    def url(self, endpoint: str = "views.index", **changes: Any) -> str:
        """The page (or ``endpoint``) with the kept arguments and ``changes`` (None drops
        one)."""
        merged: dict[str, Any] = {**self.args, **changes}
        return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})

    def sorted_by(self, column: str) -> str:
        """The page sorted by ``column``: the other way round when it is sorted by it."""
        if column == self.sort:
            return self.url(sort=column, dir="asc" if self.descending else "desc", page=None)
        return self.url(sort=column, dir=None, page=None)

    def aria_sort(self, column: str) -> str | None:
        """``ascending``/``descending`` for the column the rows are sorted by, else None."""
        if column != self.sort:
            return None
        return "descending" if self.descending else "ascending"

    def next_order(self, column: str) -> str:
        """What a click on the column's header does, in words (the reader's language)."""
        descending = not self.descending if column == self.sort else column != NAME
        if column == NAME:
            return (_("Сортировать по названию, от Я до А") if descending
                    else _("Сортировать по названию, от А до Я"))
        return _("Сортировать по убыванию") if descending else _("Сортировать по возрастанию")


def teachers_url(code: str, competency: str | None = None) -> str:
    """The teacher list of a school (with a deficit in ``competency``)."""
    if competency is None:
        return url_for("views.teachers", school=code)
    return url_for("views.teachers", school=code, competency=competency, level="deficit")


def percent(value: float | None) -> str:
    """A share as the cells show it: «43 %», «—» for none."""
    return "—" if value is None else f"{round(value * 100)} %"


def points(value: float | None) -> str:
    """A change as the cells show it: «+12 п.п.», «−5 п.п.», «—» for none."""
    if value is None:
        return "—"
    rounded = round(value * 100)
    return f"{'+' if rounded > 0 else '−' if rounded < 0 else '±'}{abs(rounded)} " + _("п.п.")


def cell_title(cell: Cell) -> str:
    """The cell's figures in words (its ``title``)."""
    now = _("дефицит у %(deficits)s из %(assessed)s педагогов с оценкой",
            deficits=cell.deficits, assessed=cell.assessed)
    if cell.entry_assessed is None:
        return now
    return _("входная: дефицит у %(deficits)s из %(assessed)s педагогов с оценкой; "
             "итоговая: %(now)s", deficits=cell.entry_deficits, assessed=cell.entry_assessed,
             now=now)


# What the page's template calls.
HELPERS = {"hm_band": band_of, "hm_title": cell_title, "hm_teachers": teachers_url,
           "hm_percent": percent, "hm_points": points}
