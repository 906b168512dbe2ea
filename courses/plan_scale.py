"""Which planner a run gets (issue 13).

Below ``region_from`` teachers one model (``planner.plan``: column generation, LP, MILP) plans
near-optimally within the time limit. A region (100,000 teachers give over a million candidate
items) is planned by ``plan_lagrange.plan_lagrange``: seats and mentor places priced, one exact
route per teacher, feasible plans from the prices' routes, a bound valid for the whole model.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from courses.plan_lagrange import plan_lagrange
from courses.plan_model import PlanInput, PlanResult, Policy
from courses.planner import plan


def plan_any(inp: PlanInput, policy: Policy | None = None, *, time_limit: float = 60.0,
             candidates_per_need: int | None = None, region_from: int = 10_000,
             region_per_need: int = 4) -> PlanResult:
    """Plan with ``planner.plan`` (one model: LP, MILP); a region of ``region_from`` teachers
    or more with ``plan_lagrange.plan_lagrange`` (seats priced, one exact route per teacher,
    ``region_per_need`` sessions per need to start pricing from)."""
    policy = policy or Policy()
    with gc_paused():
        if len(inp.teachers) >= region_from:
            return plan_lagrange(inp, policy, time_limit=time_limit,
                                 candidates_per_need=region_per_need)
        return plan(inp, policy, time_limit=time_limit, candidates_per_need=candidates_per_need)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: a plan builds millions of small acyclic objects
    (candidates, items, alternatives), and at 100,000 teachers the collector's passes over
    them took a quarter of the time limit. Reference counting still frees everything."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
