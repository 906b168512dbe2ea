"""Parses a slot → competency table a methodologist uploads for a quiz without grade items."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

HEADER_SLOT = ("slot", "слот", "номер вопроса", "вопрос")
HEADER_COMPETENCY = ("competency", "компетенция", "idnumber")


@dataclass(frozen=True)
class TableError:
    """A refused row: its 1-based line in the file (header = 1) and why."""

    row: int
    message: str


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def parse_slot_table(data: bytes) -> tuple[dict[int, str], list[TableError]]:
    """Read ``slot;competency`` rows (UTF-8 or Windows-1251, ``;`` or ``,``, header first).

    A bad row is reported and skipped; a slot given twice with different competencies is
    a conflict: both rows are refused, never guessed.
    """
    text = _decode(data)
    dialect = ";" if text.split("\n", 1)[0].count(";") >= 1 else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=dialect))
    if not rows:
        return {}, [TableError(0, "the file is empty; expected a header 'slot;competency'")]
    header = [h.strip().casefold() for h in rows[0]]
    try:
        slot_col = next(i for i, h in enumerate(header) if h in HEADER_SLOT)
        comp_col = next(i for i, h in enumerate(header) if h in HEADER_COMPETENCY)
    except StopIteration:
        return {}, [TableError(1, "the header must name the columns 'slot' and 'competency'")]
    table: dict[int, str] = {}
    seen: dict[int, int] = {}
    errors: list[TableError] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        slot_text = row[slot_col].strip() if slot_col < len(row) else ""
        comp = row[comp_col].strip() if comp_col < len(row) else ""
        if not slot_text.isdigit() or int(slot_text) < 1:
            errors.append(TableError(line, f"slot {slot_text!r} is not a positive number"))
            continue
        if not comp:
            errors.append(TableError(line, f"slot {slot_text}: the competency is empty"))
            continue
        slot = int(slot_text)
        if slot in table and table[slot] != comp:
            errors.append(TableError(line, f"slot {slot} is mapped to {table[slot]} on row "
                                           f"{seen[slot]} and to {comp} here: keep one"))
            del table[slot]
            continue
        table[slot], seen[slot] = comp, line
    return table, errors
