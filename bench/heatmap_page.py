"""Benchmark: the deficit heat map page (``/``, issue 14) at 2,000 schools.

Seeds N teachers (default 100,000) in 2,000 schools of 20 municipalities (a quarter ШНОР,
a fifth ШФНСУ, 2 % resource centres), 10 competencies in 3 groups, an entry and a final
diagnostic with a level per teacher and competency (2 × N × 10 rows), through SQLAlchemy
Core (SQLite or PostgreSQL alike). Then, in a fresh process (so the peak RSS is the
page's, not the seed's), signed in as an admin (the whole region) and as a methodologist of
one municipality, it times GET of each view through the Flask test client: the first view
(the stored counts made by one GROUP BY over the levels), then the median, min and max of
``--runs`` more.

    .venv/bin/python bench/heatmap_page.py [--teachers 100000] [--runs 7]
    tests/tools/with-postgres.sh sh -c '.venv/bin/python bench/heatmap_page.py \\
        --database-url "$PROFROUTE_TEST_DATABASE_URL"'

Without ``--database-url``: a SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCHOOLS, TOWNS = 2_000, 20
COMPETENCIES = [(f"PK-{i:02d}", f"Компетенция {i}", ("Предметные", "Методические",
                                                      "Цифровые")[i % 3]) for i in range(1, 11)]
BATCH = 50_000
PATHS = ("/", "/?sort=PK-05", "/?sort=name&page=20", "/?view=change",
         "/?status=low_results&group=Цифровые", "/map.xlsx", "/map.xlsx?view=change")
LOCAL_PATHS = ("/", "/?view=change")


def seed(url: str, teachers: int) -> None:
    """The schema by the migrations, then the population (kept when already there)."""
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.extensions import db, prepare_schema
    from app.models import Competency, Deficit, Diagnostic, Municipality, School, Teacher
    from app.settings import Settings

    app = create_app(Settings(database_url=url), require_secret_key=False)
    with app.app_context():
        prepare_schema()
        have = db.session.scalar(select(func.count(Teacher.id))) or 0
        if have == teachers:
            return
        if have:
            raise SystemExit(f"the database holds {have} teachers: use an empty one")
        started, rnd = time.perf_counter(), random.Random(14)
        with db.engine.begin() as conn:
            conn.execute(insert(Municipality), [{"id": m + 1, "name": f"Муниципалитет {m + 1}"}
                                                for m in range(TOWNS)])
            conn.execute(insert(School), [
                {"id": s + 1, "code": f"S{s + 1:04d}", "name": f"Школа № {s + 1}",
                 "municipality_id": s % TOWNS + 1, "low_results": s % 4 == 0,
                 "adverse_context": s % 5 == 0, "resource_centre": s % 50 == 7}
                for s in range(SCHOOLS)])
            conn.execute(insert(Competency), [{"id": i + 1, "idnumber": c, "name": n,
                                               "group": g}
                                              for i, (c, n, g) in enumerate(COMPETENCIES)])
            conn.execute(insert(Diagnostic), [
                {"id": 1, "moodle_quiz_id": 1, "moodle_course_id": 1, "name": "Входная",
                 "kind": "entry"},
                {"id": 2, "moodle_quiz_id": 2, "moodle_course_id": 1, "name": "Итоговая",
                 "kind": "final"}])
            conn.execute(insert(Teacher), [
                {"id": t + 1, "moodle_user_id": 10_000 + t, "username": f"t{t}",
                 "lastname": f"Педагог{t}", "school_id": t % SCHOOLS + 1}
                for t in range(teachers)])
            thresholds = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0,
                          "source": "default"}
            rows: list[dict[str, Any]] = []
            for diagnostic in (1, 2):
                for t in range(teachers):
                    weak = (t % SCHOOLS) % 10 / 20  # schools differ
                    for c in range(len(COMPETENCIES)):
                        score = rnd.random()
                        rows.append({"diagnostic_id": diagnostic, "teacher_id": t + 1,
                                     "competency_id": c + 1, "score": score,
                                     "questions": 3.0, "thresholds": thresholds,
                                     "level": "deficit" if score < 0.2 + weak
                                     - 0.1 * (diagnostic == 2) else
                                     "risk" if score < 0.6 else "ok"})
                    if len(rows) >= BATCH:
                        conn.execute(insert(Deficit), rows)
                        rows = []
            if rows:
                conn.execute(insert(Deficit), rows)
        print(f"seed: {teachers} teachers, {SCHOOLS} schools in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)


def timed(client: Any, path: str) -> tuple[float, int, int]:
    """(milliseconds, status, bytes) of one GET."""
    started = time.perf_counter()
    answer = client.get(path)
    body = answer.get_data()
    return 1000 * (time.perf_counter() - started), answer.status_code, len(body)


def measure(url: str, runs: int) -> dict[str, Any]:
    """Each view's first GET and the median, min and max of ``runs`` more; peak RSS."""
    from deficit_map import sign_in

    from app import create_app
    from app.settings import Settings

    app = create_app(Settings(database_url=url), require_secret_key=False)
    admin = sign_in(app, "bench-heat", ["--role", "admin"])
    local = sign_in(app, "bench-heat-local", ["--role", "methodologist", "--municipality",
                                              "Муниципалитет 1"])
    out: dict[str, Any] = {}
    for who, client, paths in (("admin", admin, PATHS), ("municipality", local, LOCAL_PATHS)):
        for path in paths:
            first = timed(client, path)
            assert first[1] == 200, (path, first[1])
            ms = [timed(client, path)[0] for _ in range(runs)]
            out[f"{who} {path}"] = {"first_ms": round(first[0]),
                                    "median_ms": round(statistics.median(ms), 1),
                                    "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1),
                                    "bytes": first[2]}
            print(who, path, out[f"{who} {path}"], file=sys.stderr)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.database_url, args.runs)))
        return
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/heatmap.db"
        seed(url, args.teachers)
        done = subprocess.run([sys.executable, __file__, "--measure-only", "--runs",
                               str(args.runs), "--database-url", url],
                              check=True, capture_output=True, text=True)
        sys.stderr.write(done.stderr)
        result = json.loads(done.stdout.strip().splitlines()[-1])
    result["teachers"], result["schools"] = args.teachers, SCHOOLS
    result["database"] = url.split(":")[0]
    result["machine"] = (f"{platform.node()}, {os.cpu_count()} CPUs, "
                         f"{platform.python_implementation()} {platform.python_version()}, "
                         f"load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} "
                         "at the end")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
