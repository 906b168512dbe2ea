"""Russian wording of the import refusals the parsers give (the CLI prints them as they are).

A line keeps its file name, row number and column; a reason with no wording here is shown
unchanged rather than guessed. An English reader is shown the parsers' own English lines
(``app.web.imports``); the columns' warnings here are in the reader's language during a
request (Russian outside one: the CLI).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from flask_babel import gettext as _

from app.i18n import N_
from tabular import ACCEPTED, TableKind

_FRAME = re.compile(r"^(?P<file>.+?), row (?P<row>\d+), (?P<field>[^:]*): (?P<reason>.*)$",
                    re.DOTALL)
_PAIR = re.compile(r"^(?P<file>[^:]+): unknown school in (?P<pair>.+)$")
_V = r"(?P<v>'.*'|\".*\")"
_ACCEPTED = re.escape(ACCEPTED)
_ACCEPTED_RU = "UTF-8 (с BOM или без), UTF-16 с BOM, Windows-1251"
RULES_RU = {
    "rank": N_("правило «ШНОР по среднему результату» не работает: нет столбца среднего балла"),
    "centre": N_("кандидаты в ресурсные центры не выявляются: нет столбца среднего балла"),
    "threshold": N_("правило «ШНОР по порогу» не работает: нет столбца доли участников ниже "
                    "минимального порога"),
    "weights": N_("доли ниже минимального порога усредняются без весов: нет столбца числа "
                  "участников"),
    "adverse": N_("признак ШФНСУ не определяется: нет столбца «Неблагоприятные условия»"),
}
_REASONS: tuple[tuple[str, str], ...] = (
    (r"is empty; fill it in", "пусто; заполните"),
    (r"is empty; ВПР needs the grade", "пусто; для ВПР нужен класс"),
    (r"is empty; name the question", "пусто; укажите вопрос"),
    (r"is empty; name the competency", "пусто; укажите компетенцию"),
    (_V + r" is not a year", r"\g<v> — не год"),
    (_V + r" is not a year from (?P<a>\d+) to (?P<b>\d+)", r"\g<v> — не год от \g<a> до \g<b>"),
    (_V + r" is not a grade from (?P<a>\d+) to (?P<b>\d+) \((?P<p>\S+)\)",
     r"\g<v> — не класс от \g<a> до \g<b> (\g<p>)"),
    (_V + r" is not grade (?P<a>\d+) \((?P<p>\S+)\)", r"\g<v> — не \g<a> класс (\g<p>)"),
    (_V + r" is not a whole number of pupils \(1 or more\)",
     r"\g<v> — не целое число участников (1 и больше)"),
    (_V + r" is not a mean mark from 2 to 5 \((?P<p>\S+)\)",
     r"\g<v> — не средняя отметка от 2 до 5 (\g<p>)"),
    (_V + r" is not a test score from 0 to 100 \((?P<p>\S+)\)",
     r"\g<v> — не тестовый балл от 0 до 100 (\g<p>)"),
    (_V + r" is not a primary score from 0 to (?P<h>\d+) \((?P<p>\S+)\)",
     r"\g<v> — не первичный балл от 0 до \g<h> (\g<p>)"),
    (_V + r" is not a mean mark 2–5 or a primary score up to (?P<h>\d+) \((?P<p>\S+)\)",
     r"\g<v> — не средняя отметка 2–5 и не первичный балл до \g<h> (\g<p>)"),
    (r"(?P<p>\S+) has no (?P<w>.+); leave it empty",
     r"у \g<p> нет показателя «\g<w>»; оставьте пустым"),
    (_V + r" is not a school code \(expected (?P<f>.+)\)",
     r"\g<v> — не код школы (ожидается формат \g<f>)"),
    (_V + r" is not a grade from 1 to 11", r"\g<v> — не класс от 1 до 11"),
    (_V + r" is not a whole number of pupils", r"\g<v> — не целое число участников"),
    (_V + r" is not a number from 0 to (?P<h>\S+)", r"\g<v> — не число от 0 до \g<h>"),
    (_V + r" is not да/нет", r"\g<v> — не «да» или «нет»"),
    (_V + r" is not one of (?P<l>.+)", r"\g<v> — не одна из процедур \g<l>"),
    (r"and the share below the minimum are both empty; fill one in",
     "и доля ниже минимального порога пусты; заполните одно из двух"),
    (r"repeats row (?P<n>\d+) \(same school, year, procedure, subject and grade\) with other "
     r"values; keep one row", r"повторяет строку \g<n> (та же школа, год, процедура, предмет "
     r"и класс) с другими значениями; оставьте одну строку"),
    (r"missing column\(s\): (?P<c>.+?); the header must name (?P<h>.+)",
     r"нет столбцов: \g<c>; в заголовке должны быть \g<h>"),
    (_V + r" is not a yes/no value; write 1 or 0 \(да/нет\)",
     r"\g<v> — не «да»/«нет»; пишите 1 или 0 (да/нет)"),
    (_V + r" is not a date; write YYYY-MM-DD or DD\.MM\.YYYY",
     r"\g<v> — не дата; пишите ГГГГ-ММ-ДД или ДД.ММ.ГГГГ"),
    (_V + r" is not a whole number >= (?P<n>\d+); write one or leave it empty",
     r"\g<v> — не целое число не меньше \g<n>; укажите число или оставьте пустым"),
    (r"is before starts_on; swap or correct the dates",
     "раньше даты начала (starts_on); исправьте даты"),
    (r"(?P<a>\d+) fields, header has (?P<b>\d+): quote values with '(?P<s>.)'",
     r"полей \g<a>, а в заголовке \g<b>: значения с «\g<s>» заключите в кавычки"),
    (r"not text in " + _ACCEPTED + r"; save it as CSV UTF-8",
     "файл не является текстом в кодировке " + _ACCEPTED_RU + "; сохраните его как «CSV UTF-8»"),
    (r"looks like KOI8-R text, which is not accepted \(" + _ACCEPTED + r"\); save it as CSV UTF-8",
     "файл, похоже, в кодировке KOI8-R, она не принимается (принимаются " + _ACCEPTED_RU
     + "); сохраните его как «CSV UTF-8»"),
    (r"looks like UTF-16 without a BOM, which is not accepted \(" + _ACCEPTED
     + r"\); save it as CSV UTF-8", "файл, похоже, в UTF-16 без метки BOM, так он не принимается "
     "(принимаются " + _ACCEPTED_RU + "); сохраните его как «CSV UTF-8»"),
    (r"an Excel 97–2003 \(\.xls\) workbook, which is not read; save it as XLSX or CSV UTF-8",
     "это книга Excel 97–2003 (.xls), она не читается; сохраните её как XLSX или «CSV UTF-8»"),
    (r"an HTML or XML page, not a table file; save it as XLSX or CSV UTF-8",
     "это страница HTML или XML, а не таблица; сохраните её как XLSX или «CSV UTF-8»"),
    (r"named (?P<s>\.\w+) but not an Excel workbook \(no XLSX inside\); save it as XLSX or "
     r"CSV UTF-8", r"файл назван \g<s>, но это не книга Excel (внутри нет XLSX); сохраните его "
     r"как XLSX или «CSV UTF-8»"),
    (r"missing column\(s\); the header must be: (?P<h>.+)",
     r"нет нужных столбцов; заголовок должен быть: \g<h>"),
    (r"unreadable CSV \((?P<e>.*)\); check the quotes",
     r"CSV не читается (\g<e>); проверьте кавычки"),
    (r"file is empty; the header must be: (?P<h>.+)",
     r"файл пуст; заголовок должен быть: \g<h>"),
    (r"the file is empty; it needs a header row", "файл пуст; нужна строка заголовка"),
    (r"(?P<x>.+) is listed twice; keep one row", r"\g<x> указано дважды; оставьте одну строку"),
    (r"a school cannot partner itself; name the supported school",
     "школа не может быть партнёром самой себе; укажите поддерживаемую школу"),
    (r"unknown school (?P<c>\S+); add it to the schools file( first)?",
     r"неизвестная школа \g<c>; сначала добавьте её в файл школ"),
    (r"school (?P<c>\S+) is not marked resource_centre",
     r"школа \g<c> не отмечена как ресурсный центр (resource_centre)"),
    (r"unknown competency (?P<c>.+); use framework idnumbers",
     r"неизвестная компетенция \g<c>; укажите idnumber компетенции из рамки"),
    (_V + r" is not a kind; write (?P<l>.+)", r"\g<v> — неизвестный вид; пишите \g<l>"),
    (r"an internship needs its host resource-centre school",
     "для стажировки нужна принимающая школа — ресурсный центр"),
    (r"has neither idnumber nor name", "нет ни idnumber, ни названия"),
    (_V + r" is not a slot number; write 1, 2, 3…",
     r"\g<v> — не номер вопроса (слота); пишите 1, 2, 3…"),
    (r"not a Moodle XML export \((?P<e>.*)\)", r"не экспорт вопросов Moodle XML (\g<e>)"),
    (r"the header must name a question column \(«Вопрос»\) and «Компетенция»",
     "в заголовке нужны столбец вопроса («Вопрос») и «Компетенция»"),
    (r"unreadable XLSX \(it unpacks to (?P<n>[\d.]+) MB, more than (?P<m>[\d.]+) MB\); "
     r"save the file again as CSV or XLSX",
     r"книга XLSX не прочитана: в распакованном виде она заняла бы \g<n> МБ, а допустимо не "
     r"больше \g<m> МБ; разделите файл на части или сохраните его как CSV"),
    (r"unreadable XLSX \(its part (?P<p>\S+) is packed (?P<r>\d+) times \((?P<c>[\d.]+) MB "
     r"unpack to (?P<u>[\d.]+) MB\), more than (?P<m>\d+) times\); save the file again as CSV "
     r"or XLSX",
     r"книга XLSX не прочитана: её часть \g<p> сжата в \g<r> раз (\g<c> МБ распаковываются в "
     r"\g<u> МБ), а обычные таблицы сжимаются не больше чем в \g<m> раз — так выглядит "
     r"«zip-бомба»; сохраните таблицу заново как XLSX или CSV"),
    (r"(?P<e>.+); save the file again as CSV or XLSX",
     r"\g<e>; сохраните файл заново как CSV или XLSX"),
)
_COMPILED = tuple((re.compile(f"^{pattern}$", re.DOTALL), text) for pattern, text in _REASONS)


def reason_ru(reason: str) -> str:
    """The Russian wording of one reason, or the reason itself when it has none."""
    for pattern, text in _COMPILED:
        if pattern.match(reason):
            worded = pattern.sub(text, reason)
            if reason.startswith("missing column(s): "):  # a list of Russian column names
                worded = worded.replace("» and «", "» и «").replace(" or ", " или ")
            return worded
    return reason


def refusal_ru(line: str) -> str:
    """``vpr.csv, row 22, Год: '20х4' is not a year`` → ``vpr.csv, строка 22, «Год»: … не год``."""
    found = _FRAME.match(line)
    if found:
        field = f", «{found['field']}»" if found["field"] else ""
        where = f", строка {found['row']}" if found["row"] != "0" else ""
        return f"{found['file']}{where}{field}: {reason_ru(found['reason'])}"
    pair = _PAIR.match(line)
    if pair:
        return f"{pair['file']}: неизвестная школа в паре {pair['pair']}"
    return re.sub(r"\brow (\d+)", r"строка \1", line)


def column_warnings(unread: Iterable[str], disabled: Iterable[str]) -> list[str]:
    """The warnings of a file's columns: the cells not read, the rules the file disables (in
    the reader's language during a request)."""
    cells = ", ".join(_("«%(name)s»", name=cell) for cell in unread)
    lines = [_("столбцы не прочитаны: %(cells)s — сопоставьте их вручную или уберите",
               cells=cells)] if cells else []
    return lines + [_(RULES_RU[rule]) if rule in RULES_RU else rule for rule in disabled]


def table_warnings(kind: TableKind, unread: Iterable[str], present: Collection[str]) -> list[str]:
    """The warnings of a file's columns by its kind of table: the cells not read, the required
    columns missing (the file is refused), else each optional column missing (not loaded); in
    the reader's language during a request."""
    lines = column_warnings(unread, [])
    refused = kind.missing_required(present)
    lines += [_("нет обязательного столбца %(columns)s: без него файл не загружается — "
                "сопоставьте столбец вручную",
                columns=_(" или ").join(_("«%(name)s»", name=kind.label(c)) for c in group))
              for group in refused]
    if not refused:
        lines += [_("нет столбца «%(column)s»: он не загружается, сохранённые значения не "
                    "меняются", column=kind.label(c)) for c in kind.optional_missing(present)]
    return lines
