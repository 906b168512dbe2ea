"""Figures of one run of the ADL LRS conformance suite (its JSON log), for ProfRoute's endpoint.

ProfRoute claims the Statement resource (and /about) only. Tests of the document resources
(State, Agents, Activities, Agent and Activity Profile, their concurrency) are counted apart:
those resources stay refused (404). Usage: python xapi_conformance_summary.py LOG [--failures]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

NOT_CLAIMED = ("Document Resource", "State Resource", "Agents Resource", "Activities Resource",
               "Agent Profile Resource", "Activity Profile Resource", "Concurrency")
# Suites that test every resource: their tests naming a document resource are not claimed.
MIXED = ("HEAD Request", "About Resource")
DOCUMENT_WORDS = ("activities", "agents")


def claimed(top: str, title: str) -> bool:
    """True for a test of the Statement resource (or /about itself)."""
    if any(part in top for part in NOT_CLAIMED):
        return False
    return not (any(part in top for part in MIXED)
                and any(word in title.lower() for word in DOCUMENT_WORDS))


def leaves(node: dict[str, Any], top: str = "") -> Iterator[tuple[str, str, str]]:
    """(top-level suite, test title, status) of every test without sub-tests."""
    children = node.get("tests") or []
    if not children:
        yield top, str(node.get("title") or node.get("name")), str(node.get("status"))
    for child in children:
        yield from leaves(child, top or str(child.get("title") or child.get("name")))


def main(path: str, failures: bool) -> None:
    log = json.loads(open(path, encoding="utf-8").read())
    counts: Counter[tuple[bool, str]] = Counter()
    for top, title, status in leaves(log["log"]):
        ours = claimed(top, title)
        counts[ours, status] += 1
        if failures and ours and status == "failed":
            print(f"FAIL [{top}] {title}")
    print(f"suite total: {log['summary']}")
    print(f"statement resource: {counts[True, 'passed']} passed, {counts[True, 'failed']} failed")
    print(f"resources not claimed: {counts[False, 'passed']} passed, "
          f"{counts[False, 'failed']} failed (refused with 404)")


if __name__ == "__main__":
    main(sys.argv[1], "--failures" in sys.argv[2:])
