"""School registry: national assessment results imported, schools identified by the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from app.common import audit
from app.common.runs import Summary
from app.common.store import get_or_create, read_file
from app.extensions import db
from app.models import Municipality, School, SchoolIdentification, SchoolResult
from app.registry.statuses import record_flags
from deficits.registry import RESULT_COLUMNS, IdentificationRules, identify
from deficits.results_file import ResultsFile, read_results
from tabular import SCHOOL_CODE_PATTERN


@dataclass
class ResultsImport(Summary):
    """What an import stored; refused rows with their row number and reason.

    ``columns`` says how each header cell was read, ``unread`` names the cells that were
    not, ``disabled`` the identification rules the file cannot feed; ``refused`` is set when
    the file as a whole was refused (nothing stored).
    """

    rows: int = 0
    created: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    unread: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    refused: bool = False


def import_results(path: str | Path, *, name: str = "", mapping: dict[str, str] | None = None,
                   code_pattern: str = SCHOOL_CODE_PATTERN) -> ResultsImport:
    """Upsert the results of a ВПР/ОГЭ/ЕГЭ file (CSV or XLSX); re-importing changes nothing.

    Only the value columns the file holds are written: a stored value is never replaced
    by an empty one because its column was missing or not recognised.

    Args:
        path: The file.
        name: The file's name as the user chose it (the path's own name by default).
        mapping: Header cell → canonical column, chosen by hand on the preview.
        code_pattern: The registry's school code format (the ``school_code_pattern`` setting).

    :raise ValueError: the file cannot be read.
    """
    file = Path(path)
    name = name or file.name
    found = read_results(read_file(file), name=name, mapping=mapping, code_pattern=code_pattern)
    summary = ResultsImport(
        rows=len(found.frame), columns=found.read_as, unread=found.unread,
        disabled=found.disabled, refused=found.refused,
        errors=[f"{name}, row {e.row}, {e.field}: {e.message}" for e in found.errors])
    for row in found.frame.itertuples(index=False):
        _store(row, found, summary)
    audit.record("import.results", ("file", name[:255]),
                 {"errors": len(summary.errors)} | audit.figures(summary))
    db.session.commit()
    return summary


def _store(row: Any, found: ResultsFile, summary: ResultsImport) -> None:
    """Upsert one good row (only the value columns the file holds) and its school."""
    key = {"school_code": row.school_code, "year": int(row.year),
           "assessment": row.assessment, "subject": row.subject, "grade": int(row.grade)}
    stored = db.session.scalars(select(SchoolResult).filter_by(**key)).first()
    values = {name: _plain(getattr(row, name)) for name in found.values}
    if stored is None:
        db.session.add(SchoolResult(**key, **values))
        summary.created += 1
    elif any(getattr(stored, k) != v for k, v in values.items()):
        for name, value in values.items():
            setattr(stored, name, value)
        summary.changed += 1
    school = get_or_create(School, code=row.school_code,
                           defaults={"name": row.school_name or row.school_code})
    if school.name in ("", school.code) and row.school_name:
        school.name = row.school_name
    place = found.municipalities.get(row.school_code)
    if place and school.municipality_id is None:
        school.municipality = get_or_create(Municipality, name=place)


def identify_schools(rules: IdentificationRules | None = None, *, apply: bool = False,
                     on: dt.date | None = None) -> pd.DataFrame:
    """Run the identification rules over all stored results; keep the proposals and reasons.

    With ``apply`` the low-results and adverse-context flags of the schools are set from
    them (a resource centre is only ever a candidate: a methodologist decides), and the
    school's status history records them (and the stably-high candidacy) as holding from
    ``on`` (today in Moscow by default).
    """
    rows = db.session.execute(select(*[getattr(SchoolResult, c) if c != "school_name" else
                                       School.name for c in RESULT_COLUMNS])
                              .join(School, School.code == SchoolResult.school_code)).all()
    found = identify(pd.DataFrame(rows, columns=list(RESULT_COLUMNS)), rules)
    for row in found.itertuples(index=False):
        mark = get_or_create(SchoolIdentification, school_code=row.school_code)
        mark.low_results = bool(row.low_results)
        mark.resource_centre_candidate = bool(row.resource_centre_candidate)
        mark.adverse_context = bool(row.adverse_context) if pd.notna(row.adverse_context) \
            else False
        mark.years, mark.reasons = len(row.years), str(row.reasons)[:4000]
        if apply:
            school = db.session.scalars(select(School).filter_by(code=row.school_code)).one()
            school.low_results = mark.low_results
            school.adverse_context = mark.adverse_context
            record_flags(row.school_code, {
                "low_results": mark.low_results, "adverse_context": mark.adverse_context,
                "stably_high": mark.resource_centre_candidate},
                on=on, source="rules", reason=mark.reasons)
    if apply:
        audit.record("schools.identify", None, {"schools": len(found), "on": str(on or "")})
    db.session.commit()
    return found


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalar → Python
    return value
