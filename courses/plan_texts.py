"""Words a methodologist reads about a planned item or an unmet need (Russian and English).

Each text is built from the structured reasons in ``courses.plan_model``; ``lang`` picks
Russian (default) or English. The records (``item_record``, ``need_record``) are those reasons
as plain JSON values: the app stores them and renders the text in the reader's language when
it is shown (``record_text``, ``unmet_record_text``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

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
RECORD_VERSION = 1
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


def item_record(item: PlanItem, offer: PlanOffer, session: PlanSession, *,
                titles: Mapping[str, str] | None = None, undated: bool = False
                ) -> dict[str, Any]:
    """What an item's text is made of, as plain JSON values (stored with the item, rendered
    in the reader's language when shown): the offer and session (key, title, dates, hours;
    ``undated`` when the session has no dates of its own), the place, whether it was kept,
    the needs covered, the priority, the earlier period's evidence of the offer's
    effectiveness its value used and the better sessions that were blocked (``titles``:
    offer key → title, to name them)."""
    names = titles or {}
    return {
        "v": RECORD_VERSION, "offer_key": offer.key, "offer_title": offer.title,
        "session_key": session.key, "starts_on": session.starts_on.isoformat(),
        "ends_on": session.ends_on.isoformat(), "undated": undated, "hours": session.hours,
        "place": item.place, "fixed": item.fixed,
        "covered": [{"competency": n.competency, "level": n.level, "score": n.score,
                     "threshold": n.threshold, "stage": n.stage} for n in item.covered],
        "priority": list(item.priority),
        "evidence": [{"competency": e.competency, "pairs": e.pairs, "closed": e.closed,
                      "shrunk": e.shrunk, "kind_share": e.kind_share, "factor": e.factor}
                     for e in item.evidence],
        "better": [{"offer_key": a.offer_key, "offer_title": names.get(a.offer_key, ""),
                    "session_key": a.session_key, "status": a.status, "place": a.place}
                   for a in item.better_blocked]}


def item_text(item: PlanItem, offer: PlanOffer, session: PlanSession, lang: str = "ru") -> str:
    """Why this item: the needs it covers, where, priority, better sessions that were blocked."""
    return record_text(item_record(item, offer, session), lang)


def _dates(record: Mapping[str, Any], lang: str) -> str:
    if record.get("undated"):
        return "no dates" if lang == "en" else "без дат"
    start, end = (dt.date.fromisoformat(str(record[k])) for k in ("starts_on", "ends_on"))
    return f"{start:%d.%m.%Y}–{end:%d.%m.%Y}"


def _blocked(alt: Mapping[str, Any], lang: str) -> str:
    title = str(alt.get("offer_title") or "")
    named = (f"“{title}” " if lang == "en" else f"«{title}» ") if title else ""
    return f"{named}{alt.get('session_key', '')} ({_status(str(alt.get('status', '')), lang)})"


def record_text(record: Mapping[str, Any], lang: str = "ru") -> str:
    """An item's text from its record (``item_record``), in Russian or English (``lang``).

    :raise KeyError, ValueError: the record lacks a field or holds a bad date.
    """
    en = lang == "en"
    needs = "; ".join(_need(str(n["competency"]), str(n["level"]), float(n["score"]),
                            float(n["threshold"]), str(n["stage"]), lang=lang)
                      for n in record["covered"])
    place = _pick(PLACE_TEXTS.get(str(record["place"]), ("очно", "in person")), lang)
    title, hours = record["offer_title"], float(record["hours"])
    head = (f"“{title}” ({_dates(record, lang)}, {hours:g} h), {place}. " if en
            else f"«{title}» ({_dates(record, lang)}, {hours:g} ч), {place}. ")
    parts = [head, ("Covers: " if en else "Закрывает: ") + needs + "."]
    if record.get("fixed"):
        parts.append(" Approved earlier, kept." if en else " Утверждено ранее, сохраняется.")
    if record.get("priority"):
        parts.append((" Priority: " if en else " Приоритет: ") + ", ".join(
            _pick(PRIORITY_TEXTS.get(str(p), (str(p), str(p))), lang)
            for p in record["priority"]) + ".")
    for ev in record.get("evidence") or ():
        parts.append(_evidence(ev, lang))
    if record.get("better"):
        blocked = ", ".join(_blocked(a, lang) for a in record["better"])
        parts.append((" Better options unavailable: " if en
                      else " Лучшие варианты недоступны: ") + blocked + ".")
    return "".join(parts)


def _evidence(ev: Mapping[str, Any], lang: str) -> str:
    """One competency's evidence: closed of pairs, the shrunk share and the kind's share."""
    competency, closed, pairs = ev["competency"], int(ev["closed"]), int(ev["pairs"])
    shrunk = _percent(float(ev["shrunk"]) + 0.005)  # to the nearest percent
    kind = _percent(float(ev["kind_share"]) + 0.005)
    if lang == "en":
        return (f" Past results: the {competency} deficit closed for {closed} of {pairs} "
                f"teachers who completed this offer (estimate {shrunk} % allowing for the "
                f"sample size; offers of its kind {kind} %).")
    return (f" По итогам прошлого периода дефицит {competency} закрыт у {closed} из {pairs} "
            f"педагогов, прошедших это предложение (оценка с учётом объёма выборки "
            f"{shrunk} %; у предложений этого вида {kind} %).")


def need_record(need: PlanNeed) -> dict[str, Any]:
    """What an unmet need's text is made of, as plain JSON values (stored with the need)."""
    return {"v": RECORD_VERSION, "level": need.level, "score": need.score,
            "threshold": need.threshold, "stage": need.stage}


def unmet_text(competency: str, need: PlanNeed, reason: str, lang: str = "ru") -> str:
    """Why a need stays uncovered."""
    return unmet_record_text(competency, reason, need_record(need), lang)


def unmet_record_text(competency: str, reason: str, record: Mapping[str, Any],
                      lang: str = "ru") -> str:
    """Why a need stays uncovered, from its record (``need_record``) and reason code.

    :raise KeyError, ValueError: the record lacks a field or holds a bad number.
    """
    head = _need(competency, str(record["level"]), float(record["score"]),
                 float(record["threshold"]), str(record["stage"]), lang=lang)
    return f"{head}: {_pick(UNMET_TEXTS.get(reason, (reason, reason)), lang)}."
