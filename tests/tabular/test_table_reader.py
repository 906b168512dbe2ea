"""The one table reader: encodings, separators, XLSX, header aliases, refused rows and files."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from tabular import (
    UNDECODABLE,
    Row,
    RowError,
    normalise_header,
    read_table,
    resolve_columns,
    sniff_separator,
)

HEADER = ["Код ОО", "Предмет", "Средний балл"]
ROWS = [  # file rows: header = 1
    ["S001", "Математика", "3,41"],  # 2
    [],  # 3 blank: skipped
    ["S002", "Русский язык", "4"],  # 4
]
EXPECTED = (Row(2, ("S001", "Математика", "3,41")), Row(4, ("S002", "Русский язык", "4")))


def _csv(rows: list[list[str]], sep: str, encoding: str, header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([header, *rows])
    return out.getvalue().encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row or [None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_in_every_encoding_and_separator_gives_the_same_rows(encoding, sep):
    table = read_table(_csv(ROWS, sep, encoding))
    assert (table.header, table.header_row, table.separator) == (tuple(HEADER), 1, sep)
    assert (table.rows, table.errors) == (EXPECTED, ())


def test_xlsx_gives_the_same_rows_with_numbers_and_dates_as_text():
    data = _xlsx([HEADER, ["S001", "Математика", "3,41"], [], ["S002", "Русский язык", 4.0],
                  ["S003", dt.datetime(2025, 9, 1), 12.5]])
    table = read_table(data)
    assert (table.header, table.separator, table.errors) == (tuple(HEADER), "", ())
    assert table.rows == (*EXPECTED, Row(5, ("S003", "2025-09-01", "12.5")))


def test_a_path_is_read_like_its_bytes(tmp_path):
    path = tmp_path / "results.csv"
    path.write_bytes(_csv(ROWS, ";", "cp1251"))
    assert read_table(path) == read_table(str(path)) == read_table(path.read_bytes())


@pytest.mark.parametrize(("header", "columns"), [
    (["Код ОО", "Средний балл"], {"school": 0, "mean": 1}),
    (["  КОД   ОО ", "СРЕДНИЙ\u00a0БАЛЛ"], {"school": 0, "mean": 1}),  # case and spaces
    (["код школы", "средний балл, %"], {"school": 0, "mean": 1}),  # alias, unit dropped
    (["Код ОО", "Средний бaлл"], {"school": 0}),  # a Latin «a»: not the same column
    (["школа", "код оо", "Код ОО"], {"school": 1}),  # leftmost of a repeated spelling
    (["код школы", "код оо"], {"school": 1}),  # the first spelling listed wins
    (["Учёт", "учет"], {"count": 0}),  # ё read as е
])
def test_header_aliases_are_case_space_and_yo_insensitive(header, columns):
    aliases = {"school": ("код оо", "код школы"), "mean": ("Средний балл",),
               "count": ("учет",)}
    assert resolve_columns(header, aliases) == columns


def test_rows_carry_their_fields_by_canonical_name():
    table = read_table(_csv(ROWS, ";", "utf-8"), aliases={"school": ("код оо",),
                                                         "grade": ("класс",)})
    assert table.columns == {"school": 0}
    assert table.missing(["school", "grade"]) == ["grade"]
    assert [dict(row.fields) for row in table.rows] == [{"school": "S001"}, {"school": "S002"}]


@pytest.mark.parametrize(("text", "strict", "numbers", "errors"), [
    # row 3 holds the separator unquoted: refused when strict, its neighbours kept
    ("a;b\n1;2\n3;4;5\n6;7\n", True, [2, 4], [RowError(3, "", "3 fields, header has 2: "
                                                              "quote values with ';'")]),
    ("a;b\n1;2\n3;4;5\n6;7\n", False, [2, 3, 4], []),
    # a quoted value over two lines: the rows after it keep their line numbers
    ('a,b\r\n1,"x\r\ny"\r\n2,3,4\r\n5,6\r\n', True, [2, 5],
     [RowError(4, "", "3 fields, header has 2: quote values with ','")]),
    # blank lines before the header and between rows
    ("\n\na;b\n\n1;2\n", True, [5], []),
])
def test_a_bad_row_keeps_its_neighbours_and_its_number(text, strict, numbers, errors):
    table = read_table(text.encode(), strict_width=strict)
    assert [row.number for row in table.rows] == numbers
    assert list(table.errors) == errors


def test_short_rows_are_padded_and_long_ones_kept_without_strict_width():
    table = read_table(b"a;b;c\n1\n1;2;3;4\n")
    assert [row.cells for row in table.rows] == [("1", "", ""), ("1", "2", "3", "4")]


def test_an_unreadable_csv_record_keeps_the_rows_before_it():
    text = "a;b\n1;2\n3;" + "x" * 200_000 + "\n"
    table = read_table(text.encode())
    assert [row.number for row in table.rows] == [2]
    assert [(e.row, e.field) for e in table.errors] == [(3, "")]
    assert table.errors[0].message.startswith("unreadable CSV (field larger than field limit")


@pytest.mark.parametrize(("data", "message"), [
    (b"", None),
    (b"\r\n \n;;\n", None),
    (b"\x98\xff", UNDECODABLE),
    (b"PK\x03\x04 not really a zip",
     "unreadable XLSX (File is not a zip file); save the file again as CSV or XLSX"),
])
def test_an_empty_or_unreadable_file_has_no_header(data, message):
    table = read_table(data)
    assert (table.header, table.header_row, table.rows) == ((), 0, ())
    assert list(table.errors) == ([RowError(0, "", message)] if message else [])


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused():
    data = _xlsx([["a"], *([f"{n:0100}"] for n in range(3000))])  # ~0.3 MB of sheet XML
    assert len(read_table(data, max_unpacked=1024 * 1024).rows) == 3000
    refused = read_table(data, max_unpacked=100 * 1024)
    assert (refused.header, refused.rows, refused.separator) == ((), (), "")
    [error] = refused.errors
    assert (error.row, error.field) == (0, "")
    assert error.message.startswith("unreadable XLSX (it unpacks to 0.")
    assert error.message.endswith(" MB, more than 0.1 MB); save the file again as CSV or XLSX")


@pytest.mark.parametrize(("text", "sep"), [
    ("a;b;c", ";"), ("a,b,c", ","), ("a\tb\tc", "\t"),
    ("a;b,c", ";"),  # a tie goes to «;»
    ("Доля, %;Код;Год", ";"), ("Доля, %\tКод\tГод", "\t"), ("a,b\tc", ","),
    ("\n\n a;b", ";"), ("", ","), ("single", ","),
])
def test_separator_is_guessed_from_the_first_non_blank_line(text, sep):
    assert sniff_separator(text) == sep


@pytest.mark.parametrize(("cell", "name"), [
    ("Доля ниже минимального порога, %", "доля ниже минимального порога"),
    ("Доля (%)", "доля"), ("Ёмкость", "емкость"), (" Код\tОО ", "код оо"),
])
def test_header_names_are_normalised(cell, name):
    assert normalise_header(cell) == name
