"""Scale of ProfRoute's deficit rules on item results beside a bare pandas group-by-and-cut.

Synthetic, seeded item results: N teachers × 40 questions, 8 competencies (5 questions
each) in the 4 blocks of the professional standard, a share of teachers with a second whole
attempt, 25 teachers per school. Each measurement runs in a fresh subprocess that builds the
data, then runs one variant ``--repeat`` times (median of perf_counter, and of process_time
for the CPU) and reports its peak RSS during the runs (VmHWM, reset through
/proc/self/clear_refs once the data is built) and the RSS it had before them.

    .venv/bin/python bench/deficits_scale.py --teachers 10000 100000 1000000

Variants:
    bare       the same item rows: best attempt per teacher by sumgrades (drop_duplicates,
               sort_values, isin), groupby(user_id, competency) sum, mark / max_mark, one
               pd.cut into deficit / risk / ok with the default thresholds, merge the school,
               deficit share per school × competency and per competency.
    profroute  the pipeline's path from the same item rows: the marks summed per attempt and
               competency (what Moodle's grade items give the pipeline), then
               deficits.policy.score_with_policy with the ThresholdPolicy (group and
               framework overrides, minimum questions per group) and the "best" attempt
               policy, deficits.aggregate.school_map and municipality_map, and
               deficits.risk.risk_group (the risk group with its reasons).
    marks      score_with_policy alone on the marks frame (summing untimed).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deficits.aggregate import municipality_map, school_map  # noqa: E402
from deficits.policy import ThresholdPolicy, score_with_policy  # noqa: E402
from deficits.records import Thresholds  # noqa: E402
from deficits.risk import RiskRule, risk_group  # noqa: E402

GROUPS = {"NL": "normative-legal", "SUB": "subject", "MET": "methodological",
          "PSY": "psychological-pedagogical"}
COMPETENCIES = pd.DataFrame({
    "competency": [f"{block}-0{i}" for block in GROUPS for i in (1, 2)],
    "framework": ["PS", "PS", "PS", "PS", "PS", "FL", "PS", "FL"],  # FL: functional literacy
    "group": [group for group in GROUPS.values() for _ in (1, 2)],
})
QUESTIONS_PER_COMPETENCY = 5
# Scores are fifths (5 questions): the overrides move 0.6 to deficit in the subject block and
# 0.4 to risk, 0.6 to ok in the FL framework.
POLICY = ThresholdPolicy(Thresholds(0.5, 0.7, 3), frameworks={"FL": Thresholds(0.35, 0.55, 3)},
                         groups={"subject": Thresholds(0.65, 0.85, 5)})
ATTEMPT_POLICY = "best"
RULE = RiskRule(min_groups_with_deficit=2, groups_always=("subject",))
TEACHERS_PER_SCHOOL = 25
CHUNK = 100_000  # teachers generated at a time, so building the data stays near its size


def build(teachers: int, second: float, seed: int = 20261126) -> tuple[pd.DataFrame, ...]:
    """Item rows (user, question, competency, mark, max_mark, attempt columns), teachers."""
    per_attempt = QUESTIONS_PER_COMPETENCY * len(COMPETENCIES)
    rng = np.random.default_rng(seed)
    attempts_of = 1 + (rng.random(teachers) < second)
    attempt_user = np.repeat(np.arange(1, teachers + 1, dtype=np.int32), attempts_of)
    attempt_no = (np.arange(len(attempt_user)) - np.repeat(np.cumsum(attempts_of) - attempts_of,
                                                           attempts_of) + 1).astype(np.int8)
    rows = len(attempt_user) * per_attempt
    mark = np.empty(rows, dtype=np.float32)
    ability = rng.beta(5, 3, size=teachers).astype(np.float32)
    for first in range(0, len(attempt_user), CHUNK):
        users = attempt_user[first:first + CHUNK] - 1
        draws = rng.random((len(users), per_attempt), dtype=np.float32)
        mark[first * per_attempt:(first + len(users)) * per_attempt] = (
            draws < ability[users, None]).ravel()
        del draws
    sumgrades = mark.reshape(-1, per_attempt).sum(axis=1, dtype=np.float32)
    question_comp = np.repeat(np.arange(len(COMPETENCIES), dtype=np.int8),
                              QUESTIONS_PER_COMPETENCY)
    items = pd.DataFrame({
        "user_id": np.repeat(attempt_user, per_attempt),
        "question": np.tile(np.arange(per_attempt, dtype=np.int16), len(attempt_user)),
        "competency": pd.Categorical.from_codes(np.tile(question_comp, len(attempt_user)),
                                                categories=list(COMPETENCIES["competency"])),
        "mark": mark,
        "max_mark": np.ones(rows, dtype=np.float32),
        "attempt_id": np.repeat(np.arange(1, len(attempt_user) + 1, dtype=np.int32),
                                per_attempt),
        "attempt_no": np.repeat(attempt_no, per_attempt),
        "sumgrades": np.repeat(sumgrades, per_attempt),
    }, copy=False)
    school = np.arange(teachers) // TEACHERS_PER_SCHOOL
    teacher_frame = pd.DataFrame({
        "user_id": np.arange(1, teachers + 1, dtype=np.int32),
        "school_code": pd.Series([f"S{s:06d}" for s in school], dtype="str"),
    })
    return items, teacher_frame


def marks_of(items: pd.DataFrame) -> pd.DataFrame:
    """The same results as a marks frame: one row per (user, attempt, competency)."""
    sums = items.groupby(["user_id", "attempt_id", "attempt_no", "sumgrades", "competency"],
                         observed=True, sort=False)
    frame = sums.agg(grade=("mark", "sum"), maxgrade=("max_mark", "sum"),
                     questions=("mark", "size")).reset_index()
    frame["competency"] = frame["competency"].astype("str")
    frame["time_finish"] = 0
    return frame


def bare(items: pd.DataFrame, teachers: pd.DataFrame) -> object:
    """Plain pandas: pick the best attempt, group-by sum → ratio → one cut → shares."""
    attempts = items[["user_id", "attempt_id", "sumgrades"]].drop_duplicates("attempt_id")
    best = attempts.sort_values(["user_id", "sumgrades"], ascending=[True, False])
    chosen = items[items["attempt_id"].isin(best.drop_duplicates("user_id")["attempt_id"])]
    sums = chosen.groupby(["user_id", "competency"], observed=True)[["mark", "max_mark"]].sum()
    ratio = sums["mark"] / sums["max_mark"]
    level = pd.cut(ratio, [-np.inf, 0.5, 0.7, np.inf], right=False,
                   labels=["deficit", "risk", "ok"])
    levels = level.rename("level").reset_index().merge(teachers, on="user_id", how="left")
    deficit = (levels["level"] == "deficit").rename("deficit_share")
    schools = deficit.groupby([levels["school_code"], levels["competency"]], observed=True)
    return schools.mean(), deficit.groupby(levels["competency"], observed=True).mean()


def profroute(items: pd.DataFrame, teachers: pd.DataFrame) -> dict[str, float]:
    """ProfRoute's rules: marks, levels (policy, attempts), school and municipality maps, risk."""
    start = time.perf_counter()
    frame = marks_of(items)
    summed = time.perf_counter()
    levels = score_with_policy(frame, COMPETENCIES, POLICY, ATTEMPT_POLICY)
    scored = time.perf_counter()
    del frame
    maps = school_map(levels, teachers), municipality_map(levels)
    mapped = time.perf_counter()
    risk = risk_group(levels, COMPETENCIES, RULE)
    done = time.perf_counter()
    del levels, maps, risk
    return {"marks": summed - start, "levels": scored - summed, "maps": mapped - scored,
            "risk": done - mapped}


def marks(frame: pd.DataFrame, _teachers: pd.DataFrame) -> object:
    """The pipeline's scoring: score_with_policy on the marks frame."""
    return score_with_policy(frame, COMPETENCIES, POLICY, ATTEMPT_POLICY)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def worker(kind: str, teachers: int, repeat: int, second: float) -> dict[str, object]:
    """Build the data, run one variant, report times and memory (in a fresh process)."""
    items, frame = build(teachers, second)
    rows = len(items)
    if kind == "marks":
        items = marks_of(items)
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)  # freed heap back to the system: RSS = data
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak RSS: only the runs count from here
    before = _status_kib("VmRSS")
    run = {"bare": bare, "profroute": profroute, "marks": marks}[kind]
    times, cpu, phases = [], [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = run(items, frame)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if isinstance(result, dict):
            phases.append(result)
        del result
        gc.collect()
    peak = _status_kib("VmHWM")
    return {"rows": rows, "input_rows": len(items), "time": statistics.median(times),
            "times": times, "cpu": statistics.median(cpu), "peak_mib": peak / 1024,
            "data_mib": before / 1024,
            "work_mib": max(peak - before, 0) / 1024,
            "phases": {k: statistics.median(p[k] for p in phases) for k in phases[0]}
            if phases else {}}


def measure(kind: str, teachers: int, repeat: int, second: float) -> dict[str, object]:
    """Run ``worker`` in a fresh interpreter and return its report."""
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--teachers",
                          str(teachers), "--repeat", str(repeat), "--second", str(second)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--teachers", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs per measurement, the median is reported (default 5)")
    parser.add_argument("--second", type=float, default=0.2,
                        help="share of teachers with a second attempt (default 0.2)")
    parser.add_argument("--variants", nargs="+", default=["bare", "profroute", "marks"],
                        choices=["bare", "profroute", "marks"])
    parser.add_argument("--worker", choices=["bare", "profroute", "marks"])
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.teachers[0], args.repeat, args.second)))
        return
    print(f"# python {sys.version.split()[0]}, pandas {pd.__version__}, numpy {np.__version__};"
          f" second attempts {args.second:.0%}, attempt policy {ATTEMPT_POLICY}", flush=True)
    reports: dict[tuple[int, str], dict[str, object]] = {}
    for teachers in args.teachers:
        for kind in args.variants:
            reports[teachers, kind] = measure(kind, teachers, args.repeat, args.second)
            print(json.dumps({"teachers": teachers, "variant": kind,
                              **reports[teachers, kind]}), flush=True)
    print_tables(reports)


def print_tables(reports: dict[tuple[int, str], dict]) -> None:
    """Markdown tables: bare beside ProfRoute, and score_with_policy on the marks."""
    print("\n| teachers | item rows | bare time (CPU) | ProfRoute time (CPU) | time ratio "
          "| ProfRoute ns/row "
          "| bare peak RSS (work) | ProfRoute peak RSS (work) | peak ratio | work ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (teachers, kind), p in reports.items():
        b = reports.get((teachers, "bare"))
        if kind != "profroute" or b is None:
            continue
        print(f"| {teachers:,} | {p['rows']:,} | {b['time']:.3f} s ({b['cpu']:.3f}) | "
              f"{p['time']:.3f} s ({p['cpu']:.3f}) | "
              f"{p['time'] / b['time']:.2f} | {p['time'] / p['rows'] * 1e9:.0f} | "
              f"{b['peak_mib']:,.0f} MiB ({b['work_mib']:,.0f}) | "
              f"{p['peak_mib']:,.0f} MiB ({p['work_mib']:,.0f}) | "
              f"{p['peak_mib'] / b['peak_mib']:.2f} | "
              f"{p['work_mib'] / max(b['work_mib'], 1):.2f} |")
    print("\n| teachers | marks rows | score_with_policy time (CPU) | ns/row | peak RSS (work) |")
    print("|---:|---:|---:|---:|---:|")
    for (teachers, kind), m in reports.items():
        if kind == "marks":
            print(f"| {teachers:,} | {m['input_rows']:,} | {m['time']:.3f} s ({m['cpu']:.3f}) | "
                  f"{m['time'] / m['input_rows'] * 1e9:.0f} | "
                  f"{m['peak_mib']:,.0f} MiB ({m['work_mib']:,.0f}) |")


if __name__ == "__main__":
    main()
