"""The slot → competency table: encodings, separators, bad rows, conflicts."""

import pytest

from deficits.slot_table import parse_slot_table


@pytest.mark.parametrize(("data", "table", "error_rows"), [
    (b"slot;competency\n1;PK-01\n2;PK-01\n3;PK-02\n", {1: "PK-01", 2: "PK-01", 3: "PK-02"}, []),
    ("\ufeffслот,компетенция\n1,PK-01\n".encode(), {1: "PK-01"}, []),
    ("Слот;Компетенция\n1;PK-01\n".encode("cp1251"), {1: "PK-01"}, []),
    (b"slot;competency\n1;PK-01\nx;PK-02\n3;\n4;PK-03\n", {1: "PK-01", 4: "PK-03"}, [3, 4]),
    (b"slot;competency\n1;PK-01\n1;PK-02\n2;PK-02\n", {2: "PK-02"}, [3]),
    (b"slot;competency\n1;PK-01\n1;PK-01\n", {1: "PK-01"}, []),
    (b"question;what\n1;PK-01\n", {}, [1]),
])
def test_slot_table_keeps_good_rows_and_reports_bad_ones(data, table, error_rows):
    parsed, errors = parse_slot_table(data)
    assert parsed == table
    assert [e.row for e in errors] == error_rows


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
