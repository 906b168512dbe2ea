"""Imports ProfRoute's own data: schools with their flags, partnerships and offers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.common import audit
from app.common.runs import Summary
from app.common.store import get_or_create
from app.extensions import db
from app.models import Municipality, Offer, Partnership, School
from app.models.catalogue import mirror_default_session
from app.registry.coordinates import read_schools_placed
from app.registry.statuses import record_flags
from app.sync.structure import link_competencies
from courses.catalogue import (
    CatalogueFile,
    PartnershipRow,
    SchoolRow,
    read_offers,
    read_partnerships,
)
from tabular import SCHOOL_CODE_PATTERN, RowError

logger = logging.getLogger(__name__)
FILES = ("schools.csv", "partnerships.csv", "offers.csv")
KINDS = dict(zip(FILES, ("schools", "partnerships", "offers"), strict=True))  # file → its kind


@dataclass
class ImportSummary(Summary):
    """What an import stored and which rows it refused (file, row, field, reason).

    ``refused`` names the files refused as a whole (nothing of them stored); ``unread``
    the header cells of each file that no column was read from; ``present`` the canonical
    columns each file holds (only those are written).
    """

    schools: int = 0
    partnerships: int = 0
    offers: int = 0
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    unread: dict[str, list[str]] = field(default_factory=dict)
    present: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, name: str, found: CatalogueFile[Any]) -> None:
        """Keep the refused rows' reasons and the file's unread columns; good rows are
        stored regardless."""
        self.errors += [f"{name}, row {e.row}, {e.field}: {e.message}" for e in found.errors]
        if found.refused:
            self.refused.append(name)
        if found.unread:
            self.unread[name] = found.unread
        self.present[name] = sorted(found.present)


def import_catalogue(directory: str | Path, code_pattern: str = SCHOOL_CODE_PATTERN,
                     names: dict[str, str] | None = None,
                     mappings: Mapping[str, Mapping[str, str]] | None = None) -> ImportSummary:
    """Import the files found in ``directory``; a re-import of the same files changes nothing.

    Only the columns a file holds are written (a flag column left out keeps the flags).

    Args:
        directory: The folder holding any of ``FILES``.
        code_pattern: The school codes' format (the ``school_code_pattern`` setting).
        names: The name the user gave each file (by its name in ``FILES``), for messages.
        mappings: Per file (by its name in ``FILES``), header cell → canonical column chosen
            by hand (``""``: not read); it wins over the header spellings.

    :raise ValueError: the directory holds none of the expected files.
    """
    folder = Path(directory)
    if not any((folder / name).exists() for name in FILES):
        raise ValueError(f"{folder}: none of {', '.join(FILES)} found")
    summary = ImportSummary()
    files = [_File(folder / name, (names or {}).get(name, name), code_pattern,
                   dict((mappings or {}).get(name, {}))) for name in FILES]
    schools = _import_schools(files[0], summary)
    _import_partnerships(files[1], schools, summary)
    _import_offers(files[2], schools, summary)
    audit.record("import.catalogue", None, {
        "files": [f.name for f in files if f.path.exists()],
        "errors": len(summary.errors)} | audit.figures(summary))
    db.session.commit()
    for line in summary.errors:
        logger.warning("catalogue: %s", line)
    return summary


@dataclass(frozen=True)
class _File:
    """A catalogue file: where it is, the name the user knows it by, the code format, the
    columns mapped by hand."""

    path: Path
    name: str
    code_pattern: str
    mapping: dict[str, str] = field(default_factory=dict)


def _import_schools(file: _File, summary: ImportSummary) -> dict[str, SchoolRow]:
    if not file.path.exists():
        return {}
    found, placed = read_schools_placed(file.path.read_bytes(), name=file.name,
                                        code_pattern=file.code_pattern, mapping=file.mapping)
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
        if row.code in placed:  # only the coordinate columns the file holds are written
            _assign(school, found.present, dict(zip(("latitude", "longitude"),
                                                    placed[row.code], strict=True)))
    summary.schools = len(found.rows)
    db.session.flush()
    return {row.code: row for row in found.rows}


def _import_partnerships(file: _File, schools: dict[str, SchoolRow],
                         summary: ImportSummary) -> None:
    if not file.path.exists():
        return
    found = read_partnerships(file.path.read_bytes(), schools=schools or None, name=file.name,
                              code_pattern=file.code_pattern, mapping=file.mapping)
    ids = dict(db.session.execute(select(School.code, School.id)).all())
    found = _known_schools(found, set(ids))
    summary.refuse(file.name, found)
    for row in found.rows:
        link = get_or_create(Partnership, resource_centre_id=ids[row.resource_centre_code],
                             school_id=ids[row.school_code])
        _assign(link, found.present, {"starts_on": row.starts_on, "ends_on": row.ends_on,
                                      "agreement_no": row.agreement_no or ""})
        summary.partnerships += 1


def _import_offers(file: _File, schools: dict[str, SchoolRow], summary: ImportSummary) -> None:
    if not file.path.exists():
        return
    found = read_offers(file.path.read_bytes(), schools=schools or None, name=file.name,
                        code_pattern=file.code_pattern, mapping=file.mapping)
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
            "starts_on": data.starts_on, "ends_on": data.ends_on,
            "subjects": list(data.subjects)})
        if "host_school_code" in found.present:
            offer.host_school_id = ids.get(data.host_school) if data.host_school else None
        link_competencies(offer, list(data.competencies))
        mirror_default_session(offer)
        summary.offers += 1


def preview_catalogue(files: Mapping[str, tuple[str, bytes, Mapping[str, str]]],
                      code_pattern: str = SCHOOL_CODE_PATTERN) -> dict[str, CatalogueFile[Any]]:
    """How ``import_catalogue`` would read the files, storing nothing.

    Args:
        files: By name in ``FILES``: the name as the user chose it, the content and the
            columns mapped by hand.
        code_pattern: The school codes' format.

    Returns:
        Each given file as read (by its name in ``FILES``): partnerships of a school neither
        stored nor in the schools file are refused as the import refuses them.
    """
    out: dict[str, CatalogueFile[Any]] = {}
    schools: dict[str, SchoolRow] = {}
    if given := files.get("schools.csv"):
        name, data, mapping = given
        out["schools.csv"] = read_schools_placed(data, name=name, code_pattern=code_pattern,
                                                 mapping=mapping)[0]
        schools = {row.code: row for row in out["schools.csv"].rows}
    if given := files.get("partnerships.csv"):
        name, data, mapping = given
        found = read_partnerships(data, schools=schools or None, name=name,
                                  code_pattern=code_pattern, mapping=mapping)
        known = set(db.session.scalars(select(School.code))) | set(schools)
        out["partnerships.csv"] = _known_schools(found, known)
    if given := files.get("offers.csv"):
        name, data, mapping = given
        out["offers.csv"] = read_offers(data, schools=schools or None, name=name,
                                        code_pattern=code_pattern, mapping=mapping)
    return out


def _known_schools(found: CatalogueFile[PartnershipRow],
                   known: set[str]) -> CatalogueFile[PartnershipRow]:
    """The partnerships with both schools known; the others refused on their row."""
    rows, errors = [], list(found.errors)
    for row in found.rows:
        unknown = [c for c in (row.resource_centre_code, row.school_code) if c not in known]
        if unknown:
            errors.append(RowError(row.row, "school_code", f"unknown school {unknown[0]}; "
                                                           "add it to the schools file first"))
        else:
            rows.append(row)
    return replace(found, rows=rows, errors=sorted(errors, key=lambda e: e.row))


def _assign(target: object, present: frozenset[str], values: dict[str, object]) -> None:
    """Set the attributes whose column the file holds; leave the others as stored."""
    for name, value in values.items():
        if name in present:
            setattr(target, name, value)
