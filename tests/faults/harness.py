"""The fault harness: a small seeded Moodle sandbox (its own process, real HTTP) and a
ProfRoute database prepared up to the push, then per schedule: restore both, run the stage
under the schedule's faults (in-process, or ``kill -9`` of a ``profroute`` process), rerun it
without faults, and check the invariants.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from faults.invariants import Contents, Key, Verdict, check
from faults.schedules import READ_BACK, Schedule
from sqlalchemy import select
from support import app_for, pulled_data

from app.analyse.levels import compute_deficits
from app.demo.run import DEMO_FINAL_COURSE, DEMO_FINAL_QUIZ
from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.models import Route, RouteItem
from app.models.route import APPROVED, ENROLLED
from app.push.run import push
from app.registry.catalogue import import_catalogue
from app.routes.items import approve, recommend
from app.settings import Settings
from app.sync.pull import configured_diagnostic, sync
from config import DEMO_DIR
from lms_connectors.exceptions import ConnectorError
from lms_connectors.moodle.api import Enrolment, MoodleAPI
from lms_connectors.moodle.client import MoodleClient

TEACHERS = 8  # the seed adds its fixed users: 17 teachers in all
APPROVED_INTERNS, APPROVED_OTHERS = 1, 2
FAULT_TIMEOUT = 0.5  # the client's under faults; a late answer comes after STALL
STALL = 1.0
TIMEOUT = 15.0  # elsewhere: a loaded machine must not fail a fault-free run
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sandbox:
    """A running sandbox: its URL and token, and its test hooks."""

    url: str
    token: str = field(repr=False)
    session: requests.Session = field(default_factory=requests.Session, repr=False)

    def hook(self, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST ``body`` to a hook (GET without one) and return its JSON answer."""
        answer = self.session.request("POST" if body is not None else "GET",
                                      f"{self.url}/_sandbox/{name}", json=body, timeout=10,
                                      headers={"X-Sandbox-Token": self.token})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def contents(self) -> Contents:
        """What the site holds now, by natural keys."""
        return Contents.of(self.hook("contents"))


@dataclass
class Outcome:
    """One schedule's run: its verdict, the faults injected by mode, whether the faulty run
    failed, and the pulled data when it was a sync."""

    schedule: Schedule
    verdict: Verdict
    injected: Counter[str]
    failed: bool
    pulled_equal: bool = True


@dataclass
class World:
    """The prepared site and database, and what fault-free runs of each stage leave."""

    sandbox: Sandbox
    settings: Settings
    workdir: Path
    profiles: dict[str, Counter[str]] = field(default_factory=dict)
    expected: Contents | None = None
    pulled: dict[str, Any] = field(default_factory=dict)
    foreign: dict[Key, Key] = field(default_factory=dict)
    users: tuple[int, ...] = ()
    seen: Counter[str] = field(default_factory=Counter)  # calls of the last faulty run

    @property
    def database(self) -> Path:
        """The SQLite file every run works on."""
        return self.workdir / "run.db"

    def api(self, timeout: float = TIMEOUT) -> MoodleAPI:
        """A client as the app builds one, retrying reads twice without sleeping."""
        return MoodleAPI(MoodleClient(self.settings.moodle_url, self.settings.moodle_token,
                                      timeout=timeout, retries=2, sleep=lambda _: None))

    def load(self, name: str) -> None:
        """Put the database back to the saved copy ``name`` (``pushable``, ``empty``)."""
        db.session.remove()
        db.engine.dispose()
        shutil.copyfile(self.workdir / f"{name}.db", self.database)

    def keep(self, name: str) -> None:
        """Save the database as ``name``."""
        db.session.remove()
        db.engine.dispose()
        shutil.copyfile(self.database, self.workdir / f"{name}.db")

    def run_stage(self, stage: str, timeout: float = TIMEOUT) -> None:
        """Run ``sync`` or ``push`` in this process, as the CLI runs it."""
        if stage == "sync":
            sync(self.api(timeout), self.settings.replace(diagnostic_kind="entry",
                                                          diagnostic_course="diag-2026",
                                                          diagnostic_quiz=""))
        else:
            push(self.api(timeout), self.settings)
        db.session.remove()

    def start(self, stage: str) -> None:
        """Both sides as they were before the stage's fault-free run."""
        self.sandbox.hook("schedule", {})
        self.sandbox.hook("restore", {})
        self.load("empty" if stage == "sync" else "pushable")


@contextlib.contextmanager
def prepared_world(workdir: Path) -> Iterator[World]:
    """Start the sandbox and prepare the database up to the push (entry diagnostic scored,
    routes approved, final diagnostic scored); record the fault-free runs. The app context
    stays open while the world is used."""
    token = os.urandom(16).hex()
    with running_sandbox(token, teachers=TEACHERS) as url:
        settings = Settings(
            database_url=f"sqlite:///{workdir / 'run.db'}", moodle_url=url, moodle_token=token,
            moodle_timeout=TIMEOUT, moodle_retries=2, catalogue_dir=str(DEMO_DIR),
            thresholds_file=str(DEMO_DIR / "thresholds.toml"), sync_workers=2)
        world = World(Sandbox(url, token), settings, workdir)
        with app_for(settings):
            import_catalogue(settings.catalogue_dir)
            world.keep("empty")
            _prepare(world)
            _record_fault_free(world)
            yield world


def _prepare(world: World) -> None:
    entry = world.settings.replace(diagnostic_kind="entry")
    sync(world.api(), entry)
    diagnostic = configured_diagnostic(entry)
    assert diagnostic is not None
    compute_deficits(diagnostic, entry)
    recommend(diagnostic, entry)
    approve(diagnostic, teacher_ids=list(_few_teachers()))
    final = world.settings.replace(diagnostic_course=DEMO_FINAL_COURSE,
                                   diagnostic_quiz=DEMO_FINAL_QUIZ, diagnostic_kind="final")
    sync(world.api(), final)
    final_diagnostic = configured_diagnostic(final)
    assert final_diagnostic is not None
    compute_deficits(final_diagnostic, final)
    world.settings = final
    _enrol_foreign(world)
    world.keep("pushable")
    world.sandbox.hook("save", {})


def _few_teachers() -> tuple[int, ...]:
    """Moodle ids of a few teachers whose routes hold an internship and a course, so a push
    writes every kind of item in a few dozen calls (the rest stay proposed)."""
    interns: list[tuple[int, int]] = []
    others: list[int] = []
    for route in db.session.scalars(select(Route).order_by(Route.id)):
        kinds = {i.offer.kind for i in route.items}
        if "internship" in kinds:  # an internship with a course first
            interns.append((-len(kinds), route.teacher.moodle_user_id))
        else:
            others.append(route.teacher.moodle_user_id)
    return (*[m for _, m in sorted(interns)[:APPROVED_INTERNS]], *others[:APPROVED_OTHERS])


def _wanted_enrolments() -> list[tuple[int, int]]:
    """(Moodle user, course) of every approved item with a Moodle course."""
    items = db.session.scalars(select(RouteItem).where(RouteItem.status.in_(
        (APPROVED, ENROLLED)))).all()
    return sorted({(db.session.get(Route, i.route_id).teacher.moodle_user_id,
                    i.offer.moodle_course_id) for i in items if i.offer.moodle_course_id})


def _enrol_foreign(world: World) -> None:
    """An administrator enrolled two of the approved teachers with their own window; every
    enrolment the site holds before the push is someone else's."""
    wanted = _wanted_enrolments()
    assert len(wanted) >= 4, "the small site must approve enough items"
    world.users = tuple(sorted({u for u, _ in wanted}))
    now = int(time.time())
    chosen = [wanted[0], wanted[len(wanted) // 2]]
    world.api().enrol([Enrolment(user_id=u, course_id=c, role_id=5, timestart=now - 86400,
                                 timeend=now + 90 * 86400, suspend=False) for u, c in chosen])
    world.foreign = world.sandbox.contents().enrolments


def _record_fault_free(world: World) -> None:
    for stage in ("sync", "push"):
        world.start(stage)
        world.run_stage(stage)
        world.profiles[stage] = Counter(world.sandbox.hook("schedule")["seen"])
        if stage == "sync":
            world.pulled = pulled_data()
    world.expected = world.sandbox.contents()
    missing = [p for p in _wanted_enrolments() if p not in world.expected.enrolments]
    assert not missing, f"a fault-free push left approved items out of Moodle: {missing}"
    foreign = check(world.expected, world.expected, world.foreign).foreign_changed
    assert not foreign, f"a fault-free push changed foreign enrolments {foreign}"


def run_schedule(world: World, schedule: Schedule, *, rerun: bool = True) -> Outcome:
    """Run the schedule's stage under its faults, then again without (unless ``rerun`` is
    False), and judge the result."""
    world.start(schedule.stage)
    world.sandbox.hook("schedule", schedule.body(STALL))
    failed = (_killed_run(world, schedule.stage) if schedule.kill
              else _faulty_run(world, schedule.stage))
    report = world.sandbox.hook("schedule")
    injected, world.seen = Counter(report["injected"]), Counter(report["seen"])
    world.sandbox.hook("schedule", {})
    if rerun:
        world.run_stage(schedule.stage)
    assert world.expected is not None
    if schedule.stage == "sync":
        equal = pulled_data() == world.pulled
        db.session.remove()
        return Outcome(schedule, Verdict(), injected, failed, pulled_equal=equal)
    verdict = check(world.sandbox.contents(), world.expected, world.foreign)
    db.session.remove()
    return Outcome(schedule, verdict, injected, failed)


def _faulty_run(world: World, stage: str) -> bool:
    try:
        world.run_stage(stage, FAULT_TIMEOUT)
    except ConnectorError:
        db.session.rollback()
        db.session.remove()
        return True
    return False


def _killed_run(world: World, stage: str) -> bool:
    """Run ``profroute STAGE`` as its own process and ``kill -9`` it at its held call."""
    db.session.remove()
    db.engine.dispose()
    env = {**os.environ, **_environment(world.settings, stage)}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", stage], cwd=ROOT,  # noqa: S603
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not world.sandbox.hook("schedule")["held"]:
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode == -signal.SIGKILL


def _environment(settings: Settings, stage: str) -> dict[str, str]:
    values = settings if stage == "push" else settings.replace(
        diagnostic_kind="entry", diagnostic_course="diag-2026", diagnostic_quiz="")
    names = ("database_url", "moodle_url", "moodle_token", "moodle_timeout", "moodle_retries",
             "diagnostic_course", "diagnostic_quiz", "diagnostic_kind", "sync_workers")
    env = {f"PROFROUTE_{n.upper()}": str(getattr(values, n)) for n in names}
    env["PROFROUTE_CATALOGUE_DIR"] = ""
    return env


__all__ = ["READ_BACK", "Outcome", "World", "prepared_world", "run_schedule"]
