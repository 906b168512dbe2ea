"""The in-app scheduler: next-run computation, a due job run once by racing schedulers (the
database lock and the claim), a cron line's command refused while the scheduler holds the
group, a failed job recorded with its error and no secret, SIGTERM stops the process."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from support import AppRunner

from app import settings_of
from app.extensions import db
from app.models import RunLog
from app.models.schedule import Schedule
from app.schedules import lock
from app.schedules.runner import Outcome, run_due
from app.schedules.store import ScheduleError, check_cron, next_run, save

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
SECRET = "sekret-token-0a1b2c3d4e5f"


@pytest.mark.parametrize(("cron", "after", "expected"), [
    ("*/30 * * * *", dt.datetime(2026, 12, 7, 3, 10, tzinfo=UTC),
     dt.datetime(2026, 12, 7, 3, 30, tzinfo=UTC)),
    # 02:15 Moscow time (UTC+3) is 23:15 UTC the day before
    ("15 2 * * *", dt.datetime(2026, 12, 7, 0, 0, tzinfo=UTC),
     dt.datetime(2026, 12, 7, 23, 15, tzinfo=UTC)),
    ("15 2 * * *", dt.datetime(2026, 12, 6, 23, 15, tzinfo=UTC),
     dt.datetime(2026, 12, 7, 23, 15, tzinfo=UTC)),
    ("0 9 * * 1", dt.datetime(2026, 12, 7, 6, 0, tzinfo=UTC),  # Monday 09:00 MSK, exactly
     dt.datetime(2026, 12, 14, 6, 0, tzinfo=UTC)),
])
def test_next_run_is_read_in_the_schedule_time_zone(cron: str, after: dt.datetime,
                                                    expected: dt.datetime) -> None:
    assert next_run(cron, after, "Europe/Moscow") == expected
    assert next_run(cron, after.replace(tzinfo=None), "Europe/Moscow") == expected


def test_cron_errors_are_in_russian() -> None:
    assert check_cron("  */5   * * * * ") == "*/5 * * * *"
    with pytest.raises(ScheduleError, match="нужно пять полей"):
        check_cron("@hourly")
    with pytest.raises(ScheduleError, match="не разобрано"):
        check_cron("* * 32 * *")


def schedule(job: str, cron: str = "*/5 * * * *", *, due_at: dt.datetime | None = None,
             run_requested: bool = False) -> int:
    """A stored schedule of ``job``, enabled and due at ``due_at`` (or asked to run)."""
    row = save(None, name=f"test {job}", job=job, cron=cron, enabled=due_at is not None,
               zone="Europe/Moscow")
    row.next_run_at = due_at
    row.run_requested = run_requested
    db.session.commit()
    return int(row.id)


def scheduled_runs(job: str) -> list[RunLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(RunLog).filter_by(stage=f"scheduled:{job}")))


def test_a_due_job_runs_once_with_two_schedulers_racing(app: Flask) -> None:
    now = dt.datetime.now(UTC)
    schedule_id = schedule("retention", due_at=now - dt.timedelta(minutes=1))
    outcomes: list[Outcome] = []
    start = threading.Barrier(2)

    def scheduler(name: str) -> None:
        with app.app_context():
            start.wait()
            outcomes.extend(run_due(settings_of(app), name, now))
            db.session.remove()

    threads = [threading.Thread(target=scheduler, args=(n,)) for n in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [o.status for o in outcomes if o.status == "ok"] == ["ok"], outcomes
    runs = scheduled_runs("retention")
    assert len(runs) == 1 and runs[0].status == "ok" and runs[0].finished_at is not None
    assert runs[0].summary == {"retention": {"days": 0, "dry_run": False}}
    row = db.session.get(Schedule, schedule_id)
    assert row is not None and row.last_run_id == runs[0].id
    assert row.next_run_at is not None and row.next_run_at.replace(tzinfo=UTC) > now
    assert run_due(settings_of(app), "three", now) == []  # not due again
    assert [r.stage for r in db.session.scalars(select(RunLog).order_by(RunLog.id))] == [
        "scheduled:retention", "retention"]  # the step's own row, as `profroute retention`


def test_a_held_group_is_left_for_later_and_a_cron_command_is_refused(
        app: Flask, runner: AppRunner) -> None:
    schedule("retention", run_requested=True)
    assert lock.acquire("sync", "cron-line")
    assert run_due(settings_of(app), "scheduler", dt.datetime.now(UTC)) == [
        Outcome("test retention", "skipped")]
    assert scheduled_runs("retention") == []
    lock.release("sync", "cron-line")
    assert [o.status for o in run_due(settings_of(app), "scheduler")] == ["ok"]
    # And the other way round: a command of the group waits for nobody, it says so.
    assert lock.acquire("sync", "scheduler")
    refused = runner.invoke(["retention"])
    assert refused.exit_code == 2 and "уже выполняются" in refused.output
    lock.release("sync", "scheduler")
    assert runner.invoke(["retention"]).exit_code == 0


def test_a_lapsed_lock_is_taken_over(app: Flask) -> None:
    assert lock.acquire("push", "crashed", ttl=dt.timedelta(seconds=-1))
    assert lock.acquire("push", "alive")
    assert not lock.acquire("push", "third")
    lock.release("push", "crashed")  # not the holder any more: nothing happens
    assert not lock.acquire("push", "third")


def test_a_lock_of_a_process_of_this_host_that_ended_is_taken_over_at_once(app: Flask) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    host = socket.gethostname()[:100]
    assert lock.acquire("sync", f"{host}:{int(ended.stdout)}:dead0000")  # killed half-way
    assert lock.acquire("sync", lock.holder_name())  # the rerun needs no six hours' wait
    assert not lock.acquire("sync", f"{host}:{os.getpid()}:other000")  # this one runs
    assert lock.acquire("push", f"elsewhere:{int(ended.stdout)}:dead0000")
    assert not lock.acquire("push", "mine")  # another host's process: only the ttl frees it


def test_a_failed_job_is_recorded_with_its_error_and_no_secret(
        make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url=database_url, moodle_url=f"http://127.0.0.1:9/{SECRET}",
                   moodle_token=SECRET, moodle_retries=0, moodle_timeout=2)
    schedule_id = schedule("sync-chain", run_requested=True)
    outcomes = run_due(settings_of(app), "scheduler")
    assert [o.status for o in outcomes] == ["failed"]
    failed = scheduled_runs("sync-chain")
    assert len(failed) == 1 and failed[0].status == "failed" and failed[0].error
    every = list(db.session.scalars(select(RunLog).order_by(RunLog.id)))
    assert [r.stage for r in every] == ["scheduled:sync-chain", "sync"]  # the chain stopped
    assert all(SECRET not in r.error for r in every), [r.error for r in every]
    row = db.session.get(Schedule, schedule_id)
    assert row is not None and row.last_run_id == failed[0].id and not row.run_requested
    assert lock.acquire("sync", "after")  # the lock was given back


def test_the_scheduler_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PROFROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'profroute.db'}"}
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler", "--interval",
                                "1"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 120
        line = ""
        while "started" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
        assert "started" in line, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out
