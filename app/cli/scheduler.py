"""``profroute scheduler``: run the schedules an admin manages on /admin/schedules."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

import click
from flask import Flask

from app import settings_of
from app.cli.base import echo_json, stage
from app.schedules.lock import holder_name
from app.schedules.runner import run_due, serve


@click.command("scheduler")
@click.option("--interval", default=30.0, type=click.FloatRange(1, 3600), show_default=True,
              help="Seconds between two looks at the schedules.")
@click.option("--once", is_flag=True, help="Run what is due now, print it, and exit.")
@stage
def scheduler_cmd(app: Flask, interval: float, once: bool) -> None:
    """Run due schedules until SIGTERM or Ctrl-C (a running job is finished first); logs go to
    standard output. Several schedulers (and cron lines) may run: a database lock per job
    group lets only one run a job at a time."""
    settings = settings_of(app)
    if once:
        echo_json([o.__dict__ for o in run_due(settings, holder_name())])
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logs = logging.getLogger("app")
    logs.addHandler(handler)
    logs.setLevel(logging.INFO)
    logs.propagate = False  # once, on standard output
    stop = threading.Event()

    def stop_on(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("signal %s: stopping after the running job", signum)
        stop.set()

    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGINT, stop_on)
    serve(settings, stop, interval)


COMMANDS = (scheduler_cmd,)
