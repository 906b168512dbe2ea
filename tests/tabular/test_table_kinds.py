"""The description of each kind of table agrees with its alias table and answers what is missing."""

from __future__ import annotations

import pytest

from courses.catalogue import OFFER_COLUMNS, PARTNERSHIP_COLUMNS, REQUIRED, SCHOOL_COLUMNS
from deficits.results_file import COLUMN_LABELS
from tabular import TABLE_KINDS, header_aliases, read_table, table_kind
from tabular.headers import KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_labels_exactly_the_columns_its_aliases_read(kind: str) -> None:
    described = table_kind(kind)
    assert set(described.columns) == set(header_aliases(kind))
    assert all(described.labels.values()) and all(
        column in described.labels for group in described.required for column in group)


def test_the_catalogue_readers_and_the_results_labels_follow_the_descriptions() -> None:
    for kind, columns in (("schools", SCHOOL_COLUMNS), ("partnerships", PARTNERSHIP_COLUMNS),
                          ("offers", OFFER_COLUMNS)):
        assert table_kind(kind).columns == columns
    assert REQUIRED == {"schools": ("code", "name"),
                        "partnerships": ("resource_centre_code", "school_code"),
                        "offers": ("key", "kind", "title", "competencies"),
                        "external_courses": ("key", "title", "competencies"),
                        "internships": ("key", "title", "host_school_code", "competencies"),
                        "mentoring": ("key", "mentor_name", "competencies"),
                        "events": ("key", "title", "starts_on", "competencies"),
                        "availability": ("teacher",)}
    assert COLUMN_LABELS == dict(table_kind("results").labels)
    assert set(TABLE_KINDS) == set(KINDS)


@pytest.mark.parametrize(("kind", "present", "refused", "optional"), [
    ("schools", {"code"}, [("name",)], ["municipality", "low_results", "adverse_context",
                                        "resource_centre"]),
    ("schools", {"code", "name", "low_results"}, [], ["municipality", "adverse_context",
                                                      "resource_centre"]),
    ("results", {"school_code", "year", "assessment", "subject", "mean_mark"}, [],
     ["school_name", "grade", "participants", "adverse_context", "municipality"]),
    ("results", {"school_code", "year", "assessment", "subject"},
     [("mean_score", "mean_mark", "mean_test", "mean_primary", "share_below_min")],
     ["school_name", "grade", "participants", "adverse_context", "municipality"]),
    ("question_map", {"competency"}, [("key",)], []),
])
def test_missing_columns_are_told_apart_as_required_or_optional(
        kind: str, present: set[str], refused: list[tuple[str, ...]],
        optional: list[str]) -> None:
    described = table_kind(kind)
    assert described.missing_required(present) == refused
    assert described.optional_missing(present) == optional


def test_a_hand_mapping_reads_a_misspelt_header_as_the_kind_names_it() -> None:
    data = "Код ОО;Наименование;Ресурсный цент\n16101;Лицей;1\n".encode("cp1251")
    kind = table_kind("schools")
    as_is = read_table(data, aliases=kind.aliases())
    assert as_is.unread == ["Наименование", "Ресурсный цент"]
    assert kind.missing_required(as_is.columns) == [("name",)]
    mapped = read_table(data, aliases=kind.aliases(),
                        mapping={"наименование": "name", "Ресурсный цент": "resource_centre"})
    assert mapped.read_as == {"Код ОО": "code", "Наименование": "name",
                              "Ресурсный цент": "resource_centre"}
    assert dict(mapped.rows[0].fields) == {"code": "16101", "name": "Лицей",
                                           "resource_centre": "1"}
    assert kind.label("resource_centre") == "Ресурсный центр (да/нет)"
