"""Scale of the item-level deficit path beside a bare pandas group-by-and-cut.

Synthetic, seeded item results: N teachers × 40 questions, 6 competencies (8, 8, 8, 8, 5
and 3 questions), 25 teachers per school. Each measurement runs in a fresh subprocess that
builds the data, then times one implementation (best of ``--repeat``, perf_counter) and
reports its peak RSS (``resource.getrusage`` max RSS) and the RSS it had before the run.

    .venv/bin/python bench/deficits_scale.py --teachers 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deficits.items import aggregate_items, score_items  # noqa: E402
from deficits.records import Thresholds  # noqa: E402

QUESTIONS_PER_COMPETENCY = (8, 8, 8, 8, 5, 3)
COMPETENCIES = [f"PK-{i:02d}" for i in range(1, len(QUESTIONS_PER_COMPETENCY) + 1)]
TEACHERS_PER_SCHOOL = 25
CHUNK = 100_000  # teachers generated at a time, so building the data stays near its size


def build(teachers: int, seed: int = 20261126) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Item results (user_id, question, competency, mark, max_mark) and the teachers."""
    per_user = sum(QUESTIONS_PER_COMPETENCY)
    question_comp = np.repeat(np.arange(len(COMPETENCIES), dtype=np.int8),
                              QUESTIONS_PER_COMPETENCY)
    rows = teachers * per_user
    mark = np.empty(rows, dtype=np.float32)
    rng = np.random.default_rng(seed)
    for first in range(0, teachers, CHUNK):
        count = min(CHUNK, teachers - first)
        ability = rng.beta(5, 3, size=count).astype(np.float32)
        draws = rng.random((count, per_user), dtype=np.float32)
        mark[first * per_user:(first + count) * per_user] = (
            draws < ability[:, None]).ravel()
        del draws
    items = pd.DataFrame({
        "user_id": np.repeat(np.arange(1, teachers + 1, dtype=np.int32), per_user),
        "question": np.tile(np.arange(per_user, dtype=np.int16), teachers),
        "competency": pd.Categorical.from_codes(np.tile(question_comp, teachers),
                                                categories=COMPETENCIES),
        "mark": mark,
        "max_mark": np.ones(rows, dtype=np.float32),
    }, copy=False)
    school = np.arange(teachers) // TEACHERS_PER_SCHOOL
    teacher_frame = pd.DataFrame({
        "user_id": np.arange(1, teachers + 1, dtype=np.int32),
        "school_code": pd.Series([f"S{s:06d}" for s in school], dtype="str"),
    })
    return items, teacher_frame


def bare(items: pd.DataFrame, teachers: pd.DataFrame) -> object:
    """Plain pandas: group-by sum → ratio → cut into 3 levels → deficit share per school."""
    sums = items.groupby(["user_id", "competency"], observed=True)[["mark", "max_mark"]].sum()
    ratio = sums["mark"] / sums["max_mark"]
    level = pd.cut(ratio, [-np.inf, 0.5, 0.7, np.inf], right=False,
                   labels=["deficit", "risk", "ok"])
    levels = level.rename("level").reset_index().merge(teachers, on="user_id", how="left")
    deficit = (levels["level"] == "deficit").rename("deficit_share")
    return deficit.groupby([levels["school_code"], levels["competency"]], observed=True).mean()


def profroute(items: pd.DataFrame, teachers: pd.DataFrame) -> object:
    """ProfRoute: scores + levels (score_items) + school and municipality maps."""
    levels = score_items(items, Thresholds())
    return aggregate_items(levels, teachers)


def _rss_now_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def worker(kind: str, teachers: int, repeat: int) -> dict[str, float]:
    """Build the data, run one implementation, report times and memory (in a fresh process)."""
    items, frame = build(teachers)
    gc.collect()
    before = _rss_now_kib()
    run = profroute if kind == "profroute" else bare
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run(items, frame)
        times.append(time.perf_counter() - start)
        del result
        gc.collect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rows": len(items), "time": min(times), "peak_mib": peak / 1024,
            "data_mib": before / 1024, "work_mib": max(peak - before, 0) / 1024}


def measure(kind: str, teachers: int, repeat: int) -> dict[str, float]:
    """Run ``worker`` in a fresh interpreter and return its report."""
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--teachers",
                          str(teachers), "--repeat", str(repeat)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--teachers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=0, help="runs per measurement (0: auto)")
    parser.add_argument("--worker", choices=["bare", "profroute"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.teachers[0], args.repeat or 1)))
        return
    print(f"# {platform.processor() or platform.machine()}, python {platform.python_version()},"
          f" pandas {pd.__version__}, numpy {np.__version__}")
    print("| teachers | rows | bare time | ProfRoute time | time ratio | bare peak RSS "
          "(work) | ProfRoute peak RSS (work) | peak ratio | work ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for teachers in args.teachers:
        repeat = args.repeat or (3 if teachers <= 100_000 else 1)
        b, p = measure("bare", teachers, repeat), measure("profroute", teachers, repeat)
        print(f"| {teachers:,} | {p['rows']:,} | {b['time']:.2f} s | {p['time']:.2f} s | "
              f"{p['time'] / b['time']:.2f} | {b['peak_mib']:,.0f} MiB ({b['work_mib']:,.0f}) | "
              f"{p['peak_mib']:,.0f} MiB ({p['work_mib']:,.0f}) | "
              f"{p['peak_mib'] / b['peak_mib']:.2f} | "
              f"{p['work_mib'] / max(b['work_mib'], 1):.2f} |", flush=True)


if __name__ == "__main__":
    main()
