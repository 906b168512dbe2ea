"""School registry: national assessment results imported, schools identified by the rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from app.common.runs import Summary
from app.common.store import get_or_create, read_file
from app.extensions import db
from app.models import School, SchoolIdentification, SchoolResult
from app.registry.statuses import record_flags
from deficits.registry import RESULT_COLUMNS, IdentificationRules, identify, parse_results

VALUES = ("mean_score", "share_below_min", "participants", "adverse_context")


@dataclass
class ResultsImport(Summary):
    """What an import stored; refused rows with their row number and reason."""

    rows: int = 0
    created: int = 0
    changed: int = 0
    errors: list[str] = field(default_factory=list)


def import_results(path: str | Path) -> ResultsImport:
    """Upsert the results of a ВПР/ОГЭ/ЕГЭ file (CSV or XLSX); re-importing changes nothing.

    :raise ValueError: the file cannot be read.
    """
    file = Path(path)
    data = read_file(file)
    frame, errors = parse_results(data)
    summary = ResultsImport(rows=len(frame), errors=[
        f"{file.name}, row {e.row}, {e.field}: {e.message}" for e in errors])
    for row in frame.itertuples(index=False):
        key = {"school_code": row.school_code, "year": int(row.year),
               "assessment": row.assessment, "subject": row.subject, "grade": int(row.grade)}
        stored = db.session.scalars(select(SchoolResult).filter_by(**key)).first()
        values = {name: _plain(getattr(row, name)) for name in VALUES}
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
    db.session.commit()
    return summary


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
    db.session.commit()
    return found


def _plain(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()  # numpy scalar → Python
    return value
