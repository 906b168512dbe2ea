"""``profroute teacher export|erase``, ``profroute retention`` and ``profroute audit``: the
personal-data duties (152-ФЗ) and the audit log, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask

from app import settings_of
from app.accounts.personal_data import Holdings, erase_teacher, find_teacher
from app.accounts.personal_export import export_teacher
from app.accounts.retention import apply_retention
from app.cli.base import echo_json, stage
from app.common.audit import AuditFilter, event_dict, events, parse_date
from app.common.runs import logged_run
from app.schedules.jobs import SYNC
from app.schedules.lock import held
from app.web.audit_views import risk_reason


@click.group("teacher")
def teacher() -> None:
    """One teacher's personal data: export all of it, or erase it."""


@teacher.command("export")
@click.argument("key")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON to this file instead of standard output.")
@stage
def teacher_export(app: Flask, key: str, output: str | None) -> None:
    """Everything held about the teacher KEY (Moodle user id or login), as JSON."""
    person = find_teacher(key)
    settings = settings_of(app)
    data = export_teacher(person, settings.moodle_url, risk_reason(person, settings))
    if output is None:
        echo_json(data)
        return
    Path(output).write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    click.echo(f"written {output}", err=True)


@teacher.command("erase")
@click.argument("key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@stage
def teacher_erase(app: Flask, key: str, yes: bool) -> None:
    """Erase the teacher KEY (Moodle user id or login) and everything naming them.

    Refused while a push is sending rows for them. Prints what was removed (counts only).
    """
    person = find_teacher(key)
    mid = person.moodle_user_id
    if not yes:
        click.confirm(f"Erase teacher {mid} ({person.full_name or person.username}) and all "
                      "their data? This cannot be undone", abort=True)
    held = Holdings.of([mid], settings_of(app).moodle_url)
    with logged_run("teacher-erase") as run:
        erasure = erase_teacher(person, held)
        run.summary = erasure.as_dict()
    echo_json(erasure.as_dict())
    if erasure.still_in_moodle:
        click.echo(f"note: teacher {mid} is still scored in the diagnostic course: the next "
                   "sync reads them again unless Moodle removes them from it", err=True)


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="List the teachers it would erase; erase none.")
@stage
def retention_cmd(app: Flask, dry_run: bool) -> None:
    """Erase teachers absent from Moodle longer than PROFROUTE_RETENTION_DAYS (0: off).

    Exits 1 when a teacher had to be left for the next run (a push was sending for them).
    """
    settings = settings_of(app)
    if settings.retention_days <= 0:
        click.echo("retention is off (PROFROUTE_RETENTION_DAYS = 0): nothing is erased",
                   err=True)
    with held(SYNC), logged_run("retention") as run:
        summary = apply_retention(settings.retention_days, settings.moodle_url,
                                  dry_run=dry_run)
        run.summary = summary.as_dict()
    echo_json(summary.as_dict())
    for line in summary.postponed:
        click.echo(f"postponed: {line}", err=True)
    sys.exit(1 if summary.postponed else 0)


@click.command("audit")
@click.option("--since", default=None, help="From this day, YYYY-MM-DD (UTC).")
@click.option("--until", default=None, help="To this day inclusive, YYYY-MM-DD (UTC).")
@click.option("--action", default="", help="An action (route.approve) or a prefix (route.).")
@click.option("--actor", default="", help="A login, cli:<os user> or system.")
@click.option("--limit", default=200, type=click.IntRange(1, 100_000), show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the events as JSON.")
@stage
def audit_cmd(app: Flask, *, since: str | None, until: str | None, action: str, actor: str,
              limit: int, as_json: bool) -> None:
    """The audit log, newest first."""
    where = AuditFilter(action=action.strip(), actor=actor.strip(),
                        since=parse_date(since, "--since"), until=parse_date(until, "--until"))
    rows, total = events(where, per_page=limit)
    if as_json:
        echo_json([event_dict(e) for e in rows])
        return
    for e in rows:
        target = f" {e.object_kind}:{e.object_id}" if e.object_kind else ""
        click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}Z {e.actor} {e.action}{target} "
                   f"{event_dict(e)['details']}")
    if total > len(rows):
        click.echo(f"({total - len(rows)} older events not shown: --limit)", err=True)


COMMANDS = (teacher, retention_cmd, audit_cmd)
