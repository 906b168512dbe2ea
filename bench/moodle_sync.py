"""Benchmark: Moodle sync cost against the sandbox with an injected per-call latency.

Measures web-service calls per teacher for a full and an incremental sync, wall time
sequential (1 worker) vs pooled (default 4), the ratio to the lower bound
(calls × latency ÷ pool size) and peak memory (max RSS of a fresh process per run).

    .venv/bin/python bench/moodle_sync.py [--teachers 1000 10000] [--latency-ms 50]

Each measurement runs in its own process (``--one``) so its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def one(url: str, token: str, db_url: str, workers: int, full: bool) -> dict[str, object]:
    """Run one sync in this process; report time, calls and peak RSS."""
    from app import create_app
    from app.common.moodle import moodle_api
    from app.extensions import prepare_schema
    from app.settings import Settings
    from app.sync.pull import sync

    settings = Settings(database_url=db_url, moodle_url=url, moodle_token=token,
                        sync_workers=workers, moodle_timeout=120)
    app = create_app(settings, require_secret_key=False)  # no page served to a browser
    with app.app_context():
        prepare_schema()
        api = moodle_api(settings)
        started = time.perf_counter()
        summary = sync(api, settings, full=full)
        elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "calls": summary.moodle_calls, "mode": summary.mode,
            "teachers": summary.teachers, "changed": summary.changed,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def measure(url: str, token: str, db_url: str, workers: int, *, full: bool) -> dict[str, object]:
    """One sync in a fresh process."""
    out = subprocess.run(
        [sys.executable, __file__, "--one", url, token, db_url, str(workers), str(int(full))],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def hook(url: str, token: str, name: str, body: dict[str, object]) -> None:
    requests.post(f"{url}/_sandbox/{name}", json=body, headers={"X-Sandbox-Token": token},
                  timeout=10).raise_for_status()


def bench(teachers: int, latency_ms: int, sequential: bool, plugin: bool
          ) -> list[dict[str, object]]:
    from app.demo.sandbox import running_sandbox

    token = secrets.token_hex(16)
    rows = []
    with running_sandbox(token, teachers=teachers, plugin=plugin, timeout=120) as url, \
            tempfile.TemporaryDirectory() as tmp:
        hook(url, token, "latency", {"ms": latency_ms})
        runs = [("pooled", 4)] + ([("sequential", 1)] if sequential else [])
        for label, workers in runs:
            db_url = f"sqlite:///{tmp}/{label}.db"
            full = measure(url, token, db_url, workers, full=True)
            incremental = measure(url, token, db_url, workers, full=False)
            bound = full["calls"] * latency_ms / 1000 / workers
            rows.append({"teachers": teachers, "plugin": plugin, "run": label,
                         "workers": workers,
                         "full": full, "incremental": incremental,
                         "calls_per_teacher_full": round(full["calls"] / teachers, 3),
                         "lower_bound_s": round(bound, 2),
                         "ratio_to_bound": round(full["seconds"] / bound, 3)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        url, token, db_url, workers, full = sys.argv[2:7]
        print(json.dumps(one(url, token, db_url, int(workers), full == "1")))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--sequential-up-to", type=int, default=1000,
                        help="also run 1 worker for sizes up to this (it is slow)")
    parser.add_argument("--paths", nargs="+", default=["plugin", "no-plugin"],
                        choices=["plugin", "no-plugin"],
                        help="with the ProfRoute plugin (completions in one call) or without")
    args = parser.parse_args()
    print(f"# {platform.node()} {platform.machine()} {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, latency {args.latency_ms} ms", flush=True)
    for path in args.paths:
        for size in args.teachers:
            bench(size, args.latency_ms, sequential=size <= args.sequential_up_to,
                  plugin=path == "plugin")


if __name__ == "__main__":
    main()
