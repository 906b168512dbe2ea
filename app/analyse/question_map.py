"""Imports a question → competency mapping (CSV/XLSX table or Moodle XML question bank)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.common import audit
from app.common.runs import Summary
from app.common.store import get_or_create, read_file
from app.extensions import db
from app.models import Competency, Diagnostic, DiagnosticMapping
from app.sync.structure import QUESTION, SLOT
from deficits.question_map import QuestionMapping, mapping_from_moodle_xml, mapping_from_table


@dataclass
class QuestionMapImport(Summary):
    """What was stored; conflicts and unmapped questions are listed, never guessed."""

    slots: int = 0
    questions: int = 0
    conflicts: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: bool = False  # the file as a whole was refused: nothing of it stored


def is_moodle_xml(data: bytes, name: str) -> bool:
    """Whether a question-map file is a Moodle XML question bank (it has no columns to map)."""
    return data.lstrip()[:5] == b"<?xml" or Path(name).suffix.lower() == ".xml"


def preview_question_map(data: bytes, name: str,
                         mapping: Mapping[str, str] | None = None) -> QuestionMapping:
    """How a question → competency table would be read (with the mapping chosen), storing
    nothing: competencies are checked against the stored framework."""
    known = set(db.session.scalars(select(Competency.idnumber)))
    return mapping_from_table(data, known, name=name, mapping=mapping)


def import_question_map(diagnostic: Diagnostic, path: str | Path, name: str = "",
                        mapping: Mapping[str, str] | None = None) -> QuestionMapImport:
    """Store the mapping: numeric keys are quiz slots, others question idnumbers or names.

    Question keys are resolved to slots by the next ``sync`` through the ProfRoute plugin.
    ``mapping`` (header cell → ``key`` or ``competency``, chosen by hand) applies to a
    table; a Moodle XML question bank has no columns.

    :raise ValueError: the file cannot be read.
    """
    file = Path(path)
    name = name or file.name
    data = read_file(file)
    known = set(db.session.scalars(select(Competency.idnumber)))
    found = mapping_from_moodle_xml(data, known) if is_moodle_xml(data, name) else \
        mapping_from_table(data, known, name=name, mapping=mapping)
    ids = dict(db.session.execute(select(Competency.idnumber, Competency.id)).all())
    nothing_read = not (found.mapped or found.conflicts or found.unmapped)
    summary = QuestionMapImport(
        conflicts=[f"{key}: {why}" for key, why in found.conflicts], unmapped=found.unmapped,
        errors=[f"{name}, row {e.row}, {e.field}: {e.message}" for e in found.errors],
        refused=nothing_read and any(not e.field for e in found.errors))
    for key, idnumber in sorted(found.mapped.items()):
        source = SLOT if key.isdigit() else QUESTION
        row = get_or_create(DiagnosticMapping, diagnostic_id=diagnostic.id, source=source,
                            key=key)
        row.competency_id = ids[idnumber]
        summary.slots += source == SLOT
        summary.questions += source == QUESTION
    audit.record("import.question_map", ("diagnostic", diagnostic.id),
                 {"file": name, "errors": len(summary.errors)} | audit.figures(summary))
    db.session.commit()
    return summary
