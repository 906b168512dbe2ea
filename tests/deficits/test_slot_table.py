"""The slot → competency table: encodings, separators, XLSX, bad rows, conflicts."""

import io

import pytest
from openpyxl import Workbook

from deficits.slot_table import TableError, parse_slot_table


@pytest.mark.parametrize(("data", "table", "error_rows"), [
    (b"slot;competency\n1;PK-01\n2;PK-01\n3;PK-02\n", {1: "PK-01", 2: "PK-01", 3: "PK-02"}, []),
    ("\ufeffслот,компетенция\n1,PK-01\n".encode(), {1: "PK-01"}, []),
    ("Слот;Компетенция\n1;PK-01\n".encode("cp1251"), {1: "PK-01"}, []),
    (b"slot;competency\n1;PK-01\nx;PK-02\n3;\n4;PK-03\n", {1: "PK-01", 4: "PK-03"}, [3, 4]),
    (b"slot;competency\n1;PK-01\n1;PK-02\n2;PK-02\n", {2: "PK-02"}, [3]),
    (b"slot;competency\n1;PK-01\n1;PK-01\n", {1: "PK-01"}, []),
    (b"question;what\n1;PK-01\n", {}, [1]),
    ("слот\tкомпетенция\n1\tPK-01\n\n3\tPK-02\n".encode(), {1: "PK-01", 3: "PK-02"}, []),
    (b"slot,competency\n1,PK-01\n\nx,PK-02\n", {1: "PK-01"}, [4]),  # line numbers, not records
    (b"", {}, [0]),
    (b"\x98\xff", {}, [0]),  # neither UTF-8 nor Windows-1251: one error, not a crash
])
def test_slot_table_keeps_good_rows_and_reports_bad_ones(data, table, error_rows):
    parsed, errors = parse_slot_table(data)
    assert parsed == table
    assert [e.row for e in errors] == error_rows


def test_slot_table_from_xlsx():
    book = Workbook()
    for row in (["Слот", "Компетенция"], [1, "PK-01"], [None, None], ["два", "PK-02"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    assert parse_slot_table(buffer.getvalue()) == (
        {1: "PK-01"}, [TableError(4, "slot 'два' is not a positive number")])


@pytest.mark.parametrize(("category", "idnumber", "tags", "expected"), [
    ("PK-01", "PK-01-Q1", ["pk-01", "диагностика"], ("PK-01", "category+idnumber+tag")),
    ("", "pk-02-q7", [], ("PK-02", "idnumber")),
    ("misc", "", ["PK-03"], ("PK-03", "tag")),
    ("PK-01", "PK-02-Q1", [], (None, "conflict: category PK-01, idnumber PK-02")),
    ("", "", ["PK-01", "PK-02"], (None, "conflict: tags name PK-01, PK-02")),
    ("misc", "Q17", ["диагностика"], (None, "none")),
])
def test_competency_of_a_question_from_its_identity(category, idnumber, tags, expected):
    from deficits.mapping import competency_of_question

    known = ["PK-01", "PK-02", "PK-03"]
    assert competency_of_question(category, idnumber, tags, known) == expected
