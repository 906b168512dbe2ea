"""Delimited text: the encoding and the separator guessed, records with their line numbers."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

from tabular.table import RawRow, RowError

ACCEPTED = "UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1251"
UNDECODABLE = f"not text in {ACCEPTED}; save it as CSV UTF-8"
KOI8 = f"looks like KOI8-R text, which is not accepted ({ACCEPTED}); save it as CSV UTF-8"
NO_BOM_UTF16 = f"looks like UTF-16 without a BOM, which is not accepted ({ACCEPTED}); " \
               "save it as CSV UTF-8"
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMMON = frozenset("оеаинтсрвл")  # the ten most frequent Russian letters, ~60 % of a text


class UndecodableText(ValueError):
    """Raised when a text table is in an encoding the reader does not accept."""


def decode(data: bytes) -> str:
    """Decode a text table: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1251.

    Windows-1251 is accepted only when it reads as Russian: KOI8-R text (which any byte
    string "decodes" to in Windows-1251, as garbled letters) is refused by comparing how
    often the most frequent Russian letters occur in each reading. Control characters
    (binary data, UTF-16 without BOM) are refused too.

    Raises:
        UndecodableText: The bytes are none of the accepted encodings; the message names them.
    """
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "")
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError:
        if encoding:
            raise UndecodableText(UNDECODABLE) from None
        text = _windows_1251(data)
    if _CONTROL.search(text):
        raise UndecodableText(NO_BOM_UTF16 if "\x00" in text and not encoding else UNDECODABLE)
    return text


def _windows_1251(data: bytes) -> str:
    """Bytes read as Windows-1251, unless they are not that or read better as KOI8-R."""
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        raise UndecodableText(UNDECODABLE) from None
    if _russian_score(data.decode("koi8-r", errors="replace")) > _russian_score(text):
        raise UndecodableText(KOI8)
    return text


def _russian_score(text: str) -> float:
    """The share of the Cyrillic letters (case folded) that are among the ten most frequent."""
    counts = Counter(text.casefold())
    letters = sum(n for char, n in counts.items() if "а" <= char <= "я" or char == "ё")
    return sum(counts[char] for char in _COMMON) / letters if letters else 0.0


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
