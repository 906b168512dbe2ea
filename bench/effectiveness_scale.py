"""Scale of offer effectiveness (``deficits.effectiveness.offer_effectiveness``, issue 14).

Synthetic, seeded: N teachers × 8 of 30 competencies measured at entry and final (levels from
scores: deficit below 0.5, risk below 0.7), ~2.2 deficits per teacher, 2,000 offers of five kinds
from 60 providers at 200 resource centres, ~1.5 items per teacher that reached enrolment (70 %
completed), each on one to two of the offer's competencies. Completing raises the final score
more than taking nothing, so the shares differ. The frames are built first (untimed); then
``deficits.change.deficit_changes`` and ``offer_effectiveness`` by offer, kind, provider and
centre run ``--repeat`` times: the median seconds of each, and the peak RSS (VmHWM) of the
process.

    .venv/bin/python bench/effectiveness_scale.py --teachers 10000 100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deficits.change import deficit_changes  # noqa: E402
from deficits.effectiveness import offer_effectiveness  # noqa: E402

KINDS = ("course", "external", "internship", "mentoring", "event")


def frames(n: int, seed: int = 14) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    comps = np.array([f"PK-{i:02d}" for i in range(30)])
    users = np.repeat(np.arange(1, n + 1), 8)
    chosen = np.concatenate([rng.choice(30, 8, replace=False) for _ in range(n)])
    entry_score = np.clip(rng.beta(4, 3, len(users)), 0, 1)
    # Offers: kind, provider, centre, two or three competencies each.
    offers = pd.DataFrame({"offer_key": [f"O{i:04d}" for i in range(2000)],
                           "kind": rng.choice(KINDS, 2000),
                           "provider": [f"P{i:02d}" for i in rng.integers(0, 60, 2000)],
                           "centre": [f"RC{i:03d}" for i in rng.integers(0, 200, 2000)]})
    offer_comps = [rng.choice(30, 3, replace=False) for _ in range(2000)]
    # Items: about 1.5 per teacher on one of the teacher's deficits, when an offer covers it.
    deficit_rows = np.flatnonzero(entry_score < 0.5)
    take = rng.choice(deficit_rows, size=min(int(1.5 * n), len(deficit_rows)), replace=False)
    by_comp: dict[int, list[int]] = {}
    for o, cs in enumerate(offer_comps):
        for c in cs:
            by_comp.setdefault(int(c), []).append(o)
    offer_of = np.array([rng.choice(by_comp[int(chosen[r])]) for r in take])
    completed = rng.random(len(take)) < 0.7
    gain = np.zeros(len(users))
    gain[take[completed]] = rng.normal(0.25, 0.15, int(completed.sum()))
    final_score = np.clip(entry_score + gain + rng.normal(0.02, 0.1, len(users)), 0, 1)

    def levels(score: np.ndarray) -> pd.DataFrame:
        level = np.where(score < 0.5, "deficit", np.where(score < 0.7, "risk", "ok"))
        return pd.DataFrame({"user_id": users, "competency": comps[chosen], "level": level,
                             "score": score, "questions": 4})

    exposures = pd.DataFrame({"user_id": users[take], "competency": comps[chosen[take]],
                              "completed": completed}).assign(
        offer_key=offers["offer_key"].to_numpy()[offer_of],
        kind=offers["kind"].to_numpy()[offer_of],
        provider=offers["provider"].to_numpy()[offer_of],
        centre=offers["centre"].to_numpy()[offer_of])
    return levels(entry_score), levels(final_score), exposures


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _mean(values: pd.Series) -> float | None:
    """The mean of the shares given (NaN: too few pairs), None when none is."""
    given = values.dropna()
    return round(float(given.mean()), 3) if len(given) else None


def run_one(n: int, repeat: int) -> dict[str, object]:
    entry, final, exposures = frames(n)
    built_mb = _peak_rss_mb()
    times: dict[str, list[float]] = {"changes": [], "offer": [], "kind": [], "provider": [],
                                     "centre": []}
    rows = {}
    for _ in range(repeat):
        t = time.perf_counter()
        changes = deficit_changes(entry, final)
        times["changes"].append(time.perf_counter() - t)
        for by in ("offer_key", "kind", "provider", "centre"):
            t = time.perf_counter()
            table = offer_effectiveness(changes, exposures, by=(by, "competency"))
            times["offer" if by == "offer_key" else by].append(time.perf_counter() - t)
            rows[by] = len(table)
    offer_table = offer_effectiveness(changes, exposures)
    return {"teachers": n, "pairs": int(((entry["level"] == "deficit")).sum()),
            "exposures": len(exposures), "groups_by_offer": rows["offer_key"],
            "with_a_share": int(offer_table["enough"].sum()),
            "mean_share_completed": _mean(offer_table["share"]),
            "mean_share_others": _mean(offer_table["others_share"]),
            **{f"{k}_s": round(statistics.median(v), 3) for k, v in times.items()},
            "peak_rss_mb": round(_peak_rss_mb()), "rss_after_build_mb": round(built_mb)}


def main() -> None:
    scale_main(__doc__, __file__, run_one)


def scale_main(doc: str | None, script: str, run_one: Callable[[int, int], dict[str, object]]
               ) -> None:
    """The command line of a scale bench: each ``--teachers`` N in a process of its own
    (``--one N``, so each peak RSS is its own), one JSON line per N."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--teachers", nargs="*", type=int, default=[100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.repeat)), flush=True)
        return
    for n in args.teachers:
        out = subprocess.run([sys.executable, script, "--one", str(n), "--repeat",
                              str(args.repeat)], capture_output=True, text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        print(lines[-1] if lines else json.dumps({"teachers": n, "error": out.stderr[-2000:]}),
              flush=True)


if __name__ == "__main__":
    main()
