"""Benchmark: the teacher list page (/teachers) at scale, through the Flask test client.

Seeds N teachers (25 per school, schools in 10 municipalities, Russian names with «ё» in
some, two subjects each), 8 competencies, one diagnostic with a level per teacher and
competency (about a third deficits) and a route of two items for every other teacher; signs
in a methodologist of the whole region; then times, each the median of ``--runs`` requests
after one warm-up: the first page, page 1000, a search («иван»), a search by Moodle id, a
filtered page (a municipality, a subject, a deficit in a competency, items approved) and the
risk-group filter. Prints one JSON line per size with the medians (ms), the teachers found
and the peak RSS of the process (VmHWM).

    .venv/bin/python bench/teachers_page.py --teachers 100000 [--runs 7]
    tests/tools/with-postgres.sh .venv/bin/python bench/teachers_page.py --teachers 100000 \\
        --database-url env

Without ``--database-url`` a SQLite file in a temporary directory; ``env`` takes
``PROFROUTE_TEST_DATABASE_URL`` (its public schema is dropped and migrated again).
``--smoke`` runs 300 teachers, 1 run (a check that the bench works; no figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_SCHOOL = 25
MUNICIPALITIES = 10
COMPETENCIES = [f"PK-{n:02d}" for n in range(1, 9)]
LASTNAMES = ("Иванов", "Петров", "Сидоров", "Ёлкин", "Смирнов", "Кузнецов", "Попов",
             "Соколов", "Лебедев", "Козлов", "Новиков", "Морозов", "Волков", "Соловьёв")
FIRSTNAMES = ("Иван", "Пётр", "Анна", "Мария", "Олег", "Елена", "Сергей", "Ольга")
SUBJECTS = ("Математика", "Физика", "Русский язык", "Литература", "История", "Биология",
            "Химия", "География", "Информатика", "Английский язык")
PASSWORD = "bench-password-1"  # noqa: S105 - a throw-away account of the bench's own database
BATCH = 5000


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def seed(teachers: int, rng: random.Random) -> None:
    """Insert the world by Core bulk inserts (the search name by the column's default)."""
    from app.extensions import db
    from app.models import (
        Competency,
        Deficit,
        Diagnostic,
        Municipality,
        Offer,
        Route,
        RouteItem,
        School,
        Teacher,
    )

    session = db.session
    session.execute(sa.insert(Municipality), [{"name": f"Муниципалитет {m + 1}"}
                                              for m in range(MUNICIPALITIES)])
    municipalities = list(session.scalars(sa.select(Municipality.id).order_by(Municipality.id)))
    schools = -(-teachers // PER_SCHOOL)
    session.execute(sa.insert(School), [{"code": f"S{s:05d}", "name": f"Школа № {s + 1}",
                                         "municipality_id": municipalities[s % MUNICIPALITIES]}
                                        for s in range(schools)])
    school_ids = list(session.scalars(sa.select(School.id).order_by(School.id)))
    session.execute(sa.insert(Competency), [{"idnumber": c, "name": f"Компетенция {c}",
                                             "group": f"g{i % 4}"}
                                            for i, c in enumerate(COMPETENCIES)])
    competencies = list(session.scalars(sa.select(Competency.id).order_by(Competency.id)))
    session.execute(sa.insert(Diagnostic), [{"moodle_quiz_id": 1, "moodle_course_id": 1,
                                             "name": "Входная", "kind": "entry"}])
    diagnostic = session.scalar(sa.select(Diagnostic.id))
    session.execute(sa.insert(Offer), [{"key": f"o{n}", "kind": "course",
                                        "title": f"КПК {n}"} for n in range(20)])
    offers = list(session.scalars(sa.select(Offer.id)))
    for start in range(0, teachers, BATCH):
        rows = []
        for t in range(start, min(start + BATCH, teachers)):
            first = rng.choice(FIRSTNAMES)
            last = rng.choice(LASTNAMES) + ("а" if first in ("Анна", "Мария", "Елена",
                                                              "Ольга") else "")
            rows.append({"moodle_user_id": 1000 + t, "username": f"user{t}", "lastname": last,
                         "firstname": first, "middlename": "", "school_id": school_ids[
                             t // PER_SCHOOL], "subjects": ", ".join(rng.sample(SUBJECTS, 2))})
        session.execute(sa.insert(Teacher), rows)
    ids = list(session.scalars(sa.select(Teacher.id).order_by(Teacher.id)))
    levels = ("deficit", "ok", "risk")
    for start in range(0, len(ids), BATCH // 8):
        session.execute(sa.insert(Deficit), [
            {"diagnostic_id": diagnostic, "teacher_id": t, "competency_id": c,
             "score": rng.random(), "level": rng.choice(levels), "questions": 2,
             "thresholds": {}} for t in ids[start:start + BATCH // 8] for c in competencies])
    session.execute(sa.insert(Route), [{"teacher_id": t, "diagnostic_id": diagnostic}
                                       for t in ids[::2]])
    routes = list(session.scalars(sa.select(Route.id)))
    for start in range(0, len(routes), BATCH):
        session.execute(sa.insert(RouteItem), [
            {"route_id": r, "offer_id": o, "status": rng.choice(("proposed", "approved",
                                                                 "enrolled", "completed")),
             "competencies": [], "reasons": []}
            for r in routes[start:start + BATCH] for o in rng.sample(offers, 2)])
    session.commit()


def build(url: str, teachers: int) -> Any:
    """The app on a fresh, migrated and seeded database, with a signed-in client."""
    from click.testing import CliRunner

    from app import create_app
    from app.cli import main
    from app.extensions import db, prepare_schema
    from app.settings import Settings

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(Settings(database_url=url), {"TESTING": True, "WTF_CSRF_ENABLED": False})
    started = time.perf_counter()
    with app.app_context():
        prepare_schema()
        seed(teachers, random.Random(14))
        db.session.remove()
    seeded = time.perf_counter() - started
    result = CliRunner().invoke(main, ["web-user", "add", "bench", "--name", "Бенч",
                                       "--role", "methodologist", "--region",
                                       "--password-stdin"], obj=app, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    assert client.post("/login", data={"login": "bench", "password": PASSWORD}
                       ).status_code == 302
    return app, client, seeded


def timed(client: Any, path: str, runs: int) -> tuple[float, str]:
    """The median time of ``runs`` requests (after one warm-up) in ms, and the count text."""
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    count = text.split('<p class="count">', 1)[1].split("</p>", 1)[0] if (
        '<p class="count">' in text) else "никого"
    return statistics.median(times), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.teachers, args.runs = [300], 1
    os.environ.setdefault("PROFROUTE_SECRET_KEY", "bench-secret")
    paths = {"first page": "/teachers", "page 1000": "/teachers?page=1000",
             "search «иван»": "/teachers?q=%D0%B8%D0%B2%D0%B0%D0%BD",
             "search «ёлкина ольга»": "/teachers?q=%D1%91%D0%BB%D0%BA%D0%B8%D0%BD%D0%B0+"
                                       "%D0%BE%D0%BB%D1%8C%D0%B3%D0%B0",
             "Moodle id": "/teachers?q=51234",
             "filtered": "/teachers?municipality=3&subject=%D0%A4%D0%B8%D0%B7%D0%B8%D0%BA%D0%B0"
                         "&competency=PK-02&level=deficit&route=approved",
             "risk group": "/teachers?risk=yes&page=3"}
    for teachers in args.teachers:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            if url == "env":
                url = os.environ["PROFROUTE_TEST_DATABASE_URL"]
            app, client, seeded = build(url, teachers)
            found = {name: timed(client, path, args.runs) for name, path in paths.items()}
            print(json.dumps({
                "teachers": teachers, "database": url.split(":", 1)[0], "runs": args.runs,
                "seed_s": round(seeded, 1),
                "median_ms": {name: round(ms, 1) for name, (ms, _) in found.items()},
                "shown": {name: count for name, (_, count) in found.items()},
                "peak_rss_mb": round(peak_rss_mb()), "python": platform.python_version(),
                "cpus": os.cpu_count()}, ensure_ascii=False), flush=True)
            with app.app_context():
                from app.extensions import db
                db.engine.dispose()


if __name__ == "__main__":
    main()
