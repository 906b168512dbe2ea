"""Seeded random faults against the sandbox Moodle, then a rerun without faults: nothing
lost, nothing doubled, no foreign enrolment changed, the pulled data as a fault-free pull.

``PROFROUTE_FAULT_SCHEDULES`` sets how many schedules run (200 by default; the longer run
is ``bench/faults_run.py``, with one ``kill -9`` per 50 schedules). A failure names the seed and every fault of its schedule.
"""

from __future__ import annotations

import os

import pytest
from faults.campaign import schedule_for
from faults.harness import World, run_schedule

TOTAL = int(os.environ.get("PROFROUTE_FAULT_SCHEDULES", "200"))
KILLS = 2  # a kill -9 run starts a process: one push and one sync keep `make test` short


@pytest.mark.parametrize("number", range(TOTAL))
def test_a_run_under_faults_then_a_rerun_loses_and_doubles_nothing(
        world: World, number: int) -> None:
    schedule = schedule_for(number, TOTAL, world, kills=KILLS)
    outcome = run_schedule(world, schedule)
    assert outcome.injected or schedule.kill, f"{schedule.describe()}: no fault injected"
    assert outcome.verdict.ok, f"{schedule.describe()}: {outcome.verdict.explain()}"
    assert outcome.pulled_equal, f"{schedule.describe()}: the pulled data differs"
