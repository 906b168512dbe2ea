#!/usr/bin/env python3
"""Which capability of the plugin's role does each service function really need? Ask Moodle.

On a kit Moodle with the plugin installed and ``plugin_token.php`` run: first every call of
``probe_role.calls()`` is made with the role as it is (the baseline; run it on a role with which
all calls succeed), then each of the role's capabilities in turn is removed, every call is made
again, and the capability is given back. A call that then fails, or answers differently (other
keys, fewer items, warnings), is printed with the errorcode and message. Moodle names a missing
capability by its title (e.g. "Review course enrolments"), so the removed one is the ground truth.

    PROFROUTE_KIT_TOKEN=... python3 tests/tools/moodle_kit/cap_necessity.py [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import probe_role  # noqa: E402
from probe_role import wsrec  # noqa: E402

ROLE_CAP = os.environ.get("ROLE_CAP_PHP", str(HERE / "role_cap.php"))


def role_cap(*args: str) -> str:
    """Run role_cap.php as the web server user."""
    return subprocess.run(["runuser", "-u", "www-data", "--", "php", ROLE_CAP, *args],
                          check=True, capture_output=True, text=True).stdout


def shape(value: object, path: str = "") -> set[str]:
    """Key paths of an answer (lists collapsed; ``warnings!`` when warnings were given) and
    ``#<path>=<size>`` for the lists of the first two levels."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "warnings" and item:
                out.add(f"{path}.warnings!")
            out |= shape(item, f"{path}.{key}")
    elif isinstance(value, list):
        if path.count(".") <= 1:
            out.add(f"#{path}={len(value)}")
        for item in value:
            out |= shape(item, f"{path}[]")
    else:
        out.add(path)
    return out


def shrunk(base: set[str], now: set[str]) -> list[str]:
    """Key paths lost, and lists that got shorter (lists growing is the probe's own writes)."""
    sizes = dict(k[1:].rsplit("=", 1) for k in base if k.startswith("#"))
    lost = sorted(k for k in base - now if not k.startswith("#"))
    lost += [f"{k[1:]} (was {sizes.get(k[1:].rsplit('=', 1)[0])})" for k in now - base
             if k.startswith("#") and int(k.rsplit("=", 1)[1])
             < int(sizes.get(k[1:].rsplit("=", 1)[0], 0))]
    lost += sorted(k for k in now - base if k.endswith("warnings!"))
    return lost


def outcome(token: str, function: str, params: dict[str, object]) -> tuple[str, set[str]]:
    """``ok`` with the answer's shape, or ``errorcode | message``."""
    resp = wsrec.call(function, params, token)[2]
    if wsrec.is_error(resp):
        return f"{resp.get('errorcode')} | {resp.get('message')}", set()
    return "ok", shape(resp)


def run_all(token: str) -> dict[str, tuple[str, set[str]]]:
    """Every probe call once."""
    return {name: outcome(token, function, params)
            for name, function, params in probe_role.calls()}


def differences(base: dict[str, tuple[str, set[str]]],
                now: dict[str, tuple[str, set[str]]]) -> dict[str, str]:
    """Calls whose outcome changed against the baseline, described."""
    changed = {}
    for name, (status, keys) in now.items():
        base_status, base_keys = base[name]
        if status != base_status:
            changed[name] = status
        elif status == "ok" and (lost := shrunk(base_keys, keys)):
            changed[name] = f"answer changed: {lost[:8]}"
    return changed


def main() -> int:
    """Baseline, then one run per removed capability."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write {capability: {call: outcome}}")
    parser.add_argument("--caps", nargs="*",
                        help="only these capabilities; cap1+cap2 removes both together")
    args = parser.parse_args()
    token = os.environ["PROFROUTE_KIT_TOKEN"]
    base = run_all(token)
    failing = {name: status for name, (status, _) in base.items() if status != "ok"}
    print("baseline failures:", json.dumps(failing, ensure_ascii=False, indent=1))
    caps = args.caps or role_cap("list").split()
    result: dict[str, dict[str, str]] = {}
    for cap in caps:  # "a+b" removes several capabilities together
        role_cap("remove", *cap.split("+"))
        try:
            result[cap] = differences(base, run_all(token))
        finally:
            role_cap("allow", *cap.split("+"))
        print(cap, json.dumps(result[cap], ensure_ascii=False), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
