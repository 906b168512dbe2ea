"""Map diagnostic questions to competencies from a table, a Moodle XML export or question data."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from lxml import etree

from deficits.mapping import competency_of_question
from tabular import Row, RowError, header_aliases, read_table

__all__ = ["COMPETENCY_HEADERS", "KEY_HEADERS", "QuestionIdentity", "QuestionMapping",
           "RowError", "mapping_from_moodle_xml", "mapping_from_questions", "mapping_from_table",
           "merge_mappings", "parse_moodle_xml"]

_TABLE_COLUMNS = header_aliases("question_map")  # kept in tabular/headers.toml
KEY_HEADERS = _TABLE_COLUMNS["key"]
COMPETENCY_HEADERS = _TABLE_COLUMNS["competency"]
_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d*)?$")
_PATH_SEPARATOR = re.compile(r"(?<!/)/(?!/)")
_SKIPPED_TYPES = frozenset({"category", "random", "description"})


@dataclass(frozen=True)
class QuestionIdentity:
    """What Moodle knows of a question: its key, its category's idnumber, idnumber and tags."""

    key: str
    category_idnumber: str = ""
    idnumber: str = ""
    tags: tuple[str, ...] = ()
    row: int = 0


@dataclass(frozen=True)
class QuestionMapping:
    """Question key → competency idnumber, plus what could not be mapped and why.

    ``conflicts`` holds ``(key, description of the disagreeing sources)``; a conflicting or
    unmapped key is never in ``mapped``. ``errors`` are refused rows of the source.
    """

    mapped: dict[str, str] = field(default_factory=dict)
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _Collector:
    """Accumulates question → competency claims; disagreeing claims become conflicts."""

    def __init__(self) -> None:
        self.claims: dict[str, dict[str, list[str]]] = {}
        self.conflicts: dict[str, list[str]] = {}
        self.unmapped: list[str] = []
        self.errors: list[RowError] = []

    def claim(self, key: str, competency: str, where: str) -> None:
        self.claims.setdefault(key, {}).setdefault(competency, []).append(where)

    def result(self) -> QuestionMapping:
        mapped: dict[str, str] = {}
        conflicts = dict(self.conflicts)
        for key, by_competency in self.claims.items():
            if len(by_competency) == 1 and key not in conflicts:
                mapped[key] = next(iter(by_competency))
            else:
                conflicts.setdefault(key, []).extend(
                    f"{c} ({', '.join(w)})" for c, w in sorted(by_competency.items()))
        unmapped = sorted({k for k in self.unmapped if k not in mapped and k not in conflicts})
        return QuestionMapping(
            mapped=dict(sorted(mapped.items())),
            conflicts=[(k, "; ".join(v)) for k, v in sorted(conflicts.items())],
            unmapped=unmapped,
            errors=sorted(self.errors, key=lambda e: e.row),
        )


def mapping_from_table(data: bytes, known: Collection[str] | None = None, *,
                       name: str = "", mapping: Mapping[str, str] | None = None) -> QuestionMapping:
    """Read a question → competency table (CSV or XLSX) a methodologist uploads.

    The key column is the first of ``KEY_HEADERS`` present (question idnumber, question
    name or slot number, e.g. «Вопрос»), the competency column the first of
    ``COMPETENCY_HEADERS`` (e.g. «Компетенция»); headers are case-, space- and
    ё-insensitive. A row with an empty key or competency, or an unknown competency, is an
    error (its key, if any, is listed as unmapped); so is a number that is no slot
    («0», «1,5», «-2»); the same key with two competencies is a conflict, never a guess.

    Args:
        data: The file's bytes (see ``tabular.read_table``: XLSX, or CSV in UTF-8 or
            Windows-1251 with ``;``, ``,`` or tab).
        known: Competency idnumbers of the framework; when given, competencies are checked
            and stored in their canonical spelling (matched case-insensitively).
        name: The file's name as the user chose it (a workbook name on text is refused).
        mapping: Header cell → canonical column (``key``, ``competency``; ``""``: not read),
            chosen by hand; it wins over the header spellings.

    Returns:
        The mapping; errors carry 1-based row numbers (header = 1).
    """
    table = read_table(data, aliases=_TABLE_COLUMNS, name=name, mapping=mapping)
    if not table.header:
        empty = RowError(0, "", "the file is empty; it needs a header row")
        return QuestionMapping(errors=list(table.errors) or [empty])
    if table.missing(_TABLE_COLUMNS):
        message = "the header must name a question column («Вопрос») and «Компетенция»"
        return QuestionMapping(errors=[RowError(table.header_row, "", message)])
    folded = {k.casefold(): k for k in sorted(known)} if known is not None else None
    names = {c: table.header[i].casefold() for c, i in table.columns.items()}
    collector = _Collector()
    collector.errors.extend(table.errors)
    for row in table.rows:
        _claim_row(collector, row, names, folded)
    return collector.result()


def _claim_row(collector: _Collector, row: Row, names: Mapping[str, str],
               folded: Mapping[str, str] | None) -> None:
    """Claim one table row's key for its competency, or record why the row is refused."""
    key, competency = row.fields["key"], row.fields["competency"]
    if not key:
        collector.errors.append(RowError(row.number, names["key"], "is empty; name the question"))
        return
    if _NUMBER.match(key) and not (key.isdigit() and int(key) >= 1):
        collector.errors.append(RowError(row.number, names["key"],
                                         f"{key!r} is not a slot number; write 1, 2, 3…"))
        return
    canonical = folded.get(competency.casefold()) if folded is not None else competency
    if not competency or canonical is None:
        message = ("is empty; name the competency" if not competency else
                   f"unknown competency {competency}; use framework idnumbers")
        collector.errors.append(RowError(row.number, names["competency"], message))
        collector.unmapped.append(key)
        return
    collector.claim(key, canonical, f"row {row.number}")


def mapping_from_questions(
    questions: Iterable[QuestionIdentity], known: Collection[str]
) -> QuestionMapping:
    """Map questions by their category idnumber, idnumber and tags (``competency_of_question``).

    Sources of one question that disagree are a conflict; a question with no evidence is
    unmapped; the same key seen twice with different answers is a conflict too.
    """
    collector = _Collector()
    for question in questions:
        where = f"line {question.row}" if question.row else "question"
        competency, evidence = competency_of_question(
            question.category_idnumber, question.idnumber, question.tags, known)
        if competency is not None:
            collector.claim(question.key, competency, f"{where}: {evidence}")
        elif evidence.startswith("conflict"):
            detail = evidence.removeprefix("conflict: ")
            collector.conflicts.setdefault(question.key, []).append(f"{where}: {detail}")
        else:
            collector.unmapped.append(question.key)
    return collector.result()


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _category_key(question: etree._Element) -> str:
    """The category's idnumber, else the first word of the last segment of its path."""
    idnumber = _text(question, "idnumber")
    if idnumber:
        return idnumber
    segments = _PATH_SEPARATOR.split(_text(question, "category/text"))
    words = segments[-1].replace("//", "/").split()
    return words[0].rstrip(".:;,") if words else ""


def parse_moodle_xml(data: bytes) -> tuple[list[QuestionIdentity], list[RowError]]:
    """Read a Moodle XML question-bank export: each question with its category and tags.

    A ``type="category"`` entry applies to the questions after it. A question's key is its
    idnumber, else its name. Random and description entries are skipped; a question with
    neither idnumber nor name is an error on its line.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)  # noqa: S320 - entities and network disabled
    except etree.XMLSyntaxError as err:
        return [], [RowError(err.lineno or 0, "", f"not a Moodle XML export ({err.msg})")]
    questions: list[QuestionIdentity] = []
    errors: list[RowError] = []
    category = ""
    for element in root.iter("question"):
        kind = element.get("type", "")
        if kind == "category":
            category = _category_key(element)
            continue
        if kind in _SKIPPED_TYPES:
            continue
        idnumber = _text(element, "idnumber")
        key = idnumber or _text(element, "name/text")
        line = element.sourceline or 0
        if not key:
            errors.append(RowError(line, "question", "has neither idnumber nor name"))
            continue
        tags = tuple(t for t in (_text(tag, "text") for tag in element.iterfind("tags/tag")) if t)
        questions.append(QuestionIdentity(key, category, idnumber, tags, line))
    return questions, errors


def mapping_from_moodle_xml(data: bytes, known: Collection[str]) -> QuestionMapping:
    """Map the questions of a Moodle XML export (see ``parse_moodle_xml``) to competencies."""
    questions, errors = parse_moodle_xml(data)
    result = mapping_from_questions(questions, known)
    return QuestionMapping(result.mapped, result.conflicts, result.unmapped,
                           sorted([*errors, *result.errors], key=lambda e: e.row))


def merge_mappings(sources: Mapping[str, QuestionMapping]) -> QuestionMapping:
    """Combine mappings of several sources (e.g. ``{"таблица": …, "XML": …}``).

    A key mapped alike by all sources that know it is mapped; sources that disagree make a
    conflict naming each source; a key unmapped in one source but mapped in another is
    mapped; a conflict inside one source stays a conflict. The errors of all sources are
    kept (their row numbers refer to each source's own file).
    """
    collector = _Collector()
    for name, mapping in sources.items():
        for key, competency in mapping.mapped.items():
            collector.claim(key, competency, name)
        for key, detail in mapping.conflicts:
            collector.conflicts.setdefault(key, []).append(f"{name}: {detail}")
        collector.unmapped.extend(mapping.unmapped)
        collector.errors.extend(mapping.errors)
    return collector.result()
