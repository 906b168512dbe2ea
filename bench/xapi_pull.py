"""Benchmark: xAPI pull+map rate against the LRS's own raw GET rate, and ProfRoute's endpoint.

    .venv/bin/python bench/xapi_pull.py [--statements 100000] [--page 1000]

1. Seeds a Ralph LRS (file-system backend, started by tests/tools/lrs.py) with N statements
   shaped like Moodle's xAPI log store output (the golden files of ../shared/xapi, one user
   and one id per statement).
2. Raw: plain HTTP GETs of the same pages (``limit`` = page, following ``more``), JSON decoded.
3. Pull+map: ProfRoute's LRSClient over the same pages, every statement mapped to events.
4. Endpoint: statements per second accepted by ProfRoute's own ``POST /xapi/statements`` in
   batches of 100 over HTTP on 127.0.0.1 (SQLite), when the endpoint is present.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import platform
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "tools")]
SITE = "http://www.example.org"
GOLDEN = Path(os.environ.get("PROFROUTE_XAPI_STATEMENTS_DIR",
                             ROOT.parent / "shared" / "xapi" / "logstore_xapi_statements"))


def templates() -> list[dict]:
    """The golden statements merged with common.statement.json (as the plugin's tests do)."""
    common = json.loads((GOLDEN / "common.statement.json").read_text())

    def merge(base: object, over: object) -> object:
        if isinstance(base, dict) and isinstance(over, dict):
            out = dict(base)
            out.update({k: merge(base.get(k), v) for k, v in over.items()})
            return out
        return copy.deepcopy(over)

    out = []
    for path in sorted(GOLDEN.glob("*.statements.json")):
        out += [merge(common, s) for s in json.loads(path.read_text())]
    return out


def seed(store: Path, count: int) -> None:
    """Write N statements straight into Ralph's store file (a POST per batch is far slower)."""
    base = templates()
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    authority = {"objectType": "Agent", "account": {"homePage": "https://profroute.ru",
                                                    "name": "profroute"}}
    store.mkdir(parents=True, exist_ok=True)
    with (store / "fs_lrs.jsonl").open("w", encoding="utf-8") as out:
        for n in range(count):
            statement = copy.deepcopy(base[n % len(base)])
            statement["id"] = str(uuid.UUID(int=n + 1))
            statement["actor"]["account"]["name"] = str(3 + n % 5000)
            moment = start + dt.timedelta(seconds=n)
            statement["timestamp"] = statement["stored"] = moment.isoformat()
            statement["authority"] = authority
            out.write(json.dumps(statement, ensure_ascii=False) + "\n")


def raw_rate(url: str, auth: tuple[str, str], page: int) -> tuple[int, float]:
    """Plain GETs following ``more``: (statements, seconds)."""
    headers = {"X-Experience-API-Version": "1.0.3"}
    base = url.split("/xAPI/", maxsplit=1)[0]
    next_url: str | None = f"{url}statements?limit={page}&ascending=true"
    count, started = 0, time.perf_counter()
    with requests.Session() as session:
        while next_url:
            body = session.get(next_url, auth=auth, headers=headers, timeout=600).json()
            count += len(body["statements"])
            more = body.get("more")
            next_url = (base + more if more and more.startswith("/") else more) or None
    return count, time.perf_counter() - started


def pull_rate(url: str, auth: tuple[str, str], page: int) -> tuple[int, float, dict]:
    """ProfRoute's client and mapper over the same pages: (statements, seconds, kinds)."""
    from itertools import islice

    from xapi.client import LRSClient
    from xapi.mapping import map_statements
    from xapi.settings import LRSSettings

    client = LRSClient(LRSSettings(endpoint=url, username=auth[0], password=auth[1],
                                   timeout=600))
    kinds: dict[str, int] = {}
    count, started = 0, time.perf_counter()
    stream = client.get_statements(limit=page, ascending=True)
    while chunk := list(islice(stream, 500)):
        result = map_statements(chunk, SITE, quiz_ids={9: 1})
        count += len(chunk)
        for kind, n in result.counts.items():
            kinds[kind] = kinds.get(kind, 0) + n
    return count, time.perf_counter() - started, kinds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()
    os.environ["RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT"] = str(args.page)
    from lrs import running_lrs

    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.statements} statements, pages of {args.page}", flush=True)
    auth = ("bench", secrets.token_urlsafe(12))
    with tempfile.TemporaryDirectory() as tmp:
        seed(Path(tmp) / "store", args.statements)
        with running_lrs(Path(tmp), username=auth[0], password=auth[1], timeout=120) as url:
            n_raw, t_raw = raw_rate(url, auth, args.page)
            n_pull, t_pull, kinds = pull_rate(url, auth, args.page)
    row = {"statements": n_raw, "raw_per_s": round(n_raw / t_raw), "raw_s": round(t_raw, 1),
           "pull_map_per_s": round(n_pull / t_pull), "pull_map_s": round(t_pull, 1),
           "ratio": round((n_pull / t_pull) / (n_raw / t_raw), 3), "kinds": kinds}
    print(json.dumps(row, ensure_ascii=False), flush=True)
    print(json.dumps(endpoint_rate()), flush=True)


def endpoint_rate(total: int = 20_000, batch: int = 100) -> dict[str, object]:
    """ProfRoute's own statements resource over HTTP: accepted statements per second."""
    import base64
    import logging
    import threading

    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import db, prepare_schema
    from app.settings import Settings
    from app.xapi.credentials import create_credential

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    base = templates()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/endpoint.db"),
                         require_secret_key=False)  # one process, no browser session
        with app.app_context():
            prepare_schema()
            credential, secret = create_credential(SITE)
            db.session.commit()
            key = credential.key
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.socket.getsockname()[1]}/xapi/statements"
        auth = base64.b64encode(f"{key}:{secret}".encode()).decode()
        headers = {"Authorization": f"Basic {auth}", "X-Experience-API-Version": "1.0.3"}
        batches = []
        for start in range(0, total, batch):
            chunk = []
            for n in range(start, min(total, start + batch)):
                statement = copy.deepcopy(base[n % len(base)])
                statement["id"] = str(uuid.uuid4())
                statement["actor"]["account"]["name"] = str(3 + n % 5000)
                chunk.append(statement)
            batches.append(json.dumps(chunk))
        started = time.perf_counter()
        with requests.Session() as session:
            for body in batches:
                answer = session.post(url, data=body, timeout=60,
                                      headers={**headers, "Content-Type": "application/json"})
                answer.raise_for_status()
        seconds = time.perf_counter() - started
        server.shutdown()
    return {"endpoint_statements": total, "batch": batch, "seconds": round(seconds, 1),
            "accepted_per_s": round(total / seconds)}


if __name__ == "__main__":
    main()
