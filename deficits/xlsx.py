"""The indicators report as an XLSX workbook, byte-for-byte reproducible."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from deficits.indicators import COUNT_INDICATORS, Indicator

SHEET_TITLE = "Показатели"
HEADERS = ("Код", "Показатель", "Числитель", "Знаменатель", "Значение")
FIXED_TIME = dt.datetime(2000, 1, 1)  # workbook created/modified: output depends on input only
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PERCENT = "0.0%"
_RATIO = "0.00"


def _header(sheet: Worksheet, municipality: str, period: str,
            thresholds_text: list[str]) -> int:
    """Write the report's title lines; return the row of the table's header."""
    sheet.append(["Показатели программы"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Муниципалитет", municipality])
    sheet.append(["Период", period])
    sheet.append(["Пороги", *thresholds_text[:1]])
    for text in thresholds_text[1:]:
        sheet.append(["", text])
    sheet.append([])
    return sheet.max_row + 1


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


def indicators_xlsx(indicators: Sequence[Indicator], *, municipality: str, period: str,
                    thresholds_text: list[str]) -> bytes:
    """Render the indicators as an XLSX workbook with one sheet, «Показатели».

    The sheet starts with the municipality, the period and the thresholds used (one line
    each), then a table: code, Russian title, numerator, denominator, value. A share is
    written as a number formatted as a percentage; a ratio of counts (``COUNT_INDICATORS``)
    as a plain number; a value of None (denominator 0) as an empty cell. The same input
    always gives the same bytes.

    Args:
        indicators: From ``deficits.indicators.compute_indicators``.
        municipality: The municipality's name.
        period: The period as it should read, e.g. ``str(Period(...))``.
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
    top = _header(sheet, municipality, period, thresholds_text)
    sheet.append(list(HEADERS))
    for cell in sheet[top]:
        cell.font = Font(bold=True)
    for item in indicators:
        sheet.append([item.code, item.title_ru, item.numerator, item.denominator, item.value])
        sheet.cell(sheet.max_row, 5).number_format = (
            _RATIO if item.code in COUNT_INDICATORS else _PERCENT)
    for column, width in zip("ABCDE", (30, 70, 12, 12, 12), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _deterministic(buffer.getvalue())
