"""Benchmark: the stored deficits stage (``profroute deficits``) on a region's data.

Fills a fresh database (SQLite file, or the PostgreSQL URL given) with N teachers, one
finished attempt each, 8 competencies as quiz grade items, 200 Moodle ratings per 1000
teachers, then times ``compute_deficits``: loading the attempts, mapping, scoring with the
threshold policy, merging Moodle's ratings and replacing the stored levels. Each size runs
in its own process (``--one``) so its peak RSS is its own; time is the median of
``--repeat`` runs of the stage on the same data.

    .venv/bin/python bench/deficits_stage.py [--teachers 5000 20000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
COMPETENCIES = 8
QUESTIONS = 5  # marks per grade item


def fill(teachers: int, seed: int = 1) -> object:
    """Insert the synthetic region; return the diagnostic."""
    from app.extensions import db
    from app.models import (
        Attempt,
        AttemptResult,
        Competency,
        CompetencyFramework,
        CompetencyRating,
        Diagnostic,
        DiagnosticMapping,
        Teacher,
    )
    from app.sync.structure import GRADE_ITEM

    rng = random.Random(seed)
    framework = CompetencyFramework(idnumber="PKU", name="Профстандарт")
    db.session.add(framework)
    db.session.flush()
    comps = [Competency(idnumber=f"PK-{i:02d}", name=f"Компетенция {i}",
                        framework_id=framework.id, moodle_id=i,
                        group=("subject", "methodological", "psychological", "legal")[i % 4])
             for i in range(1, COMPETENCIES + 1)]
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=2, name="Входная", kind="entry")
    db.session.add_all([*comps, diagnostic])
    db.session.flush()
    db.session.add_all(DiagnosticMapping(diagnostic_id=diagnostic.id, source=GRADE_ITEM,
                                         key=f"{c.idnumber} {c.name}", competency_id=c.id)
                       for c in comps)
    db.session.execute(Teacher.__table__.insert(), [
        {"moodle_user_id": i, "username": f"t{i}", "lastname": "", "firstname": "",
         "middlename": "", "email": "", "idnumber": "", "subjects": "", "active": True}
        for i in range(1, teachers + 1)])
    ids = db.session.scalars(db.select(Teacher.id).order_by(Teacher.id)).all()
    db.session.execute(Attempt.__table__.insert(), [
        {"moodle_attempt_id": t, "diagnostic_id": diagnostic.id, "teacher_id": t,
         "attempt_no": 1, "state": "finished", "time_finish": 1795000000,
         "sumgrades": 20.0} for t in ids])
    attempts = db.session.scalars(db.select(Attempt.id).order_by(Attempt.id)).all()
    db.session.execute(AttemptResult.__table__.insert(), [
        {"attempt_id": a, "source": GRADE_ITEM, "key": f"{c.idnumber} {c.name}",
         "mark": float(rng.randint(0, QUESTIONS)), "max_mark": float(QUESTIONS)}
        for a in attempts for c in comps])
    db.session.execute(CompetencyRating.__table__.insert(), [
        {"teacher_id": t, "competency_id": comps[rng.randrange(COMPETENCIES)].id,
         "proficient": rng.random() < 0.5, "grade": 2, "rated_at": 1795000000,
         "synced_at": dt.datetime.now(dt.UTC)} for t in rng.sample(ids, len(ids) // 5)])
    db.session.commit()
    return diagnostic


def one(teachers: int, db_url: str, repeat: int) -> dict[str, object]:
    """Fill, then run the stage ``repeat`` times in this process; report median and RSS."""
    from app import create_app
    from app.analyse.levels import compute_deficits
    from app.extensions import prepare_schema
    from app.settings import Settings

    settings = Settings(database_url=db_url)
    app = create_app(settings, {"TESTING": True})
    with app.app_context():
        prepare_schema()
        diagnostic = fill(teachers)
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            summary = compute_deficits(diagnostic, settings)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"teachers": teachers, "levels": sum(summary.levels.values()),
            "median_s": round(statistics.median(times), 2),
            "per_1000_teachers_s": round(statistics.median(times) / teachers * 1000, 3),
            "peak_rss_mib": round(peak)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        _, _, teachers, db_url, repeat = sys.argv
        print(json.dumps(one(int(teachers), db_url, int(repeat))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--database-url", default="",
                        help="an empty PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    for teachers in args.teachers:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = args.database_url or f"sqlite:///{tmp}/stage.db"
            out = subprocess.run([sys.executable, __file__, "--one", str(teachers), db_url,
                                  str(args.repeat)], capture_output=True, text=True, check=True)
            print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
