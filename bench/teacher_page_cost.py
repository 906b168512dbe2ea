"""Benchmark: what one teacher page costs, in-process, whatever the machine's load.

Against a database bench/teacher_page.py seeded (``--database-url``, N teachers), builds the
app as a gunicorn worker does, signs in through the form with the Flask test client (as the
web user ``bench-cost``, a methodologist of the whole region created here when missing), then
asks for ``--requests`` pages of random teachers one after another and reports per page:

- the worker's CPU (``time.process_time``: this Python process, templates and all),
- PostgreSQL's CPU (user + system time of the server's backends, children of the postmaster
  whose pid ``--pg-data`` names, from ``/proc``; only when the server runs on this machine),
- the statements sent (SQLAlchemy's ``before_cursor_execute``), and the wall time.

CPU time does not depend on what else the machine runs (wall time does), so these figures can
be compared between runs on a loaded machine. ``--profile FILE`` also writes cProfile's stats.

    PYTHONPATH=$PWD .venv/bin/python bench/teacher_page_cost.py --teachers 100000 \\
        --requests 2000 --database-url postgresql+psycopg://... [--pg-data DIR] [--profile F]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import random
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST_MOODLE_ID = 1000
LOGIN = "bench-cost"


def backends_cpu(pg_data: str) -> float | None:
    """Seconds of CPU (user + system) of the PostgreSQL server's children so far."""
    if not pg_data:
        return None
    postmaster = Path(pg_data, "postmaster.pid").read_text().split()[0]
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == postmaster:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--database-url", default=os.environ.get("PROFROUTE_DATABASE_URL", ""))
    parser.add_argument("--pg-data", default="", help="the server's data directory")
    parser.add_argument("--profile", default="", help="write cProfile's stats to this file")
    args = parser.parse_args()

    from sqlalchemy import event, select

    from app import create_app
    from app.accounts.roles import METHODOLOGIST, grant
    from app.accounts.web_users import add_user, set_password
    from app.extensions import db
    from app.models import WebUser
    from app.settings import Settings

    app = create_app(Settings(database_url=args.database_url,
                              secret_key=secrets.token_hex(32)))
    password = secrets.token_urlsafe(18)
    with app.app_context():
        if db.session.scalars(select(WebUser).filter_by(login=LOGIN)).first() is None:
            add_user(LOGIN, "Замер стоимости", password)
            grant(LOGIN, METHODOLOGIST, region=True)
        else:
            set_password(LOGIN, password)
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    done = client.post("/login", data={"csrf_token": token.group(1) if token else "",
                                       "login": LOGIN, "password": password})
    if done.status_code != 302:
        raise SystemExit(f"sign-in refused: HTTP {done.status_code}")

    rnd = random.Random(7)
    paths = [f"/teachers/{FIRST_MOODLE_ID + rnd.randint(1, args.teachers)}"
             for _ in range(args.requests)]
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    with app.app_context():
        engine = db.engine
    for path in paths[:50]:  # warm-up: templates, caches, the pool's connections
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
    event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    pg_before = backends_cpu(args.pg_data)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for path in paths:
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: HTTP {answer.status_code}")
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pg_after = backends_cpu(args.pg_data)
    event.remove(engine, "before_cursor_execute", count)
    n = len(paths)
    result = {
        "teachers": args.teachers, "requests": n,
        "worker_cpu_ms_per_page": round(1000 * cpu / n, 2),
        "postgresql_cpu_ms_per_page": (round(1000 * (pg_after - pg_before) / n, 2)
                                       if pg_before is not None and pg_after is not None
                                       else None),
        "statements_per_page": round(statements / n, 2),
        "wall_ms_per_page": round(1000 * wall / n, 2),
        "page_bytes": len(answer.get_data()),
        "machine": (f"{platform.node()}, {os.cpu_count()} CPUs, "
                    f"{platform.python_implementation()} {platform.python_version()}, "
                    f"load average {os.getloadavg()[0]:.1f}"),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
