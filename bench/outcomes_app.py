"""Benchmark: offer effectiveness, the planner's evidence and the capacity forecast through the
app, from stored rows on PostgreSQL (issue 14).

Seeds the population of ``bench/teacher_page.py`` (its COPY seeder: N teachers, 25 per school
in 10 municipalities, a resource centre every 50th school, 8 competencies, an entry and a final
diagnostic with a level per teacher and competency), then replaces its catalogue and routes:
2,000 offers of five kinds (internships and mentoring hosted by the centres), one to three
sessions each in 2027, every other school a partner of a centre, two route items per teacher
on the entry diagnostic on offers of the item's competency (60 % completed, 10 % enrolled,
10 % declined, 10 % approved, 10 % proposed). Then, in process, each ``--repeat`` times:
``effectiveness_report`` by offer and by kind, ``offer_effects`` (what planning reads),
``capacity_report`` for the region and for one municipality, and the pages ``/effectiveness``
and ``/capacity`` (Flask test client, signed in as an admin): the median seconds of each and
the peak RSS of the process.

    PYTHONPATH=$PWD .venv/bin/python bench/outcomes_app.py --teachers 100000 \\
        [--database-url postgresql+psycopg://...]

Without ``--database-url`` it starts a throw-away PostgreSQL cluster as teacher_page.py does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deficit_map import sign_in  # noqa: E402
from teacher_page import COMPETENCIES, _copy, seed, throwaway_postgres  # noqa: E402

OFFERS = 2000
KINDS = ("course", "external", "internship", "mentoring", "event")
STATUSES = ("completed",) * 6 + ("enrolled", "declined", "approved", "proposed")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def catalogue_and_routes(conn: Any, teachers: int) -> None:
    """2,000 offers with sessions, partnerships, and two items per teacher (see the module)."""
    rnd = random.Random(14)
    n_comp = len(COMPETENCIES)
    with conn.cursor() as cur:
        # TRUNCATE, not DELETE: route_item refers to itself (replaces_id, no index), so a
        # DELETE of 200,000 items scans the table once per row.
        cur.execute("TRUNCATE route_item, offer_competency, offer_session, offer CASCADE")
        cur.execute("SELECT id FROM school WHERE resource_centre ORDER BY id")
        centres = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT id FROM school WHERE NOT resource_centre ORDER BY id")
        others = [r[0] for r in cur.fetchall()]
        offers = []
        for i in range(1, OFFERS + 1):
            kind = KINDS[i % len(KINDS)]
            host = centres[i % len(centres)] if kind in ("internship", "mentoring") else None
            offers.append((i, f"offer-{i:04d}", kind, f"Предложение {i}", "catalogue", host,
                           5 if kind == "mentoring" else None, 16 + 4 * (i % 5),
                           "Наставник" if kind == "mentoring" else "", f"Организатор {i % 60}",
                           "", "[]"))
        _copy(cur, "offer", ("id", "key", "kind", "title", "source", "host_school_id",
                             "capacity", "hours", "mentor_name", "provider", "place",
                             "subjects"), offers)
        # Offer i develops competency (i mod 8) + 1 (and the next one for every third).
        pairs = [(i, 1 + i % n_comp) for i in range(1, OFFERS + 1)]
        pairs += [(i, 1 + (i + 1) % n_comp) for i in range(3, OFFERS + 1, 3)]
        _copy(cur, "offer_competency", ("offer_id", "competency_id"), pairs)
        sessions, sid = [], 0
        for i in range(1, OFFERS + 1):
            for k in range(rnd.randint(1, 3)):
                sid += 1
                start = dt.date(2027, 1, 10) + dt.timedelta(days=rnd.randint(0, 300))
                sessions.append((sid, i, f"s{k + 1}", start, start + dt.timedelta(days=4), "",
                                 rnd.randint(5, 30), 16))
        _copy(cur, "offer_session", ("id", "offer_id", "key", "starts_on", "ends_on", "place",
                                     "seats", "hours"), sessions)
        _copy(cur, "partnership", ("id", "resource_centre_id", "school_id", "agreement_no"),
              ((k + 1, centres[k % len(centres)], s, f"Д-{k + 1}")
               for k, s in enumerate(others[::2])))
        by_comp: dict[int, list[int]] = {}
        for offer_id, comp in pairs:
            by_comp.setdefault(comp, []).append(offer_id)
        now = "2026-12-01 00:00:00+00"

        def items() -> Iterator[tuple[Any, ...]]:
            for t in range(1, teachers + 1):
                taken = set()
                for k in (0, 1):
                    comp = 1 + (t + k) % n_comp
                    choices = by_comp[comp]
                    at = (t * 31 + k) % len(choices)
                    while choices[at] in taken:  # one item per offer and route
                        at = (at + 1) % len(choices)
                    offer_id = choices[at]
                    taken.add(offer_id)
                    yield (2 * t - k, t, offer_id, STATUSES[(t * 7 + k) % len(STATUSES)],
                           "deficit", json.dumps([COMPETENCIES[comp - 1][0]]),
                           json.dumps(["дефицит по компетенции"], ensure_ascii=False), now)
        _copy(cur, "route_item", ("id", "route_id", "offer_id", "status", "rule",
                                  "competencies", "reasons", "updated_at"), items())
        for table in ("offer", "offer_session", "partnership", "route_item"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")


def median_of(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The median seconds of ``repeat`` runs of ``work`` and its last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3), result


def run(url: str, teachers: int, repeat: int) -> dict[str, Any]:
    from app import create_app
    from app.accounts.roles import REGION, Scope
    from app.analyse.outcomes import offer_effects
    from app.extensions import db
    from app.reports.capacity import capacity_report
    from app.reports.effectiveness import effectiveness_report
    from app.settings import Settings

    seed(url, teachers, memos=False)
    app = create_app(Settings(database_url=url), require_secret_key=False)
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            catalogue_and_routes(raw.driver_connection, teachers)
            raw.commit()
        finally:
            raw.close()
    out: dict[str, Any] = {"teachers": teachers, "offers": OFFERS, "repeat": repeat,
                           "machine": f"{platform.node()} ({platform.processor() or 'cpu'})"}
    start = dt.date(2027, 1, 1)
    with app.app_context():
        t, report = median_of(repeat, lambda: effectiveness_report(REGION, "offer"))
        out["effectiveness_by_offer_s"], out["effect_rows"] = t, len(report.rows)
        out["effect_rows_with_share"] = sum(r.completed.share is not None for r in report.rows)
        t, report = median_of(repeat, lambda: effectiveness_report(REGION, "kind"))
        out["effectiveness_by_kind_s"] = t
        t, effects = median_of(repeat, offer_effects)
        out["offer_effects_s"], out["effects"] = t, len(effects)
        t, forecast = median_of(repeat, lambda: capacity_report(REGION, start=start))
        out["capacity_region_s"], out["centre_rows"] = t, len(forecast.centres)
        local = Scope(municipality_ids=frozenset({1}))
        t, forecast = median_of(repeat, lambda: capacity_report(local, start=start))
        out["capacity_municipality_s"] = t
    client = sign_in(app, "bench-outcomes", ["--role", "admin"])
    for path, key in (("/effectiveness", "effectiveness_page"),
                      (f"/capacity?from={start}", "capacity_page")):
        t, answer = median_of(repeat, lambda p=path: client.get(p))
        out[f"{key}_s"], out[f"{key}_bytes"] = t, len(answer.get_data())
        out[f"{key}_status"] = answer.status_code
    out["peak_rss_mb"] = round(_peak_rss_mb())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = args.database_url or stack.enter_context(throwaway_postgres())
        print(json.dumps(run(url, args.teachers, args.repeat), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
