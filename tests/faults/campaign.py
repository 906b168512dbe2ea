"""The mix of schedules run by ``make test`` (200) and by ``bench/faults_run.py`` (2,000),
and the figures they add up to."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from faults.harness import Outcome, World, run_schedule
from faults.schedules import Schedule, random_schedule

SEND_MESSAGES = "core_message_send_instant_messages"
GRADE_COMPETENCY = "core_competency_grade_competency"
GRADE_ITEMS = "gradereport_user_get_grade_items"  # read as a stream (the client's call_items)
COURSE_GROUPS = "core_group_get_course_groups"
CREATE_GROUPS = "core_group_create_groups"
# Every fault kind may hit every call: the cases that once failed (a refused row kept FAILED
# for good, an unreadable course taken for an empty one, an event without its group, a cut
# stream) are fixed, and test_fault_cases.py keeps each as a single case too.
PUSH_AVOIDS: dict[str, frozenset[str]] = {}
SYNC_AVOIDS: dict[str, frozenset[str]] = {}
KILLS_PER_SCHEDULES = 50  # one kill -9 run (push and sync in turn) per 50 schedules


def schedule_for(number: int, total: int, world: World, first_seed: int = 0,
                 kills: int | None = None) -> Schedule:
    """Schedule ``number`` of ``total``: the first ``kills`` (one per
    ``KILLS_PER_SCHEDULES`` by default, at least 2) ``kill -9`` a process, push and sync in
    turn; the others run in-process, two pushes for every sync."""
    kill = number < (max(2, total // KILLS_PER_SCHEDULES) if kills is None else kills)
    stage = ("push", "sync")[number % 2] if kill else ("sync" if number % 3 == 2 else "push")
    return random_schedule(first_seed + number, stage, world.profiles[stage], kill=kill,
                           avoid=PUSH_AVOIDS if stage == "push" else SYNC_AVOIDS)


FIGURES = ("lost", "doubled", "foreign enrolments changed", "pulls differing",
           "uncertain sends left for a person")


@dataclass
class Tally:
    """Figures over many schedules: schedules by stage, faults injected by mode, and the
    ``FIGURES`` (all 0 but the uncertain sends when nothing went wrong)."""

    schedules: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    figures: Counter[str] = field(default_factory=lambda: Counter(dict.fromkeys(FIGURES, 0)))
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        """Count one schedule's outcome."""
        schedule, verdict = outcome.schedule, outcome.verdict
        self.schedules[schedule.stage + (" kill -9" if schedule.kill else "")] += 1
        self.injected.update(outcome.injected)
        if schedule.kill and outcome.failed:
            self.injected["kill -9"] += 1
        self.figures.update({
            "lost": verdict.lost.total(), "doubled": verdict.doubled.total(),
            "foreign enrolments changed": len(verdict.foreign_changed),
            "pulls differing": int(not outcome.pulled_equal),
            "uncertain sends left for a person": verdict.uncertain})
        if not verdict.ok or not outcome.pulled_equal:
            self.failures.append(f"{schedule.describe()}: {verdict.explain()}, pulled data "
                                 f"{'equal' if outcome.pulled_equal else 'DIFFERENT'}")


def run_all(world: World, total: int, first_seed: int = 0) -> Tally:
    """Run ``total`` schedules of the mix and add up their figures."""
    tally = Tally()
    for number in range(total):
        tally.add(run_schedule(world, schedule_for(number, total, world, first_seed)))
    return tally
