"""Texts ProfRoute sends to teachers (Russian, Moodle HTML format)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from app.models import RouteItem, RouteItemEvent, Teacher

KIND_RU = {"course": "Курс повышения квалификации", "internship": "Стажировка",
           "mentoring": "Наставничество"}


def route_message(teacher: Teacher, items: Sequence[RouteItem]) -> str:
    """The message listing a teacher's route: what, when, which competencies."""
    greeting = " ".join(p for p in (teacher.firstname, teacher.middlename) if p) or "Коллега"
    lines = [f"<p>{escape(greeting)}, по итогам диагностики профессиональных компетенций "
             "для вас составлен индивидуальный образовательный маршрут:</p>", "<ol>"]
    for item in items:
        offer = item.offer
        when = ""
        if offer.starts_on and offer.ends_on:
            when = (f", {offer.starts_on:%d.%m.%Y}–{offer.ends_on:%d.%m.%Y}")
        comps = ", ".join(item.competencies)
        lines.append(f"<li>{escape(KIND_RU.get(offer.kind, offer.kind))}: "
                     f"«{escape(offer.title)}»{escape(when)} (компетенции: {escape(comps)})</li>")
    lines.append("</ol><p>Курсы уже доступны в разделе «Мои курсы».</p>")
    return "".join(lines)


DECISION_RU = {"rejected": "отклонена методистом", "cancelled": "отменена",
               "swapped": "назначена методистом взамен другой",
               "change_answered": "методист ответил на ваш запрос",
               "rescheduled": "перенесена методистом на другие даты"}


def decision_message(teacher: Teacher, item: RouteItem, event: RouteItemEvent) -> str:
    """The message telling a teacher what a person decided about one item of their route."""
    greeting = " ".join(p for p in (teacher.firstname, teacher.middlename) if p) or "Коллега"
    what = DECISION_RU.get(event.action, event.action)
    if event.action == "rescheduled":
        what += _when(item)
    text = (f"<p>{escape(greeting)}, позиция вашего образовательного маршрута "
            f"«{escape(item.offer.title)}»: {escape(what)}.</p>")
    if event.reason:
        text += f"<p>{escape(event.reason)}</p>"
    return text + "<p>Маршрут — на странице «Мой маршрут» в ProfRoute.</p>"


def _when(item: RouteItem) -> str:
    """The dates of an item: its session's, else its offer's ("" without dates)."""
    session = next((s for s in item.offer.sessions if s.id == item.session_id), None)
    starts, ends = ((session.starts_on, session.ends_on) if session is not None
                    else (item.offer.starts_on, item.offer.ends_on))
    if starts is None:
        return ""
    return f" ({starts:%d.%m.%Y}–{(ends or starts):%d.%m.%Y})"


def swap_message(teacher: Teacher, old: RouteItem, new: RouteItem, event: RouteItemEvent
                 ) -> str:
    """The one message of a swap: which item of the route replaced which (and why)."""
    greeting = " ".join(p for p in (teacher.firstname, teacher.middlename) if p) or "Коллега"
    kind = KIND_RU.get(new.offer.kind, new.offer.kind)
    text = (f"<p>{escape(greeting)}, в вашем образовательном маршруте методист заменил "
            f"«{escape(old.offer.title)}»{escape(_when(old))} на {escape(kind.lower())} "
            f"«{escape(new.offer.title)}»{escape(_when(new))}.</p>")
    why = (event.reason or "").partition(": ")[2]
    if why:
        text += f"<p>{escape(why)}</p>"
    return text + "<p>Маршрут — на странице «Мой маршрут» в ProfRoute.</p>"
