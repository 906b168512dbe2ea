"""One reader for the CSV and XLSX tables ProfRoute imports (pure: bytes or a path in, rows out)."""

from tabular.delimited import ACCEPTED, UNDECODABLE, UndecodableText, decode, sniff_separator
from tabular.headers import SCHOOL_CODE_PATTERN, header_aliases
from tabular.kinds import TABLE_KINDS, TableKind, table_kind
from tabular.reader import read_table
from tabular.table import Row, RowError, Table, normalise_header, resolve_columns
from tabular.workbook import MAX_UNPACKED, is_xlsx, not_a_table

__all__ = ["ACCEPTED", "MAX_UNPACKED", "SCHOOL_CODE_PATTERN", "TABLE_KINDS", "UNDECODABLE", "Row",
           "RowError", "Table", "TableKind", "UndecodableText", "decode", "header_aliases",
           "is_xlsx", "normalise_header", "not_a_table", "read_table", "resolve_columns",
           "sniff_separator", "table_kind"]
