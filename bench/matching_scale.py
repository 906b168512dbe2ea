"""Route planning at scale: the HiGHS planner beside the greedy pass on the same input.

Instances (seeded):
    seats     today's input model, seats only: N teachers × M offers of one session each,
              distinct one-day dates, no hours, no subjects, every offer remote (``--seats
              2000x60 20000x400``).
    real      N teachers in 40 municipalities / N/25 schools (every 20th school of a
              municipality a resource centre, each school partnered with one of its
              municipality's), ~2 open needs per teacher skewed over 30 competencies,
              12 subjects, 2,000 offers × 5,000 sessions of the five kinds (remote courses,
              in-person internships at resource centres, mentors with 2–6 mentees,
              events), dates over a school year, 4–72 hours, seats tight overall
              (``--real 10000 100000``; offers and sessions scale with N/100,000 below 100,000
              teachers, never below 200 × 500).

Each run is a fresh subprocess: build the instance, run the planner
(``courses.plan_scale.plan_any``: one model below 10,000 teachers, ``plan_lagrange`` from
there; ``--time-limit`` covers its whole run) and the greedy pass on one model
(``plan_greedy``), print one JSON line with the objectives, the planner's bound (valid for the
LP of the whole model), both ratios, seconds, the method and decomposition, and the peak RSS
(VmHWM). From 10,000 teachers the planner's own bound is the cheap one (``lagrange_bound``
at its prices). ``--reference SECONDS`` also computes a tighter valid bound on the same
instance afterwards, outside the planner's time: ``plan_lagrange`` given that many seconds to
find better prices, then ``teacher_lp_bound`` at them (each teacher's LP, with column
generation). The ratios are then taken against the lower of the two bounds (``bound_used``);
``reference_s`` is what it took.

    .venv/bin/python bench/matching_scale.py --seats 2000x60 --real 5000 20000 100000 --per-need 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from courses.plan_model import (  # noqa: E402
    EXTERNAL_COURSE,
    IN_PERSON,
    INTERNSHIP,
    MENTORING,
    METHODICAL_EVENT,
    MIXED,
    MOODLE_COURSE,
    REMOTE,
    PlanInput,
    PlanMentor,
    PlanNeed,
    PlanOffer,
    PlanSession,
    PlanTeacher,
)

YEAR_START = dt.date(2026, 9, 1)


def seats_instance(n_teachers: int, n_offers: int, seed: int = 13) -> PlanInput:
    """Seats only: needs skewed over 20 competencies, offers of 1–3 competencies, seats ≈ 0.8
    of the needs in total, one one-day session per offer on its own day."""
    rng = random.Random(seed)
    comps = [f"PK-{i:02d}" for i in range(20)]
    popularity = [1.0 / (i + 1) ** 0.7 for i in range(20)]
    teachers = tuple(PlanTeacher(t, f"S{t // 25}", "M0") for t in range(n_teachers))
    needs = []
    for t in range(n_teachers):
        k = min(1 + int(rng.expovariate(0.9)), 5)
        for c in sorted(set(rng.choices(comps, popularity, k=k))):
            needs.append(PlanNeed(t, c, "deficit", rng.random() * 0.5))
    kinds = [MOODLE_COURSE, INTERNSHIP, MENTORING]
    offers, sessions = [], []
    seats_each = max(1, int(0.8 * len(needs) / n_offers / 1.3))
    for o in range(n_offers):
        key = f"O{o:04d}"
        covers = sorted(set(rng.choices(comps, popularity, k=rng.randint(1, 3))))
        offers.append(PlanOffer(key, kinds[o % 3], key, tuple(covers), format=REMOTE))
        day = YEAR_START + dt.timedelta(days=o)
        sessions.append(PlanSession(key, f"{key}-1", day, day,
                                    max(1, int(seats_each * rng.uniform(0.3, 1.7))), 0.0))
    return PlanInput(teachers, tuple(needs), tuple(offers), tuple(sessions))


def real_instance(n_teachers: int, seed: int = 13) -> PlanInput:
    """The realistic instance of issue 13 (see the module docstring)."""
    rng = random.Random(seed)
    scale = min(1.0, n_teachers / 100_000)
    n_offers = max(200, int(2000 * scale))
    n_sessions = max(500, int(5000 * scale))
    munis = [f"M{i:02d}" for i in range(40)]
    n_schools = max(40, n_teachers // 25)
    school_muni = [munis[s % 40] for s in range(n_schools)]
    # Every 20th school of each municipality is a resource centre (school s lies in
    # municipality s % 40, so step over whole rounds of municipalities: s // 40 % 20 == 0).
    rcs = [s for s in range(n_schools) if s // 40 % 20 == 0]
    rc_of_muni: dict[str, list[int]] = {}
    for s in rcs:
        rc_of_muni.setdefault(school_muni[s], []).append(s)
    comps = [f"PK-{i:02d}" for i in range(30)]
    popularity = [1.0 / (i + 1) ** 0.8 for i in range(30)]
    subjects = [f"subj{i:02d}" for i in range(12)]
    teachers, needs = [], []
    for t in range(n_teachers):
        school = rng.randrange(n_schools)
        muni = school_muni[school]
        partner = rng.choice(rc_of_muni[muni]) if muni in rc_of_muni else None
        teacher = PlanTeacher(
            t, f"SCH{school:05d}", muni, tuple(rng.sample(subjects, rng.choice([1, 1, 2]))),
            unavailable=((YEAR_START + dt.timedelta(days=rng.randrange(240)),) * 2,)
            if rng.random() < 0.1 else (),
            low_results_school=school % 7 == 0, risk_group=rng.random() < 0.08,
            partners=(f"SCH{partner:05d}",) if partner is not None else ())
        teacher = _with_unavailable_span(teacher)
        teachers.append(teacher)
        k = min(1 + int(rng.expovariate(0.5)), 6)
        for c in sorted(set(rng.choices(comps, popularity, k=k))):
            score = rng.random() * 0.5
            level = "deficit" if score < 0.35 else "risk"
            needs.append(PlanNeed(t, c, level, score, 0.5,
                                  "final" if rng.random() < 0.2 else "entry"))
    offers, mentors = [], []
    kinds = ([MOODLE_COURSE] * 30 + [EXTERNAL_COURSE] * 20 + [INTERNSHIP] * 20
             + [MENTORING] * 15 + [METHODICAL_EVENT] * 15)
    for o in range(n_offers):
        kind = kinds[o % 100]
        key = f"OF{o:05d}"
        rc = rng.choice(rcs)
        fmt = {MOODLE_COURSE: REMOTE, EXTERNAL_COURSE: rng.choice([REMOTE, IN_PERSON, MIXED]),
               INTERNSHIP: IN_PERSON, MENTORING: rng.choice([IN_PERSON, MIXED]),
               METHODICAL_EVENT: IN_PERSON}[kind]
        mentor = f"MEN{o:05d}" if kind == MENTORING else None
        if mentor:
            mentors.append(PlanMentor(mentor, rng.randint(2, 6)))
        offers.append(PlanOffer(
            key, kind, f"Программа {o}",
            tuple(sorted(set(rng.choices(comps, popularity, k=rng.choice([1, 1, 2, 3]))))),
            subjects=() if rng.random() < 0.25 else tuple(rng.sample(subjects, rng.randint(1, 2))),
            format=fmt, municipality=school_muni[rc],
            host_school=f"SCH{rc:05d}" if kind in (INTERNSHIP, MENTORING) else None,
            mentor_id=mentor))
    # Seats: remote sessions large, in-person small; total tuned to ~75 % of needs coverable.
    sessions = []
    per_offer = [1] * n_offers
    for _ in range(n_sessions - n_offers):
        per_offer[rng.randrange(n_offers)] += 1
    seat_scale = len(needs) / n_sessions
    for offer, count in zip(offers, per_offer, strict=True):
        for k in range(count):
            start = YEAR_START + dt.timedelta(days=rng.randrange(250))
            days = {METHODICAL_EVENT: 1, INTERNSHIP: 5, MENTORING: 60}.get(
                offer.kind, rng.choice([7, 14, 30]))
            hours = {METHODICAL_EVENT: 4.0, INTERNSHIP: 36.0, MENTORING: 16.0}.get(
                offer.kind, float(rng.choice([16, 24, 36, 72])))
            base = 2.6 if offer.format == REMOTE else 0.8
            seats = max(2, int(seat_scale * base * rng.uniform(0.5, 1.5)))
            if offer.kind == MENTORING:
                seats = 6
            sessions.append(PlanSession(offer.key, f"{offer.key}-{k}", start,
                                        start + dt.timedelta(days=days - 1), seats, hours))
    return PlanInput(tuple(teachers), tuple(needs), tuple(offers), tuple(sessions),
                     tuple(mentors))


def _with_unavailable_span(teacher: PlanTeacher) -> PlanTeacher:
    """One unavailable day becomes a two-week span (a course of treatment, a holiday)."""
    if not teacher.unavailable:
        return teacher
    day = teacher.unavailable[0][0]
    return PlanTeacher(teacher.teacher_id, teacher.school_code, teacher.municipality,
                       teacher.subjects, None, ((day, day + dt.timedelta(days=13)),),
                       teacher.low_results_school, teacher.risk_group, teacher.partners)


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_one(kind: str, size: str, time_limit: float, per_need: int | None,
            reference: float) -> dict[str, object]:
    from courses.plan_lagrange import plan_lagrange
    from courses.plan_scale import plan_any
    from courses.planner import plan_greedy

    t0 = time.perf_counter()
    if kind == "seats":
        n, m = (int(x) for x in size.split("x"))
        data = seats_instance(n, m)
    else:
        data = real_instance(int(size))
    built = time.perf_counter() - t0
    t1 = time.perf_counter()
    solved = plan_any(data, time_limit=time_limit, candidates_per_need=per_need)
    solve_s = time.perf_counter() - t1
    peak_plan = _peak_rss_mb()
    t2 = time.perf_counter()
    greedy = plan_greedy(data, candidates_per_need=per_need)
    greedy_s = time.perf_counter() - t2
    bound, reference_bound, reference_s = solved.bound, None, 0.0
    if reference and len(data.teachers) >= 10_000:
        t3 = time.perf_counter()
        reference_bound = plan_lagrange(data, time_limit=reference, tight_bound=True).bound
        reference_s = time.perf_counter() - t3
        bound = min(bound, reference_bound)
    n_needs = len(solved.unmet) + sum(len(i.competencies) for i in solved.items)
    return {
        "instance": kind, "size": size, "teachers": len(data.teachers),
        "needs_open": n_needs, "offers": len(data.offers), "sessions": len(data.sessions),
        "build_s": round(built, 1), "plan_s": round(solve_s, 1), "greedy_s": round(greedy_s, 1),
        "objective": round(solved.objective, 1), "bound": round(solved.bound, 1),
        "ratio": round(solved.ratio, 4),
        "reference_bound": None if reference_bound is None else round(reference_bound, 1),
        "reference_s": round(reference_s, 1), "bound_used": round(bound, 1),
        "ratio_used": round(solved.objective / bound, 4) if bound else None,
        "greedy_objective": round(greedy.objective, 1),
        "greedy_ratio": round(greedy.objective / bound, 4) if bound else None,
        "covered": n_needs - len(solved.unmet), "greedy_covered": n_needs - len(greedy.unmet),
        "method": solved.method, "fallback": solved.fallback,
        "decomposition": solved.decomposition,
        "candidates": solved.stats.get("candidates"), "per_need": per_need,
        "plain_bound": solved.stats.get("plain_bound"), "steps": solved.stats.get("steps"),
        # Where the planner's time went (plan_lagrange): the model, the price steps, the
        # bound, the explanations, and what returning took (freeing the model).
        "stages_s": {key: round(solved.stats[key + "_s"], 1)
                     for key in ("model", "search", "bound", "explain")
                     if key + "_s" in solved.stats} | (
            {"return": round(solve_s - solved.stats["seconds"], 1)}
            if "seconds" in solved.stats else {}),
        "peak_rss_mb": round(peak_plan),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", nargs="*", default=[], help="NxM seats-only instances")
    parser.add_argument("--real", nargs="*", default=[], help="teachers of realistic instances")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--per-need", type=int, default=0,
                        help="sessions kept per need (0: all)")
    parser.add_argument("--reference", type=float, default=0.0,
                        help="seconds for a tighter reference bound of large runs (0: none)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], args.one[1], args.time_limit,
                                 args.per_need or None, args.reference)), flush=True)
        return
    for kind, sizes in (("seats", args.seats), ("real", args.real)):
        for size in sizes:
            out = subprocess.run(
                [sys.executable, __file__, "--one", kind, size, "--time-limit",
                 str(args.time_limit), "--per-need", str(args.per_need),
                 "--reference", str(args.reference)],
                capture_output=True, text=True, check=False)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            print(lines[-1] if lines else json.dumps(
                {"instance": kind, "size": size, "error": out.stderr[-2000:]}), flush=True)


if __name__ == "__main__":
    main()
