"""`profroute demo --no-serve`: the whole job on the sandbox, a summary, a fresh start each run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def run_demo(cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFROUTE_")}
    done = subprocess.run([sys.executable, "-m", "app.cli", "demo", "--no-serve"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_runs_the_job_and_prints_the_summary(tmp_path: Path) -> None:
    first = run_demo(tmp_path)
    assert "Педагогов синхронизировано: 180" in first
    assert "Дефициты по компетенциям:" in first and "PK-06:" in first
    sent = next(line for line in first.splitlines() if "Зачислений отправлено" in line)
    assert int(re.search(r"Moodle: (\d+)", sent).group(1)) > 50
    # A teacher declines an enrolled item: the route is re-planned with another offer, the
    # old enrolment suspended and the new one sent on the next push.
    declined = next(line for line in first.splitlines() if "Отказ педагога" in line)
    assert re.search(r"маршрут перестроен: «[^»]+", declined), declined
    assert int(re.search(r"новые\): (\d+)", declined).group(1)) >= 2, declined
    final = next(line for line in first.splitlines() if "Итоговую диагностику" in line)
    took, closed, entry_deficits, rated = map(int, re.findall(r"\d+", final))
    assert 0 < closed < entry_deficits and closed == rated  # each closed deficit rated once
    assert 50 < took < 180
    assert (tmp_path / "var" / "demo.db").exists()
    assert run_demo(tmp_path) == first  # a fresh municipality every time: same figures


def test_the_demos_period_feeds_effectiveness_and_capacity(tmp_path: Path) -> None:
    out = run_demo(tmp_path)
    studied = next(line for line in out.splitlines() if "Прошло полгода" in line)
    done, enrolled = map(int, re.findall(r"\d+", studied))
    assert 0.5 * enrolled < done < enrolled
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFROUTE_")}
    env["PROFROUTE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'var' / 'demo.db'}"

    def cli(*args: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    effect = cli("effectiveness", "--by", "kind")
    shown = [r for r in effect["rows"] if r["completed"]["share"] is not None]
    assert shown, effect["rows"]
    for row in shown:  # a share with its interval, beside the naive comparison
        c = row["completed"]
        assert c["low"] <= c["share"] <= c["high"] and c["pairs"] >= 10
    # Those who completed a Moodle course closed their deficit more often than those who
    # took nothing for it (the sandbox's final diagnostic rewards what was studied).
    courses = [r for r in shown if r["group"] == "course" and r["others"]["share"] is not None]
    assert courses and all(r["completed"]["share"] > r["others"]["share"] for r in courses)
    capacity = cli("capacity")
    assert {r["kind"]: r["source"] for r in capacity["rates"]}["course"] == "data"
    assert capacity["centres"] and capacity["courses"] and capacity["back_test"]
