#!/usr/bin/env python3
"""Enrolments and messages per second on a real (kit) Moodle with the plugin role's token.

Needs the throw-away data of ``bench_data.php`` (its JSON line in ``--data``). Measures
``enrol_manual_enrol_users`` with ``--batch`` enrolments per call, one call at a time and
``--parallel`` calls at a time (each in its own course, so nothing is enrolled twice), and
``core_message_send_instant_messages`` with 1 and 50 messages per call. Prints one JSON object.

    PROFROUTE_KIT_TOKEN=... python3 tests/tools/moodle_kit/measure_rates.py --data bench.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_role import wsrec  # noqa: E402

STUDENT = 5


def checked(function: str, params: dict[str, object], token: str) -> object:
    """One call; a Moodle exception stops the measurement."""
    resp = wsrec.call(function, params, token)[2]
    if wsrec.is_error(resp):
        raise SystemExit(f"{function}: {resp}")
    return resp


def chunks(items: list[int], size: int) -> list[list[int]]:
    """``items`` cut into lists of ``size``."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def enrol_rate(token: str, course: int, users: list[int], batch: int, parallel: int) -> dict[str, float]:
    """Enrol ``users`` in ``course``, ``batch`` per call, ``parallel`` calls at a time."""
    def enrol(ids: list[int]) -> object:
        rows = [{"roleid": STUDENT, "userid": u, "courseid": course} for u in ids]
        return checked("enrol_manual_enrol_users", {"enrolments": rows}, token)

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(enrol, chunks(users, batch)))
    seconds = time.perf_counter() - start
    return {"enrolments": len(users), "calls": len(chunks(users, batch)), "parallel": parallel,
            "seconds": round(seconds, 2), "per_second": round(len(users) / seconds, 1)}


def message_rate(token: str, users: list[int], per_call: int, parallel: int = 1) -> dict[str, float]:
    """One message to each of ``users``, ``per_call`` messages per call."""
    stamp = time.strftime("%H%M%S")

    def send(ids: list[int]) -> object:
        rows = [{"touserid": u, "text": f"Замер {stamp}: сообщение", "textformat": 1,
                 "clientmsgid": f"rate-{stamp}-{u}"} for u in ids]
        answer = checked("core_message_send_instant_messages", {"messages": rows}, token)
        if not isinstance(answer, list) or any(m.get("msgid", -1) < 0 for m in answer):
            raise SystemExit(f"a message was not sent: {str(answer)[:300]}")
        return answer

    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(send, chunks(users, per_call)))
    seconds = time.perf_counter() - start
    return {"messages": len(users), "per_call": per_call, "parallel": parallel,
            "seconds": round(seconds, 2), "per_second": round(len(users) / seconds, 1)}


def main() -> int:
    """Run every measurement once on disjoint users/courses."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="bench_data.php's JSON line")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--messages", type=int, default=1000,
                        help="messages per batched measurement (50 per call)")
    parser.add_argument("--single-messages", type=int, default=100,
                        help="messages sent one per call")
    args = parser.parse_args()
    token = os.environ["PROFROUTE_KIT_TOKEN"]
    data = json.loads(args.data.read_text(encoding="utf-8"))
    users, courses = data["users"], data["courses"]
    half = len(users) // 2
    out = {
        "enrol_sequential": enrol_rate(token, courses[0], users[:half], args.batch, 1),
        "enrol_parallel": enrol_rate(token, courses[1], users[half:2 * half], args.batch,
                                     args.parallel),
        "messages_1_per_call": message_rate(token, users[:args.single_messages], 1),
        "messages_50_per_call": message_rate(token, users[:args.messages], 50),
        "messages_50_per_call_parallel": message_rate(token, users[:args.messages], 50,
                                                      args.parallel),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
