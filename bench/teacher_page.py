"""Benchmark: the teacher page and the deficit map under gunicorn on PostgreSQL at scale.

Seeds N teachers (25 per school, schools in 10 municipalities), 8 competencies in 4 groups,
an entry and a final diagnostic with a stored level per teacher and competency (about a
third of the levels deficits, as a regional entry test gives), and a route of two items per
teacher; starts ProfRoute under gunicorn (``config/gunicorn_conf.py``, 2 workers); signs in
as a web user the bench creates through the CLI (``profroute web-user add``, a
methodologist of the whole region); then drives ``/teachers/<random Moodle id>`` with an open-loop
load generator (one request every 1/rate s whatever the answers, each on its own
connection: gunicorn's sync workers close it after each answer) and reports p50/p90/p99 of
the latency from the moment a request was due (so a queue in front of the workers counts),
the achieved rate and the errors; then the same for ``/`` (the deficit map) at a lower rate.

    .venv/bin/python bench/teacher_page.py --teachers 100000 --rate 200 --duration 30 \\
        [--map-rate 5 --map-duration 30] [--database-url postgresql+psycopg://...]

Without ``--database-url`` (or ``PROFROUTE_DATABASE_URL``) it starts a throw-away
PostgreSQL cluster (initdb on a free port of 127.0.0.1, removed at the end), as
tests/tools/with-postgres.sh does. A database that already holds N teachers is reused as it
is (seeding 100,000 teachers takes about a minute). ``--smoke`` runs 50 teachers for 2 s at
20 requests/s (a check that the bench works; no figures).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_SCHOOL = 25
MUNICIPALITIES = 10
COMPETENCIES = (("NL-01", "Нормативно-правовые основы", "normative"),
                ("NL-02", "Профессиональная этика", "normative"),
                ("SUB-01", "Предметные знания", "subject"),
                ("SUB-02", "Решение предметных задач", "subject"),
                ("MET-01", "Методика обучения", "method"),
                ("MET-02", "Оценивание результатов", "method"),
                ("PSY-01", "Психология развития", "psychology"),
                ("PSY-02", "Инклюзивное образование", "psychology"))
THRESHOLDS = {"deficit_below": 0.5, "risk_below": 0.7, "min_questions": 2.0,
              "source": "default", "attempts": "лучшая попытка", "label": ""}
FIRST_MOODLE_ID = 1000
BENCH_LOGIN = "bench"
# Sessions are bound to the browser (Flask-Login's "strong" protection hashes the address and
# the User-Agent): every request of the bench sends this one.
USER_AGENT = "profroute-bench/1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL cluster in a temporary directory on a free port; its URL."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    initdb = str(bins[-1]) if bins else shutil.which("initdb")
    if initdb is None:
        raise SystemExit("no PostgreSQL server binaries (initdb): install Debian's postgresql "
                         "or pass --database-url")
    pgbin = Path(initdb).parent
    runas = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    work = Path(tempfile.mkdtemp(prefix="profroute-bench-pg."))
    work.chmod(0o755)
    if os.getuid() == 0:
        shutil.chown(work, "postgres")
    port = free_port()
    data = work / "data"
    try:
        subprocess.run([*runas, initdb, "-D", str(data), "-U", "postgres", "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        subprocess.run([*runas, str(pgbin / "pg_ctl"), "-D", str(data), "-l",
                        str(work / "server.log"), "-w", "-t", "30", "-o",
                        f"-h 127.0.0.1 -p {port} -k {work} -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off "
                        "-c max_connections=200 -c shared_buffers=512MB", "start"],
                       check=True, capture_output=True)
        subprocess.run([str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        "postgres", "profroute_bench"], check=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/profroute_bench"
    finally:
        subprocess.run([*runas, str(pgbin / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


def seed(url: str, teachers: int, *, memos: bool = True) -> None:
    """The schema by the migrations, then N teachers with levels and routes (COPY on
    PostgreSQL); a database that already has N teachers is left as it is. ``memos``: also
    store what the deficits stage stores per teacher (the teacher page reads it)."""
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db, prepare_schema
    from app.models import Teacher
    from app.settings import Settings

    app = create_app(Settings(database_url=url), require_secret_key=False)
    with app.app_context():
        prepare_schema()
        have = db.session.scalar(select(func.count(Teacher.id))) or 0
        if have == teachers:
            print(f"seed: reusing {have} teachers", file=sys.stderr)
            if memos:
                store_memos()
            return
        if have:
            raise SystemExit(f"the database holds {have} teachers, not {teachers}: "
                             "use an empty database")
        started = time.perf_counter()
        raw = db.engine.raw_connection()
        try:
            _copy_all(raw.driver_connection, teachers)  # type: ignore[arg-type]
            raw.commit()
        finally:
            raw.close()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(f"seed: {teachers} teachers in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        if memos:
            store_memos()


def store_memos() -> None:
    """What the deficits stage stores after the levels of each diagnostic (the seed writes
    levels by COPY, not through the stage): every teacher's risk-group reason and change."""
    from flask import current_app
    from sqlalchemy import func, select

    from app import settings_of
    from app.extensions import db
    from app.models import Diagnostic
    from app.reports.maps import levels_frame

    try:
        from app.analyse.teacher_memo import store_teacher_memos
        from app.models import TeacherMemo
    except ImportError:  # a checkout from before the stored results (a baseline run)
        return

    if db.session.scalar(select(func.count()).select_from(TeacherMemo)):
        return
    for diagnostic in db.session.scalars(select(Diagnostic).order_by(Diagnostic.id)).all():
        started = time.perf_counter()
        levels, _ = levels_frame(diagnostic)
        store_teacher_memos(diagnostic.id, levels, settings_of(current_app))
        print(f"seed: stored the memos of diagnostic {diagnostic.id} in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


def _copy(cur: Any, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]
          ) -> None:
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_all(conn: Any, teachers: int) -> None:
    rnd = random.Random(11)
    schools = (teachers + PER_SCHOOL - 1) // PER_SCHOOL
    thresholds = json.dumps(THRESHOLDS, ensure_ascii=False)
    now = "2026-12-01 00:00:00+00"
    with conn.cursor() as cur:
        _copy(cur, "municipality", ("id", "name"),
              ((m, f"Муниципалитет {m}") for m in range(1, MUNICIPALITIES + 1)))
        _copy(cur, "school", ("id", "code", "name", "municipality_id", "low_results",
                              "adverse_context", "resource_centre"),
              ((s, f"S{s:05d}", f"Школа № {s}", 1 + s % MUNICIPALITIES, s % 7 == 0,
                s % 11 == 0, s % 50 == 0) for s in range(1, schools + 1)))
        _copy(cur, "competency", ("id", "idnumber", "name", "group_name"),
              ((i, code, name, group) for i, (code, name, group)
               in enumerate(COMPETENCIES, start=1)))
        _copy(cur, "diagnostic", ("id", "moodle_quiz_id", "moodle_course_id", "name", "kind",
                                  "grademethod"),
              [(1, 11, 2, "Входная диагностика", "entry", 1),
               (2, 12, 2, "Итоговая диагностика", "final", 1)])
        _copy(cur, "teacher", ("id", "moodle_user_id", "username", "lastname", "firstname",
                               "middlename", "email", "idnumber", "school_id", "subjects",
                               "active"),
              ((t, FIRST_MOODLE_ID + t, f"teacher{t}", f"Фамилия{t}", "Анна", "Петровна",
                f"t{t}@school.example", "", 1 + (t - 1) // PER_SCHOOL, "математика", True)
               for t in range(1, teachers + 1)))
        _copy(cur, "offer", ("id", "key", "kind", "title", "source", "provider", "place",
                             "subjects", "mentor_name"),
              ((i, f"course-{code}", "course", f"КПК «{name}»", "catalogue", "", "", "[]", "")
               for i, (code, name, _) in enumerate(COMPETENCIES, start=1)))

        def levels() -> Iterator[tuple[Any, ...]]:
            row = 0
            for diagnostic, lift in ((1, 0.0), (2, 0.15)):
                for t in range(1, teachers + 1):
                    for c in range(1, len(COMPETENCIES) + 1):
                        row += 1
                        score = min(1.0, round(rnd.random() ** 0.7 + lift, 2))
                        level = ("deficit" if score < 0.5 else "risk" if score < 0.7
                                 else "ok")
                        yield (row, diagnostic, t, c, score, score * 4, 4.0, 4.0, level,
                               thresholds, now)
        _copy(cur, "deficit", ("id", "diagnostic_id", "teacher_id", "competency_id", "score",
                               "grade", "max_grade", "questions", "level", "thresholds",
                               "computed_at"), levels())
        _copy(cur, "route", ("id", "teacher_id", "diagnostic_id", "created_at"),
              ((t, t, 1, now) for t in range(1, teachers + 1)))
        _copy(cur, "route_item", ("id", "route_id", "offer_id", "status", "rule",
                                  "competencies", "reasons", "updated_at"),
              ((2 * t - k, t, 1 + (t + k) % len(COMPETENCIES), "proposed", "deficit",
                json.dumps([COMPETENCIES[(t + k) % len(COMPETENCIES)][0]]),
                json.dumps(["дефицит по компетенции"], ensure_ascii=False), now)
               for t in range(1, teachers + 1) for k in (0, 1)))
        for table in ("municipality", "school", "competency", "diagnostic", "teacher", "offer",
                      "deficit", "route", "route_item"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")


def add_web_user(env: dict[str, str], password: str) -> None:
    """The bench's login through the CLI, as an administrator would create one."""
    done = subprocess.run([sys.executable, "-m", "app.cli", "web-user", "list"], env=env,
                          capture_output=True, text=True, check=True)
    if f'"login": "{BENCH_LOGIN}"' in done.stdout:
        subprocess.run([sys.executable, "-m", "app.cli", "web-user", "passwd", BENCH_LOGIN,
                        "--password-stdin"], env=env, input=password + "\n", check=True,
                       capture_output=True, text=True)
        return
    subprocess.run([sys.executable, "-m", "app.cli", "web-user", "add", BENCH_LOGIN,
                    "--name", "Нагрузочный тест", "--role", "methodologist", "--region",
                    "--password-stdin"], env=env,
                   input=password + "\n", check=True, capture_output=True, text=True)


def sign_in(base: str, password: str) -> str:
    """Sign in through the form (CSRF token included); the Cookie header to send."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on /login")
    done = session.post(f"{base}/login", data={"csrf_token": token.group(1),
                                               "login": BENCH_LOGIN, "password": password},
                        timeout=30, allow_redirects=False)
    if done.status_code != 302:
        raise SystemExit(f"sign-in refused: HTTP {done.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


class _Request(asyncio.Protocol):
    """One GET on its own connection, at the transport level (no streams: less CPU per
    request for the generator); the status once the server closed the connection, 0 when it
    closed without answering."""

    def __init__(self, request: bytes, done: asyncio.Future[int]) -> None:
        self.request, self.done, self.head = request, done, b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if len(self.head) < 16:
            self.head += data[:16]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is not None:
            self.done.set_exception(exc)
        else:
            parts = self.head.split()
            self.done.set_result(int(parts[1]) if len(parts) > 1 else 0)


async def _one(host: str, port: int, path: str, cookie: str) -> int:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[int] = loop.create_future()
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
               f"User-Agent: {USER_AGENT}\r\nConnection: close\r\n\r\n").encode()
    transport, _ = await loop.create_connection(lambda: _Request(request, done), host, port)
    try:
        return await done
    finally:
        transport.close()


def machine_cpu() -> tuple[float, float, float]:
    """Seconds of CPU the whole machine spent busy (user, system, interrupts), idle and stolen
    by the hypervisor so far (``/proc/stat``; zeros where there is none)."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return ((user + nice + system + irq + softirq) / tick, (idle + iowait) / tick,
            steal / tick)


async def open_loop(base: str, paths: list[str], rate: float, duration: float, cookie: str
                    ) -> dict[str, Any]:
    """Send ``rate`` requests a second for ``duration`` seconds, each due at a fixed time."""
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", int(parts.port or 80)
    total = int(rate * duration)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1
    cpu = time.process_time()
    busy, idle, steal = machine_cpu()

    async def request(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            status = await asyncio.wait_for(_one(host, port, paths[i % len(paths)], cookie), 60)
            statuses[str(status)] += 1
        except (OSError, TimeoutError) as err:
            statuses[type(err).__name__] += 1
        latencies.append(loop.time() - due)

    await asyncio.gather(*(request(i) for i in range(total)))
    elapsed = loop.time() - start
    cpu = time.process_time() - cpu
    busy_after, idle_after, steal_after = machine_cpu()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 1)

    return {"requests": total, "offered_rate": rate, "achieved_rate": round(total / elapsed, 1),
            "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
            "max_ms": round(1000 * ordered[-1], 1),
            "mean_ms": round(1000 * statistics.fmean(ordered), 1),
            "statuses": dict(statuses),
            "generator_cpu_ms_per_request": round(1000 * cpu / total, 2),
            # Everything the request cost the machine: workers, PostgreSQL, the generator,
            # the kernel's TCP; and the share of time the hypervisor gave to other guests.
            "machine_cpu_ms_per_request": round(1000 * (busy_after - busy) / total, 2),
            "stolen_share": round((steal_after - steal) / max(
                1e-9, busy_after - busy + idle_after - idle + steal_after - steal), 3),
            "errors": sum(n for s, n in statuses.items() if s != "200")}


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    seed(url, args.teachers)
    password = secrets.token_urlsafe(18)
    port = free_port()
    env = {**os.environ, "PROFROUTE_DATABASE_URL": url,
           "PROFROUTE_SECRET_KEY": secrets.token_hex(32),
           "PROFROUTE_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(args.workers),
           "PYTHONPATH": str(ROOT)}
    add_web_user(env, password)
    log = open(args.log, "w") if args.log else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:config.gunicorn_conf",
         "app:create_app()"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("gunicorn did not answer /login within 30 s")
        cookie = sign_in(base, password)
        rnd = random.Random(7)
        ids = [FIRST_MOODLE_ID + rnd.randint(1, args.teachers) for _ in range(5000)]
        teacher_paths = [f"/teachers/{i}" for i in ids]
        check = requests.get(f"{base}{teacher_paths[0]}",
                             headers={"Cookie": cookie, "User-Agent": USER_AGENT},
                             timeout=120, allow_redirects=False)
        if check.status_code != 200 or "Индивидуальный образовательный маршрут" not in check.text:
            raise SystemExit(f"the teacher page answered HTTP {check.status_code}")
        # Warm-up: each worker's first requests load templates and the policy.
        asyncio.run(open_loop(base, teacher_paths[-50:], min(args.rate, 20), 2, cookie))
        result: dict[str, Any] = {"teachers": args.teachers, "workers": args.workers}
        result["teacher_page"] = asyncio.run(open_loop(base, teacher_paths, args.rate,
                                                       args.duration, cookie))
        print(json.dumps({"teacher_page": result["teacher_page"]}), file=sys.stderr)
        if args.map_rate > 0:
            asyncio.run(open_loop(base, ["/"], min(args.map_rate, 1), 2, cookie))
            result["deficit_map"] = asyncio.run(open_loop(base, ["/"], args.map_rate,
                                                          args.map_duration, cookie))
        return result
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # workers still inside long requests
            server.kill()
            server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=200.0, help="teacher pages a second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--map-rate", type=float, default=5.0, help="map pages a second")
    parser.add_argument("--map-duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=os.environ.get("PROFROUTE_DATABASE_URL", ""))
    parser.add_argument("--log", default="", help="gunicorn's output to this file")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.teachers, args.rate, args.duration = 50, 20.0, 2.0
        args.map_rate, args.map_duration = 2.0, 2.0
    load = os.getloadavg()[0]
    with (contextlib.nullcontext(args.database_url) if args.database_url
          else throwaway_postgres()) as url:
        result = run(url, args)
    result["machine"] = (f"{platform.node()}, {os.cpu_count()} CPUs, "
                         f"{platform.python_implementation()} {platform.python_version()}, "
                         f"load average {load:.1f} at start")
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
