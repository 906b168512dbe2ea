"""Benchmark: the deficit map (``/``) and the other aggregate views at scale on PostgreSQL.

Seeds the population of ``bench/teacher_page.py`` (its COPY seeder, imported: N teachers,
25 per school in 10 municipalities, 8 competencies, an entry and a final diagnostic, a level
per teacher, competency and diagnostic), without the teacher memos that bench stores. Then,
in process (Flask test client, one request after another: the server's own time, no
network), signed in as an admin (the whole region) and as a methodologist of one
municipality, it measures:

- the first view of ``/`` after a change of its inputs (a level rated in place, a teacher
  moved to another school, a policy revision), each ``--changes`` times;
- repeated views of ``/`` (``--views`` of them): p50, p90, p99, max and the page's bytes,
  also of a later page sorted by a competency, of one municipality, and of the JSON API;
- with ``--others``, each other aggregate view once (indicators, dynamics, analytics and
  their XLSX files), and with ``--before`` the map computed the old way (every level into
  pandas, ``app.reports.maps.computed_map``).

    PYTHONPATH=$PWD .venv/bin/python bench/deficit_map.py --teachers 100000 \\
        [--database-url postgresql+psycopg://...] [--others] [--before]

Without ``--database-url`` it starts a throw-away PostgreSQL cluster as teacher_page.py
does. A database that already holds N teachers is reused as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from teacher_page import seed, throwaway_postgres  # noqa: E402

ADMIN_LOGIN, LOCAL_LOGIN, PASSWORD = "bench-map", "bench-map-local", "bench-map-password-1"


def sign_in(app: Any, login: str, roles: list[str]) -> Any:
    """A test client signed in as ``login`` (created with ``roles`` if missing)."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from app.cli import main as profroute
    from app.extensions import db
    from app.models import WebUser

    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        if db.session.scalars(select(WebUser).filter_by(login=login)).first() is None:
            done = CliRunner().invoke(profroute, [
                "web-user", "add", login, "--name", "Нагрузочный тест", *roles,
                "--password-stdin"], obj=app, input=PASSWORD + "\n")
            if done.exit_code != 0:
                raise SystemExit(done.output)
    client = app.test_client()
    answer = client.post("/login", data={"login": login, "password": PASSWORD})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in refused: HTTP {answer.status_code}")
    return client


def timed(client: Any, path: str) -> tuple[float, int, int]:
    """(milliseconds, status, bytes) of one GET."""
    started = time.perf_counter()
    answer = client.get(path)
    body = answer.get_data()
    return (1000 * (time.perf_counter() - started), answer.status_code, len(body))


def repeated(client: Any, path: str, views: int) -> dict[str, Any]:
    """p50/p90/p99/max of ``views`` GETs of ``path`` (after one not counted)."""
    timed(client, path)
    runs = [timed(client, path) for _ in range(views)]
    ms = sorted(r[0] for r in runs)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 1)

    return {"path": path, "views": views, "p50_ms": pct(50), "p90_ms": pct(90),
            "p99_ms": pct(99), "max_ms": round(ms[-1], 1),
            "mean_ms": round(statistics.fmean(ms), 1), "bytes": runs[-1][2],
            "statuses": sorted({r[1] for r in runs})}


def changes(app: Any) -> dict[str, Callable[[], None]]:
    """The changes of the map's inputs the bench makes, each through the app's models."""
    from sqlalchemy import select, update

    from app.analyse.revisions import save_revision
    from app.extensions import db
    from app.models import Deficit, Teacher

    state = {"n": 0}

    def rate() -> None:  # as the push's ratings: the agreement updated in place
        state["n"] += 1
        row = db.session.get(Deficit, state["n"])
        assert row is not None
        row.agreement = "disagrees" if row.agreement != "disagrees" else "agrees"
        db.session.commit()

    def move() -> None:  # as a sync that finds a teacher in another school
        state["n"] += 1
        school = db.session.scalar(select(Teacher.school_id).where(Teacher.id == state["n"]))
        db.session.execute(update(Teacher).where(Teacher.id == state["n"] + 1)
                           .values(school_id=school))
        db.session.commit()

    def revise() -> None:  # a methodologist saves a policy revision
        state["n"] += 1
        save_revision({"default": {"deficit_below": 0.5, "risk_below": 0.7,
                                   "min_questions": 2}}, "bench", f"bench {state['n']}")
        db.session.commit()

    return {"level rated in place": rate, "teacher moved": move, "policy revision": revise}


def first_views(app: Any, client: Any, count: int) -> dict[str, list[float]]:
    """Milliseconds of the first view of ``/`` after each kind of change."""
    out: dict[str, list[float]] = {}
    with app.app_context():
        kinds = changes(app)
    for name, change in kinds.items():
        for _ in range(count):
            with app.app_context():
                change()
            ms, status, _ = timed(client, "/")
            assert status == 200, status
            out.setdefault(name, []).append(round(ms))
    return out


OTHERS = ("/map.xlsx", "/analytics?view=ranking", "/analytics?view=by-type",
          "/analytics?view=over-time",
          "/analytics?view=risk-group", "/analytics/ranking.xlsx", "/analytics/by-type.xlsx",
          "/analytics/over-time.xlsx", "/api/deficit-map/ranking", "/api/deficit-map/by-type",
          "/api/deficit-map/over-time", "/dynamics", "/indicators", "/indicators.xlsx")


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from app import create_app
    from app.settings import Settings

    seed(url, args.teachers, memos=False)  # teacher_page.py's population, by COPY
    app = create_app(Settings(database_url=url), require_secret_key=False)
    admin = sign_in(app, ADMIN_LOGIN, ["--role", "admin"])
    local = sign_in(app, LOCAL_LOGIN, ["--role", "methodologist", "--municipality",
                                       "Муниципалитет 1"])
    result: dict[str, Any] = {"teachers": args.teachers}
    if args.before:
        from app.reports.maps import computed_map, current_diagnostic
        with app.app_context():
            started = time.perf_counter()
            diagnostic = current_diagnostic()
            assert diagnostic is not None
            computed_map(diagnostic)
            result["before_computed_map_s"] = round(time.perf_counter() - started, 1)
        print(json.dumps({"before": result["before_computed_map_s"]}), file=sys.stderr)
    result["first_view_ms"] = first_views(app, admin, args.changes)
    print(json.dumps(result["first_view_ms"]), file=sys.stderr)
    result["repeated"] = [] if not args.views else [repeated(admin, "/", args.views),
                          repeated(admin, "/?sort=PSY-02&page=40", args.views // 2),
                          repeated(local, "/", args.views),
                          repeated(admin, "/api/deficit-map", max(10, args.views // 10))]
    print(json.dumps(result["repeated"]), file=sys.stderr)
    if args.others or args.paths:
        result["others_ms"] = {}
        for path in args.paths or OTHERS:
            runs = [timed(admin, path) for _ in range(max(1, args.path_views))]
            ms, status, size = runs[0]
            result["others_ms"][path] = {"ms": round(ms), "status": status, "bytes": size}
            if len(runs) > 1:  # the first, then the median of all
                result["others_ms"][path]["median_ms"] = round(statistics.median(
                    r[0] for r in runs))
            print(path, [round(r[0]) for r in runs], status, size, file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--views", type=int, default=200, help="repeated views of /")
    parser.add_argument("--changes", type=int, default=3, help="first views per change kind")
    parser.add_argument("--database-url", default=os.environ.get("PROFROUTE_DATABASE_URL", ""))
    parser.add_argument("--others", action="store_true", help="time the other views once")
    parser.add_argument("--before", action="store_true", help="time the pandas map once")
    parser.add_argument("--paths", nargs="*", default=[], help="time these views once "
                        "(instead of the other views' list)")
    parser.add_argument("--path-views", type=int, default=1,
                        help="times each of the other views (or --paths) is timed")
    args = parser.parse_args()
    load = os.getloadavg()
    with (contextlib.nullcontext(args.database_url) if args.database_url
          else throwaway_postgres()) as url:
        result = run(url, args)
    result["machine"] = (f"{platform.node()}, {os.cpu_count()} CPUs, "
                         f"{platform.python_implementation()} {platform.python_version()}, "
                         f"load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} "
                         "at the end")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
