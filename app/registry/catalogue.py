"""Imports ProfRoute's own data: schools with their flags, partnerships and offers."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import Municipality, Offer, Partnership, School
from app.registry.statuses import record_flags
from app.sync.structure import link_competencies
from courses.catalogue import (
    CatalogueFile,
    SchoolRow,
    read_offers,
    read_partnerships,
    read_schools,
)
from tabular import SCHOOL_CODE_PATTERN

logger = logging.getLogger(__name__)
FILES = ("schools.csv", "partnerships.csv", "offers.csv")


@dataclass
class ImportSummary(Summary):
    """What an import stored and which rows it refused (file, row, field, reason).

    ``refused`` names the files refused as a whole (nothing of them stored); ``unread``
    the header cells of each file that no column was read from.
    """

    schools: int = 0
    partnerships: int = 0
    offers: int = 0
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unread: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, found: CatalogueFile[Any]) -> None:
        """Keep the refused rows' reasons and the file's unread columns; good rows are
        stored regardless."""
        self.errors += [f"{name}, row {e.row}, {e.field}: {e.message}" for e in found.errors]
        if found.refused:
            self.refused.append(name)
        if found.unread:
            self.unread[name] = found.unread


def import_catalogue(directory: str | Path, code_pattern: str = SCHOOL_CODE_PATTERN,
                     names: dict[str, str] | None = None) -> ImportSummary:
    """Import the files found in ``directory``; a re-import of the same files changes nothing.

    Only the columns a file holds are written (a flag column left out keeps the flags).

    Args:
        directory: The folder holding any of ``FILES``.
        code_pattern: The school codes' format (the ``school_code_pattern`` setting).
        names: The name the user gave each file (by its name in ``FILES``), for messages.

    :raise ValueError: the directory holds none of the expected files.
    """
    folder = Path(directory)
    if not any((folder / name).exists() for name in FILES):
        raise ValueError(f"{folder}: none of {', '.join(FILES)} found")
    summary = ImportSummary()
    files = [_File(folder / name, (names or {}).get(name, name), code_pattern) for name in FILES]
    schools = _import_schools(files[0], summary)
    _import_partnerships(files[1], schools, summary)
    _import_offers(files[2], schools, summary)
    db.session.commit()
    for line in summary.errors:
        logger.warning("catalogue: %s", line)
    return summary


@dataclass(frozen=True)
class _File:
    """A catalogue file: where it is, the name the user knows it by, the code format."""

    path: Path
    name: str
    code_pattern: str


def _import_schools(file: _File, summary: ImportSummary) -> dict[str, SchoolRow]:
    if not file.path.exists():
        return {}
    found = read_schools(file.path.read_bytes(), name=file.name,
                         code_pattern=file.code_pattern)
    summary.refuse(file.name, found)
    flags = [f for f in ("low_results", "adverse_context", "resource_centre")
             if f in found.present]
    for row in found.rows:
        school = get_or_create(School, code=row.code, defaults={"name": row.name})
        school.name = row.name
        for flag in flags:
            setattr(school, flag, getattr(row, flag))
        record_flags(row.code, {f: getattr(row, f) for f in flags if f != "resource_centre"},
                     source="catalogue", reason=f"каталог {file.name}")
        if row.municipality:
            school.municipality = get_or_create(Municipality, name=row.municipality)
    summary.schools = len(found.rows)
    db.session.flush()
    return {row.code: row for row in found.rows}


def _import_partnerships(file: _File, schools: dict[str, SchoolRow],
                         summary: ImportSummary) -> None:
    if not file.path.exists():
        return
    found = read_partnerships(file.path.read_bytes(), schools=schools or None, name=file.name,
                              code_pattern=file.code_pattern)
    summary.refuse(file.name, found)
    ids = dict(db.session.execute(select(School.code, School.id)).all())
    for row in found.rows:
        unknown = [c for c in (row.resource_centre_code, row.school_code) if c not in ids]
        if unknown:
            summary.errors.append(f"{file.name}, row {row.row}, school_code: unknown school "
                                  f"{unknown[0]}; add it to the schools file first")
            continue
        link = get_or_create(Partnership, resource_centre_id=ids[row.resource_centre_code],
                             school_id=ids[row.school_code])
        _assign(link, found.present, {"starts_on": row.starts_on, "ends_on": row.ends_on,
                                      "agreement_no": row.agreement_no or ""})
        summary.partnerships += 1


def _import_offers(file: _File, schools: dict[str, SchoolRow], summary: ImportSummary) -> None:
    if not file.path.exists():
        return
    found = read_offers(file.path.read_bytes(), schools=schools or None, name=file.name,
                        code_pattern=file.code_pattern)
    summary.refuse(file.name, found)
    ids = dict(db.session.execute(select(School.code, School.id)).all())
    for row in found.rows:
        data = row.offer
        offer = get_or_create(Offer, key=data.key, defaults={"kind": data.kind,
                                                              "title": data.title})
        offer.kind, offer.title, offer.source = data.kind, data.title, "catalogue"
        shortname = "moodle_course_shortname"
        if shortname in found.present and offer.moodle_course_shortname != getattr(row, shortname):
            offer.moodle_course_id = None  # resolved by the next sync
        _assign(offer, found.present, {
            shortname: row.moodle_course_shortname, "seats": data.seats, "hours": data.hours,
            "starts_on": data.starts_on, "ends_on": data.ends_on})
        if "host_school_code" in found.present:
            offer.host_school_id = ids.get(data.host_school) if data.host_school else None
        link_competencies(offer, list(data.competencies))
        summary.offers += 1


def _assign(target: object, present: frozenset[str], values: dict[str, object]) -> None:
    """Set the attributes whose column the file holds; leave the others as stored."""
    for name, value in values.items():
        if name in present:
            setattr(target, name, value)
