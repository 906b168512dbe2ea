"""The reader refuses what it cannot read cleanly, and tells which columns it read and which not."""

from __future__ import annotations

import pytest

from tabular import ACCEPTED, header_aliases, read_table

SCHOOLS = ("code;name;municipality\r\n"
           "16001;МБОУ «Средняя общеобразовательная школа № 1»;Зеленодольский район\r\n"
           "16002;Гимназия имени Н. И. Лобачевского;Казань\r\n")


def _only_error(data: bytes, name: str = "") -> str:
    table = read_table(data, name=name)
    assert (table.header, table.rows) == ((), ())
    [error] = table.errors
    assert (error.row, error.field) == (0, "")
    return error.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251", "utf-16", "utf-16-be"])
def test_accepted_encodings_read_the_same_names(encoding):
    data = SCHOOLS.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # a BOM, as Excel writes it
    table = read_table(data)
    assert table.errors == ()
    assert [row.cells[1:] for row in table.rows] == [
        ("МБОУ «Средняя общеобразовательная школа № 1»", "Зеленодольский район"),
        ("Гимназия имени Н. И. Лобачевского", "Казань")]


@pytest.mark.parametrize("text", [
    SCHOOLS.replace("№", "N").replace("«", "\"").replace("»", "\""),
    "Код ОО;Наименование ОО\r\n16001;МБОУ СОШ N 1\r\n",  # capitals mostly
    "код;муниципалитет\r\n1;казань\r\n",  # lower case only
])
def test_koi8_r_is_refused_not_stored_garbled(text):
    message = _only_error(text.encode("koi8-r"))
    assert message.startswith("looks like KOI8-R text") and ACCEPTED in message


def test_utf16_without_bom_is_refused_by_name():
    message = _only_error(SCHOOLS.encode("utf-16-le"))
    assert message.startswith("looks like UTF-16 without a BOM") and ACCEPTED in message


@pytest.mark.parametrize(("data", "name", "start"), [
    (SCHOOLS.encode("utf-8"), "Школы.xlsx", "named .xlsx but not an Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "ВПР.xls", "an Excel 97–2003 (.xls)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "", "an Excel 97–2003 (.xls)"),
    (b"<html><body><table><tr><td>1</td></tr></table>", "results.xls", "an HTML or XML page"),
    (b"PK\x03\x04not really a zip", "results.xlsx", "unreadable XLSX"),
])
def test_a_file_that_is_no_table_is_refused_as_a_whole(data, name, start):
    assert _only_error(data, name).startswith(start)


def test_binary_data_is_refused_not_read_as_windows_1251():
    assert _only_error(bytes(range(1, 40)) * 4).startswith("not text in")


def test_unread_header_cells_are_named_and_a_hand_mapping_wins():
    data = "Код ОО;Писали;Непонятно;Предмет\r\nS1;25;x;Химия\r\n".encode()
    aliases = header_aliases("results")
    table = read_table(data, aliases=aliases)
    assert table.read_as == {"Код ОО": "school_code", "Писали": "participants",
                             "Предмет": "subject"}
    assert table.unread == ["Непонятно"]
    mapped = read_table(data, aliases=aliases,
                        mapping={"непонятно": "grade", "Писали": ""})
    assert mapped.read_as == {"Код ОО": "school_code", "Непонятно": "grade",
                              "Предмет": "subject"}
    assert mapped.unread == ["Писали"]
    assert mapped.rows[0].fields == {"school_code": "S1", "grade": "x", "subject": "Химия"}


@pytest.mark.parametrize(("kind", "header", "canonical"), [
    ("results", "Кол-во участников", "participants"),
    ("results", "Количество участников", "participants"),
    ("results", "Доля «2», %", "share_below_min"),
    ("results", "% не преодолевших минимальный порог", "share_below_min"),
    ("results", "Логин ОО", "school_code"),
    ("results", "АТЕ", "municipality"),
    ("results", "Средний первичный балл", "mean_primary"),
    ("schools", "Наименование ОО", "name"),
    ("question_map", "№ задания", "key"),
])
def test_the_alias_table_knows_how_real_exports_word_headers(kind, header, canonical):
    table = read_table(f"{header};x\r\n1;2\r\n".encode(), aliases=header_aliases(kind))
    assert table.read_as == {header: canonical}
    assert table.errors == () and table.unread == ["x"]
