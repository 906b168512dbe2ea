"""Seeded random fault schedules: which call of which function fails, and how."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The sandbox's modes (lms_connectors/moodle/sandbox/faults.py), tests never import it.
BEFORE_MODES = ("http500", "http503", "exception", "revoke")
AFTER_MODES = ("reset", "timeout")
IN_PROCESS_MODES = BEFORE_MODES + AFTER_MODES
ENROL = "enrol_manual_enrol_users"
READ_BACK = "core_enrol_get_enrolled_users"


@dataclass(frozen=True)
class Fault:
    """The ``nth`` call of ``function`` since the schedule was set meets ``mode``."""

    function: str
    nth: int
    mode: str

    def as_json(self) -> dict[str, Any]:
        """The sandbox's form of the fault."""
        return {"function": self.function, "nth": self.nth, "mode": self.mode}


@dataclass(frozen=True)
class Schedule:
    """One run under faults: the stage, its faults, users made unknown to enrolment, and
    whether the stage's process is killed (``kill -9``) at its ``hold`` fault."""

    seed: int
    stage: str
    faults: tuple[Fault, ...]
    bad_users: tuple[int, ...] = ()
    kill: bool = False
    kinds: frozenset[str] = field(default_factory=frozenset)

    def body(self, stall: float) -> dict[str, Any]:
        """The sandbox's ``/_sandbox/schedule`` body."""
        return {"faults": [f.as_json() for f in self.faults],
                "bad_users": list(self.bad_users), "stall": stall}

    def describe(self) -> str:
        """One line naming the seed and every fault, to reproduce a failure."""
        faults = ", ".join(f"{f.mode}@{f.function}#{f.nth}" for f in self.faults)
        bad = f", bad rows of users {list(self.bad_users)}" if self.bad_users else ""
        kill = ", kill -9 at the hold" if self.kill else ""
        return f"seed {self.seed}: {self.stage} with {faults or 'no fault'}{bad}{kill}"


def _pick_call(rng: random.Random, profile: Counter[str]) -> tuple[str, int]:
    functions = sorted(profile)
    function = rng.choices(functions, weights=[profile[f] for f in functions])[0]
    return function, rng.randint(1, profile[function])


def random_schedule(seed: int, stage: str, profile: Counter[str], *,
                    users: tuple[int, ...] = (), kill: bool = False,
                    avoid: Mapping[str, frozenset[str]] | None = None) -> Schedule:
    """A schedule drawn from ``random.Random(seed)`` over the calls a fault-free run of
    ``stage`` made (``profile``: calls per function).

    One to three faults at calls of the profile (``avoid`` maps a mode to functions it never
    hits: the cases known to fail, tested on their own); with ``users`` (a push), one run in
    four also makes one of them unknown to enrolment (a batch holding them is refused
    whole). With ``kill``, the one fault holds a call's answer so the harness can
    ``kill -9`` the process there (no other fault may end the process before it).
    """
    rng = random.Random(seed)
    faults: dict[tuple[str, int], str] = {}
    for _ in range(0 if kill else rng.randint(1, 3)):
        call = _pick_call(rng, profile)
        modes = [m for m in IN_PROCESS_MODES if call[0] not in (avoid or {}).get(m, ())]
        faults[call] = rng.choice(modes)
    if kill:
        faults[_pick_call(rng, profile)] = "hold"
    bad = (rng.choice(users),) if users and ENROL in profile and rng.random() < 0.25 else ()
    chosen = tuple(Fault(f, n, m) for (f, n), m in sorted(faults.items()))
    kinds = {f.mode for f in chosen} | ({"badrow"} if bad else set())
    return Schedule(seed=seed, stage=stage, faults=chosen, bad_users=bad, kill=kill,
                    kinds=frozenset(kinds | ({"kill"} if kill else set())))
