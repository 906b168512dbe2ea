"""Imports ProfRoute's own data: schools with their flags, partnerships and offers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import Municipality, Offer, Partnership, School
from app.registry.statuses import record_flags
from app.sync.structure import link_competencies
from courses.catalogue import (
    RowError,
    SchoolRow,
    parse_offers,
    parse_partnerships,
    parse_schools,
)

logger = logging.getLogger(__name__)
FILES = ("schools.csv", "partnerships.csv", "offers.csv")


@dataclass
class ImportSummary(Summary):
    """What an import stored and which rows it refused (file, row, field, reason)."""

    schools: int = 0
    partnerships: int = 0
    offers: int = 0
    errors: list[str] = field(default_factory=list)


    def refuse(self, name: str, errors: list[RowError]) -> None:
        """Keep the refused rows' reasons; good rows are stored regardless."""
        self.errors += [f"{name}, row {e.row}, {e.field}: {e.message}" for e in errors]


def import_catalogue(directory: str | Path) -> ImportSummary:
    """Import the files found in ``directory``; a re-import of the same files changes nothing.

    :raise ValueError: the directory holds none of the expected files.
    """
    folder = Path(directory)
    if not any((folder / name).exists() for name in FILES):
        raise ValueError(f"{folder}: none of {', '.join(FILES)} found")
    summary = ImportSummary()
    schools = _import_schools(folder / "schools.csv", summary)
    _import_partnerships(folder / "partnerships.csv", schools, summary)
    _import_offers(folder / "offers.csv", schools, summary)
    db.session.commit()
    for line in summary.errors:
        logger.warning("catalogue: %s", line)
    return summary


def _import_schools(path: Path, summary: ImportSummary) -> dict[str, SchoolRow]:
    if not path.exists():
        return {}
    rows, errors = parse_schools(path.read_bytes())
    summary.refuse(path.name, errors)
    for row in rows:
        school = get_or_create(School, code=row.code, defaults={"name": row.name})
        school.name = row.name
        school.low_results, school.adverse_context = row.low_results, row.adverse_context
        school.resource_centre = row.resource_centre
        record_flags(row.code, {"low_results": row.low_results,
                                "adverse_context": row.adverse_context},
                     source="catalogue", reason=f"каталог {path.name}")
        if row.municipality:
            school.municipality = get_or_create(Municipality, name=row.municipality)
    summary.schools = len(rows)
    db.session.flush()
    return {row.code: row for row in rows}


def _import_partnerships(path: Path, schools: dict[str, SchoolRow],
                         summary: ImportSummary) -> None:
    if not path.exists():
        return
    rows, errors = parse_partnerships(path.read_bytes(), schools=schools or None)
    summary.refuse(path.name, errors)
    ids = dict(db.session.execute(select(School.code, School.id)).all())
    for row in rows:
        if row.resource_centre_code not in ids or row.school_code not in ids:
            summary.errors.append(f"{path.name}: unknown school in "
                                  f"{row.resource_centre_code} → {row.school_code}")
            continue
        link = get_or_create(Partnership, resource_centre_id=ids[row.resource_centre_code],
                             school_id=ids[row.school_code])
        link.starts_on, link.ends_on = row.starts_on, row.ends_on
        link.agreement_no = row.agreement_no or ""
        summary.partnerships += 1


def _import_offers(path: Path, schools: dict[str, SchoolRow], summary: ImportSummary) -> None:
    if not path.exists():
        return
    rows, errors = parse_offers(path.read_bytes(), schools=schools or None)
    summary.refuse(path.name, errors)
    ids = dict(db.session.execute(select(School.code, School.id)).all())
    for row in rows:
        data = row.offer
        offer = get_or_create(Offer, key=data.key, defaults={"kind": data.kind,
                                                              "title": data.title})
        offer.kind, offer.title, offer.source = data.kind, data.title, "catalogue"
        if offer.moodle_course_shortname != row.moodle_course_shortname:
            offer.moodle_course_id = None  # resolved by the next sync
        offer.moodle_course_shortname = row.moodle_course_shortname
        offer.host_school_id = ids.get(data.host_school) if data.host_school else None
        offer.seats, offer.hours = data.seats, data.hours
        offer.starts_on, offer.ends_on = data.starts_on, data.ends_on
        link_competencies(offer, list(data.competencies))
        summary.offers += 1
