"""Read a CSV or XLSX table: bytes or a path in, a header and numbered rows out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from tabular.delimited import UndecodableText, csv_records, decode, sniff_separator
from tabular.table import RawRow, Row, RowError, Table, resolve_columns
from tabular.workbook import MAX_UNPACKED, is_xlsx, not_a_table, xlsx_records


def read_table(
    source: bytes | str | os.PathLike[str],
    *,
    aliases: Mapping[str, Iterable[str]] | None = None,
    strict_width: bool = False,
    max_unpacked: int = MAX_UNPACKED,
    name: str = "",
    mapping: Mapping[str, str] | None = None,
) -> Table:
    """Read a table a methodologist uploads, never losing a good row to a bad one.

    An XLSX workbook (recognised by its zip signature; first sheet, read-only) or a CSV
    text (UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1251 unless it reads as
    KOI8-R; ``;``, ``,`` or tab, guessed from the first non-blank line). Blank rows are
    skipped; the first non-blank row is the header. An Excel 97–2003 workbook, an HTML page
    or any file named ``.xlsx`` that is no workbook is refused as a whole.

    Args:
        source: The file's bytes, or its path (``str`` or ``PathLike``).
        aliases: Canonical column name → accepted header spellings, most preferred first;
            matched case-, space- and ё-insensitively (see ``normalise_header``).
        strict_width: Refuse a CSV record with more cells than the header (a value holding
            the separator unquoted); otherwise extra cells are kept.
        max_unpacked: The most bytes an XLSX archive may unpack to.
        name: The file's name as the user chose it (a path's own name by default).
        mapping: Header cell → canonical name, chosen by hand; it wins over ``aliases``.

    Returns:
        The table. A file that cannot be read at all is a Table without a header and with
        one error on row 0; an empty file is a Table without a header or errors.

    Raises:
        OSError: ``source`` is a path that cannot be read.
    """
    if not isinstance(source, bytes):
        name = name or Path(source).name
        source = Path(source).read_bytes()
    if not is_xlsx(source) and (refusal := not_a_table(source, name)):
        return Table(errors=(RowError(0, "", refusal),), separator="")
    known = partial(resolve_columns, aliases=aliases or {}, mapping=mapping or {})
    if is_xlsx(source):
        try:
            records = xlsx_records(source, max_unpacked)
        except ValueError as err:
            problem = f"{err}; save the file again as CSV or XLSX"
            return Table(errors=(RowError(0, "", problem),), separator="")
        return _assemble(records, None, "", known, strict_width=False)
    try:
        text = decode(source)
    except UndecodableText as err:
        return Table(errors=(RowError(0, "", str(err)),))
    separator = sniff_separator(text)
    records, error = csv_records(text, separator)
    return _assemble(records, error, separator, known, strict_width=strict_width)


def _assemble(records: list[RawRow], error: RowError | None, separator: str,
              known: Callable[[tuple[str, ...]], dict[str, int]], *,
              strict_width: bool) -> Table:
    """Header, rows and errors from the raw records (blank ones skipped)."""
    filled = [(number, cells) for number, cells in records if any(c.strip() for c in cells)]
    tail = (error,) if error is not None else ()
    if not filled:
        return Table(errors=tail, separator=separator)
    (header_row, header_cells), body = filled[0], filled[1:]
    header = tuple(cell.strip() for cell in header_cells)
    columns = known(header)
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, cells in body:
        if strict_width and len(cells) > len(header):
            hint = (f"{len(cells)} fields, header has {len(header)}: "
                    f"quote values with '{separator}'")
            errors.append(RowError(number, "", hint))
            continue
        padded = tuple(cell.strip() for cell in cells) + ("",) * (len(header) - len(cells))
        fields = {name: padded[index] for name, index in columns.items()}
        rows.append(Row(number, padded, fields))
    return Table(header, header_row, tuple(rows), (*errors, *tail), separator, columns)
