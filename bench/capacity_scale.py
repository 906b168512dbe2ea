"""Scale of capacity planning (``deficits.capacity``, issue 14).

Synthetic, seeded, on the frames of ``bench/effectiveness_scale.py`` (N teachers × 8 of 30
competencies, two periods, 2,000 offers of five kinds at 200 resource centres): teachers in
2,000 schools, 1,600 of them partners of one or two of the 200 centres; last period's items
(any status: ~60 % accepted, 70 % of those completed) are the history; the final diagnostic's
deficits are the open ones; every offer has one to three sessions. The frames are built first
(untimed); then the rates, the centre forecast, the demand by subject, the course forecast,
the schools without a centre, the overloaded centres and the back-test run ``--repeat``
times: the median seconds of each and of all, and the peak RSS (VmHWM) of the process.

    .venv/bin/python bench/capacity_scale.py --teachers 10000 100000
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from effectiveness_scale import _peak_rss_mb, frames, scale_main  # noqa: E402

from deficits import capacity as cap  # noqa: E402


def capacity_frames(n: int, seed: int = 15) -> dict[str, pd.DataFrame]:
    entry, final, exposures = frames(n)
    rng = np.random.default_rng(seed)
    schools = np.array([f"S{i:04d}" for i in range(2000)])
    school_of = pd.Series(schools[rng.integers(0, 2000, n)], index=np.arange(1, n + 1))
    subject_of = pd.Series(rng.choice(["математика", "физика", "история", "химия"], n),
                           index=np.arange(1, n + 1))
    partnered = rng.choice(2000, 1600, replace=False)
    pairs = [(f"RC{rng.integers(0, 200):03d}", schools[s]) for s in partnered]
    pairs += [(f"RC{rng.integers(0, 200):03d}", schools[s]) for s in partnered[:300]]
    partners = pd.DataFrame(pairs, columns=cap.PARTNER_COLUMNS).drop_duplicates()

    def needs(levels: pd.DataFrame) -> pd.DataFrame:
        d = levels[levels["level"] == "deficit"][["user_id", "competency"]].copy()
        d["school_code"] = school_of.reindex(d["user_id"]).to_numpy()
        d["subject"] = subject_of.reindex(d["user_id"]).to_numpy()
        return d[cap.NEED_COLUMNS].reset_index(drop=True)

    status = np.where(exposures["completed"], "completed",
                      rng.choice(["enrolled", "declined", "proposed", "rejected"],
                                 len(exposures)))
    history = pd.DataFrame({"kind": exposures["kind"], "user_id": exposures["user_id"],
                            "competency": exposures["competency"], "status": status,
                            "centre": np.where(exposures["kind"].isin(cap.CENTRE_KINDS),
                                               exposures["centre"], "")})
    offers = exposures.drop_duplicates("offer_key")[["offer_key", "kind", "centre",
                                                     "competency"]]
    rows = []
    for offer in offers.itertuples(index=False):
        for _ in range(int(rng.integers(1, 4))):
            seats = float(rng.integers(5, 30)) if offer.kind != "course" else float("nan")
            rows.append((offer.kind, offer.centre if offer.kind in cap.CENTRE_KINDS else None,
                         offer.competency, offer.offer_key, seats, float(rng.choice([8, 16,
                                                                                      36]))))
    supply = pd.DataFrame(rows, columns=cap.SUPPLY_COLUMNS)
    return {"past": needs(entry), "now": needs(final), "history": history,
            "partners": partners, "supply": supply}


def run_one(n: int, repeat: int) -> dict[str, object]:
    f = capacity_frames(n)
    built_mb = _peak_rss_mb()
    times: dict[str, list[float]] = {k: [] for k in (
        "rates", "centres", "subjects", "courses", "unpartnered", "overloaded", "back_test",
        "all")}
    for _ in range(repeat):
        start = time.perf_counter()
        t = time.perf_counter()
        rates = cap.rates_of(f["history"], f["past"], set(f["partners"]["school_code"]))
        times["rates"].append(time.perf_counter() - t)
        t = time.perf_counter()
        centres = cap.centre_forecast(f["now"], f["partners"], f["supply"], rates)
        times["centres"].append(time.perf_counter() - t)
        t = time.perf_counter()
        subjects = cap.centre_demand(f["now"], f["partners"], rates,
                                     ("centre", "competency", "subject"))
        times["subjects"].append(time.perf_counter() - t)
        t = time.perf_counter()
        courses = cap.course_forecast(f["now"], f["supply"], rates)
        times["courses"].append(time.perf_counter() - t)
        t = time.perf_counter()
        alone = cap.unpartnered(f["now"], f["partners"])
        times["unpartnered"].append(time.perf_counter() - t)
        t = time.perf_counter()
        over = cap.overloaded(centres)
        times["overloaded"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tested = cap.back_test(f["history"], f["past"], f["partners"], rates)
        times["back_test"].append(time.perf_counter() - t)
        times["all"].append(time.perf_counter() - start)
    return {"teachers": n, "open_deficits": len(f["now"]), "past_deficits": len(f["past"]),
            "history_items": len(f["history"]), "sessions": len(f["supply"]),
            "centre_rows": len(centres), "subject_rows": len(subjects),
            "course_rows": len(courses), "unpartnered_schools": len(alone),
            "overloaded_centres": len(over), "back_test_rows": len(tested),
            **{f"{k}_s": round(statistics.median(v), 3) for k, v in times.items()},
            "peak_rss_mb": round(_peak_rss_mb()), "rss_after_build_mb": round(built_mb)}


def main() -> None:
    scale_main(__doc__, __file__, run_one)


if __name__ == "__main__":
    main()
