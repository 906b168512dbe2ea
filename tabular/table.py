"""A table read from a file: its header, its rows numbered as the user sees them, its errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_SPACES = re.compile(r"\s+")
_PERCENT_UNIT = re.compile(r"[\s,(]*%\s*\)?$")
RawRow = tuple[int, list[str]]  # a record as read: its 1-based row number and its cells


@dataclass(frozen=True)
class RowError:
    """A problem in one row (1-based line in the file, header = 1; 0 = the whole file)."""

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Row:
    """One data row of a table.

    Attributes:
        number: Its 1-based row number as the user sees it (a CSV record spanning several
            lines has the number of its first line).
        cells: Its cells, trimmed, padded with ``""`` to the header's width (cells beyond
            the header are kept).
        fields: The cells of the recognised columns by canonical name (see ``Table.columns``).
    """

    number: int
    cells: tuple[str, ...]
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """What a file holds: the header, the data rows and the problems the reader found.

    Attributes:
        header: The header's cells as written (trimmed); empty when the file has no header.
        header_row: The header's 1-based row number; 0 when there is none.
        rows: The data rows in file order; blank rows are left out.
        errors: File-level problems (row 0: not readable at all) and refused rows (their
            own number); the rows before and after a refused row are kept.
        separator: ``;``, ``,`` or a tab for CSV; ``""`` for XLSX.
        columns: Column index by canonical name, for the aliases found in the header.
    """

    header: tuple[str, ...] = ()
    header_row: int = 0
    rows: tuple[Row, ...] = ()
    errors: tuple[RowError, ...] = ()
    separator: str = ","
    columns: Mapping[str, int] = field(default_factory=dict)

    def missing(self, names: Iterable[str]) -> list[str]:
        """The canonical ``names`` (in their order) the header has no column for."""
        return [name for name in names if name not in self.columns]

    @property
    def unread(self) -> list[str]:
        """The non-empty header cells no canonical column was read from, in file order."""
        read = set(self.columns.values())
        return [cell for i, cell in enumerate(self.header) if cell and i not in read]

    @property
    def read_as(self) -> dict[str, str]:
        """Each recognised column's header cell as written → its canonical name."""
        return {self.header[i]: name for name, i in sorted(self.columns.items(),
                                                          key=lambda item: item[1])}


def normalise_header(text: str) -> str:
    """A header cell as compared with aliases: case-, space- and ё-insensitive.

    Case is folded, «ё» read as «е», runs of white space (no-break space included) made one
    space, and a trailing unit «%» («, %», «(%)») dropped: «Доля  ниже порога, %» and
    «доля ниже порога» are the same column.
    """
    folded = _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()
    return _PERCENT_UNIT.sub("", folded).strip()


def resolve_columns(header: Sequence[str], aliases: Mapping[str, Iterable[str]],
                    mapping: Mapping[str, str] | None = None) -> dict[str, int]:
    """Find each canonical column in a header by its accepted spellings.

    Args:
        header: The header's cells as written.
        aliases: Canonical name → accepted spellings, most preferred first (the canonical
            name itself counts only if it is listed).
        mapping: Header cell → canonical name (or ``""``: not read), chosen by hand; it
            wins over the aliases, cells compared as in ``normalise_header``.

    Returns:
        Column index by canonical name, for those found: the first spelling listed that is
        in the header wins; a spelling heading several columns means the leftmost.
    """
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        index.setdefault(normalise_header(cell), position)
    chosen = {normalise_header(cell): name for cell, name in (mapping or {}).items()}
    taken = {index[cell] for cell in chosen if cell in index}
    columns = {name: index[cell] for cell, name in chosen.items() if name and cell in index}
    for canonical, names in aliases.items():
        found = next((index[n] for n in map(normalise_header, names)
                      if n in index and index[n] not in taken), None)
        if found is not None and canonical not in columns:
            columns[canonical] = found
    return columns
