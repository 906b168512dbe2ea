"""Catalogue parsing: encodings, separators, XLSX, bad rows reported with line numbers."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook

from courses.catalogue import (
    PARTNERSHIP_COLUMNS,
    OfferRow,
    PartnershipRow,
    RowError,
    SchoolRow,
    parse_offers,
    parse_partnerships,
    parse_schools,
)
from courses.records import Offer

# Lines (1-based): 1 header; 2, 3 good; 4 bad flag; 5 blank (skipped); 6 no code;
# 7 duplicate of 16101; 8 good with quotes and mixed-case flags.
SCHOOLS = (
    "code;name;municipality;low_results;adverse_context;resource_centre\n"
    "16101;Школа №1;Ельнинский;да;нет;0\n"
    "16102;Лицей;Ельнинский;0;0;1\n"
    "16103;Школа 3;;может;;\n"
    "\n"
    ";Без кода;;;;\n"
    "16101;Дубль;;;;\n"
    '16104;"Школа ""Радуга""";Ельнинский;YES;False;нет\n'
)
GOOD_SCHOOLS = [
    SchoolRow("16101", "Школа №1", "Ельнинский", True, False, False),
    SchoolRow("16102", "Лицей", "Ельнинский", False, False, True),
    SchoolRow("16104", 'Школа "Радуга"', "Ельнинский", True, False, False),
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("separator", [";", ","])
def test_schools_in_every_encoding_and_separator(encoding: str, separator: str):
    schools, errors = parse_schools(SCHOOLS.replace(";", separator).encode(encoding))
    assert schools == GOOD_SCHOOLS
    assert [(e.row, e.field) for e in errors] == [(4, "low_results"), (6, "code"), (7, "code")]
    assert "'может' is not a yes/no value" in errors[0].message
    assert "listed twice" in errors[2].message


def test_crlf_and_multiline_quoted_field_keep_line_numbers():
    text = (
        "code;name;municipality;low_results;adverse_context;resource_centre\r\n"
        '16101;"Школа\r\nномер 1";М;1;0;0\r\n'  # lines 2-3
        "16102;Лицей;М;2;0;1\r\n"  # line 4: bad flag
    )
    schools, errors = parse_schools(text.encode())
    assert [s.name for s in schools] == ["Школа\r\nномер 1"]
    assert errors == [RowError(4, "low_results",
                               "'2' is not a yes/no value; write 1 or 0 (да/нет)")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"code;municipality\n1;A\n", RowError(1, "name", "")),  # only code, name required
        (b"", RowError(1, "", "")),
        (b"\n\n", RowError(1, "", "")),
        (b"\x98\xff", RowError(0, "", "")),  # neither UTF-8 nor Windows-1251
    ],
)
def test_schools_file_level_errors(data: bytes, expected: RowError):
    schools, errors = parse_schools(data)
    assert schools == []
    assert [(e.row, e.field) for e in errors] == [(expected.row, expected.field)]


def test_header_is_case_insensitive_and_extra_columns_ignored():
    text = "Code;NAME;municipality;low_results;adverse_context;resource_centre;note\n1;A;M;1;1;1;x\n"
    assert parse_schools(text.encode()) == ([SchoolRow("1", "A", "M", True, True, True)], [])


PARTNERSHIPS = (
    "resource_centre_code;school_code;starts_on;ends_on;agreement_no\n"
    "16102;16101;2025-09-01;31.05.2026;Д-1\n"  # 2 good, both date formats
    "16102;16103;;;\n"  # 3 good, no dates
    "16102;16101;;;\n"  # 4 duplicate pair
    "16102;16102;;;\n"  # 5 partners itself
    "16102;16104;2025-13-01;2025-01-01;\n"  # 6 bad date
    "16102;16105;2025-09-01;2025-08-01;\n"  # 7 ends before starts
    "16101;16103;;;\n"  # 8 16101 is not a resource centre (with schools given)
    "16102;99999;;;\n"  # 9 unknown school (with schools given)
)


def test_partnerships_rows_and_errors():
    found, errors = parse_partnerships(PARTNERSHIPS.encode("cp1251"))
    assert found[:2] == [
        PartnershipRow("16102", "16101", dt.date(2025, 9, 1), dt.date(2026, 5, 31), "Д-1"),
        PartnershipRow("16102", "16103", None, None, None),
    ]
    # Without a schools table rows 8 and 9 are fine.
    assert [(e.row, e.field) for e in errors] == [
        (4, "resource_centre_code"), (5, "school_code"), (6, "starts_on"), (7, "ends_on")]
    assert [p.school_code for p in found] == ["16101", "16103", "16103", "99999"]


def test_partnerships_checked_against_schools():
    schools = {s.code: s for s in GOOD_SCHOOLS} | {
        "16103": SchoolRow("16103", "Школа 3", None, True, False, False),
        "16104": SchoolRow("16104", "Ш4", None, False, False, False),
        "16105": SchoolRow("16105", "Ш5", None, False, False, False),
    }
    found, errors = parse_partnerships(PARTNERSHIPS.encode(), schools=schools)
    assert len(found) == 2
    assert [(e.row, e.field) for e in errors][-2:] == [(8, "resource_centre_code"),
                                                        (9, "school_code")]
    assert "not marked resource_centre" in errors[-2].message


OFFERS_COMMA = (
    "key,kind,title,competencies,moodle_course_shortname,host_school_code,seats,starts_on,"
    "ends_on,hours\n"
    'KPK-1,course,Курс 1,"PK-01, pk-02",kpk1,,,2025-10-01,2025-11-30,36\n'  # 2 good
    "KPK-2,course,Курс 2,PK-01,PK-02,kpk2,,5,,,\n"  # 3 unquoted list: one field too many
    "ST-1,стажировка,Стажировка,PK-03,,16102,4,,,16\n"  # 4 good (Russian kind)
    "ST-2,internship,Без базы,PK-03,,,2,,,\n"  # 5 internship without host
    "X-1,webinar,Вебинар,PK-01,,,,,,\n"  # 6 unknown kind
    "KPK-3,course,Курс 3,PK-77,,,-1,,,0\n"  # 7 unknown competency, bad seats and hours
    "KPK-1,course,Дубль,PK-01,,,,,,\n"  # 8 duplicate key
    "MN-1,mentoring,Наставник,PK-04,,16102,1,,,\n"  # 9 good
)


def test_offers_with_comma_separator():
    known = ["PK-01", "PK-02", "PK-03", "PK-04"]
    offers, errors = parse_offers(OFFERS_COMMA.encode(), competencies=known)
    assert offers == [
        OfferRow(Offer("KPK-1", "course", "Курс 1", ("PK-01", "PK-02"),
                       starts_on=dt.date(2025, 10, 1), ends_on=dt.date(2025, 11, 30), hours=36),
                 "kpk1"),
        OfferRow(Offer("ST-1", "internship", "Стажировка", ("PK-03",), host_school="16102",
                       seats=4, hours=16), None),
        OfferRow(Offer("MN-1", "mentoring", "Наставник", ("PK-04",), host_school="16102",
                       seats=1), None),
    ]
    assert [(e.row, e.field) for e in errors] == [
        (3, ""), (5, "host_school_code"), (6, "kind"),
        (7, "competencies"), (7, "seats"), (7, "hours"), (8, "key"),
    ]
    assert "quote values with ','" in errors[0].message


def test_offers_with_semicolon_in_windows_1251():
    text = (
        "key;kind;title;competencies;moodle_course_shortname;host_school_code;seats;starts_on;"
        "ends_on;hours\n"
        "KPK-1;курс;Оценивание;PK-01,PK-03;kpk1;;abc;;;\n"  # 2 seats not a number
        "KPK-2;КПК;Методика;PK-02;;;10;;;72\n"  # 3 good
    )
    offers, errors = parse_offers(text.encode("cp1251"))
    assert [(o.offer.key, o.offer.kind, o.offer.competencies, o.offer.seats)
            for o in offers] == [("KPK-2", "course", ("PK-02",), 10)]
    assert errors == [RowError(2, "seats",
                               "'abc' is not a whole number >= 0; write one or leave it empty")]


def test_offers_host_school_checked_against_schools():
    text = ("key;kind;title;competencies;moodle_course_shortname;host_school_code;seats;"
            "starts_on;ends_on;hours\nST-1;internship;С;PK-03;;55555;;;;\n")
    offers, errors = parse_offers(text.encode(), schools={s.code: s for s in GOOD_SCHOOLS})
    assert offers == []
    assert [(e.row, e.field) for e in errors] == [(2, "host_school_code")]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row or [None])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_schools_and_partnerships_from_xlsx_keep_their_row_numbers():
    lines = [line.split(";") if line else [] for line in SCHOOLS.splitlines()]
    lines[-1] = ["16104", 'Школа "Радуга"', "Ельнинский", "YES", "False", "нет"]
    schools, errors = parse_schools(_xlsx(lines))
    assert schools == GOOD_SCHOOLS
    assert [(e.row, e.field) for e in errors] == [(4, "low_results"), (6, "code"), (7, "code")]
    found, errors = parse_partnerships(_xlsx([
        list(PARTNERSHIP_COLUMNS),
        ["16102", "16101", dt.datetime(2025, 9, 1), "31.05.2026", "Д-1"],  # a date cell
        ["16102", "16102", None, None, None],  # partners itself
    ]))
    assert found == [PartnershipRow("16102", "16101", dt.date(2025, 9, 1),
                                    dt.date(2026, 5, 31), "Д-1")]
    assert [(e.row, e.field) for e in errors] == [(3, "school_code")]
