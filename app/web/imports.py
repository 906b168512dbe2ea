"""File imports for a signed-in methodologist: results, question map, catalogue, identification."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy import select

from app import settings_of
from app.extensions import db
from app.models import Diagnostic
from app.web.import_messages import refusal_ru
from app.web.pending_uploads import default_root, drop, keep, load
from app.web.uploads import (
    CATALOGUE,
    ResultsPreview,
    UploadResult,
    identify,
    import_catalogue_files,
    import_question_map_file,
    import_results_files,
    preview_results,
)
from deficits.results_file import COLUMN_LABELS

bp = Blueprint("imports", __name__, template_folder="templates")
COUNT_RU = {
    "rows": "строк принято", "created": "новых", "changed": "изменено",
    "unchanged": "без изменений", "rejected": "строк отклонено",
    "slots": "слотов сопоставлено", "questions": "вопросов сопоставлено",
    "conflicts": "противоречий", "unmapped": "не сопоставлено",
    "schools": "школ в файле", "partnerships": "партнёрств в файле",
    "offers": "предложений в файле",
    "schools_created": "школ добавлено", "schools_changed": "школ изменено",
    "partnerships_created": "партнёрств добавлено", "partnerships_changed": "партнёрств изменено",
    "offers_created": "предложений добавлено", "offers_changed": "предложений изменено",
    "offer_competencies_created": "связей с компетенциями добавлено",
    "offer_competencies_changed": "связей с компетенциями изменено",
}
TITLE_RU = {"results": "Результаты ВПР/ОГЭ/ЕГЭ", "question_map": "Вопросы → компетенции",
            "catalogue": "Каталог: школы, партнёрства, предложения"}


@bp.get("/imports")
@login_required
def imports_page() -> ResponseReturnValue:
    """The upload forms and the identification buttons."""
    return _render()


@bp.post("/imports/results")
@login_required
def upload_results() -> ResponseReturnValue:
    """Preview ВПР/ОГЭ/ЕГЭ files (CSV or XLSX): how each column is read; nothing is stored.

    The readable files are kept on the server for ``/imports/results/apply``.

    :raise 400: no file chosen, or no file can be read (each refusal says why).
    """
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    if not files:
        return _render(error="Выберите файл с результатами.", status=400)
    pattern = settings_of(current_app).school_code_pattern
    previews = [preview_results(name, data, pattern) for name, data in files]
    readable = [(name, data) for (name, data), p in zip(files, previews, strict=True)
                if p.readable]
    unreadable = [p for p in previews if not p.readable]
    token = keep(_root(), _owner(), readable).token if readable else ""
    return _render(refused=_shown_refusals(unreadable), status=200 if readable else 400,
                   pending={"token": token, "files": [_shown_preview(p) for p in previews
                                                      if p.readable]})


@bp.post("/imports/results/apply")
@login_required
def apply_results() -> ResponseReturnValue:
    """Import the files of a preview, each column read as the methodologist chose.

    :raise 400: the upload is unknown or expired, or two columns were given one meaning.
    """
    token = request.form.get("token", "")
    try:
        pending = load(_root(), _owner(), token)
    except LookupError:
        return _render(error="Загрузка не найдена или устарела: выберите файлы заново.",
                       status=400)
    mappings = [_chosen_mapping(i, path) for i, (_, path) in enumerate(pending.files)]
    twice = sorted({name for m in mappings for name in _repeated(m)})
    if twice:
        labels = ", ".join(f"«{COLUMN_LABELS.get(n, n)}»" for n in twice)
        pattern = settings_of(current_app).school_code_pattern
        shown = [_shown_preview(preview_results(name, path.read_bytes(), pattern, mapping))
                 for (name, path), mapping in zip(pending.files, mappings, strict=True)]
        return _render(error=f"Одно значение выбрано для нескольких столбцов: {labels}.",
                       status=400, pending={"token": token, "files": shown})
    files = [(name, path, mapping)
             for (name, path), mapping in zip(pending.files, mappings, strict=True)]
    results = import_results_files(files, settings_of(current_app).school_code_pattern)
    drop(_root(), token)
    return _render(results=results, status=400 if all(r.refused for r in results) else 200)


@bp.post("/imports/question-map")
@login_required
def upload_question_map() -> ResponseReturnValue:
    """Import a question → competency map (CSV/XLSX table or Moodle XML) for the diagnostic.

    :raise 400: no file chosen, no diagnostic yet, or the file cannot be read.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _render(error="Выберите файл сопоставления вопросов.", status=400)
    chosen = request.form.get("diagnostic", type=int)
    try:
        result = import_question_map_file(upload.filename, upload.read(), chosen)
        return _render(results=[result], status=400 if result.refused else 200)
    except ValueError as err:
        message = str(err)
        if message.startswith("no diagnostic with id"):
            message = f"нет диагностики с номером {chosen}"
        elif message.startswith("no diagnostic"):
            message = ("диагностика ещё не загружена из Moodle: сначала выполните "
                       "«profroute sync»")
        return _render(error=f"Сопоставление не загружено: {message}", status=400)


@bp.post("/imports/catalogue")
@login_required
def upload_catalogue() -> ResponseReturnValue:
    """Import schools, partnerships and offers files (any of the three).

    :raise 400: none of the three files chosen.
    """
    files = {part: (f.filename or "", f.read()) for part in CATALOGUE
             if (f := request.files.get(part)) is not None and f.filename}
    if not files:
        return _render(error="Выберите хотя бы один файл каталога.", status=400)
    result = import_catalogue_files(files, settings_of(current_app).school_code_pattern)
    return _render(results=[result], status=400 if result.refused else 200)


@bp.post("/imports/identify")
@login_required
def identify_schools() -> ResponseReturnValue:
    """Identify low-results schools by the rules: a preview, or ``apply=1`` to set flags."""
    apply = request.form.get("apply") == "1"
    return _render(identified=identify(apply), applied=apply)


def _root() -> Path:
    """Where uploads wait between their preview and their import."""
    return Path(current_app.config.get("PROFROUTE_UPLOADS") or default_root())


def _owner() -> str:
    return str(current_user.get_id())


def _chosen_mapping(index: int, path: Path) -> dict[str, str]:
    """The meaning chosen for each column of the ``index``-th file (``""``: not read)."""
    header = preview_results("", path.read_bytes(), ".*").header
    choices = {f"col-{index}-{j}": cell for j, cell in enumerate(header) if cell}
    known = set(COLUMN_LABELS)
    return {cell: value for field, cell in choices.items()
            if (value := request.form.get(field)) is not None and (value in known or not value)}


def _repeated(mapping: dict[str, str]) -> set[str]:
    names = [name for name in mapping.values() if name]
    return {name for name in names if names.count(name) > 1}


def _shown_preview(preview: ResultsPreview) -> dict[str, object]:
    """A preview as the page shows it: each column with the meaning it is read with."""
    return {"file": preview.file, "rows": preview.rows, "warnings": preview.warnings,
            "refused": preview.refused,
            "errors": [refusal_ru(e) for e in preview.errors],
            "columns": [(cell, preview.read_as.get(cell, "")) for cell in preview.header
                        if cell]}


def _shown_refusals(previews: list[ResultsPreview]) -> list[dict[str, object]]:
    return [{"file": p.file, "errors": [refusal_ru(e) for e in p.errors]} for p in previews]


def _render(*, error: str | None = None, status: int = 200,
            results: list[UploadResult] | None = None,
            **extra: object) -> ResponseReturnValue:
    shown = [{"title": TITLE_RU[r.kind], "file": r.file, "refused": r.refused,
              "refused_files": r.notes.get("refused", []),
              "counts": [(COUNT_RU.get(k, k), v) for k, v in r.counts.items()],
              "errors": [refusal_ru(e) for e in r.errors], "warnings": r.warnings,
              "conflicts": [refusal_ru(c) for c in r.notes.get("conflicts", [])],
              "unmapped": r.notes.get("unmapped", [])} for r in results or []]

    diagnostics = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id.desc())).all()
    return render_template("imports.html", error=error, results=shown,
                           diagnostics=diagnostics, columns=COLUMN_LABELS, **extra), status
