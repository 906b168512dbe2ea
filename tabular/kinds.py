"""What each kind of imported table holds: its canonical columns, their Russian labels, and
which of them a file cannot do without. The preview, the hand mapping and the import read it."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tabular.headers import header_aliases


@dataclass(frozen=True)
class TableKind:
    """One kind of table (a section of ``headers.toml``).

    Attributes:
        name: The kind (``results``, ``schools``, ``partnerships``, ``offers``, ``question_map``,
            ``external_courses``, ``internships``, ``mentoring``, ``events``, ``availability``).
        labels: Canonical column → its Russian label, in the order a person is offered them.
        required: Groups of columns: a file lacking every column of a group is refused.
    """

    name: str
    labels: Mapping[str, str]
    required: tuple[tuple[str, ...], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The canonical columns, in the labels' order."""
        return tuple(self.labels)

    def aliases(self) -> dict[str, tuple[str, ...]]:
        """The accepted header spellings of each column (``headers.toml``)."""
        return header_aliases(self.name)

    def label(self, column: str) -> str:
        """The Russian label of a column (the column's own name if it has none)."""
        return self.labels.get(column, column)

    def needed(self) -> tuple[str, ...]:
        """The columns that are each required on their own (groups of one)."""
        return tuple(group[0] for group in self.required if len(group) == 1)

    def missing_required(self, present: Collection[str]) -> list[tuple[str, ...]]:
        """The required groups of which ``present`` holds no column, in order."""
        return [group for group in self.required if not any(c in present for c in group)]

    def optional_missing(self, present: Collection[str]) -> list[str]:
        """The columns outside every required group that ``present`` lacks, in label order."""
        needed = {c for group in self.required for c in group}
        return [c for c in self.labels if c not in needed and c not in present]


def _kind(name: str, labels: dict[str, str], *required: tuple[str, ...]) -> TableKind:
    return TableKind(name, MappingProxyType(labels), required)


_MEANS = ("mean_score", "mean_mark", "mean_test", "mean_primary")
TABLE_KINDS: Mapping[str, TableKind] = MappingProxyType({kind.name: kind for kind in (
    _kind("results", {
        "school_code": "Код ОО", "school_name": "Наименование ОО", "year": "Год",
        "assessment": "Оценочная процедура", "subject": "Предмет", "grade": "Класс",
        "mean_score": "Средний балл", "mean_mark": "Средняя отметка",
        "mean_test": "Средний тестовый балл", "mean_primary": "Средний первичный балл",
        "share_below_min": "Доля ниже минимального порога",
        "participants": "Число участников", "adverse_context": "Неблагоприятные условия",
        "municipality": "Муниципалитет"},
        ("school_code",), ("year",), ("assessment",), ("subject",),
        (*_MEANS, "share_below_min")),
    _kind("schools", {
        "code": "Код ОО", "name": "Наименование ОО", "municipality": "Муниципалитет",
        "low_results": "ШНОР (да/нет)", "adverse_context": "ШФНСУ (да/нет)",
        "resource_centre": "Ресурсный центр (да/нет)"},
        ("code",), ("name",)),
    _kind("partnerships", {
        "resource_centre_code": "Код ресурсного центра", "school_code": "Код школы-партнёра",
        "starts_on": "Дата начала", "ends_on": "Дата окончания",
        "agreement_no": "Номер соглашения"},
        ("resource_centre_code",), ("school_code",)),
    _kind("offers", {
        "key": "Ключ предложения", "kind": "Вид (КПК, стажировка, наставничество)",
        "title": "Название", "competencies": "Компетенции (idnumber через запятую)",
        "moodle_course_shortname": "Краткое название курса Moodle",
        "host_school_code": "Код принимающей школы", "seats": "Число мест",
        "starts_on": "Дата начала", "ends_on": "Дата окончания", "hours": "Объём, часов",
        "subjects": "Предметы (через запятую)"},
        ("key",), ("kind",), ("title",), ("competencies",)),
    _kind("question_map", {
        "key": "Вопрос (номер слота, idnumber или название)",
        "competency": "Компетенция (idnumber)"},
        ("key",), ("competency",)),
    _kind("external_courses", {
        "key": "Ключ курса", "title": "Название программы", "provider": "Организатор",
        "hours": "Объём, часов", "format": "Формат (очно, дистанционно, смешанно)",
        "place": "Место проведения", "municipality": "Муниципалитет",
        "competencies": "Компетенции (idnumber через запятую)",
        "subjects": "Предметы (через запятую)", "session_key": "Сессия (поток)",
        "starts_on": "Дата начала", "ends_on": "Дата окончания", "seats": "Число мест",
        "moodle_course_shortname": "Краткое название курса Moodle"},
        ("key",), ("title",), ("competencies",)),
    _kind("internships", {
        "key": "Ключ стажировки", "title": "Тема стажировки",
        "host_school_code": "Код принимающей школы (ресурсного центра)",
        "mentor_name": "Наставник (ФИО)", "mentor_moodle_id": "ID наставника в Moodle",
        "subjects": "Предметы (через запятую)",
        "competencies": "Компетенции (idnumber через запятую)", "session_key": "Сессия (поток)",
        "starts_on": "Дата начала", "ends_on": "Дата окончания", "seats": "Число мест",
        "hours": "Объём, часов", "place": "Место проведения"},
        ("key",), ("title",), ("host_school_code",), ("competencies",)),
    _kind("mentoring", {
        "key": "Ключ предложения", "title": "Название", "mentor_name": "Наставник (ФИО)",
        "mentor_school_code": "Код школы наставника",
        "mentor_moodle_id": "ID наставника в Moodle", "subjects": "Предметы (через запятую)",
        "competencies": "Компетенции (idnumber через запятую)",
        "capacity": "Наставляемых одновременно", "starts_on": "Дата начала",
        "ends_on": "Дата окончания", "hours": "Объём, часов"},
        ("key",), ("mentor_name",), ("competencies",)),
    _kind("events", {
        "key": "Ключ мероприятия", "title": "Тема",
        "format": "Формат (очно, дистанционно, смешанно)",
        "place": "Место проведения", "municipality": "Муниципалитет",
        "competencies": "Компетенции (idnumber через запятую)",
        "subjects": "Предметы (через запятую)", "session_key": "Сессия",
        "starts_on": "Дата проведения", "ends_on": "Дата окончания", "seats": "Число мест",
        "hours": "Объём, часов"},
        ("key",), ("title",), ("starts_on",), ("competencies",)),
    _kind("availability", {
        "teacher": "Педагог (ID в Moodle, email или логин)", "starts_on": "Недоступен с",
        "ends_on": "Недоступен по", "reason": "Причина",
        "subjects": "Предметы (заменяют профиль Moodle)"},
        ("teacher",)),
)})


def table_kind(name: str) -> TableKind:
    """The description of one kind of table.

    Raises:
        KeyError: An unknown kind.
    """
    return TABLE_KINDS[name]
