"""The school network of a scope: resource centres, their partner schools and agreements,
and each school's open deficits on the current diagnostic (issue 14, the network map).

Only schools in the caller's scope are listed, and only partnerships whose two schools are
both in it: a municipality's methodologist sees no school of another municipality, not even
as the far end of an agreement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from app.accounts.roles import Scope, school_clause
from app.analyse.outcomes import levels_frame
from app.extensions import db
from app.i18n import N_
from app.models import Municipality, Partnership, School
from app.reports.maps import current_diagnostic

CENTRE, LOW, OTHER = "resource_centre", "low_results", "other"
# Russian (the page shows them through the catalog)
STATUS_RU = {CENTRE: N_("ресурсный центр"), LOW: N_("ШНОР"), OTHER: N_("другая школа")}


@dataclass(frozen=True)
class NetworkSchool:
    """A school of the network with what the map shows of it."""

    code: str
    name: str
    municipality: str
    resource_centre: bool
    low_results: bool
    adverse_context: bool
    latitude: float | None
    longitude: float | None
    deficits: int  # open deficits (teacher × competency at level «deficit») now
    teachers: int  # active teachers with levels on the current diagnostic

    @property
    def status(self) -> str:
        """The node's group: a resource centre, else a low-results school, else other."""
        if self.resource_centre:
            return CENTRE
        return LOW if self.low_results else OTHER

    @property
    def placed(self) -> bool:
        """Whether both coordinates are known."""
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Link:
    """A partnership: the centre supports the school under an agreement."""

    centre: str  # school codes
    school: str
    agreement_no: str
    starts_on: dt.date | None
    ends_on: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        """Whether the agreement holds on ``day`` (an open end holds)."""
        return ((self.starts_on is None or self.starts_on <= day)
                and (self.ends_on is None or self.ends_on >= day))


@dataclass
class NetworkReport:
    """The scope's schools (by code) and partnerships; ``diagnostic`` names the diagnostic the
    open deficits come from (None: none synced, every count 0)."""

    diagnostic: str | None
    schools: dict[str, NetworkSchool] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)

    def centres(self) -> list[tuple[NetworkSchool, list[tuple[Link, NetworkSchool]]]]:
        """Each resource centre (or school named as one by an agreement) with its partners,
        by name; a centre without partners too."""
        codes = {s.code for s in self.schools.values() if s.resource_centre}
        codes |= {link.centre for link in self.links}
        out = []
        for code in sorted(codes, key=lambda c: (self.schools[c].name, c)):
            partners = [(link, self.schools[link.school]) for link in self.links
                        if link.centre == code]
            out.append((self.schools[code], sorted(partners, key=lambda p: (p[1].name,
                                                                            p[1].code))))
        return out

    def unpartnered(self) -> list[NetworkSchool]:
        """The schools that are neither a centre nor any centre's partner, by name."""
        linked = {link.centre for link in self.links} | {link.school for link in self.links}
        return sorted((s for s in self.schools.values()
                       if s.code not in linked and not s.resource_centre),
                      key=lambda s: (s.name, s.code))

    def placed(self) -> list[NetworkSchool]:
        """The schools with both coordinates, by name."""
        return sorted((s for s in self.schools.values() if s.placed),
                      key=lambda s: (s.name, s.code))


def network_report(scope: Scope) -> NetworkReport:
    """The network of the schools in ``scope`` with their open deficits now."""
    diagnostic = current_diagnostic()
    counts: dict[str, tuple[int, int]] = {}
    if diagnostic is not None:
        levels, teachers = levels_frame(diagnostic, scope=scope)
        merged = levels.merge(teachers, on="user_id", how="inner")
        for code, group in merged.groupby("school_code"):
            counts[str(code)] = (int((group["level"] == "deficit").sum()),
                                 int(group["user_id"].nunique()))
    rows = db.session.execute(
        select(School, Municipality.name).outerjoin(
            Municipality, Municipality.id == School.municipality_id)
        .where(school_clause(scope)).order_by(School.code)).all()
    report = NetworkReport(diagnostic.name if diagnostic is not None else None)
    ids: dict[int, str] = {}
    for school, town in rows:
        deficits, people = counts.get(school.code, (0, 0))
        ids[school.id] = school.code
        report.schools[school.code] = NetworkSchool(
            school.code, school.name or school.code, town or "", bool(school.resource_centre),
            bool(school.low_results), bool(school.adverse_context), school.latitude,
            school.longitude, deficits, people)
    mine = select(School.id).where(school_clause(scope))
    for link in db.session.scalars(select(Partnership).where(
            Partnership.resource_centre_id.in_(mine), Partnership.school_id.in_(mine))
            .order_by(Partnership.id)):
        report.links.append(Link(ids[link.resource_centre_id], ids[link.school_id],
                                 link.agreement_no or "", link.starts_on, link.ends_on))
    return report
