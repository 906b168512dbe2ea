"""The demo: the whole job against the embedded Moodle sandbox, with a printed summary."""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import requests
from flask import Flask
from sqlalchemy import func, select

from app import create_app
from app.analyse.levels import compute_deficits
from app.common.moodle import moodle_api
from app.common.runs import logged_run
from app.demo.sandbox import running_sandbox
from app.extensions import db, prepare_schema
from app.models import Attempt, Diagnostic, Offer, Route, RouteItem, Teacher
from app.models.route import ENROLLED, PROPOSED
from app.push.run import push
from app.registry.catalogue import import_catalogue
from app.registry.offerings import import_table
from app.reports.analytics import dynamics
from app.reports.maps import summary
from app.routes.items import approve, recommend
from app.routes.plan_input import plan_input, policy_of
from app.routes.review import Actor, OfferPool, decline, ranked_alternatives
from app.settings import Settings
from app.sync.pull import configured_diagnostic, sync
from config import DEMO_DIR
from courses.offer_tables import AVAILABILITY, OFFER_TABLES
from courses.plan_model import EXTERNAL_COURSE, MOODLE_COURSE
from courses.planner import plan, plan_greedy
from lms_connectors.moodle.api import MoodleAPI

DEMO_DB = "var/demo.db"
# The sandbox's final diagnostic (lms_connectors/moodle/sandbox/seed.py: FINAL_QUIZ_ID and
# seed_catalog.FINAL_COURSE); app/ never imports the sandbox itself.
DEMO_FINAL_COURSE = "diag-final-2026"
DEMO_FINAL_QUIZ = "2"


def demo_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings for the demo: its own SQLite file unless a database is configured, the demo
    catalogue and the demo's thresholds file.

    The first deficits run imports that file as a policy revision, so a later
    ``profroute serve`` on the demo's database shows the same policy without the setting.
    """
    env = dict(os.environ if environ is None else environ)
    settings = Settings.load(env)
    if "PROFROUTE_DATABASE_URL" not in env:
        Path(DEMO_DB).unlink(missing_ok=True)  # the demo starts from a fresh municipality
        settings = settings.replace(database_url=f"sqlite:///{DEMO_DB}")
    return settings.replace(catalogue_dir=str(DEMO_DIR),
                            thresholds_file=str(DEMO_DIR / "thresholds.toml"))


def run_demo(echo: Callable[[str], None] = print, settings: Settings | None = None) -> Flask:
    """Start the sandbox, run sync → deficits → recommend → approve → push, then the final
    diagnostic (sync → deficits → push of the ratings of closed deficits); return the app."""
    settings = settings or demo_settings()
    token = secrets.token_hex(16)
    with running_sandbox(token) as url:
        settings = settings.replace(moodle_url=url, moodle_token=token)
        app = create_app(settings, require_secret_key=False)  # one process: its own key
        with app.app_context():
            prepare_schema()
            run_pipeline(settings, echo)
    return app


def run_pipeline(settings: Settings, echo: Callable[[str], None]) -> dict[str, object]:
    """Every stage in order, each logged; returns the final figures."""
    api = moodle_api(settings)
    with logged_run("import-catalogue") as run:
        run.summary = import_catalogue(settings.catalogue_dir).as_dict()
    import_demo_tables(settings.catalogue_dir, OFFER_TABLES)
    with logged_run("sync") as run:
        synced = sync(api, settings)
        run.summary = synced.as_dict()
    import_demo_tables(settings.catalogue_dir, (AVAILABILITY,))  # teachers known by now
    diagnostic = configured_diagnostic(settings)
    assert diagnostic is not None  # sync has just stored it
    with logged_run("deficits") as run:
        scored = compute_deficits(diagnostic, settings)
        run.summary = scored.as_dict()
    with logged_run("recommend") as run:
        run.summary = recommend(diagnostic, settings).as_dict()
    with logged_run("approve") as run:
        run.summary = {"approved": approve(diagnostic)}
    with logged_run("push") as run:
        pushed = push(api, settings)
        run.summary = pushed.as_dict()
    figures = summary(diagnostic)
    figures["moodle_ratings"] = scored.moodle_ratings
    print_summary(echo, teachers=synced.teachers, figures=figures,
                  enrolments=pushed.enrolments_sent, already=pushed.already_enrolled,
                  messages=pushed.messages_sent,
                  without_school=synced.without_school)
    figures["replanned"] = run_decline(api, settings, diagnostic, echo)
    figures["studied"] = run_studies(settings, echo)
    figures["final"] = run_final(api, settings, diagnostic, echo)
    return figures


DEMO_DECLINE = "Пересекается с аттестацией; прошу другой курс"


def run_decline(api: MoodleAPI, settings: Settings, diagnostic: Diagnostic,
                echo: Callable[[str], None]) -> dict[str, object]:
    """A teacher declines one enrolled item (as on /my/route): the next recommend re-plans the
    competency without that offer, the new item is approved and the push suspends the old
    enrolment and enrols the new one (the item: see ``_item_to_decline``)."""
    item = _item_to_decline(diagnostic, settings)
    if item is None:
        return {}
    teacher = item.route.teacher
    title = item.offer.title
    decline(item, Actor("teacher", teacher.username or str(teacher.moodle_user_id)),
            DEMO_DECLINE)
    with logged_run("recommend") as run:
        run.summary = recommend(diagnostic, settings).as_dict()
    new = [i.offer.title for i in db.session.scalars(
        select(RouteItem).join(Route).where(Route.teacher_id == teacher.id,
                                            Route.diagnostic_id == diagnostic.id,
                                            RouteItem.status == PROPOSED))]
    with logged_run("approve") as run:
        run.summary = {"approved": approve(diagnostic)}
    with logged_run("push") as run:
        pushed = push(api, settings)
        run.summary = pushed.as_dict()
    subject = f" ({', '.join(teacher.subject_list)})" if teacher.subject_list else ""
    echo(f"  Отказ педагога: {teacher.lastname} {teacher.firstname}{subject} отклонил(а) "
         f"«{title}» "
         f"(«{DEMO_DECLINE}»); маршрут перестроен: "
         f"{', '.join(f'«{t}»' for t in new) or 'других предложений нет'}; "
         f"в Moodle отправлено (приостановка прежнего зачисления и новые): "
         f"{pushed.enrolments_sent}")
    return {"declined": title, "proposed": new, "sent": pushed.enrolments_sent}


def _item_to_decline(diagnostic: Diagnostic, settings: Settings) -> RouteItem | None:
    """The enrolled item the demo's teacher declines, tried on the planner alone (nothing
    stored), by the teacher's name: the first whose decline lets re-planning propose a course
    meant for the teacher's subject, else the first after whose decline something else is
    proposed, else the first with another offer to go to."""
    pool = OfferPool.load()
    enrolled = [i for i in db.session.scalars(
        select(RouteItem).join(Route).join(Teacher)
        .where(Route.diagnostic_id == diagnostic.id, RouteItem.status == ENROLLED)
        .order_by(Teacher.lastname, Teacher.firstname, RouteItem.id))
        if ranked_alternatives(i, 1, pool)]
    planning = plan_input(diagnostic, settings)
    inp, policy = planning.input, policy_of(settings)
    key_of = {offer_id: key for key, offer_id in planning.offer_ids.items()}
    subjects = {t.teacher_id: set(t.subjects) for t in inp.teachers}
    courses = {o.key: set(o.subjects) for o in inp.offers
               if o.subjects and o.kind in (MOODLE_COURSE, EXTERNAL_COURSE)}
    replanned_one: RouteItem | None = None
    for item in enrolled:
        teacher, key = item.route.teacher_id, key_of[item.offer_id]
        # Only this teacher's needs are planned; everyone's held items keep their seats.
        trial = replace(inp, needs=tuple(n for n in inp.needs if n.teacher_id == teacher),
                        fixed=tuple(f for f in inp.fixed if (
                            f.teacher_id, f.session_key.split("/", 1)[0]) != (teacher, key)),
                        excluded=tuple(sorted({*inp.excluded, (teacher, key)})))
        result = (plan_greedy(trial, policy) if settings.plan_solver == "greedy"
                  else plan(trial, policy, time_limit=settings.plan_time_limit))
        new = [p.offer_key for p in result.items if p.teacher_id == teacher and not p.fixed]
        if any(courses.get(k, set()) & subjects.get(teacher, set()) for k in new):
            return item
        replanned_one = replanned_one or (item if new else None)
    return replanned_one or (enrolled[0] if enrolled else None)


def import_demo_tables(folder: str, kinds: Iterable[str]) -> None:
    """Import the demo's own tables of these kinds (``<kind>.csv``) when the folder has them."""
    for kind in kinds:
        path = Path(folder) / f"{kind}.csv"
        if path.exists():
            with logged_run(f"import-{kind}") as run:
                run.summary = import_table(kind, path.read_bytes(), name=path.name).as_dict()


STUDY_SHARE = 0.7  # of the enrolled Moodle courses, the share teachers complete in the demo
STUDY_SEED = 2027


def run_studies(settings: Settings, echo: Callable[[str], None]) -> dict[str, int]:
    """Time passes on the sandbox: teachers complete about 70 % of the Moodle courses they
    are enrolled in by their routes (``/_sandbox/completions``, as Moodle's completion task
    would mark them), then take the final diagnostic (``/_sandbox/final``: better in what
    they studied). The next sync moves those items to completed."""
    rows = db.session.execute(
        select(Teacher.moodle_user_id, Offer.moodle_course_id)
        .join(Route, Route.teacher_id == Teacher.id)
        .join(RouteItem, RouteItem.route_id == Route.id)
        .join(Offer, Offer.id == RouteItem.offer_id)
        .where(RouteItem.status == ENROLLED, Offer.moodle_course_id.is_not(None))
        .order_by(RouteItem.id)).all()
    rng = random.Random(STUDY_SEED)  # noqa: S311  (a demo, not a secret)
    done = 0
    with requests.Session() as http:
        http.headers["X-Sandbox-Token"] = settings.moodle_token
        for user_id, course_id in rows:
            if rng.random() < STUDY_SHARE:
                http.post(f"{settings.moodle_url}/_sandbox/completions", timeout=30,
                          json={"userid": user_id, "courseid": course_id}).raise_for_status()
                done += 1
        http.post(f"{settings.moodle_url}/_sandbox/final", timeout=60).raise_for_status()
    echo(f"  Прошло полгода: курсы в Moodle завершили по {done} зачислениям из {len(rows)}")
    return {"completed": done, "enrolled": len(rows)}


def run_final(api: MoodleAPI, settings: Settings, entry: Diagnostic,
              echo: Callable[[str], None]) -> dict[str, object]:
    """The final diagnostic: sync, score, rate the closed deficits in Moodle; print the change."""
    final_settings = settings.replace(diagnostic_course=DEMO_FINAL_COURSE,
                                      diagnostic_quiz=DEMO_FINAL_QUIZ, diagnostic_kind="final")
    with logged_run("sync") as run:
        run.summary = sync(api, final_settings).as_dict()
    final = configured_diagnostic(final_settings)
    assert final is not None and final.kind == "final"
    with logged_run("deficits") as run:
        run.summary = compute_deficits(final, final_settings).as_dict()
    with logged_run("push") as run:
        pushed = push(api, final_settings)
        run.summary = pushed.as_dict()
    change = dynamics(entry, final)
    # dynamics() puts the per-competency rows (analytics._records) under "competencies".
    counts = cast(list[dict[str, Any]], change["competencies"])
    closed = sum(int(r["closed"]) for r in counts)
    deficits = sum(int(r["entry_deficits"]) for r in counts)
    took = db.session.scalar(select(func.count(func.distinct(Attempt.teacher_id))).where(
        Attempt.diagnostic_id == final.id)) or 0
    echo(f"  Итоговую диагностику прошли педагогов: {took}; закрыто дефицитов: {closed} из "
         f"{deficits} (оценки «освоена» отправлены в Moodle: {pushed.ratings_sent})")
    return {"teachers": took, "closed": closed, "entry_deficits": deficits}


def print_summary(echo: Callable[[str], None], *, teachers: int, figures: dict[str, object],
                  enrolments: int, already: int, messages: int,
                  without_school: list[str]) -> None:
    """The demo's summary, in Russian."""
    echo("ProfRoute — демонстрация на встроенной песочнице Moodle")
    echo(f"  Педагогов синхронизировано: {teachers}"
         f" (без образовательной организации: {len(without_school)})")
    echo("  Дефициты по компетенциям:")
    for comp, count in dict(figures.get("deficits_per_competency", {})).items():  # type: ignore[call-overload]
        echo(f"    {comp}: {count}")
    ratings = dict(figures.get("moodle_ratings", {}))  # type: ignore[call-overload]
    if ratings.get("agrees", 0) + ratings.get("disagrees", 0):
        echo(f"  Оценки компетенций в Moodle: подтверждают уровень {ratings.get('agrees', 0)}, "
             f"расходятся {ratings.get('disagrees', 0)}")
    items = dict(figures.get("route_items", {}))  # type: ignore[call-overload]
    echo(f"  Элементов маршрутов: {sum(items.values())} "
         + ", ".join(f"{k}: {v}" for k, v in sorted(items.items())))
    echo(f"  Зачислений отправлено в Moodle: {enrolments} (уже были зачислены: {already}); "
         f"сообщений: {messages}")
