"""A sync killed half-way (SIGKILL) and re-run ends with the same data as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from support import app_for, pulled_data, sandbox_post

from app.settings import Settings


def sync_process(database_url: str, url: str, token: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PROFROUTE_DATABASE_URL": database_url, "PROFROUTE_MOODLE_URL": url,
           "PROFROUTE_MOODLE_TOKEN": token, "PROFROUTE_PAGE_SIZE": "50"}
    env.pop("PROFROUTE_CATALOGUE_DIR", None)
    return subprocess.Popen([sys.executable, "-m", "app.cli", "sync"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def count_attempts(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM attempt")).scalar_one()
    except sa.exc.DatabaseError:
        return 0  # the schema is not there yet
    finally:
        engine.dispose()


def snapshot(database_url: str) -> dict[str, object]:
    with app_for(Settings(database_url=database_url)):
        return pulled_data()


def test_sync_killed_half_way_converges_on_rerun(database_url: str, moodle: tuple[str, str],
                                                 tmp_path: Path) -> None:
    url, token = moodle
    sandbox_post(url, token, "latency", {"ms": 15})  # slow enough to be caught mid-way
    victim = sync_process(database_url, url, token)
    deadline = time.monotonic() + 120
    while count_attempts(database_url) < 40:
        assert victim.poll() is None, victim.stderr.read().decode() if victim.stderr else ""
        assert time.monotonic() < deadline, "sync made no progress"
        time.sleep(0.1)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    partial = count_attempts(database_url)
    sandbox_post(url, token, "latency", {"ms": 0})

    rerun = sync_process(database_url, url, token)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()

    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    whole = sync_process(reference_url, url, token)
    _, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err.decode()

    resumed, reference = snapshot(database_url), snapshot(reference_url)
    assert 40 <= partial < len(reference["attempts"])
    assert resumed == reference
    assert len(reference["attempts"]) > 100 and reference["results"]
