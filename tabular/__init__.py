"""One reader for the CSV and XLSX tables ProfRoute imports (pure: bytes or a path in, rows out)."""

from tabular.delimited import UNDECODABLE, decode, sniff_separator
from tabular.reader import read_table
from tabular.table import Row, RowError, Table, normalise_header, resolve_columns
from tabular.workbook import MAX_UNPACKED, is_xlsx

__all__ = ["MAX_UNPACKED", "UNDECODABLE", "Row", "RowError", "Table", "decode", "is_xlsx",
           "normalise_header", "read_table", "resolve_columns", "sniff_separator"]
