"""Delimited text: the encoding and the separator guessed, records with their line numbers."""

from __future__ import annotations

import csv
import io

from tabular.table import RawRow, RowError

UNDECODABLE = "not UTF-8 or Windows-1251 text; save it as CSV UTF-8"


def decode(data: bytes) -> str:
    """Decode a text table: UTF-8 (with or without BOM), else Windows-1251.

    Raises:
        UnicodeDecodeError: The bytes are neither.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def sniff_separator(text: str) -> str:
    """The separator of a table, judged on its first non-blank line.

    ``;`` when the line has one and at least as many as ``,``; a tab when tabs outnumber
    both; ``,`` otherwise (an empty text included).
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    semicolons, commas, tabs = first.count(";"), first.count(","), first.count("\t")
    if tabs > max(semicolons, commas):
        return "\t"
    return ";" if semicolons and semicolons >= commas else ","


def csv_records(text: str, separator: str) -> tuple[list[RawRow], RowError | None]:
    """Split a CSV text into records, each with the line number it starts on.

    Quoted fields may span lines (CRLF, LF or CR); the record after them gets its true line
    number. Reading stops at the first record the csv module cannot read.

    Returns:
        The records read (cells as written, blank records as ``[]``) and, if reading
        stopped early, the error on the line where the unreadable record starts.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    records: list[RawRow] = []
    line = 1
    try:
        for record in reader:
            records.append((line, record))
            line = reader.line_num + 1
    except csv.Error as err:
        return records, RowError(line, "", f"unreadable CSV ({err}); check the quotes")
    return records, None
