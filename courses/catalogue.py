"""Parse ProfRoute's catalogue files (schools, partnerships, offers) from bytes."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from courses.records import COURSE, INTERNSHIP, MENTORING, OFFER_KINDS, Offer
from tabular import SCHOOL_CODE_PATTERN, RowError, header_aliases, read_table, table_kind

__all__ = ["OFFER_COLUMNS", "PARTNERSHIP_COLUMNS", "REQUIRED", "SCHOOL_COLUMNS", "CatalogueFile",
           "OfferRow", "PartnershipRow", "RowError", "SchoolRow", "parse_offers",
           "parse_partnerships", "parse_schools", "read_offers", "read_partnerships",
           "read_schools"]

SCHOOL_COLUMNS = ("code", "name", "municipality", "low_results", "adverse_context",
                  "resource_centre")
PARTNERSHIP_COLUMNS = ("resource_centre_code", "school_code", "starts_on", "ends_on",
                       "agreement_no")
OFFER_COLUMNS = ("key", "kind", "title", "competencies", "moodle_course_shortname",
                 "host_school_code", "seats", "starts_on", "ends_on", "hours", "subjects")

# The columns a file cannot do without; a missing other column is left as stored.
REQUIRED = {kind: table_kind(kind).needed() for kind in (
    "schools", "partnerships", "offers", "external_courses", "internships", "mentoring", "events",
    "availability")}
_CODES = ("code", "resource_centre_code", "school_code", "host_school_code", "mentor_school_code")
_TRUE = frozenset({"1", "да", "yes", "true"})
_FALSE = frozenset({"0", "нет", "no", "false"})
_KIND_ALIASES = {"курс": COURSE, "кпк": COURSE, "стажировка": INTERNSHIP,
                 "наставничество": MENTORING} | {k: k for k in OFFER_KINDS}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
_LIST = re.compile(r"[;,]")

T = TypeVar("T")


@dataclass(frozen=True)
class CatalogueFile(Generic[T]):
    """A catalogue file as read.

    Attributes:
        rows: The valid records in file order.
        errors: One RowError per problem (row 0: the file; the header's row: its columns).
        present: The canonical columns the file holds: an import writes only these.
        unread: The header cells no column was read from.
        refused: The file as a whole was refused (unreadable, empty, required columns missing).
    """

    rows: list[T]
    errors: list[RowError]
    present: frozenset[str] = frozenset()
    unread: list[str] = field(default_factory=list)
    refused: bool = False


@dataclass(frozen=True)
class SchoolRow:
    """A school of the catalogue with its programme flags."""

    code: str
    name: str
    municipality: str | None
    low_results: bool
    adverse_context: bool
    resource_centre: bool


@dataclass(frozen=True)
class PartnershipRow:
    """A network partnership: a resource centre supports a school."""

    resource_centre_code: str
    school_code: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    agreement_no: str | None
    row: int = field(default=0, compare=False)  # its row in the file


@dataclass(frozen=True)
class OfferRow:
    """An offer and the Moodle course shortname it is delivered in (resolved by the app)."""

    offer: Offer
    moodle_course_shortname: str | None


class _Row:
    """One data row: typed field getters that record errors instead of raising."""

    def __init__(self, line: int, cells: dict[str, str], code: re.Pattern[str]) -> None:
        self.line = line
        self.cells = cells
        self.code = code
        self.errors: list[RowError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(RowError(self.line, field, message))

    def text(self, field: str, *, required: bool = False) -> str | None:
        value = self.cells.get(field, "")
        if required and not value:
            self.fail(field, "is empty; fill it in")
        if value and field in _CODES and not self.code.fullmatch(value):
            self.fail(field, f"{value!r} is not a school code (expected {self.code.pattern})")
        return value or None

    def flag(self, field: str) -> bool:
        value = self.cells.get(field, "").casefold()
        if value and value not in _TRUE | _FALSE:
            self.fail(field, f"{value!r} is not a yes/no value; write 1 or 0 (да/нет)")
        return value in _TRUE

    def date(self, field: str) -> dt.date | None:
        value = self.cells.get(field, "")
        for fmt in _DATE_FORMATS if value else ():
            try:
                return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                continue
        if value:
            self.fail(field, f"{value!r} is not a date; write YYYY-MM-DD or DD.MM.YYYY")
        return None

    def number(self, field: str, minimum: int) -> int | None:
        value = self.cells.get(field, "")
        if value and not (value.isascii() and value.isdigit() and int(value) >= minimum):
            self.fail(field, f"{value!r} is not a whole number >= {minimum}; "
                             "write one or leave it empty")
            return None
        return int(value) if value else None

    def period(self) -> tuple[dt.date | None, dt.date | None]:
        starts, ends = self.date("starts_on"), self.date("ends_on")
        if starts and ends and ends < starts:
            self.fail("ends_on", "is before starts_on; swap or correct the dates")
        return starts, ends


def _records(data: bytes, kind: str, columns: tuple[str, ...], name: str,
             code: re.Pattern[str], *, mapping: Mapping[str, str] | None) -> CatalogueFile[_Row]:
    """Read a catalogue file into data rows (with their line numbers) and refusals."""
    table = read_table(data, aliases=header_aliases(kind), strict_width=True, name=name,
                       mapping=mapping)
    shown = table.separator if table.separator in (";", ",") else ";"
    if not table.header:
        empty = RowError(1, "", f"file is empty; the header must be: {shown.join(columns)}")
        return CatalogueFile([], list(table.errors) or [empty], refused=True)
    present, unread = frozenset(table.columns), table.unread
    if missing := table.missing(REQUIRED[kind]):
        message = f"missing column(s); the header must be: {shown.join(columns)}"
        return CatalogueFile([], [RowError(table.header_row, ",".join(missing), message)],
                             present, unread, refused=True)
    rows = [_Row(row.number, dict(row.fields), code) for row in table.rows]
    return CatalogueFile(rows, list(table.errors), present, unread)


def _collect(
    data: bytes, kind: str, columns: tuple[str, ...], build: Callable[[_Row], T],
    key: Callable[[T], tuple[str, ...]], *, name: str, code_pattern: str,
    mapping: Mapping[str, str] | None = None,
) -> CatalogueFile[T]:
    """Build a record per row; a repeated complete key is an error on the later row."""
    read = _records(data, kind, columns, name, re.compile(code_pattern), mapping=mapping)
    errors = list(read.errors)
    found: list[T] = []
    seen: set[tuple[str, ...]] = set()
    for row in read.rows:
        item = build(row)
        if all(ident := key(item)) and ident in seen:
            row.fail(columns[0], f"{' → '.join(ident)} is listed twice; keep one row")
        seen.add(ident)
        errors.extend(row.errors)
        if not row.errors:
            found.append(item)
    return CatalogueFile(found, sorted(errors, key=lambda e: e.row), read.present, read.unread,
                         read.refused)


def _school(row: _Row) -> SchoolRow:
    code, name = row.text("code", required=True) or "", row.text("name", required=True) or ""
    low, adverse, centre = (row.flag(field) for field in SCHOOL_COLUMNS[3:])
    return SchoolRow(code, name, row.text("municipality"), low, adverse, centre)


def read_schools(data: bytes, *, name: str = "", code_pattern: str = SCHOOL_CODE_PATTERN,
                 mapping: Mapping[str, str] | None = None) -> CatalogueFile[SchoolRow]:
    """Read the schools file (``SCHOOL_COLUMNS`` or their aliases; flags 0/1, да/нет, yes/no,
    true/false; only «code» and «name» required).

    An empty flag is false. A repeated school code is an error on the later row; a code
    not matching ``code_pattern`` (whole match) too.

    Args:
        data: The file's bytes (see ``tabular.read_table``: CSV or XLSX).
        name: The file's name as the user chose it.
        code_pattern: The school codes' format.
        mapping: Header cell → canonical column (``""``: not read), chosen by hand.
    """
    return _collect(data, "schools", SCHOOL_COLUMNS, _school, lambda school: (school.code,),
                    name=name, code_pattern=code_pattern, mapping=mapping)


def parse_schools(data: bytes) -> tuple[list[SchoolRow], list[RowError]]:
    """The valid schools in file order and one RowError per problem (see ``read_schools``)."""
    found = read_schools(data)
    return found.rows, found.errors


def _partnership(row: _Row, schools: Mapping[str, SchoolRow] | None) -> PartnershipRow:
    centre = row.text("resource_centre_code", required=True) or ""
    school = row.text("school_code", required=True) or ""
    if centre and centre == school:
        row.fail("school_code", "a school cannot partner itself; name the supported school")
    if schools is not None:
        for field, code in (("resource_centre_code", centre), ("school_code", school)):
            if code and code not in schools:
                row.fail(field, f"unknown school {code}; add it to the schools file first")
        if centre in schools and not schools[centre].resource_centre:
            row.fail("resource_centre_code", f"school {centre} is not marked resource_centre")
    starts, ends = row.period()
    return PartnershipRow(centre, school, starts, ends, row.text("agreement_no"), row.line)


def read_partnerships(
    data: bytes, *, schools: Mapping[str, SchoolRow] | None = None, name: str = "",
    code_pattern: str = SCHOOL_CODE_PATTERN, mapping: Mapping[str, str] | None = None,
) -> CatalogueFile[PartnershipRow]:
    """Read the partnerships file (``PARTNERSHIP_COLUMNS``; dates YYYY-MM-DD or DD.MM.YYYY).

    Args:
        data: The file's bytes (see ``tabular.read_table``: CSV or XLSX).
        schools: Known schools by code; when given, codes must exist and the resource
            centre must be flagged as one.
        name: The file's name as the user chose it.
        code_pattern: The school codes' format.
        mapping: Header cell → canonical column (``""``: not read), chosen by hand.
    """
    return _collect(data, "partnerships", PARTNERSHIP_COLUMNS,
                    lambda row: _partnership(row, schools),
                    lambda p: (p.resource_centre_code, p.school_code), name=name,
                    code_pattern=code_pattern, mapping=mapping)


def parse_partnerships(
    data: bytes, *, schools: Mapping[str, SchoolRow] | None = None
) -> tuple[list[PartnershipRow], list[RowError]]:
    """The valid partnerships and one RowError per problem (see ``read_partnerships``)."""
    found = read_partnerships(data, schools=schools)
    return found.rows, found.errors


def _competencies(row: _Row, known: Collection[str] | None) -> tuple[str, ...]:
    names = [c.strip() for c in (row.text("competencies", required=True) or "").split(",")]
    folded = {k.casefold(): k for k in sorted(known)} if known is not None else None
    result: list[str] = []
    for name in filter(None, names):
        canonical = folded.get(name.casefold()) if folded is not None else name
        if canonical is None:
            row.fail("competencies", f"unknown competency {name}; use framework idnumbers")
        elif canonical not in result:
            result.append(canonical)
    return tuple(result)


def _subjects(row: _Row) -> tuple[str, ...]:
    """The subjects an offer is for (split on ``;`` or ``,``; none: any subject)."""
    parts = (p.strip() for p in _LIST.split(row.text("subjects") or ""))
    return tuple(dict.fromkeys(p for p in parts if p))


def _offer(row: _Row, schools: Mapping[str, SchoolRow] | None,
           known: Collection[str] | None) -> OfferRow:
    kind_text = (row.text("kind", required=True) or "").casefold()
    kind = _KIND_ALIASES.get(kind_text, "")
    if kind_text and not kind:
        row.fail("kind", f"{kind_text!r} is not a kind; write {', '.join(OFFER_KINDS)}")
    host = row.text("host_school_code")
    if kind == INTERNSHIP and not host:
        row.fail("host_school_code", "an internship needs its host resource-centre school")
    if host and schools is not None and host not in schools:
        row.fail("host_school_code", f"unknown school {host}; add it to the schools file")
    starts, ends = row.period()
    offer = Offer(
        key=row.text("key", required=True) or "", kind=kind,
        title=row.text("title", required=True) or "", competencies=_competencies(row, known),
        host_school=host, seats=row.number("seats", 0), starts_on=starts, ends_on=ends,
        hours=row.number("hours", 1), subjects=_subjects(row),
    )
    return OfferRow(offer, row.text("moodle_course_shortname"))


def parse_offers(
    data: bytes,
    *,
    schools: Mapping[str, SchoolRow] | None = None,
    competencies: Collection[str] | None = None,
) -> tuple[list[OfferRow], list[RowError]]:
    """The valid offers and one RowError per problem (see ``read_offers``)."""
    found = read_offers(data, schools=schools, competencies=competencies)
    return found.rows, found.errors


def read_offers(
    data: bytes,
    *,
    schools: Mapping[str, SchoolRow] | None = None,
    competencies: Collection[str] | None = None,
    name: str = "",
    code_pattern: str = SCHOOL_CODE_PATTERN,
    mapping: Mapping[str, str] | None = None,
) -> CatalogueFile[OfferRow]:
    """Read the offers file (``OFFER_COLUMNS``).

    ``competencies`` is a comma-separated list inside one field (quote it when the file's
    separator is a comma). ``kind`` is course, internship or mentoring (or курс, стажировка,
    наставничество); an internship needs a host school. Empty seats = no limit. ``subjects``
    (split on ``;`` or ``,``) are the subjects the offer is for; empty: any subject.

    Args:
        data: The file's bytes (see ``tabular.read_table``: CSV or XLSX).
        schools: Known schools by code; when given, host schools must exist.
        competencies: Known competency idnumbers; when given, each listed one must be
            known (matched case-insensitively, stored in canonical spelling).
        name: The file's name as the user chose it.
        code_pattern: The school codes' format.
        mapping: Header cell → canonical column (``""``: not read), chosen by hand.
    """
    return _collect(data, "offers", OFFER_COLUMNS, lambda row: _offer(row, schools, competencies),
                    lambda item: (item.offer.key,), name=name, code_pattern=code_pattern,
                    mapping=mapping)
