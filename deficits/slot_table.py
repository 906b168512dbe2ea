"""Parses a slot → competency table a methodologist uploads for a quiz without grade items."""

from __future__ import annotations

from dataclasses import dataclass

from tabular import read_table

HEADER_SLOT = ("slot", "слот", "номер вопроса", "вопрос")
HEADER_COMPETENCY = ("competency", "компетенция", "idnumber")
_COLUMNS = {"slot": HEADER_SLOT, "competency": HEADER_COMPETENCY}


@dataclass(frozen=True)
class TableError:
    """A refused row: its 1-based line in the file (header = 1) and why."""

    row: int
    message: str


def parse_slot_table(data: bytes) -> tuple[dict[int, str], list[TableError]]:
    """Read ``slot;competency`` rows (see ``tabular.read_table``: CSV or XLSX, header first).

    A bad row is reported and skipped; a slot given twice with different competencies is
    a conflict: both rows are refused, never guessed.
    """
    table = read_table(data, aliases=_COLUMNS)
    if not table.header:
        empty = [TableError(0, "the file is empty; expected a header 'slot;competency'")]
        return {}, [TableError(e.row, e.message) for e in table.errors] or empty
    if table.missing(_COLUMNS):
        message = "the header must name the columns 'slot' and 'competency'"
        return {}, [TableError(table.header_row, message)]
    errors = [TableError(e.row, e.message) for e in table.errors]
    result: dict[int, str] = {}
    seen: dict[int, int] = {}
    for row in table.rows:
        slot_text, comp = row.fields["slot"], row.fields["competency"]
        if not slot_text.isdigit() or int(slot_text) < 1:
            errors.append(TableError(row.number, f"slot {slot_text!r} is not a positive number"))
            continue
        if not comp:
            errors.append(TableError(row.number, f"slot {slot_text}: the competency is empty"))
            continue
        slot = int(slot_text)
        if slot in result and result[slot] != comp:
            errors.append(TableError(row.number, f"slot {slot} is mapped to {result[slot]} on "
                                                 f"row {seen[slot]} and to {comp} here: keep one"))
            del result[slot]
            continue
        result[slot], seen[slot] = comp, row.number
    return result, errors
