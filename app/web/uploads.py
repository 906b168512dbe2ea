"""Imports of uploaded files: the same use-cases as the CLI commands, fed from the web UI.

Each table is previewed first (``FilePreview``: how each column is read, what would be
refused; nothing stored), then imported with the columns mapped by hand. Refusals name the
file the methodologist chose; each run is logged.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.analyse.question_map import import_question_map, preview_question_map
from app.common.inputs import safe_file_name
from app.common.runs import logged_run
from app.extensions import db
from app.models import Diagnostic, Offer, OfferCompetency, Partnership, School
from app.registry.catalogue import import_catalogue, preview_catalogue
from app.registry.offerings import TABLES, import_table, preview_table
from app.registry.results import identify_schools, import_results
from app.reports.maps import current_diagnostic
from app.web.import_messages import column_warnings, table_warnings
from deficits.results_file import read_results
from tabular import RowError, Table, read_table, table_kind

CATALOGUE = {"schools": "schools.csv", "partnerships": "partnerships.csv",
             "offers": "offers.csv"}  # the catalogue's kinds of table → their file names
_TRACKED = (("schools", School), ("partnerships", Partnership), ("offers", Offer),
            ("offer_competencies", OfferCompetency))


@dataclass
class UploadResult:
    """One file's (or one catalogue's) outcome: figures, refusals as the CLI words them.

    ``refused`` is set when the file as a whole was refused (nothing of it stored);
    ``warnings`` are Russian lines about its columns (unread ones, rules disabled).
    """

    kind: str  # results | question_map | catalogue
    file: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    refused: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FilePreview:
    """How one uploaded table would be read, before anything is stored.

    ``kind`` is its kind of table (``tabular.TABLE_KINDS``): the meanings a column may be
    given by hand; ``rows`` the rows that would be stored; ``errors`` the refusals as the
    CLI words them; ``refused`` is set when nothing of the file would be stored.
    """

    file: str
    kind: str
    header: tuple[str, ...]
    read_as: dict[str, str]
    rows: int
    errors: list[str]
    warnings: list[str]
    refused: bool

    @property
    def readable(self) -> bool:
        """Whether the file could be read as a table: its columns can then be mapped."""
        return bool(self.header)


def preview_results(name: str, data: bytes, code_pattern: str,
                    mapping: Mapping[str, str] | None = None) -> FilePreview:
    """Read a results file as its import would (with the mapping chosen), storing nothing."""
    shown = _name(name, "results.csv")
    found = read_results(data, name=shown, mapping=mapping, code_pattern=code_pattern)
    return FilePreview(shown, "results", found.header, found.read_as, len(found.frame),
                       _lines(shown, found.errors),
                       column_warnings(found.unread, found.disabled), found.refused)


def preview_catalogue_files(files: list[tuple[str, str, bytes]], code_pattern: str,
                            mappings: list[Mapping[str, str]] | None = None) -> list[FilePreview]:
    """Read catalogue files as their import would, storing nothing.

    ``files`` are (kind: "schools", "partnerships" or "offers"; name; content), one of each
    kind at most; ``mappings`` the columns chosen by hand, one per file.
    """
    chosen = mappings or [{}] * len(files)
    given = {CATALOGUE[kind]: (_name(name, CATALOGUE[kind]), data, mapping)
             for (kind, name, data), mapping in zip(files, chosen, strict=True)}
    found = preview_catalogue(given, code_pattern)
    out = []
    for (kind, _, data), mapping in zip(files, chosen, strict=True):
        shown, _, _ = given[CATALOGUE[kind]]
        read, table = found[CATALOGUE[kind]], _table(kind, shown, data, mapping)
        out.append(FilePreview(shown, kind, table.header, table.read_as, len(read.rows),
                               _lines(shown, read.errors),
                               table_warnings(table_kind(kind), read.unread, read.present),
                               read.refused))
    return out


def preview_question_map_file(name: str, data: bytes,
                              mapping: Mapping[str, str] | None = None) -> FilePreview:
    """Read a question → competency table as its import would, storing nothing."""
    shown = _name(name, "map.csv")
    found = preview_question_map(data, shown, mapping)
    table = _table("question_map", shown, data, mapping)
    conflicts = [f"{shown}: «{key}» — противоречие: {why}" for key, why in found.conflicts]
    refused = not (found.mapped or found.conflicts or found.unmapped) and \
        any(not e.field for e in found.errors)
    return FilePreview(shown, "question_map", table.header, table.read_as, len(found.mapped),
                       _lines(shown, found.errors) + conflicts,
                       table_warnings(table_kind("question_map"), table.unread, table.columns),
                       refused)


def import_results_files(files: Iterable[tuple[str, Path, Mapping[str, str]]],
                         code_pattern: str) -> list[UploadResult]:
    """Import kept ВПР/ОГЭ/ЕГЭ result files, each read with its hand-chosen column mapping.

    A re-upload of the same file changes nothing.

    :raise ValueError: a file cannot be read at all.
    """
    out: list[UploadResult] = []
    with logged_run("import-results") as run:
        for name, path, mapping in files:
            shown = _name(name, "results.csv")
            found = import_results(path, name=shown, mapping=dict(mapping),
                                   code_pattern=code_pattern)
            unchanged = max(found.rows - found.created - found.changed, 0)
            out.append(UploadResult("results", shown, {
                "rows": found.rows, "created": found.created, "changed": found.changed,
                "unchanged": unchanged, "rejected": len(found.errors)}, found.errors,
                refused=found.refused, warnings=column_warnings(found.unread, found.disabled)))
        run.summary = {"files": [r.__dict__ for r in out]}
    return out


def question_map_diagnostic(diagnostic_id: int | None) -> Diagnostic:
    """The diagnostic a question map goes to (the latest synced by default).

    :raise ValueError: no diagnostic synced yet, or an unknown diagnostic.
    """
    diagnostic = (db.session.get(Diagnostic, diagnostic_id) if diagnostic_id is not None
                  else current_diagnostic())
    if diagnostic is None and diagnostic_id is not None:
        raise ValueError(f"no diagnostic with id {diagnostic_id}")
    if diagnostic is None:
        raise ValueError("no diagnostic synced yet: run `profroute sync` first")
    return diagnostic


def import_question_map_file(name: str, data: bytes, diagnostic_id: int | None = None,
                             mapping: Mapping[str, str] | None = None) -> UploadResult:
    """Import a question → competency map for a diagnostic (the latest synced by default).

    ``mapping`` (header cell → canonical column, chosen by hand) applies to a table.

    :raise ValueError: no diagnostic synced yet, an unknown diagnostic, or the file cannot
        be read.
    """
    diagnostic = question_map_diagnostic(diagnostic_id)
    shown = _name(name, "map.csv")
    with tempfile.TemporaryDirectory(prefix="profroute-upload-") as tmp, \
            logged_run("import-question-map") as run:
        found = import_question_map(diagnostic, _write(tmp, name, data, "map.csv"),
                                    mapping=mapping)
        run.summary = found.as_dict()
    table = _table("question_map", shown, data, mapping)
    warnings = [] if found.refused or not table.header else \
        table_warnings(table_kind("question_map"), table.unread, table.columns)
    return UploadResult("question_map", shown, {
        "slots": found.slots, "questions": found.questions, "rejected": len(found.errors),
        "conflicts": len(found.conflicts), "unmapped": len(found.unmapped)},
        found.errors, {"conflicts": found.conflicts, "unmapped": found.unmapped},
        refused=found.refused, warnings=warnings)


def import_catalogue_files(files: dict[str, tuple[str, bytes]], code_pattern: str,
                           mappings: Mapping[str, Mapping[str, str]] | None = None
                           ) -> UploadResult:
    """Import the uploaded schools / partnerships / offers files as one catalogue.

    ``files`` maps "schools", "partnerships", "offers" to (file name, content), ``mappings``
    (the same keys) to the columns chosen by hand. The figures say how many rows were new,
    changed or unchanged per table.

    :raise ValueError: none of the three files was given.
    """
    before = _snapshot()
    with tempfile.TemporaryDirectory(prefix="profroute-upload-") as tmp, \
            logged_run("import-catalogue") as run:
        for part, (_, data) in files.items():
            (Path(tmp) / CATALOGUE[part]).write_bytes(data)
        names = {CATALOGUE[part]: _name(name, CATALOGUE[part])
                 for part, (name, _) in files.items()}
        chosen = {CATALOGUE[part]: mapping for part, mapping in (mappings or {}).items()}
        found = import_catalogue(tmp, code_pattern, names, chosen)
        run.summary = found.as_dict()
    after = _snapshot()
    counts = {"schools": found.schools, "partnerships": found.partnerships,
              "offers": found.offers, "rejected": len(found.errors)}
    for table, rows in after.items():
        old = before[table]
        counts[f"{table}_created"] = sum(key not in old for key in rows)
        counts[f"{table}_changed"] = sum(key in old and old[key] != v for key, v in rows.items())
    warnings = [f"{names[file]}: {line}" for part in files
                for file in [CATALOGUE[part]] if names[file] not in found.refused
                for line in table_warnings(table_kind(part), found.unread.get(names[file], []),
                                           found.present.get(names[file], []))]
    return UploadResult("catalogue", ", ".join(names.values()), counts, found.errors,
                        {"refused": found.refused}, refused=len(found.refused) == len(files),
                        warnings=warnings)


def preview_table_file(kind: str, name: str, data: bytes, code_pattern: str,
                       mapping: Mapping[str, str] | None = None) -> FilePreview:
    """Read one of the catalogue's own tables (``app.registry.offerings.TABLES``) as its
    import would, storing nothing.

    :raise KeyError: an unknown kind.
    """
    shown = _name(name, f"{kind}.csv")
    found = preview_table(kind, data, name=shown, mapping=mapping, code_pattern=code_pattern)
    table = _table(kind, shown, data, mapping)
    return FilePreview(shown, kind, table.header, table.read_as, len(found.rows),
                       _lines(shown, found.errors),
                       table_warnings(table_kind(kind), found.unread, found.present),
                       found.refused)


def import_table_file(kind: str, name: str, data: bytes, code_pattern: str,
                      mapping: Mapping[str, str] | None = None) -> UploadResult:
    """Import one of the catalogue's own tables, each column read as chosen by hand.

    :raise KeyError: an unknown kind.
    """
    if kind not in TABLES:
        raise KeyError(kind)
    shown = _name(name, f"{kind}.csv")
    with logged_run(f"import-{kind}") as run:
        found = import_table(kind, data, name=shown, mapping=mapping, code_pattern=code_pattern)
        run.summary = found.as_dict()
    counts = {"offers": found.offers, "sessions": found.sessions, "teachers": found.teachers,
              "exclusions": found.exclusions, "rejected": len(found.errors)}
    warnings = [] if found.refused else \
        table_warnings(table_kind(kind), found.unread, found.present)
    return UploadResult(kind, shown, {k: v for k, v in counts.items() if v or k == "rejected"},
                        found.errors, refused=found.refused, warnings=warnings)


def identify(apply: bool) -> list[dict[str, Any]]:
    """Run the identification rules (``identify-schools``); with ``apply`` set the flags."""
    with logged_run("identify-schools") as run:
        found = identify_schools(apply=apply)
        run.summary = {"schools": len(found), "low_results": int(found["low_results"].sum()),
                       "applied": apply}
    names = dict(db.session.execute(select(School.code, School.name)).all())
    return [{"school_code": r.school_code, "name": names.get(r.school_code, ""),
             "low_results": bool(r.low_results),
             "resource_centre_candidate": bool(r.resource_centre_candidate),
             "reasons": str(r.reasons)} for r in found.itertuples(index=False)]


def _table(kind: str, name: str, data: bytes, mapping: Mapping[str, str] | None) -> Table:
    """The file's header as its kind of table reads it (with the mapping chosen)."""
    return read_table(data, aliases=table_kind(kind).aliases(), mapping=mapping, name=name)


def _lines(name: str, errors: Iterable[RowError]) -> list[str]:
    """Refusals worded as the CLI words them: ``file, row N, field: reason``."""
    return [f"{name}, row {e.row}, {e.field}: {e.message}" for e in errors]


def _name(name: str, fallback: str) -> str:
    """The upload's own file name: no folder part, no control characters, clipped to a
    length every file system takes (``app.common.inputs.safe_file_name``)."""
    return safe_file_name(name, fallback)


def _write(folder: str, name: str, data: bytes, fallback: str) -> Path:
    path = Path(folder) / _name(name, fallback)
    path.write_bytes(data)
    return path


def _snapshot() -> dict[str, dict[object, tuple[object, ...]]]:
    """Every catalogue row's values by primary key, to tell new, changed and unchanged."""
    out: dict[str, dict[object, tuple[object, ...]]] = {}
    for table, model in _TRACKED:
        columns = list(model.__table__.columns)
        keys = [c for c in columns if c.primary_key]
        rows = db.session.execute(select(*columns)).all()
        out[table] = {tuple(row._mapping[k] for k in keys): tuple(row) for row in rows}
    return out
