"""File imports for a signed-in methodologist: results, question map, catalogue, identification.

Every table is previewed first (how each column is read, what would be refused; nothing is
stored) and kept on the server under a token; ``/imports/<upload>/apply`` imports it with
the columns the methodologist mapped by hand. A Moodle XML question bank has no columns: it
is imported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select

from app import settings_of
from app.accounts.roles import ADMIN, METHODOLOGIST
from app.analyse.question_map import is_moodle_xml
from app.extensions import db
from app.i18n import N_
from app.models import Diagnostic
from app.registry.offerings import TABLES
from app.web.access import Rule, blueprint_rule
from app.web.import_messages import refusal_ru
from app.web.inputs import id_arg
from app.web.lang import reader_lang
from app.web.pending_uploads import Pending, default_root, drop, keep, load
from app.web.uploads import (
    CATALOGUE,
    FilePreview,
    UploadResult,
    identify,
    import_catalogue_files,
    import_question_map_file,
    import_results_files,
    import_table_file,
    preview_catalogue_files,
    preview_question_map_file,
    preview_results,
    preview_table_file,
    question_map_diagnostic,
)
from tabular import read_table, table_kind

File = tuple[str, bytes, str]  # an uploaded table: its name as chosen, its content, its kind
Mappings = list[Mapping[str, str]]  # per file: header cell → canonical column chosen by hand

bp = Blueprint("imports", __name__, template_folder="templates")
# Imported tables (school results, the catalogue, the question map) are the region's data.
blueprint_rule(bp, Rule(roles=frozenset({METHODOLOGIST, ADMIN}), region=True))
# Russian, marked for the catalog; translated where the page shows them (``_shown``).
COUNT_RU = {
    "rows": N_("строк принято"), "created": N_("новых"), "changed": N_("изменено"),
    "unchanged": N_("без изменений"), "rejected": N_("строк отклонено"),
    "slots": N_("слотов сопоставлено"), "questions": N_("вопросов сопоставлено"),
    "conflicts": N_("противоречий"), "unmapped": N_("не сопоставлено"),
    "schools": N_("школ в файле"), "partnerships": N_("партнёрств в файле"),
    "offers": N_("предложений в файле"),
    "schools_created": N_("школ добавлено"), "schools_changed": N_("школ изменено"),
    "partnerships_created": N_("партнёрств добавлено"),
    "partnerships_changed": N_("партнёрств изменено"),
    "offers_created": N_("предложений добавлено"), "offers_changed": N_("предложений изменено"),
    "offer_competencies_created": N_("связей с компетенциями добавлено"),
    "offer_competencies_changed": N_("связей с компетенциями изменено"),
    "sessions": N_("сессий в файле"), "teachers": N_("педагогов в файле"),
    "exclusions": N_("периодов недоступности"),
}
TITLE_RU = {"results": N_("Результаты ВПР/ОГЭ/ЕГЭ"), "question_map": N_("Вопросы → компетенции"),
            "catalogue": N_("Каталог: школы, партнёрства, предложения"),
            "external_courses": N_("Внешние КПК (реестр программ)"),
            "internships": N_("Стажировки"), "mentoring": N_("Наставничество"),
            "events": N_("Методические мероприятия"),
            "availability": N_("Недоступность педагогов")}
KIND_RU = {"results": N_("Результаты ВПР/ОГЭ/ЕГЭ"), "schools": N_("Школы"),
           "partnerships": N_("Сетевые партнёрства"), "offers": N_("Предложения"),
           "question_map": N_("Вопросы → компетенции"),
           **{kind: TITLE_RU[kind] for kind in TABLES}}


@bp.get("/imports")
def imports_page() -> ResponseReturnValue:
    """The upload forms and the identification buttons."""
    return _render()


@bp.post("/imports/results")
def upload_results() -> ResponseReturnValue:
    """Preview ВПР/ОГЭ/ЕГЭ files (CSV or XLSX): how each column is read; nothing is stored.

    The readable files are kept on the server for ``/imports/results/apply``.

    :raise 400: no file chosen, or no file can be read (each refusal says why).
    """
    files = [(f.filename or "", f.read(), "results") for f in request.files.getlist("files")
             if f.filename]
    if not files:
        return _render(error=gettext("Выберите файл с результатами."), status=400)
    return _preview("results", files)


@bp.post("/imports/question-map")
def upload_question_map() -> ResponseReturnValue:
    """Preview a question → competency table (CSV/XLSX) for the diagnostic chosen; a Moodle
    XML question bank is imported at once.

    The table is kept on the server for ``/imports/question-map/apply``.

    :raise 400: no file chosen, no diagnostic yet, or the file cannot be read.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(error=gettext("Выберите файл сопоставления вопросов."), status=400)
    chosen = id_arg(request.form, "diagnostic")
    name, data = upload.filename, upload.read()
    try:
        diagnostic = question_map_diagnostic(chosen)
        if is_moodle_xml(data, name):
            result = import_question_map_file(name, data, diagnostic.id)
            return _render(results=[result], status=400 if result.refused else 200)
    except ValueError as err:
        return _render(error=_question_map_error(err, chosen), status=400)
    return _preview("question-map", [(name, data, "question_map")], {"diagnostic": diagnostic.id})


@bp.post("/imports/catalogue")
def upload_catalogue() -> ResponseReturnValue:
    """Preview schools, partnerships and offers files (any of the three); nothing is stored.

    The readable files are kept on the server for ``/imports/catalogue/apply``.

    :raise 400: none of the three files chosen, or none can be read.
    """
    files = [(f.filename or "", f.read(), part) for part in CATALOGUE
             if (f := request.files.get(part)) is not None and f.filename]
    if not files:
        return _render(error=gettext("Выберите хотя бы один файл каталога."), status=400)
    return _preview("catalogue", files)


@bp.post("/imports/table")
def upload_table() -> ResponseReturnValue:
    """Preview one of the catalogue's own tables (external courses, internships, mentoring,
    methodical events, teachers' availability); nothing is stored.

    The table is kept on the server for ``/imports/table/apply``.

    :raise 400: no file chosen, an unknown kind, or the file cannot be read.
    """
    upload, kind = request.files.get("file"), request.form.get("kind", "")
    if kind not in TABLES:
        return _render(error=gettext("Выберите вид таблицы."), status=400)
    if upload is None or not upload.filename:
        return _render(error=gettext("Выберите файл."), status=400)
    return _preview("table", [(upload.filename, upload.read(), kind)])


@bp.post("/imports/<any(results, catalogue, 'question-map', table):upload>/apply")
def apply_upload(upload: str) -> ResponseReturnValue:
    """Import the files of a preview, each column read as the methodologist chose.

    :raise 400: the upload is unknown, expired, another user's or from another form; two
        columns of a file were given one meaning (the preview is shown again); or every
        file was refused.
    """
    token = request.form.get("token", "")
    try:
        pending = load(_root(), _owner(), token, upload)
    except LookupError:
        return _render(error=gettext("Загрузка не найдена или устарела: выберите файлы заново."),
                       status=400)
    files = [(name, path.read_bytes(), kind)
             for (name, path), kind in zip(pending.files, pending.kinds, strict=True)]
    mappings: Mappings = [_chosen_mapping(i, data, kind) for i, (_, data, kind) in enumerate(files)]
    twice = [f"«{table_kind(kind).label(column)}» ({name})"
             for (name, _, kind), mapping in zip(files, mappings, strict=True)
             for column in sorted(_repeated(mapping))]
    if twice:
        shown = _PREVIEWS[upload](files, mappings, pending.context)
        return _render(error=gettext("Одно значение выбрано для нескольких столбцов: "
                                     "%(columns)s. Оставьте его у одного столбца.",
                                     columns=", ".join(twice)),
                       status=400, pending=_shown_pending(upload, token, shown, mappings))
    try:
        results = _APPLY[upload](pending, files, mappings)
    except ValueError as err:  # a question map's diagnostic gone, a kept file unreadable
        message = _question_map_error(err, pending.context.get("diagnostic")) \
            if upload == "question-map" else gettext("Файлы не загружены: %(error)s",
                                                     error=str(err))
        return _render(error=message, status=400)
    drop(_root(), token)
    return _render(results=results, status=400 if all(r.refused for r in results) else 200)


@bp.post("/imports/identify")
def identify_schools() -> ResponseReturnValue:
    """Identify low-results schools by the rules: a preview, or ``apply=1`` to set flags."""
    apply = request.form.get("apply") == "1"
    return _render(identified=identify(apply), applied=apply)


def _root() -> Path:
    """Where uploads wait between their preview and their import."""
    return Path(current_app.config.get("PROFROUTE_UPLOADS") or default_root())


def _owner() -> str:
    return str(current_user.get_id())


def _preview(upload: str, files: list[File],
             context: dict[str, Any] | None = None) -> ResponseReturnValue:
    """Show how each file would be read and keep the readable ones for ``apply_upload``."""
    previews = _PREVIEWS[upload](files, [{}] * len(files), context or {})
    readable = [(file, p) for file, p in zip(files, previews, strict=True) if p.readable]
    unreadable = [p for p in previews if not p.readable]
    token = keep(_root(), _owner(), [(name, data) for (name, data, _), _ in readable],
                 upload=upload, kinds=[kind for (_, _, kind), _ in readable],
                 context=context).token if readable else ""
    return _render(refused=_shown_refusals(unreadable), status=200 if readable else 400,
                   pending=_shown_pending(upload, token, [p for _, p in readable]))


def _pattern() -> str:
    return settings_of(current_app).school_code_pattern


def _preview_results(files: list[File], mappings: Mappings,
                     _: dict[str, Any]) -> list[FilePreview]:
    return [preview_results(name, data, _pattern(), mapping)
            for (name, data, _), mapping in zip(files, mappings, strict=True)]


def _preview_catalogue(files: list[File], mappings: Mappings,
                       _: dict[str, Any]) -> list[FilePreview]:
    return preview_catalogue_files([(kind, name, data) for name, data, kind in files],
                                   _pattern(), mappings)


def _preview_question_map(files: list[File], mappings: Mappings,
                          _: dict[str, Any]) -> list[FilePreview]:
    return [preview_question_map_file(name, data, mapping)
            for (name, data, _), mapping in zip(files, mappings, strict=True)]


def _apply_results(pending: Pending, _: list[File], mappings: Mappings) -> list[UploadResult]:
    files = [(name, path, mapping)
             for (name, path), mapping in zip(pending.files, mappings, strict=True)]
    return import_results_files(files, _pattern())


def _apply_catalogue(_: Pending, files: list[File], mappings: Mappings) -> list[UploadResult]:
    given = {kind: (name, data) for name, data, kind in files}
    chosen = {kind: mapping for (_, _, kind), mapping in zip(files, mappings, strict=True)}
    return [import_catalogue_files(given, _pattern(), chosen)]


def _apply_question_map(pending: Pending, files: list[File],
                        mappings: Mappings) -> list[UploadResult]:
    diagnostic = pending.context.get("diagnostic")
    return [import_question_map_file(name, data, diagnostic, mapping)
            for (name, data, _), mapping in zip(files, mappings, strict=True)]


def _preview_tables(files: list[File], mappings: Mappings,
                    _: dict[str, Any]) -> list[FilePreview]:
    return [preview_table_file(kind, name, data, _pattern(), mapping)
            for (name, data, kind), mapping in zip(files, mappings, strict=True)]


def _apply_tables(_: Pending, files: list[File], mappings: Mappings) -> list[UploadResult]:
    return [import_table_file(kind, name, data, _pattern(), mapping)
            for (name, data, kind), mapping in zip(files, mappings, strict=True)]


_PREVIEWS: dict[str, Callable[[list[File], Mappings, dict[str, Any]], list[FilePreview]]] = {
    "results": _preview_results, "catalogue": _preview_catalogue,
    "question-map": _preview_question_map, "table": _preview_tables}
_APPLY: dict[str, Callable[[Pending, list[File], Mappings], list[UploadResult]]] = {
    "results": _apply_results, "catalogue": _apply_catalogue,
    "question-map": _apply_question_map, "table": _apply_tables}


def _question_map_error(err: ValueError, chosen: int | None) -> str:
    """A question map's refusal before any row is read, in the reader's language."""
    message = str(err)
    if message.startswith("no diagnostic with id"):
        message = gettext("нет диагностики с номером %(id)s", id=chosen)
    elif message.startswith("no diagnostic"):
        message = gettext("диагностика ещё не загружена из Moodle: сначала выполните "
                          "«profroute sync»")
    return gettext("Сопоставление не загружено: %(reason)s", reason=message)


def _chosen_mapping(index: int, data: bytes, kind: str) -> dict[str, str]:
    """The meaning chosen for each column of the ``index``-th file (``""``: not read)."""
    header = read_table(data).header
    choices = {f"col-{index}-{j}": cell for j, cell in enumerate(header) if cell}
    known = set(table_kind(kind).labels)
    return {cell: value for field, cell in choices.items()
            if (value := request.form.get(field)) is not None and (value in known or not value)}


def _repeated(mapping: Mapping[str, str]) -> set[str]:
    names = [name for name in mapping.values() if name]
    return {name for name in names if names.count(name) > 1}


def _shown_pending(upload: str, token: str, previews: list[FilePreview],
                   mappings: Mappings | None = None) -> dict[str, object]:
    chosen = mappings or [{}] * len(previews)
    return {"upload": upload, "token": token,
            "files": [_shown_preview(p, m) for p, m in zip(previews, chosen, strict=True)]}


def _shown_preview(preview: FilePreview, chosen: Mapping[str, str]) -> dict[str, object]:
    """A preview as the page shows it: each column with the meaning it is read with, or the
    one the methodologist chose (when a meaning chosen twice sends the form back)."""
    return {"file": preview.file, "title": gettext(KIND_RU[preview.kind]), "rows": preview.rows,
            "warnings": preview.warnings, "refused": preview.refused,
            "errors": [_refusal(e) for e in preview.errors],
            "options": table_kind(preview.kind).labels,
            "columns": [(j, cell, chosen.get(cell, preview.read_as.get(cell, "")))
                        for j, cell in enumerate(preview.header) if cell]}


def _shown_refusals(previews: list[FilePreview]) -> list[dict[str, object]]:
    return [{"file": p.file, "errors": [_refusal(e) for e in p.errors]} for p in previews]


def _refusal(line: str) -> str:
    """A parser's refusal as the reader reads it: reworded in Russian, or the parser's own
    English for an English reader."""
    return line if reader_lang() == "en" else refusal_ru(line)


def _render(*, error: str | None = None, status: int = 200,
            results: list[UploadResult] | None = None,
            **extra: object) -> ResponseReturnValue:
    shown = [{"title": gettext(TITLE_RU[r.kind]), "file": r.file, "refused": r.refused,
              "refused_files": r.notes.get("refused", []),
              "counts": [(gettext(COUNT_RU[k]) if k in COUNT_RU else k, v)
                         for k, v in r.counts.items()],
              "errors": [_refusal(e) for e in r.errors], "warnings": r.warnings,
              "conflicts": [_refusal(c) for c in r.notes.get("conflicts", [])],
              "unmapped": r.notes.get("unmapped", [])} for r in results or []]

    diagnostics = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id.desc())).all()
    return render_template("imports.html", error=error, results=shown,
                           diagnostics=diagnostics, **extra), status
