"""The indicators report as an XLSX workbook, byte-for-byte reproducible."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from app.reports.indicator_texts import PERIOD_NOTE, TEXTS
from deficits.indicators import COUNT_INDICATORS, AreaIndicators

SHEET_TITLE = "Показатели"
TERMS_TITLE = "Определения"
HEADERS = ("Муниципалитет", "Период", "Код", "Показатель", "Числитель", "Знаменатель",
           "Значение")
TERMS_HEADERS = ("Код", "Показатель", "Числитель и знаменатель", "Indicator", "Definition")
FIXED_TIME = dt.datetime(2000, 1, 1)  # workbook created/modified: output depends on input only
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PERCENT = "0.0%"
_RATIO = "0.00"
# A cell whose text starts so is a formula to a spreadsheet (or to one importing the
# file as CSV): names and notes from imported data are written as text instead.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(book: Workbook) -> Workbook:
    """Make every text cell that starts like a formula plain text (quote-prefixed), its
    value unchanged: no formula from imported data runs when the file is opened."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
                    cell.quotePrefix = True
    return book


def _header(sheet: Worksheet, scope: str, periods: list[str],
            thresholds_text: list[str]) -> None:
    """Write the report's title lines and a blank line."""
    sheet.append(["Показатели программы"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Муниципалитет", scope])
    for label, period in zip(("Период", "Период сравнения"), periods, strict=False):
        sheet.append([label, period])
    sheet.append(["", PERIOD_NOTE[0]])
    sheet.append(["Пороги", *thresholds_text[:1]])
    for text in thresholds_text[1:]:
        sheet.append(["", text])
    sheet.append([])


def _table(sheet: Worksheet, blocks: Sequence[AreaIndicators]) -> None:
    """One row per area, period and indicator, with a filter on every column."""
    sheet.append(list(HEADERS))
    top = sheet.max_row
    for cell in sheet[top]:
        cell.font = Font(bold=True)
    for block in blocks:
        for item in block.indicators:
            sheet.append([block.area, str(block.period), item.code, TEXTS[item.code][0],
                          item.numerator, item.denominator, item.value])
            sheet.cell(sheet.max_row, 7).number_format = (
                _RATIO if item.code in COUNT_INDICATORS else _PERCENT)
    sheet.auto_filter.ref = f"A{top}:G{sheet.max_row}"
    sheet.freeze_panes = f"A{top + 1}"
    for column, width in zip("ABCDEFG", (34, 26, 28, 70, 12, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width


def _terms(sheet: Worksheet) -> None:
    """What each numerator and denominator counts, in Russian and English."""
    sheet.append(list(TERMS_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for code, (title_ru, title_en, definition_ru, definition_en) in TEXTS.items():
        sheet.append([code, title_ru, definition_ru, title_en, definition_en])
    sheet.append([])
    sheet.append(["", "", PERIOD_NOTE[0], "", PERIOD_NOTE[1]])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCDE", (28, 40, 80, 40, 80), strict=True):
        sheet.column_dimensions[column].width = width


def _deterministic(data: bytes) -> bytes:
    """Re-pack the archive with fixed entry times and order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()


def indicators_xlsx(blocks: Sequence[AreaIndicators], *, scope: str,
                    thresholds_text: list[str]) -> bytes:
    """Render the indicators as an XLSX workbook: «Показатели» and «Определения».

    «Показатели» starts with the scope (a municipality or all of them), the period (and the
    period compared, if any), the note on dates and the thresholds used (one line each), then
    one long table with a filter on each column: municipality, period, code, Russian title,
    numerator, denominator, value; one row per area, period and indicator, so a methodologist
    filters by municipality or indicator. Numerators and denominators are numbers; a share is
    a number formatted as a percentage, a ratio of counts (``COUNT_INDICATORS``) a plain
    number, a value of None (denominator 0) an empty cell. «Определения» says what each
    numerator and denominator counts. The same input always gives the same bytes; text that
    starts like a formula (``FORMULA_STARTS``) is written as text.

    Args:
        blocks: From ``deficits.indicators.by_municipality``, for one or two periods.
        scope: What the report covers, e.g. a municipality's name.
        thresholds_text: Human-readable lines describing the thresholds used.

    Returns:
        The workbook's bytes.
    """
    book = Workbook()
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    book.properties.creator = "ProfRoute"
    sheet = book.active
    sheet.title = SHEET_TITLE
    periods = list(dict.fromkeys(str(block.period) for block in blocks))
    _header(sheet, scope, periods, thresholds_text)
    _table(sheet, blocks)
    _terms(book.create_sheet(TERMS_TITLE))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(_as_text(book), archive).write_data()
    return _deterministic(buffer.getvalue())


def table_workbook(title: str, notes: list[str], headers: list[str],
                   rows: Sequence[Sequence[Any]]) -> bytes:
    """One sheet: the title, notes, then the table; a share is a number shown as percent.

    Text that starts like a formula (``FORMULA_STARTS``) is written as text. Written row by
    row (openpyxl's write-only mode: no sheet of cells in memory; thousands of rows, as the
    4,000 schools of the deficit map, in a fraction of the time).
    """
    return tables_workbook([Sheet(title, notes, headers, rows)])


@dataclass(frozen=True)
class Sheet:
    """One sheet of ``tables_workbook``: its title, notes, headers and rows; floats in the
    ``shares`` columns (all columns when None) are shown as percent, other floats as
    numbers with one decimal."""

    title: str
    notes: list[str]
    headers: list[str]
    rows: Sequence[Sequence[Any]]
    shares: frozenset[int] | None = None


def tables_workbook(sheets: Sequence[Sheet]) -> bytes:
    """Several sheets as ``table_workbook`` writes one (titles cut to Excel's 31 characters)."""
    book = Workbook(write_only=True)
    book.properties.created = book.properties.modified = FIXED_TIME
    for part in sheets:
        _write_sheet(book, part)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _write_sheet(book: Workbook, part: Sheet) -> None:
    title, notes, headers, rows = part.title, part.notes, part.headers, part.rows
    sheet = book.create_sheet(title[:31])
    # The sheet's size up front, as a sheet in memory states it (a write-only one would
    # state none; readers in read-only mode then give each row only its own cells).
    width = max([len(headers), *(len(row) for row in rows), 1])
    size = f"A1:{get_column_letter(width)}{len(notes) + 3 + len(rows)}"
    sheet.calculate_dimension = lambda: size  # type: ignore[attr-defined]
    percent = WriteOnlyCell(sheet, 0.0)
    percent.number_format = "0%"
    percent_style = percent._style  # one style for every share: no style lookup per cell
    number = WriteOnlyCell(sheet, 0.0)
    number.number_format = "0.0"
    number_style = number._style

    def cell(value: Any, column: int) -> Any:
        if isinstance(value, float):
            out = WriteOnlyCell(sheet, value)
            share = part.shares is None or column in part.shares
            out._style = copy(percent_style if share else number_style)
            return out
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            out = WriteOnlyCell(sheet, value)
            out.data_type = "s"
            out.quotePrefix = True
            return out
        return value

    for line in (title, *notes, ""):
        sheet.append([cell(line, 0)])
    sheet.append([cell(h, k) for k, h in enumerate(headers)])
    for row in rows:
        sheet.append([cell(v, k) for k, v in enumerate(row)])
