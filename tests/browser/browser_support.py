"""The browser tests' parts: where Chromium and axe-core are, the seeded data, a server
on 127.0.0.1 in a thread, and a journey's page with its screenshots and axe checks."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.extensions import db
from app.models import (
    Competency,
    Deficit,
    Diagnostic,
    Municipality,
    Offer,
    OfferSession,
    Partnership,
    Route,
    RouteItem,
    School,
    Teacher,
)

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "browser"
LOGIN = "metodist"
BLOCKING = ("serious", "critical")  # the axe impacts a page must not have


def chromium_path() -> str | None:
    """Debian's Chromium (``PROFROUTE_CHROMIUM`` overrides), or None when it is absent."""
    given = os.environ.get("PROFROUTE_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return shutil.which("chromium") or next(
        (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()),
        None)


def seed() -> None:
    """Альфа: A1 «Школа № 1» (teachers 1–10), the resource centre RC1 (its partner); Бета: B1
    (11–14). Entry and final diagnostics of PK-01 and PK-02; teachers 1–10 completed «КПК
    Альфа», 1–7 closed the PK-01 deficit; teacher 1 also has a proposed internship at RC1."""
    alfa, beta = Municipality(name="Альфа"), Municipality(name="Бета")
    rc = School(code="RC1", name="Ресурсный центр Альфа", municipality=alfa,
                resource_centre=True)
    a1 = School(code="A1", name="Школа № 1", municipality=alfa, low_results=True)
    b1 = School(code="B1", name="Школа Бетаград", municipality=beta)
    people = [Teacher(moodle_user_id=n, lastname=f"Педагогова{n}", firstname="Анна",
                      middlename="Петровна", username=f"teacher{n}",
                      subjects="математика" if n % 2 else "физика",
                      school=a1 if n <= 10 else b1) for n in range(1, 15)]
    pk1 = Competency(idnumber="PK-01", name="Предметные знания", group="subject")
    pk2 = Competency(idnumber="PK-02", name="Методика", group="methodological")
    entry = Diagnostic(moodle_quiz_id=1, moodle_course_id=9, kind="entry", name="Входная 2026")
    final = Diagnostic(moodle_quiz_id=2, moodle_course_id=9, kind="final", name="Итоговая 2026")
    course = Offer(key="pk-a", kind="course", title="КПК Альфа", moodle_course_id=501,
                   competencies=[pk1], provider="ИРО")
    internship = Offer(key="rc-1", kind="internship", title="Стажировка в РЦ", host_school=rc,
                       competencies=[pk2], sessions=[OfferSession(
                           key="s1", starts_on=dt.date.today() + dt.timedelta(days=30),
                           ends_on=dt.date.today() + dt.timedelta(days=35), seats=2,
                           hours=16)])
    db.session.add_all([rc, a1, b1, *people, pk1, pk2, entry, final, course, internship,
                        Partnership(resource_centre=rc, school=a1)])
    db.session.flush()
    for person in people:
        n = person.moodle_user_id
        closed = n <= 7
        db.session.add_all([
            Deficit(diagnostic_id=entry.id, teacher_id=person.id, competency_id=pk1.id,
                    score=0.3, level="deficit", questions=2),
            Deficit(diagnostic_id=entry.id, teacher_id=person.id, competency_id=pk2.id,
                    score=0.4, level="deficit" if n % 2 == 0 else "ok", questions=2),
            Deficit(diagnostic_id=final.id, teacher_id=person.id, competency_id=pk1.id,
                    score=0.9 if closed else 0.35, level="ok" if closed else "deficit",
                    questions=2),
            Deficit(diagnostic_id=final.id, teacher_id=person.id, competency_id=pk2.id,
                    score=0.3 if n % 2 == 0 else 0.9,
                    level="deficit" if n % 2 == 0 else "ok", questions=2)])
        if n <= 10:
            route = Route(teacher_id=person.id, diagnostic_id=entry.id)
            db.session.add(route)
            db.session.flush()
            db.session.add(RouteItem(route_id=route.id, offer_id=course.id, status="completed",
                                     competencies=["PK-01"]))
            if n == 1:
                db.session.add(RouteItem(route_id=route.id, offer_id=internship.id,
                                         status="proposed", competencies=["PK-02"]))
    db.session.commit()


@dataclass
class Journey:
    """A signed-in page of one browser, and what axe found on each page checked."""

    page: Any  # playwright.sync_api.Page
    found: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    login_violations: list[str] = field(default_factory=list)  # of the sign-in page

    def check(self, name: str) -> list[str]:
        """Keep a full-page screenshot ``var/browser/<name>.png`` and return axe's serious
        and critical violations of the page as lines (empty when axe-core is absent)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
        if not AXE.exists():
            return []
        self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        self.found[name] = blocking
        return [f"{v['impact']} {v['id']}: {v['help']} ({'; '.join(v['targets'])})"
                for v in blocking]
