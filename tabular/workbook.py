"""XLSX tables: the first sheet's rows as text, read-only, with a guard on the unpacked size."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from tabular.table import RawRow

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97–2003 .xls (and .doc, .msg)
OLD_EXCEL = "an Excel 97–2003 (.xls) workbook, which is not read"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
MAX_UNPACKED = 256 * 1024 * 1024  # a 20 MB upload of ordinary sheets unpacks to far less
# Sheet XML of real tables packs 5 to 30 times; a zip bomb's hundreds or thousands of times.
MAX_RATIO = 100
_RATIO_FLOOR = 1024 * 1024  # entries that unpack to less are too small to matter
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, SyntaxError,
               InvalidFileException)  # SyntaxError: the XML parsers' errors derive from it


def is_xlsx(data: bytes) -> bool:
    """Whether the bytes are a zip archive, as an XLSX workbook is."""
    return data.startswith(XLSX_MAGIC)


def not_a_table(data: bytes, name: str = "") -> str | None:
    """Why bytes that are no zip archive cannot be a table, or None if they may be text.

    An Excel 97–2003 workbook and an HTML page (which some systems save as ``.xls``) are
    refused; so is anything else under a workbook's name (``.xlsx``, ``.xlsm``, ``.xls``).
    """
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if data.startswith(OLE2_MAGIC):
        return f"{OLD_EXCEL}; save it as XLSX or CSV UTF-8"
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) and \
            not name.lower().endswith(".xml"):
        return "an HTML or XML page, not a table file; save it as XLSX or CSV UTF-8"
    if name.lower().endswith(WORKBOOK_SUFFIXES):
        return (f"named {Path(name).suffix.lower()} but not an Excel workbook (no XLSX "
                "inside); save it as XLSX or CSV UTF-8")
    return None


def cell_text(value: object) -> str:
    """A spreadsheet cell as text.

    None is empty; a whole float loses its ``.0``; a date (or a date-time at midnight) is
    ``YYYY-MM-DD``; anything else is its text, trimmed.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _check_unpacked(data: bytes, limit: int, max_ratio: int = MAX_RATIO) -> None:
    """Refuse a zip bomb before anything is unpacked: an archive whose entries unpack to more
    than ``limit`` bytes, or an entry packed more than ``max_ratio`` times (one that unpacks
    to under a megabyte excepted).

    The sizes are the ones the archive's directory declares; Python's zipfile never unpacks
    an entry beyond its declared size, so they bound what openpyxl reads.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = archive.infolist()
    unpacked = sum(info.file_size for info in entries)
    mib = 1024 * 1024
    if unpacked > limit:
        raise ValueError(f"it unpacks to {unpacked / mib:.1f} MB, more than {limit / mib:.1f} MB")
    for info in entries:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and ratio > max_ratio:
            raise ValueError(f"its part {info.filename} is packed {ratio:.0f} times "
                             f"({info.compress_size / mib:.1f} MB unpack to "
                             f"{info.file_size / mib:.1f} MB), more than {max_ratio} times")


def xlsx_records(data: bytes, max_unpacked: int = MAX_UNPACKED) -> list[RawRow]:
    """The first sheet's rows as ``(row number, cells as text)``, empty rows included.

    Args:
        data: The workbook's bytes.
        max_unpacked: The most bytes the archive may unpack to.

    Raises:
        ValueError: The workbook cannot be read, or unpacks to more than ``max_unpacked``;
            the message reads «unreadable XLSX (why)».
    """
    try:
        _check_unpacked(data, max_unpacked)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (*_UNREADABLE, ValueError) as err:
        raise ValueError(f"unreadable XLSX ({err})") from err
    try:
        sheet = book.worksheets[0]
        return [(number, [cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)]
    except _UNREADABLE as err:
        raise ValueError(f"unreadable XLSX ({err})") from err
    finally:
        book.close()
