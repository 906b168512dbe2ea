"""Titles and definitions (Russian and English) of the programme's indicators.

Kept apart from the arithmetic in ``deficits.indicators`` so the words a methodologist reads
can be checked against it line by line; :func:`labelled` puts them beside the figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from deficits.indicators import AreaIndicators, Indicator

_SCHOOLS = ("Знаменатель — все школы.", "Denominator: all schools.")
_FLAG = ("Числитель — школы, у которых признак {ru} действовал хотя бы один день периода (по "
         "истории статусов: применение правил выявления, импорт каталога); для школы без "
         "истории этого признака — признак в его нынешнем состоянии. ",
         "Numerator: schools that held the {en} status on at least one day of the period (by "
         "the status history: identification applied, catalogue imported); for a school "
         "without a history of that status, the flag as it stands now. ")
_PARTNERSHIP = ("действующие в периоде партнёрства (начало не позже конца периода, окончание "
                "не раньше его начала; пустая дата — открытый край)",
                "partnerships active in the period (start on or before its end, end on or after "
                "its start; an empty date is an open end)")
# code: (title ru, title en, definition ru, definition en)
TEXTS: dict[str, tuple[str, str, str, str]] = {
    "schools_analysed": (
        "Доля проанализированных школ", "Share of schools analysed",
        "Числитель — школы, где хотя бы один педагог завершил попытку диагностики (входной "
        "или итоговой; время завершения попытки) в периоде. " + _SCHOOLS[0],
        "Numerator: schools with at least one teacher who finished a diagnostic attempt "
        "(entry or final; the attempt's finish time) in the period. " + _SCHOOLS[1]),
    "schools_low_results": (
        "Доля школ, выявленных как ШНОР", "Share of schools identified as low-results",
        _FLAG[0].format(ru="ШНОР") + _SCHOOLS[0], _FLAG[1].format(en="low-results") + _SCHOOLS[1]),
    "schools_adverse_context": (
        "Доля школ, выявленных как ШФНСУ", "Share of schools identified as adverse-context",
        _FLAG[0].format(ru="ШФНСУ") + _SCHOOLS[0],
        _FLAG[1].format(en="adverse-context") + _SCHOOLS[1]),
    "schools_stably_high": (
        "Доля школ со стабильно высокими результатами",
        "Share of schools identified as stably high",
        _FLAG[0].format(ru="«кандидат в ресурсные центры» по правилам выявления") + _SCHOOLS[0],
        _FLAG[1].format(en="resource-centre candidate by the identification rules")
        + _SCHOOLS[1]),
    "risk_group_pd": (
        "Доля педагогов группы риска, прошедших КПК",
        "Share of risk-group teachers who completed PD",
        "Знаменатель — педагоги группы риска по уровням последней входной диагностики, "
        "завершённой ими в периоде. Числитель — из них те, кто завершил курс Moodle "
        "предложения каталога (время завершения в периоде; завершение без даты не считается).",
        "Denominator: risk-group teachers by the levels of their latest entry test finished in "
        "the period. Numerator: those of them who completed the Moodle course of a catalogue "
        "offer in the period (by completion time; an undated completion does not count)."),
    "score_rose": (
        "Доля педагогов, повысивших результат итоговой диагностики",
        "Share of teachers whose score rose on the final test",
        "Знаменатель — педагоги с итоговой диагностикой в периоде и входной, завершённой в "
        "периоде раньше неё (последние такие), с компетенциями, оценёнными в обеих. Числитель — "
        "те, чей средний балл по этим компетенциям на итоговой выше, чем на входной.",
        "Denominator: teachers with a final test in the period and an entry test finished in "
        "the period before it (the latest such), with competencies assessed on both. "
        "Numerator: those whose mean score over these competencies is higher on the final."),
    "schools_in_network": (
        "Доля школ, вовлечённых в сетевое взаимодействие", "Share of schools in the network",
        f"Числитель — школы, участвующие (школой или ресурсным центром) в {_PARTNERSHIP[0]}. "
        + _SCHOOLS[0],
        f"Numerator: schools taking part (as the school or the resource centre) in "
        f"{_PARTNERSHIP[1]}. " + _SCHOOLS[1]),
    "partnerships": (
        "Количество договоров о сетевом взаимодействии (на один ресурсный центр)",
        "Number of partnership agreements (per resource centre)",
        f"Числитель — {_PARTNERSHIP[0]} со школой этого муниципалитета, каждая пара один раз. "
        "Знаменатель — ресурсные центры. Значение — договоров на центр, не доля.",
        f"Numerator: {_PARTNERSHIP[1]} with a school of this municipality, each pair once. "
        "Denominator: resource centres. The value is agreements per centre, not a share."),
    "low_results_teachers_routed": (
        "Доля педагогов ШНОР с индивидуальным образовательным маршрутом",
        "Share of low-results schools' teachers with a route",
        "Знаменатель — педагоги школ с признаком ШНОР. Числитель — из них те, у кого есть "
        "пункт маршрута, созданного не позже конца периода, не отклонённый и не отменённый и не "
        "завершённый до начала периода (по последнему изменению пункта; истории статусов нет).",
        "Denominator: teachers of low-results schools. Numerator: those with an item of a route "
        "created by the end of the period, not rejected or cancelled, and not completed before "
        "the period began (by the item's last change; no status history is kept)."),
}
PERIOD_NOTE = ("Даты периода включительно, сутки по московскому времени.",
               "The period's dates are inclusive, in Moscow days.")


@dataclass(frozen=True)
class LabelledIndicator(Indicator):
    """An indicator with its title and definition, as pages, JSON and XLSX show it."""

    title_ru: str = ""
    title_en: str = ""
    definition_ru: str = ""
    definition_en: str = ""


def labelled(blocks: list[AreaIndicators]) -> list[AreaIndicators]:
    """The same blocks, each indicator with its texts.

    :raise KeyError: an indicator has no texts (a new indicator must be defined here).
    """
    def label(item: Indicator) -> LabelledIndicator:
        title_ru, title_en, definition_ru, definition_en = TEXTS[item.code]
        return LabelledIndicator(**asdict(item), title_ru=title_ru, title_en=title_en,
                                 definition_ru=definition_ru, definition_en=definition_en)
    return [replace(block, indicators=tuple(label(i) for i in block.indicators))
            for block in blocks]
