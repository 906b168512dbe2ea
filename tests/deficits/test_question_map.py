"""Question → competency mapping: uploaded tables, Moodle XML exports, question data, merging."""

from pathlib import Path

import pytest
from openpyxl import Workbook

from deficits.question_map import (
    QuestionIdentity,
    QuestionMapping,
    RowError,
    mapping_from_moodle_xml,
    mapping_from_questions,
    mapping_from_table,
    merge_mappings,
    parse_moodle_xml,
)

FILES = Path(__file__).parent / "files"
KNOWN = ["PK-01", "PK-02", "PK-03"]


@pytest.mark.parametrize(("text", "encoding"), [
    ("question;competency\nPK-01-Q1;PK-01\nPK-02-Q1;pk-02\n", "utf-8"),
    ("\ufeffВопрос,Компетенция\nPK-01-Q1,PK-01\nPK-02-Q1,PK-02\n", "utf-8"),
    ("Вопрос;Компетенция\nPK-01-Q1;PK-01\n\nPK-02-Q1;PK-02\n", "cp1251"),
    ("ID вопроса,Код компетенции\nPK-01-Q1,PK-01\nPK-02-Q1,PK-02\n", "cp1251"),
    ("ID  ВОПРОСА\tКод компетенции\nPK-01-Q1\tPK-01\nPK-02-Q1\tPK-02\n", "utf-8-sig"),
])
def test_table_in_both_encodings_and_separators(text, encoding):
    result = mapping_from_table(text.encode(encoding), KNOWN)
    assert result == QuestionMapping(mapped={"PK-01-Q1": "PK-01", "PK-02-Q1": "PK-02"})


def test_table_bad_rows_are_reported_by_row_and_neighbours_kept():
    data = ("Вопрос;Компетенция\n"   # row 1
            "Q1;PK-01\n"             # row 2: fine
            ";PK-02\n"               # row 3: no question
            "Q3;ПК-9\n"              # row 4: unknown competency -> Q3 unmapped
            "Q4;\n"                  # row 5: empty competency -> Q4 unmapped
            "Q5;PK-03\n"             # row 6: fine
            "Q6;PK-01\n"             # row 7 ┐ same key, two competencies:
            "Q6;PK-02\n"             # row 8 ┘ a conflict, not a guess
            "Q1;PK-01\n").encode("cp1251")  # row 9: repeats row 2 alike, harmless
    result = mapping_from_table(data, KNOWN)
    assert result.mapped == {"Q1": "PK-01", "Q5": "PK-03"}
    assert result.conflicts == [("Q6", "PK-01 (row 7); PK-02 (row 8)")]
    assert result.unmapped == ["Q3", "Q4"]
    assert [(e.row, e.field) for e in result.errors] == [
        (3, "вопрос"), (4, "компетенция"), (5, "компетенция")]


def test_table_without_known_list_keeps_competencies_as_written():
    result = mapping_from_table(b"slot,competency\n1,PK-01\n2,X-9\n")
    assert result.mapped == {"1": "PK-01", "2": "X-9"}


@pytest.mark.parametrize(("data", "row"), [
    (b"", 0),
    (b"slot;what\n1;PK-01\n", 1),
    (b"\x98\x98;\x98", 0),  # undefined in UTF-8 and Windows-1251
])
def test_table_unusable_file_is_one_error(data, row):
    result = mapping_from_table(data, KNOWN)
    assert result.mapped == {}
    assert [e.row for e in result.errors] == [row]


@pytest.fixture
def mapping_xlsx(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["Слот", "Компетенция"])   # row 1
    sheet.append([1, "PK-01"])              # row 2 (number cell -> key "1")
    sheet.append([2.0, "PK-04"])            # row 3 unknown competency
    sheet.append([None, None])              # row 4 blank, skipped
    sheet.append([3, "pk-03"])              # row 5
    path = tmp_path / "slots.xlsx"
    book.save(path)
    return path.read_bytes()


def test_table_from_xlsx(mapping_xlsx):
    result = mapping_from_table(mapping_xlsx, KNOWN)
    assert result.mapped == {"1": "PK-01", "3": "PK-03"}
    assert result.unmapped == ["2"]
    assert result.errors == [RowError(3, "компетенция",
                                      "unknown competency PK-04; use framework idnumbers")]


def test_table_reports_broken_xlsx():
    result = mapping_from_table(b"PK\x03\x04 not really a zip", KNOWN)
    assert (result.mapped, result.unmapped, result.conflicts) == ({}, [], [])
    assert [e.row for e in result.errors] == [0]
    assert "unreadable XLSX" in result.errors[0].message


def test_moodle_xml_questions_take_the_category_before_them():
    questions, errors = parse_moodle_xml((FILES / "question_bank.xml").read_bytes())
    assert [(q.key, q.category_idnumber, q.idnumber, q.tags, q.row) for q in questions] == [
        ("PK-01-Q1", "PK-01", "PK-01-Q1", ("PK-01", "диагностика"), 14),
        # no category idnumber: first word of the last path segment ("//" is an escaped "/")
        ("Q7", "PK-02", "Q7", (), 40),
        ("PK-03-Q1", "PK-02", "PK-03-Q1", (), 48),
        ("Цифровые ресурсы урока", "Прочее", "", ("pk-03",), 64),
        ("Рефлексия", "Прочее", "", (), 70),
    ]
    assert errors == [RowError(80, "question", "has neither idnumber nor name")]


def test_moodle_xml_mapping_lists_conflicts_and_unmapped():
    result = mapping_from_moodle_xml((FILES / "question_bank.xml").read_bytes(), KNOWN)
    assert result.mapped == {"PK-01-Q1": "PK-01", "Q7": "PK-02",
                             "Цифровые ресурсы урока": "PK-03"}
    assert result.conflicts == [("PK-03-Q1", "line 48: category PK-02, idnumber PK-03")]
    assert result.unmapped == ["Рефлексия"]
    assert [e.row for e in result.errors] == [80]


def test_moodle_xml_that_is_not_xml_is_one_error():
    result = mapping_from_moodle_xml(b"<quiz><question>", KNOWN)
    assert result.mapped == {}
    assert len(result.errors) == 1


def test_moodle_xml_does_not_expand_entities():
    data = (b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b'<quiz><question type="essay"><name><text>&e;</text></name></question></quiz>')
    questions, _ = parse_moodle_xml(data)
    assert all("root:" not in q.key for q in questions)


@pytest.mark.parametrize(("questions", "mapped", "conflicts", "unmapped"), [
    # plugin data per slot: category idnumber, idnumber, tags (competency_of_question rules)
    ([QuestionIdentity("1", "PK-01", "PK-01-Q1", ("pk-01",))], {"1": "PK-01"}, [], []),
    ([QuestionIdentity("2", "", "", ("PK-01", "PK-02"))], {},
     [("2", "question: tags name PK-01, PK-02")], []),
    ([QuestionIdentity("3", "misc", "Q3", ())], {}, [], ["3"]),
    # the same slot seen twice with different answers
    ([QuestionIdentity("4", "PK-01"), QuestionIdentity("4", "PK-02")], {},
     [("4", "PK-01 (question: category); PK-02 (question: category)")], []),
])
def test_mapping_from_question_data(questions, mapped, conflicts, unmapped):
    result = mapping_from_questions(questions, KNOWN)
    assert (result.mapped, result.conflicts, result.unmapped) == (mapped, conflicts, unmapped)


def test_merge_agreement_maps_disagreement_conflicts():
    table = QuestionMapping(mapped={"Q1": "PK-01", "Q2": "PK-02"}, unmapped=["Q3"])
    xml = QuestionMapping(mapped={"Q1": "PK-01", "Q2": "PK-03", "Q3": "PK-03"},
                          conflicts=[("Q4", "line 9: category PK-01, idnumber PK-02")],
                          unmapped=["Q5"], errors=[RowError(80, "question", "x")])
    result = merge_mappings({"таблица": table, "XML": xml})
    assert result.mapped == {"Q1": "PK-01", "Q3": "PK-03"}
    assert result.conflicts == [("Q2", "PK-02 (таблица); PK-03 (XML)"),
                                ("Q4", "XML: line 9: category PK-01, idnumber PK-02")]
    assert result.unmapped == ["Q5"]
    assert result.errors == [RowError(80, "question", "x")]
