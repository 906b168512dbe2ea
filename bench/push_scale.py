"""Benchmark: the Moodle push at scale against the sandbox with per-call latency.

Pushes N enrolments (one route item per teacher, spread over the PD courses), N messages
(one per route) and P learning plans (routes with a competency) in ONE ``push``, then pushes
again. Each phase runs with its own sandbox latency, chosen to match what a real Moodle 4.5
takes per call (a call of 100 enrolments about 1 s, a call of 50 messages about 240 ms, a
single plan call or read about 50 ms); the sandbox's pooled ceiling at that latency is
``parallel × batch ÷ latency`` for enrolments and ``batch ÷ latency`` for messages (sent
one batch after another). Reports the phases' rates and their ratio to that ceiling, the
calls per function, the database commits per phase, and the second push's calls.

    .venv/bin/python bench/push_scale.py [--teachers 10000] [--plans 1000]
        [--enrol-latency-ms 1000] [--message-latency-ms 240] [--latency-ms 50]

``--smoke`` runs a small size with no latency (used by a test; no figures).
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIAG_COURSE_ID = 2  # the sandbox's diagnostic course: every teacher is enrolled there


def log(message: str) -> None:
    """Progress on stderr (the figures go to stdout as JSON)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def hook(url: str, token: str, name: str, body: dict[str, object]) -> None:
    """Call a sandbox control hook."""
    requests.post(f"{url}/_sandbox/{name}", json=body, headers={"X-Sandbox-Token": token},
                  timeout=30).raise_for_status()


def seed(api: Any, teachers: int, plans: int) -> dict[str, int]:
    """Store teachers, one offer per PD course and one approved item per teacher.

    The first ``plans`` items carry a competency with a Moodle id (a plan each); the others
    none (enrolment and message only).
    """
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Competency, Diagnostic, Offer, Route, RouteItem, Teacher

    users = [t.moodle_user_id for t in api.enrolled_users(DIAG_COURSE_ID, page_size=1000)]
    users = sorted(set(users))[:teachers]
    courses = [c.course_id for c in api.courses_by_field()
               if not c.shortname.startswith("diag")][:10]
    framework = api.frameworks()[0]
    comps = api.competencies(framework.framework_id)
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=DIAG_COURSE_ID, name="bench")
    db.session.add(diagnostic)
    for c in comps:
        db.session.add(Competency(idnumber=c.idnumber, name=c.name, moodle_id=c.moodle_id))
    offers = [Offer(key=f"bench-{c}", kind="course", title=f"Курс {c}", moodle_course_id=c)
              for c in courses]
    db.session.add_all(offers)
    db.session.flush()
    db.session.execute(insert(Teacher), [{"moodle_user_id": u, "username": f"u{u}",
                                          "firstname": "Педагог", "active": True}
                                         for u in users])
    teacher_ids = dict(db.session.query(Teacher.moodle_user_id, Teacher.id).all())
    db.session.execute(insert(Route), [{"teacher_id": teacher_ids[u],
                                        "diagnostic_id": diagnostic.id} for u in users])
    route_ids = dict(db.session.query(Route.teacher_id, Route.id).all())
    db.session.execute(insert(RouteItem), [
        {"route_id": route_ids[teacher_ids[u]], "offer_id": offers[i % len(offers)].id,
         "status": "approved", "rule": "bench",
         "competencies": [comps[i % len(comps)].idnumber] if i < plans else [],
         "reasons": ["bench"]} for i, u in enumerate(users)])
    db.session.commit()
    return {"teachers": len(users), "courses": len(courses), "plans": min(plans, len(users))}


@contextmanager
def counting_commits() -> Iterator[list[int]]:
    """A list growing by one at each database commit while the block runs."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    seen: list[int] = []

    def record(_session: object) -> None:
        seen.append(1)

    event.listen(Session, "after_commit", record)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", record)


def timed_phases(url: str, token: str, latency: dict[str, int], commits: list[int],
                 figures: dict[str, dict[str, float]]) -> None:
    """Wrap the push's phases: each sets its sandbox latency, and its time and commits
    are recorded in ``figures``."""
    import app.push.run as run

    def wrap(name: str, phase: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            hook(url, token, "latency", {"ms": latency[name]})
            before, started = len(commits), time.perf_counter()
            result = phase(*args)
            figures.setdefault(name, {"seconds": round(time.perf_counter() - started, 2),
                                      "commits": len(commits) - before})  # the first push
            return result
        return timed

    for name, attr in (("read_back", "read_back"), ("enrolments", "send_enrolments"),
                       ("plans", "push_plans"), ("messages", "send_messages")):
        setattr(run, attr, wrap(name, getattr(run, attr)))


def bench(args: argparse.Namespace) -> dict[str, object]:
    """Run the two pushes and return the figures."""
    from app import create_app
    from app.common.moodle import moodle_api
    from app.demo.sandbox import running_sandbox
    from app.extensions import prepare_schema
    from app.push.run import push
    from app.settings import Settings

    token = secrets.token_hex(16)
    latency = {"enrolments": args.enrol_latency_ms, "messages": args.message_latency_ms,
               "plans": args.latency_ms, "read_back": args.latency_ms}
    with running_sandbox(token, teachers=args.teachers, timeout=300) as url, \
            tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/push.db", moodle_url=url,
                            moodle_token=token, moodle_timeout=120,
                            enrol_parallel=args.parallel)
        app = create_app(settings, require_secret_key=False)  # no page served to a browser
        with app.app_context():
            prepare_schema()
            api = moodle_api(settings)
            log(f"sandbox up at {url}")
            sizes = seed(api, args.teachers, args.plans)
            log(f"seeded {sizes}")
            figures: dict[str, dict[str, float]] = {}
            with counting_commits() as commits:
                timed_phases(url, token, latency, commits, figures)
                started = time.perf_counter()
                first = push(api, settings)
                total = time.perf_counter() - started
                hook(url, token, "latency", {"ms": 0})
                log(f"first push: {total:.1f} s")
                second = push(api, settings)
    calls = Counter(first.calls_by_function)
    enrol_ceiling = args.parallel * settings.enrol_batch_size / (latency["enrolments"] / 1000)
    message_ceiling = settings.message_batch_size / (latency["messages"] / 1000)
    enrol_rate = first.enrolments_sent / figures["enrolments"]["seconds"]
    message_rate = first.messages_sent / figures["messages"]["seconds"]
    return {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "sizes": sizes, "latency_ms": latency, "parallel": args.parallel,
        "push_seconds": round(total, 1), "phases": figures,
        "enrolments_sent": first.enrolments_sent, "already_enrolled": first.already_enrolled,
        "messages_sent": first.messages_sent, "network_changes": first.network_changes,
        "errors": first.errors[:5],
        "enrolments_per_s": round(enrol_rate, 1), "enrol_ceiling_per_s": round(enrol_ceiling),
        "enrol_ratio": round(enrol_rate / enrol_ceiling, 3),
        "messages_per_s": round(message_rate, 1),
        "message_ceiling_per_s": round(message_ceiling),
        "message_ratio": round(message_rate / message_ceiling, 3),
        "calls": first.calls, "calls_by_function": dict(calls),
        "second_push": {"calls": second.calls, "enrolments_sent": second.enrolments_sent,
                        "messages_sent": second.messages_sent,
                        "network_changes": second.network_changes},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", type=int, default=10_000)
    parser.add_argument("--plans", type=int, default=1_000)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--enrol-latency-ms", type=int, default=1000)
    parser.add_argument("--message-latency-ms", type=int, default=240)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--smoke", action="store_true",
                        help="30 teachers, 5 plans, 1 ms latencies: a quick check it runs")
    args = parser.parse_args()
    if args.smoke:
        args.teachers, args.plans = 30, 5
        args.enrol_latency_ms = args.message_latency_ms = args.latency_ms = 1
    print(json.dumps(bench(args), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
