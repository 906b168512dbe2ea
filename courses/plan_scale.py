"""Route planning at regional scale: decomposition by municipality (issue 13).

A region's model is too big for one LP (100,000 teachers give ~900,000 candidate items). In-person
sessions are reachable only from their municipality (and the partner resource centres, which lie
in it), so the model splits into one group per municipality (cut by whole schools above
``GROUP_SIZE`` teachers) once the seats several groups can reach (remote sessions, a cut
municipality's in-person ones, shared mentors) are shared out: each group gets a quota in
proportion to its open needs in the offer's competencies, plus what its fixed items hold. Each
group is planned by ``planner.plan_with_duals`` (column generation, MILP, rounding), in worker
processes. Seats of shared sessions a group left unused go, in a second pass, to the groups
whose LP priced them.

The bound stays valid for the whole region: ``planner.region_bound`` (``lagrange_bound`` over
every fitting session of the whole model, with each group's need, hours and date duals and one
price per seat, lowered by subgradient steps on the prices).
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

from courses.plan_model import (
    REMOTE,
    FixedItem,
    GroupDuals,
    PlanInput,
    PlanMentor,
    PlanNeed,
    PlanResult,
    PlanSession,
    PlanTeacher,
    Policy,
)
from courses.planner import plan, plan_with_duals, region_bound

NO_MUNICIPALITY = "—"
# A group's LP grows faster than its teachers: municipalities above this are cut by schools.
GROUP_SIZE = 600
# CPU seconds per teacher a region needs for its groups' LPs and MILPs to finish (measured on
# bench/matching_scale.py's real instance: ~3 s per group of 500 teachers); with less, one
# model (whose LP does not finish either) falls back to the greedy pass, which then does
# better than greedy passes over split seats.
REGION_SECONDS_PER_TEACHER = 0.006


def _groups(inp: PlanInput, group_size: int | None = None) -> dict[str, list[int]]:
    """Teachers by municipality; a municipality of more than ``group_size`` teachers is cut
    into near-equal groups of whole schools ("M#0", "M#1", …)."""
    munis: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for t in inp.teachers:
        munis[t.municipality or NO_MUNICIPALITY].append((t.school_code or "", t.teacher_id))
    out: dict[str, list[int]] = {}
    for muni, members in munis.items():
        if group_size is None or len(members) <= group_size:
            out[muni] = [t for _s, t in members]
            continue
        parts = math.ceil(len(members) / group_size)
        target = len(members) / parts
        by_school: dict[str, list[int]] = defaultdict(list)
        for school, teacher_id in members:
            by_school[school].append(teacher_id)
        part, current = 0, 0
        for school in sorted(by_school):
            if current >= target * (part + 1) and part < parts - 1:
                part += 1
            out.setdefault(f"{muni}#{part}", []).extend(by_school[school])
            current += len(by_school[school])
    return out


def _reach(inp: PlanInput, group_of: dict[int, str]) -> dict[str, set[str]]:
    """Per session key, the groups whose teachers can attend it (by place alone)."""
    offers = {o.key: o for o in inp.offers}
    partner_groups: dict[str, set[str]] = defaultdict(set)
    muni_groups: dict[str, set[str]] = defaultdict(set)
    teachers = {t.teacher_id: t for t in inp.teachers}
    for t in inp.teachers:
        for p in t.partners:
            partner_groups[p].add(group_of[t.teacher_id])
    for teacher_id, g in group_of.items():
        muni_groups[teachers[teacher_id].municipality or NO_MUNICIPALITY].add(g)
    every = set(group_of.values())
    out: dict[str, set[str]] = {}
    for s in inp.sessions:
        offer = offers[s.offer_key]
        if offer.format == REMOTE:
            out[s.key] = set(every)
            continue
        groups: set[str] = set()
        muni = s.municipality or offer.municipality
        if muni is not None:
            groups |= muni_groups.get(muni, set())
        if offer.host_school:
            groups |= partner_groups.get(offer.host_school, set())
        out[s.key] = groups
    return out


def _split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` by largest remainders (sums to total)."""
    whole = sum(weights.values())
    if whole <= 0 or total <= 0:
        return dict.fromkeys(weights, 0)
    raw = {g: total * w / whole for g, w in weights.items()}
    out = {g: math.floor(v) for g, v in raw.items()}
    left = total - sum(out.values())
    for g in sorted(raw, key=lambda g: (-(raw[g] - out[g]), g))[:left]:
        out[g] += 1
    return out


@dataclass
class _Split:
    """The region cut into groups: who is in which, and each shared seat's quota."""

    members: dict[str, list[int]]
    reach: dict[str, set[str]]
    quota: dict[str, dict[str, int]]  # session key → group → seats (fixed ones included)
    mentor_quota: dict[str, dict[str, int]]
    fixed_use: dict[str, dict[str, int]]  # session key → group → seats its fixed items use
    parts: dict[str, _Part]


@dataclass
class _Part:
    """One group's share of the input's teacher rows."""

    teachers: list[PlanTeacher] = field(default_factory=list)
    needs: list[PlanNeed] = field(default_factory=list)
    fixed: list[FixedItem] = field(default_factory=list)
    excluded: list[tuple[int, str]] = field(default_factory=list)
    previous: list[tuple[int, str]] = field(default_factory=list)


def _parts(inp: PlanInput, group_of: dict[int, str]) -> dict[str, _Part]:
    parts: dict[str, _Part] = defaultdict(_Part)
    for t in inp.teachers:
        parts[group_of[t.teacher_id]].teachers.append(t)
    for n in inp.needs:
        if n.teacher_id in group_of:
            parts[group_of[n.teacher_id]].needs.append(n)
    for f in inp.fixed:
        parts[group_of[f.teacher_id]].fixed.append(f)
    for pair in inp.excluded:
        if pair[0] in group_of:
            parts[group_of[pair[0]]].excluded.append(pair)
    for pair in inp.previous:
        if pair[0] in group_of:
            parts[group_of[pair[0]]].previous.append(pair)
    return dict(parts)


def split_region(inp: PlanInput, group_size: int | None = None) -> _Split:
    """Groups by municipality (cut at ``group_size`` teachers) and quotas of shared seats by
    open needs in the offer's competencies."""
    members = _groups(inp, group_size)
    group_of = {t: g for g, ts in members.items() for t in ts}
    reach = _reach(inp, group_of)
    offers = {o.key: o for o in inp.offers}
    demand: dict[tuple[str, str], int] = defaultdict(int)  # (group, competency) → needs
    for n in inp.needs:
        g = group_of.get(n.teacher_id)
        if g is not None:
            demand[(g, n.competency)] += 1
    fixed_use: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in inp.fixed:
        fixed_use[f.session_key][group_of[f.teacher_id]] += 1
    quota: dict[str, dict[str, int]] = {}
    mentor_sessions: dict[str, list[PlanSession]] = defaultdict(list)
    for s in inp.sessions:
        offer = offers[s.offer_key]
        if offer.mentor_id is not None:
            mentor_sessions[offer.mentor_id].append(s)
        groups = reach[s.key] | set(fixed_use.get(s.key, {}))
        if len(groups) <= 1 or s.seats is None:
            continue
        used = fixed_use.get(s.key, {})
        free = max(s.seats - sum(used.values()), 0)
        weights = {g: float(sum(demand.get((g, c), 0) for c in offer.competencies))
                   for g in sorted(reach[s.key])}
        share = _split(free, weights)
        quota[s.key] = {g: share.get(g, 0) + used.get(g, 0) for g in sorted(groups)}
    mentor_quota: dict[str, dict[str, int]] = {}
    for m in inp.mentors:
        mine = mentor_sessions.get(m.mentor_id, [])
        held: dict[str, int] = defaultdict(int)  # group → places its fixed items hold
        for s in mine:
            for g, count in fixed_use.get(s.key, {}).items():
                held[g] += count
        reaching = set().union(*(reach[s.key] for s in mine))
        if len(reaching | set(held)) > 1:
            weights = {g: float(sum(demand.get((g, c), 0) for s in mine
                                    for c in offers[s.offer_key].competencies))
                       for g in sorted(reaching)}
            share = _split(max(m.capacity - sum(held.values()), 0), weights)
            mentor_quota[m.mentor_id] = {g: share.get(g, 0) + held.get(g, 0)
                                         for g in sorted(reaching | set(held))}
    return _Split(members, reach, quota, mentor_quota,
                  {k: dict(v) for k, v in fixed_use.items()}, _parts(inp, group_of))


def group_input(inp: PlanInput, cut: _Split, group: str,
                extra_seats: dict[str, int] | None = None) -> PlanInput:
    """One group's model: its teachers and needs, the sessions it reaches (shared ones with its
    quota, plus ``extra_seats``), its mentors' quotas and its fixed items."""
    extra_seats = extra_seats or {}
    sessions = []
    keys: set[str] = set()
    for s in inp.sessions:
        if group not in cut.reach[s.key] and group not in cut.fixed_use.get(s.key, {}):
            continue
        if s.key in cut.quota:
            s = replace(s, seats=cut.quota[s.key].get(group, 0) + extra_seats.get(s.key, 0))
        sessions.append(s)
        keys.add(s.offer_key)
    offers = tuple(o for o in inp.offers if o.key in keys)
    mentor_ids = {o.mentor_id for o in offers if o.mentor_id is not None}
    mentors = tuple(PlanMentor(m.mentor_id, cut.mentor_quota[m.mentor_id].get(group, 0))
                    if m.mentor_id in cut.mentor_quota else m
                    for m in inp.mentors if m.mentor_id in mentor_ids)
    mine = cut.parts[group]
    return PlanInput(teachers=tuple(mine.teachers), needs=tuple(mine.needs), offers=offers,
                     sessions=tuple(sessions), mentors=mentors, fixed=tuple(mine.fixed),
                     excluded=tuple(mine.excluded), previous=tuple(mine.previous))


# --- worker side -------------------------------------------------------------------------------

_JOB: dict[str, object] = {}


def _solve_group(args: tuple[str, PlanInput, float]) -> tuple[str, PlanResult, GroupDuals]:
    group, sub, seconds = args
    policy = _JOB["policy"]
    assert isinstance(policy, Policy)
    per_need = _JOB["per_need"]
    assert per_need is None or isinstance(per_need, int)
    result, duals = plan_with_duals(sub, policy, time_limit=seconds,
                                    candidates_per_need=per_need)
    return group, result, duals


def _run(jobs: list[tuple[str, PlanInput, float]], workers: int
         ) -> list[tuple[str, PlanResult, GroupDuals]]:
    if workers <= 1 or len(jobs) <= 1:
        return [_solve_group(job) for job in jobs]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers) as pool:
        return pool.map(_solve_group, jobs, chunksize=1)


def plan_region(inp: PlanInput, policy: Policy, *, time_limit: float,
                candidates_per_need: int | None, workers: int = 1,
                group_size: int | None = GROUP_SIZE) -> PlanResult:
    """Plan a region group by group (municipalities), then give shared seats left unused to the
    groups that priced them highest, and bound the whole region (see the module docstring)."""
    started = time.perf_counter()
    cut = split_region(inp, group_size)
    groups = sorted(cut.members, key=lambda g: -len(cut.members[g]))
    _JOB.update(policy=policy, per_need=candidates_per_need)
    total_teachers = max(len(inp.teachers), 1)
    first = time_limit * 0.5  # then the second pass up to 0.75, the bound the rest
    jobs = [(g, group_input(inp, cut, g),
             max(first * workers * len(cut.members[g]) / total_teachers, 0.2)) for g in groups]
    done = {g: (r, d) for g, r, d in _run(jobs, workers)}
    # Second pass: shared seats a group left unused go to the groups that priced them.
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g, (r, _d) in done.items():
        for item in r.items:
            if item.session_key in cut.quota:
                used[item.session_key][g] += 1
    spare: dict[str, int] = {}
    for key, quotas in cut.quota.items():
        left = sum(q - used[key].get(g, 0) for g, q in quotas.items())
        if left > 0:
            spare[key] = left
    rerun: dict[str, dict[str, int]] = defaultdict(dict)
    for key, left in spare.items():
        wanting = {g: d.seats.get(key, 0.0) for g, (_r, d) in done.items()
                   if d.seats.get(key, 0.0) > 1e-9}
        if not wanting:
            continue
        for g, n in _split(left, wanting).items():
            if n:
                rerun[g][key] = n
    left_time = time_limit * 0.75 - (time.perf_counter() - started)
    given = 0
    if rerun and left_time > 1.0:
        given = sum(len(v) for v in rerun.values())
        # Every group keeps the shared seats it used; the rest go to those that priced them
        # (a group's first plan stays feasible, and the better of its two plans is kept).
        for key, quotas in cut.quota.items():
            for g in quotas:
                if key in spare:
                    quotas[g] = used[key].get(g, 0)
        again = sorted(rerun, key=lambda g: -len(cut.members[g]))
        rerun_teachers = max(sum(len(cut.members[g]) for g in again), 1)
        jobs = []
        for g in again:
            sub = group_input(inp, cut, g, rerun[g])
            jobs.append((g, sub, max(left_time * workers * len(cut.members[g]) / rerun_teachers,
                                     0.5)))
        for g, r, d in _run(jobs, workers):
            if r.objective >= done[g][0].objective - 1e-9:
                done[g] = (r, d)
    items = tuple(i for g in sorted(done) for i in done[g][0].items)
    unmet = tuple(u for g in sorted(done) for u in done[g][0].unmet)
    objective = sum(r.objective for r, _d in done.values())
    bound = region_bound(inp, policy, [d for _r, d in done.values()], cut.quota,
                         target=objective,
                         seconds=max(time_limit - (time.perf_counter() - started),
                                     0.1 * time_limit))
    methods = sorted({r.method for r, _d in done.values()})
    fallback = any(r.fallback for r, _d in done.values())
    cut_note = f" (cut by schools above {group_size} teachers)" if group_size else ""
    decomposition = (f"by municipality{cut_note}: {len(done)} groups, shared seats of "
                     f"{len(cut.quota)} sessions split by open needs, "
                     f"{given} unused shares given again; "
                     "bound: Lagrangian over the whole region")
    return PlanResult(tuple(sorted(items, key=lambda i: (i.teacher_id, not i.fixed,
                                                          i.session_key))),
                      tuple(sorted(unmet, key=lambda u: (u.teacher_id, u.competency))),
                      objective, bound, "+".join(methods), fallback, decomposition,
                      {"seconds": time.perf_counter() - started, "groups": float(len(done))})


def plan_any(inp: PlanInput, policy: Policy | None = None, *, time_limit: float = 60.0,
             candidates_per_need: int | None = None, region_from: int = 10_000,
             region_per_need: int = 4, workers: int = 1) -> PlanResult:
    """Plan with ``planner.plan``; a region of ``region_from`` teachers or more in two
    municipalities or more, given time enough for its groups (``REGION_SECONDS_PER_TEACHER``
    per teacher over the workers), is planned by municipality (``plan_region``, at most
    ``region_per_need`` sessions per need to start column generation from)."""
    policy = policy or Policy()
    teachers = len(inp.teachers)
    if teachers >= region_from and len(_groups(inp)) > 1 and \
            time_limit * workers >= REGION_SECONDS_PER_TEACHER * teachers:
        return plan_region(inp, policy, time_limit=time_limit,
                           candidates_per_need=region_per_need, workers=workers)
    return plan(inp, policy, time_limit=time_limit,
                candidates_per_need=candidates_per_need if teachers < region_from
                else region_per_need)
