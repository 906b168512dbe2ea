"""File imports for a signed-in methodologist: results, question map, catalogue, identification."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import login_required
from sqlalchemy import select

from app.extensions import db
from app.models import Diagnostic
from app.web.import_messages import refusal_ru
from app.web.uploads import (
    CATALOGUE,
    UploadResult,
    identify,
    import_catalogue_files,
    import_question_map_file,
    import_results_files,
)

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
    """Import ВПР/ОГЭ/ЕГЭ files (CSV or XLSX, UTF-8 or Windows-1251, ``;`` or ``,``).

    :raise 400: no file chosen, or a file cannot be read.
    """
    files = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    if not files:
        return _render(error="Выберите файл с результатами.", status=400)
    try:
        return _render(results=import_results_files(files))
    except ValueError as err:
        return _render(error=f"Файл не прочитан: {err}", status=400)


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
        return _render(results=[import_question_map_file(upload.filename, upload.read(),
                                                         chosen)])
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
    return _render(results=[import_catalogue_files(files)])


@bp.post("/imports/identify")
@login_required
def identify_schools() -> ResponseReturnValue:
    """Identify low-results schools by the rules: a preview, or ``apply=1`` to set flags."""
    apply = request.form.get("apply") == "1"
    return _render(identified=identify(apply), applied=apply)


def _render(*, error: str | None = None, status: int = 200,
            results: list[UploadResult] | None = None,
            **extra: object) -> ResponseReturnValue:
    shown = [{"title": TITLE_RU[r.kind], "file": r.file,
              "counts": [(COUNT_RU.get(k, k), v) for k, v in r.counts.items()],
              "errors": [refusal_ru(e) for e in r.errors],
              "conflicts": [refusal_ru(c) for c in r.notes.get("conflicts", [])],
              "unmapped": r.notes.get("unmapped", [])} for r in results or []]

    diagnostics = db.session.scalars(select(Diagnostic).order_by(Diagnostic.id.desc())).all()
    return render_template("imports.html", error=error, results=shown,
                           diagnostics=diagnostics, **extra), status
