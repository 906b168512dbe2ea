"""The pipeline's commands: check, import the catalogue, sync, deficits, recommend, approve,
cancel, push, report."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask

from app import settings_of
from app.analyse.levels import compute_deficits
from app.cli.base import echo_json, logged_stage, named_diagnostic, stage
from app.cli.registry import map_option
from app.common.moodle import moodle_api
from app.common.runs import logged_run
from app.common.store import read_file
from app.push.run import PushSummary, push
from app.registry.catalogue import FILES, KINDS, import_catalogue
from app.registry.offerings import import_table
from app.reports import analytics
from app.reports.maps import current_diagnostic, deficit_map, summary
from app.routes.items import approve, cancel, recommend
from app.schedules.jobs import PUSH, SYNC
from app.schedules.lock import held
from app.sync.check import check_moodle
from app.sync.pull import sync
from app.web.import_messages import table_warnings
from courses.offer_tables import AVAILABILITY, OFFER_TABLES
from tabular import table_kind


@click.command("check-moodle")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@stage
def check_moodle_cmd(app: Flask, as_json: bool) -> None:
    """Check the Moodle site; exit 0 only when everything ProfRoute needs is there."""
    settings = settings_of(app)
    report = check_moodle(moodle_api(settings), settings)
    if as_json:
        echo_json(report.as_dict())
    else:
        for line in report.lines:
            click.echo(f"[{'ok' if line.ok else 'FAIL'}] {line.name}: {line.detail}")
    sys.exit(0 if report.ok else 1)


@click.command("import-catalogue")
@click.argument("path", type=click.Path(exists=True))
@click.option("--kind", type=click.Choice(list(OFFER_TABLES)), default=None,
              help="PATH is one table of this kind (external courses, internships, mentoring, "
                   "methodical events; each row a session) instead of a catalogue folder.")
@map_option(*KINDS.values(), *OFFER_TABLES)
@stage
def import_catalogue_cmd(app: Flask, path: str, kind: str | None,
                         mapping: dict[str, str]) -> None:
    """Import schools.csv, partnerships.csv and offers.csv from the folder PATH, or with
    ``--kind`` the one table PATH.

    A ``--map`` applies to each file whose kind has that COLUMN (``starts_on`` to both
    partnerships and offers); an empty COLUMN leaves the header unread in every file.
    Exits 2 when a file is refused as a whole, 1 when rows are refused; unread and missing
    columns are warned about on stderr.
    """
    pattern = settings_of(app).school_code_pattern
    if kind is not None:
        _import_table_file(kind, path, mapping, pattern)
        return
    if not Path(path).is_dir():
        raise click.BadParameter(f"{path} is a file: name its --kind, or give a folder",
                                 param_hint="PATH")
    mappings = {file: {header: column for header, column in mapping.items()
                       if not column or column in table_kind(KINDS[file]).columns}
                for file in FILES}
    found = logged_stage("import-catalogue",
                         lambda: import_catalogue(path, pattern, mappings=mappings))
    for name, present in found.present.items():
        if name in found.refused:
            continue
        for line in table_warnings(table_kind(KINDS[name]), found.unread.get(name, []), present):
            click.echo(f"{name}: {line}", err=True)
    if found.refused or found.errors:
        sys.exit(2 if found.refused else 1)


def _import_table_file(kind: str, path: str, mapping: dict[str, str], pattern: str) -> None:
    """Import one table of ``kind``, print its summary; exit 2 refused, 1 rows refused."""
    chosen = {header: column for header, column in mapping.items()
              if not column or column in table_kind(kind).columns}
    data = read_file(path)
    found = logged_stage(f"import-{kind}", lambda: import_table(
        kind, data, name=Path(path).name, mapping=chosen, code_pattern=pattern))
    if not found.refused:
        for line in table_warnings(table_kind(kind), found.unread, found.present):
            click.echo(f"{Path(path).name}: {line}", err=True)
    if found.refused or found.errors:
        sys.exit(2 if found.refused else 1)


@click.command("import-availability")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@map_option(AVAILABILITY)
@stage
def import_availability_cmd(app: Flask, file: str, mapping: dict[str, str]) -> None:
    """Import teachers' excluded dates (and subjects) from FILE: teacher (Moodle id, email or
    login), from, to, reason, subjects.

    Exits 2 when the file is refused as a whole, 1 when rows are refused.
    """
    _import_table_file(AVAILABILITY, file, mapping, settings_of(app).school_code_pattern)


@click.command("sync")
@click.option("--full", is_flag=True,
              help="Re-read everything (profiles included), not only changed grades.")
@stage
def sync_cmd(app: Flask, full: bool) -> None:
    """Pull teachers, the diagnostic's attempts and completions from Moodle (incremental)."""
    settings = settings_of(app)
    with held(SYNC), logged_run("sync") as run:
        if settings.catalogue_dir:
            import_catalogue(settings.catalogue_dir, settings.school_code_pattern)
        result = sync(moodle_api(settings), settings, full=full)
        run.summary = result.as_dict()
    echo_json(result.as_dict())


@click.command("deficits")
@stage
def deficits_cmd(app: Flask) -> None:
    """Score every teacher per competency and store the deficit levels."""
    with held(SYNC):
        logged_stage("deficits",
                     lambda: compute_deficits(named_diagnostic(app), settings_of(app)))


@click.command("recommend")
@click.option("--solver", type=click.Choice(["highs", "greedy"]), default=None,
              help="highs: the solver with a time limit; greedy: the baseline pass "
                   "(default: PROFROUTE_PLAN_SOLVER).")
@stage
def recommend_cmd(app: Flask, solver: str | None) -> None:
    """Plan routes for the deficits (route items with their reasons; unmet needs with why)."""
    with held(SYNC):
        logged_stage("recommend", lambda: recommend(named_diagnostic(app), settings_of(app),
                                                    solver=solver))


@click.command("approve")
@click.option("--all", "approve_all", is_flag=True, help="Approve every proposed item.")
@click.option("--teacher", "teachers", multiple=True, type=int, help="Moodle user id.")
@click.option("--school", default=None, help="School code.")
@stage
def approve_cmd(app: Flask, approve_all: bool, teachers: tuple[int, ...],
                school: str | None) -> None:
    """Approve proposed route items (all, per teacher or per school)."""
    if not (approve_all or teachers or school):
        raise click.UsageError("say what to approve: --all, --teacher ID or --school CODE")
    with logged_run("approve") as run:
        count = approve(named_diagnostic(app), teacher_ids=list(teachers) or None,
                        school_code=school)
        run.summary = {"approved": count}
    echo_json({"approved": count})


@click.command("cancel")
@click.option("--teacher", "teacher", required=True, type=int, help="Moodle user id.")
@click.option("--offer", default=None, help="Offer key; all the teacher's items if omitted.")
@stage
def cancel_cmd(app: Flask, teacher: int, offer: str | None) -> None:
    """Cancel route items; the next push suspends their Moodle enrolments."""
    with logged_run("cancel") as run:
        count = cancel(named_diagnostic(app), teacher_id=teacher, offer_key=offer)
        run.summary = {"cancelled": count}
    echo_json({"cancelled": count})


@click.command("push")
@stage
def push_cmd(app: Flask) -> None:
    """Send enrolments and messages for approved items to Moodle (idempotent)."""
    settings = settings_of(app)
    with held(PUSH):
        result = logged_stage("push", lambda: push(moodle_api(settings), settings))
    if result.needs_attention:
        for line in push_notes(result):
            click.echo(line, err=True)
        sys.exit(1)


def push_notes(result: PushSummary) -> list[str]:
    """What a push leaves for a person, in Russian: held courses, refusals, uncertain
    messages (the JSON summary on stdout has the same in full, with the calls made)."""
    lines = [f"Курс {c['course_id']}: ничего не отправлено, ждут следующей отправки "
             f"записей: {c['rows']}. {c['error']}" for c in result.held_courses]
    if result.enrolments_failed or result.messages_failed:
        lines.append(f"Отклонено Moodle: записей на курсы {result.enrolments_failed}, "
                     f"сообщений {result.messages_failed} (см. errors)")
    lines += [f"Сообщение {m['key']} пользователю {m['user_id']}: неизвестно, дошло ли; "
              "решите на странице «Отправка в Moodle» (/push)" for m in result.uncertain]
    lines += [f"Не отправлено: {error}" for error in result.errors]
    return lines


@click.command("report")
@stage
def report_cmd(app: Flask) -> None:
    """Print the figures: teachers, deficits per competency, route items, outbox, map."""
    diagnostic = current_diagnostic()
    data = summary(diagnostic)
    if diagnostic is not None:
        data["deficit_map"] = deficit_map(diagnostic).__dict__
        data["by_school_type"] = analytics.by_school_type(diagnostic)
        data["ranking"] = analytics.ranking(diagnostic)
        data["risk_group"] = analytics.risk(diagnostic, settings_of(app))
    echo_json(data)


COMMANDS = (check_moodle_cmd, import_catalogue_cmd, import_availability_cmd, sync_cmd,
            deficits_cmd, recommend_cmd, approve_cmd, cancel_cmd, push_cmd, report_cmd)
