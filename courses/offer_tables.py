"""Parse the catalogue's offer tables (external courses, internships, mentoring, methodical
events) and the teachers' availability table from bytes.

Each row of an offer table is one session of an offer; rows sharing an offer key are that
offer's sessions (told apart by ``session_key``, else by their first day). An offer given
without any session key or date gets the one ``default`` session.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from courses.catalogue import CatalogueFile, _competencies, _records, _Row
from tabular import SCHOOL_CODE_PATTERN, table_kind

__all__ = ["AVAILABILITY", "OFFER_TABLES", "AvailabilityRow", "OfferSpec", "SessionRow",
           "parse_format", "read_availability", "read_offer_table"]

# Table kind → the offer kind its rows are.
OFFER_TABLES = {"external_courses": "external", "internships": "internship",
                "mentoring": "mentoring", "events": "event"}
AVAILABILITY = "availability"
DEFAULT_SESSION = "default"
_FORMATS = {"очно": "in_person", "очный": "in_person", "очная": "in_person",
            "дистанционно": "remote", "дистанционный": "remote", "дистанционная": "remote",
            "онлайн": "remote", "заочно": "remote", "смешанно": "mixed", "смешанный": "mixed",
            "смешанная": "mixed", "очно-заочно": "mixed", "очно-заочная": "mixed",
            "in_person": "in_person", "in person": "in_person", "remote": "remote",
            "online": "remote", "mixed": "mixed", "blended": "mixed"}
_LIST = re.compile(r"[;,]")


@dataclass(frozen=True)
class SessionRow:
    """One session of an offer as a row gives it (``row``: its row in the file)."""

    key: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    place: str
    seats: int | None
    hours: int | None
    row: int = field(default=0, compare=False)


@dataclass(frozen=True)
class OfferSpec:
    """An offer of one of the catalogue's tables with its sessions, in file order."""

    key: str
    kind: str
    title: str
    competencies: tuple[str, ...]
    subjects: tuple[str, ...] = ()
    provider: str = ""
    hours: int | None = None
    format: str | None = None
    place: str = ""
    municipality: str | None = None
    host_school: str | None = None
    mentor_name: str = ""
    mentor_moodle_id: int | None = None
    capacity: int | None = None
    moodle_course_shortname: str | None = None
    sessions: tuple[SessionRow, ...] = ()
    row: int = field(default=0, compare=False)


@dataclass(frozen=True)
class AvailabilityRow:
    """A teacher's excluded dates and/or subjects (replacing the Moodle profile's)."""

    teacher: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    reason: str
    subjects: tuple[str, ...] | None
    row: int = field(default=0, compare=False)


def parse_format(text: str) -> str | None:
    """``очно``/``дистанционно``/``смешанно`` (or English) → in_person/remote/mixed; None if
    unknown."""
    return _FORMATS.get(text.strip().casefold())


def _subjects(row: _Row) -> tuple[str, ...]:
    parts = (p.strip() for p in _LIST.split(row.text("subjects") or ""))
    return tuple(dict.fromkeys(p for p in parts if p))


def _offer_fields(row: _Row, kind: str, schools: Collection[str] | None,
                  known: Collection[str] | None) -> OfferSpec:
    fmt_text = row.text("format") or ""
    fmt = parse_format(fmt_text) if fmt_text else None
    if fmt_text and fmt is None:
        row.fail("format", f"{fmt_text!r} is not a format; write очно, дистанционно or смешанно")
    school_field = "mentor_school_code" if kind == "mentoring" else "host_school_code"
    host = row.text(school_field, required=kind == "internship")
    if host and schools is not None and host not in schools:
        row.fail(school_field, f"unknown school {host}; add it to the schools file first")
    mentor = row.text("mentor_name", required=kind == "mentoring") or ""
    title = row.text("title", required=kind != "mentoring") or (
        f"Наставничество: {mentor}" if mentor else "")
    capacity = row.number("capacity", 1)
    return OfferSpec(
        key=row.text("key", required=True) or "", kind=kind, title=title,
        competencies=_competencies(row, known), subjects=_subjects(row),
        provider=row.text("provider") or "", hours=row.number("hours", 1), format=fmt,
        place=row.text("place") or "", municipality=row.text("municipality"),
        host_school=host, mentor_name=mentor,
        mentor_moodle_id=row.number("mentor_moodle_id", 1), capacity=capacity,
        moodle_course_shortname=row.text("moodle_course_shortname"), row=row.line)


def _session(row: _Row, spec: OfferSpec) -> SessionRow:
    starts, ends = row.period()
    if spec.kind == "event" and not starts and not row.errors:
        row.fail("starts_on", "is empty; a methodical event needs its date")
    if spec.kind == "event" and starts and not ends:
        ends = starts  # a one-day event
    seats = spec.capacity if spec.kind == "mentoring" else row.number("seats", 0)
    dated = starts and spec.kind != "mentoring"  # a mentor's one period is their one session
    key = row.text("session_key") or (starts.isoformat() if dated and starts else DEFAULT_SESSION)
    return SessionRow(key, starts, ends, row.text("place") or "", seats,
                      row.number("hours", 1), row.line)


def read_offer_table(
    data: bytes, kind: str, *, schools: Collection[str] | None = None,
    competencies: Collection[str] | None = None, name: str = "",
    code_pattern: str = SCHOOL_CODE_PATTERN, mapping: Mapping[str, str] | None = None,
) -> CatalogueFile[OfferSpec]:
    """Read one of ``OFFER_TABLES`` (its columns: ``tabular.table_kind(kind)``).

    A bad row is refused with its number and reason and the others kept; a row repeating an
    offer's session, or giving an offer another title than its first row, is refused.

    Args:
        data: The file's bytes (CSV in UTF-8 or Windows-1251, ``;`` or ``,``; or XLSX).
        kind: The table kind (``external_courses``, ``internships``, ``mentoring``, ``events``).
        schools: Known school codes; when given, host and mentor schools must exist.
        competencies: Known competency idnumbers; when given, each one must be known.
        name: The file's name as the user chose it.
        code_pattern: The school codes' format.
        mapping: Header cell → canonical column (``""``: not read), chosen by hand.
    """
    columns = table_kind(kind).columns
    read = _records(data, kind, columns, name, re.compile(code_pattern), mapping=mapping)
    errors = list(read.errors)
    offers: dict[str, OfferSpec] = {}
    for row in read.rows:
        spec = _offer_fields(row, OFFER_TABLES[kind], schools, competencies)
        session = _session(row, spec)
        first = offers.get(spec.key)
        if first is not None and first.title != spec.title:
            row.fail("title", f"offer {spec.key} is titled {first.title!r} on row {first.row}; "
                              "one offer has one title")
        if first is not None and session.key in {s.key for s in first.sessions}:
            row.fail("session_key", f"session {session.key} of offer {spec.key} is listed "
                                    "twice; keep one row or give each its own session key")
        errors.extend(row.errors)
        if row.errors:
            continue
        base = first or spec
        offers[spec.key] = _with_session(base, session)
    return CatalogueFile(list(offers.values()), sorted(errors, key=lambda e: e.row),
                         read.present, read.unread, read.refused)


def _with_session(spec: OfferSpec, session: SessionRow) -> OfferSpec:
    return replace(spec, sessions=(*spec.sessions, session))


def read_availability(data: bytes, *, name: str = "",
                      mapping: Mapping[str, str] | None = None) -> CatalogueFile[AvailabilityRow]:
    """Read the availability table: a teacher (Moodle id, email or login), the dates they
    cannot attend (``по`` empty: one day) and/or their subjects.

    A row with neither dates nor subjects, or ending before it starts, is refused.
    """
    read = _records(data, AVAILABILITY, table_kind(AVAILABILITY).columns, name,
                    re.compile(SCHOOL_CODE_PATTERN), mapping=mapping)
    errors = list(read.errors)
    found: list[AvailabilityRow] = []
    for row in read.rows:
        teacher = row.text("teacher", required=True) or ""
        starts, ends = row.period()
        if ends and not starts:
            row.fail("starts_on", "is empty while ends_on is given; fill in the first day")
        subjects = _subjects(row) if "subjects" in read.present and row.text("subjects") else None
        if not starts and subjects is None and not row.errors:
            row.fail("starts_on", "neither dates nor subjects; fill in the dates the teacher "
                                  "cannot attend")
        errors.extend(row.errors)
        if not row.errors:
            found.append(AvailabilityRow(teacher, starts, ends or starts,
                                         row.text("reason") or "", subjects, row.line))
    return CatalogueFile(found, sorted(errors, key=lambda e: e.row), read.present, read.unread,
                         read.refused)
