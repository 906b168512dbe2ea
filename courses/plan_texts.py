"""Words a methodologist reads about a planned item or an unmet need (Russian and English).

Each text is built from the structured reasons in ``courses.plan_model``; ``lang`` picks
Russian (default) or English.
"""

from __future__ import annotations

import math

from courses.plan_model import (
    LEVEL_DEFICIT,
    PLACE_MUNICIPALITY,
    PLACE_PARTNER,
    PLACE_REMOTE,
    REASON_COMPETENCY_LIMIT,
    REASON_DATES_CLASH,
    REASON_EXCLUDED,
    REASON_HOURS_CAP,
    REASON_NO_OFFER,
    REASON_NO_SEATS,
    REASON_NOT_CHOSEN,
    REASON_PLACE,
    REASON_SUBJECT,
    REASON_UNAVAILABLE,
    STAGE_FINAL,
    PlanItem,
    PlanNeed,
    PlanOffer,
    PlanSession,
)

# code: (ru, en)
UNMET_TEXTS: dict[str, tuple[str, str]] = {
    REASON_NO_OFFER: ("нет предложения по этой компетенции",
                      "no offer covers this competency"),
    REASON_EXCLUDED: ("все подходящие предложения уже пройдены, отклонены или отказано",
                      "every fitting offer was completed, declined or rejected"),
    REASON_SUBJECT: ("нет предложения по предмету педагога", "no offer for the teacher's subject"),
    REASON_PLACE: ("нет очного предложения в муниципалитете или ресурсном центре-партнёре и нет "
                   "дистанционного", "no in-person offer in the municipality or at a partner "
                   "resource centre and no remote one"),
    REASON_UNAVAILABLE: ("все сессии приходятся на даты, когда педагог недоступен",
                         "every session falls on dates the teacher is unavailable"),
    REASON_NO_SEATS: ("нет свободных мест (или наставник занят)",
                      "no seats left (or the mentor is at capacity)"),
    REASON_DATES_CLASH: ("даты всех сессий пересекаются с другими пунктами маршрута",
                         "every session's dates clash with other items of the route"),
    REASON_HOURS_CAP: ("превышен лимит часов педагога за полугодие",
                       "the teacher's hours cap for the half-year would be exceeded"),
    REASON_COMPETENCY_LIMIT: ("компетенция уже закрыта другим пунктом",
                              "the competency is already covered by another item"),
    REASON_NOT_CHOSEN: ("места отданы более приоритетным дефицитам",
                        "seats went to needs of higher priority"),
}
STATUS_TEXTS: dict[str, tuple[str, str]] = {
    "free": ("есть место", "seat available"),
    REASON_NO_SEATS: ("мест нет", "full"),
    REASON_DATES_CLASH: ("пересекается по датам", "dates clash"),
    REASON_HOURS_CAP: ("превысит лимит часов", "over the hours cap"),
    REASON_COMPETENCY_LIMIT: ("компетенция уже закрыта", "competency already covered"),
}
PLACE_TEXTS: dict[str, tuple[str, str]] = {
    PLACE_PARTNER: ("в ресурсном центре-партнёре школы", "at the school's partner resource centre"),
    PLACE_MUNICIPALITY: ("в своём муниципалитете", "in the teacher's municipality"),
    PLACE_REMOTE: ("дистанционно", "remote"),
}
LEVEL_TEXTS = {LEVEL_DEFICIT: ("дефицит", "deficit")}
PRIORITY_TEXTS = {"low_results_school": ("школа с низкими результатами", "low-results school"),
                  "risk_group": ("группа риска", "risk group")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _status(status: str, lang: str) -> str:
    return _pick(STATUS_TEXTS.get(status, (status, status)), lang)


def _percent(score: float) -> int:
    """Whole percent, rounded down so 0.499 never reads as a 50 % threshold."""
    return math.floor(score * 100 + 1e-9)


def _need(competency: str, level: str, score: float, threshold: float, stage: str, *,
          lang: str) -> str:
    lv = _pick(LEVEL_TEXTS.get(level, ("риск", "risk")), lang)
    st = _pick(("итоговая", "final") if stage == STAGE_FINAL else ("входная", "entry"), lang)
    return (f"{competency}: {_percent(score)} % " + ("при пороге" if lang != "en" else "against")
            + f" {_percent(threshold)} % — {lv} ({st})")


def item_text(item: PlanItem, offer: PlanOffer, session: PlanSession, lang: str = "ru") -> str:
    """Why this item: the needs it covers, where, priority, better sessions that were blocked."""
    needs = "; ".join(_need(n.competency, n.level, n.score, n.threshold, n.stage, lang=lang)
                      for n in item.covered)
    place = _pick(PLACE_TEXTS.get(item.place, ("очно", "in person")), lang)
    dates = f"{session.starts_on:%d.%m.%Y}–{session.ends_on:%d.%m.%Y}"
    parts = [f"«{offer.title}» ({dates}, {session.hours:g} ч), {place}. "
             if lang != "en" else f"“{offer.title}” ({dates}, {session.hours:g} h), {place}. ",
             ("Закрывает: " if lang != "en" else "Covers: ") + needs + "."]
    if item.fixed:
        parts.append(" Утверждено ранее, сохраняется." if lang != "en"
                     else " Approved earlier, kept.")
    if item.priority:
        parts.append((" Приоритет: " if lang != "en" else " Priority: ")
                     + ", ".join(_pick(PRIORITY_TEXTS[p], lang) for p in item.priority) + ".")
    if item.better_blocked:
        blocked = ", ".join(f"{a.session_key} ({_status(a.status, lang)})"
                            for a in item.better_blocked)
        parts.append((" Лучшие варианты недоступны: " if lang != "en"
                      else " Better options unavailable: ") + blocked + ".")
    return "".join(parts)


def unmet_text(competency: str, need: PlanNeed, reason: str, lang: str = "ru") -> str:
    """Why a need stays uncovered."""
    head = _need(competency, need.level, need.score, need.threshold, need.stage, lang=lang)
    return f"{head}: {_pick(UNMET_TEXTS.get(reason, (reason, reason)), lang)}."
