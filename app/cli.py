"""The ``profroute`` command: every pipeline stage, runnable alone against any Moodle."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy.engine import make_url

from app import settings_of
from app.analyse.levels import compute_deficits
from app.analyse.question_map import import_question_map
from app.cli_base import _echo_json, prepare_schema, stage
from app.cli_web_users import web_user
from app.common.moodle import moodle_api
from app.common.runs import logged_run
from app.demo.run import run_demo
from app.push.run import push
from app.registry.catalogue import import_catalogue
from app.registry.results import identify_schools, import_results
from app.reports import analytics
from app.reports.indicators import compare_period, indicator_report, period_from, report_workbook
from app.reports.maps import current_diagnostic, deficit_map, summary
from app.routes.items import approve, cancel, recommend
from app.settings import SettingsError
from app.sync.check import check_moodle
from app.sync.pull import configured_diagnostic, sync
from app.xapi.credentials import create_credential, list_credentials, set_credential_active
from app.xapi.sync import emit, lrs_client, pull_from_lrs, pull_received
from lms_connectors.exceptions import ConnectorError
from lms_connectors.moodle.plugin_build import build_zip

logger = logging.getLogger("profroute")
__all__ = ["main", "prepare_schema"]  # prepare_schema: the tests and the demo use it


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log progress (INFO).")
def main(verbose: bool) -> None:
    """ProfRoute: teachers' deficits from Moodle to individual PD routes."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


@main.command("check-moodle")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@stage
def check_moodle_cmd(app: Flask, as_json: bool) -> None:
    """Check the Moodle site; exit 0 only when everything ProfRoute needs is there."""
    settings = settings_of(app)
    report = check_moodle(moodle_api(settings), settings)
    if as_json:
        _echo_json(report.as_dict())
    else:
        for line in report.lines:
            click.echo(f"[{'ok' if line.ok else 'FAIL'}] {line.name}: {line.detail}")
    sys.exit(0 if report.ok else 1)


@main.command("import-catalogue")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@stage
def import_catalogue_cmd(app: Flask, directory: str) -> None:
    """Import schools.csv, partnerships.csv and offers.csv from DIRECTORY."""
    with logged_run("import-catalogue") as run:
        result = import_catalogue(directory)
        run.summary = result.as_dict()
    _echo_json(result.as_dict())


@main.command("sync")
@click.option("--full", is_flag=True,
              help="Re-read everything (profiles included), not only changed grades.")
@stage
def sync_cmd(app: Flask, full: bool) -> None:
    """Pull teachers, the diagnostic's attempts and completions from Moodle (incremental)."""
    settings = settings_of(app)
    with logged_run("sync") as run:
        if settings.catalogue_dir:
            import_catalogue(settings.catalogue_dir)
        result = sync(moodle_api(settings), settings, full=full)
        run.summary = result.as_dict()
    _echo_json(result.as_dict())


@main.command("deficits")
@stage
def deficits_cmd(app: Flask) -> None:
    """Score every teacher per competency and store the deficit levels."""
    with logged_run("deficits") as run:
        result = compute_deficits(_diagnostic(app), settings_of(app))
        run.summary = result.as_dict()
    _echo_json(result.as_dict())


@main.command("recommend")
@stage
def recommend_cmd(app: Flask) -> None:
    """Propose offers for the deficits (route items with their reasons)."""
    with logged_run("recommend") as run:
        result = recommend(_diagnostic(app), settings_of(app))
        run.summary = result.as_dict()
    _echo_json(result.as_dict())


@main.command("approve")
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
        count = approve(_diagnostic(app), teacher_ids=list(teachers) or None, school_code=school)
        run.summary = {"approved": count}
    _echo_json({"approved": count})


@main.command("cancel")
@click.option("--teacher", "teacher", required=True, type=int, help="Moodle user id.")
@click.option("--offer", default=None, help="Offer key; all the teacher's items if omitted.")
@stage
def cancel_cmd(app: Flask, teacher: int, offer: str | None) -> None:
    """Cancel route items; the next push suspends their Moodle enrolments."""
    with logged_run("cancel") as run:
        count = cancel(_diagnostic(app), teacher_id=teacher, offer_key=offer)
        run.summary = {"cancelled": count}
    _echo_json({"cancelled": count})


@main.command("push")
@stage
def push_cmd(app: Flask) -> None:
    """Send enrolments and messages for approved items to Moodle (idempotent)."""
    settings = settings_of(app)
    with logged_run("push") as run:
        result = push(moodle_api(settings), settings)
        run.summary = result.as_dict()
    _echo_json(result.as_dict())
    if result.enrolments_failed or result.messages_failed:
        sys.exit(1)


@main.command("report")
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
    _echo_json(data)


@main.command("import-question-map")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@stage
def import_question_map_cmd(app: Flask, file: str) -> None:
    """Import a question → competency table (CSV/XLSX) or a Moodle XML question-bank export."""
    with logged_run("import-question-map") as run:
        result = import_question_map(_diagnostic(app), file)
        run.summary = result.as_dict()
    _echo_json(result.as_dict())
    if result.errors or result.conflicts:
        sys.exit(1)


@main.command("import-results")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@stage
def import_results_cmd(app: Flask, files: tuple[str, ...]) -> None:
    """Import ВПР/ОГЭ/ЕГЭ results per school (CSV or XLSX, UTF-8 or Windows-1251)."""
    out = []
    with logged_run("import-results") as run:
        for path in files:
            out.append(import_results(path).as_dict() | {"file": path})
        run.summary = {"files": out}
    _echo_json(out)
    if any(f["errors"] for f in out):
        sys.exit(1)


@main.command("identify-schools")
@click.option("--apply", is_flag=True,
              help="Set the schools' low-results and adverse-context flags from the result.")
@click.option("--on", "on", default=None,
              help="With --apply: the date the statuses hold from, YYYY-MM-DD (default today).")
@stage
def identify_schools_cmd(app: Flask, apply: bool, on: str | None) -> None:
    """Identify low-results schools and resource-centre candidates by the documented rules."""
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError as err:
        raise SettingsError(f"--on {on!r}: write the date as YYYY-MM-DD") from err
    with logged_run("identify-schools") as run:
        found = identify_schools(apply=apply, on=day)
        run.summary = {"schools": len(found), "low_results": int(found["low_results"].sum())}
    _echo_json([{"school_code": r.school_code, "low_results": bool(r.low_results),
                 "resource_centre_candidate": bool(r.resource_centre_candidate),
                 "reasons": r.reasons} for r in found.itertuples(index=False)])


@main.command("indicators")
@click.option("--municipality", default=None,
              help="Only this municipality; without it the region total and every municipality.")
@click.option("--from", "start", default=None, help="Period start, YYYY-MM-DD (Moscow days).")
@click.option("--to", "end", default=None, help="Period end, YYYY-MM-DD, inclusive.")
@click.option("--compare-from", default=None, help="Start of a period to compare with.")
@click.option("--compare-to", default=None, help="End of the period to compare with.")
@click.option("--xlsx", "xlsx_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the indicators to this XLSX file.")
@stage
def indicators_cmd(app: Flask, *, municipality: str | None, start: str | None,
                   end: str | None, compare_from: str | None, compare_to: str | None,
                   xlsx_path: str | None) -> None:
    """The programme's indicators with numerator and denominator (default: this school year).

    Prints JSON: ``indicators`` of the region (or of ``--municipality``), ``municipalities``
    one block each, ``compare`` the same for the comparison period, ``definitions`` of every
    numerator and denominator.
    """
    settings = settings_of(app)
    report = indicator_report(settings, period_from(start, end), municipality,
                              compare_period(compare_from, compare_to))
    _echo_json(report.as_dict())
    if xlsx_path:
        Path(xlsx_path).write_bytes(report_workbook(settings, report))


@main.command("serve")
@click.option("--port", default=5000, show_default=True)
@stage
def serve_cmd(app: Flask, port: int) -> None:
    """Serve the web UI on 127.0.0.1."""
    app.run(host="127.0.0.1", port=port)


@main.command("xapi-pull")
@click.option("--source", type=click.Choice(["lrs", "received"]), default="lrs",
              show_default=True,
              help="The configured LRS, or the statements Moodle sent to ProfRoute itself.")
@click.option("--verb", default=None, help="Only statements with this verb IRI (LRS source).")
@click.option("--activity", default=None, help="Only statements about this activity IRI.")
@stage
def xapi_pull_cmd(app: Flask, source: str, verb: str | None, activity: str | None) -> None:
    """Pull Moodle's xAPI statements since the cursor into domain events."""
    settings = settings_of(app)
    with logged_run("xapi-pull") as run:
        result = (pull_received(settings) if source == "received"
                  else pull_from_lrs(lrs_client(settings), settings, verb=verb,
                                     activity=activity))
        run.summary = result.as_dict()
    _echo_json(result.as_dict())


@main.command("xapi-emit")
@stage
def xapi_emit_cmd(app: Flask) -> None:
    """Send the route lifecycle as xAPI statements to the LRS (deterministic ids, outbox)."""
    settings = settings_of(app)
    with logged_run("xapi-emit") as run:
        result = emit(lrs_client(settings), settings)
        run.summary = result.as_dict()
    _echo_json(result.as_dict())
    if result.rejected:
        sys.exit(1)


@main.group("moodle-plugin")
def moodle_plugin() -> None:
    """The Moodle-side plugin local_profroute."""


@moodle_plugin.command("build")
@click.option("--dest", default="dist", show_default=True, type=click.Path(file_okay=False))
def moodle_plugin_build(dest: str) -> None:
    """Write the installable zip of the Moodle plugin into DEST."""
    click.echo(str(build_zip(Path(dest))))


@main.group("lrs-credentials")
def lrs_credentials() -> None:
    """Credentials the Moodle xAPI log store uses to send statements to /xapi/."""


@lrs_credentials.command("add")
@click.option("--site", required=True, help="The Moodle site's wwwroot (https://…).")
@click.option("--name", default="", help="A name to tell the credential by.")
@stage
def lrs_credentials_add(app: Flask, site: str, name: str) -> None:
    """Create a credential; its secret is printed now and never again."""
    credential, secret = create_credential(site, name)
    click.echo(f"site:   {credential.site_url}\nkey:    {credential.key}\nsecret: {secret}")
    click.echo("In Moodle's Logstore xAPI settings: endpoint https://<profroute>/xapi/, "
               "username = key, password = secret. The secret is not shown again.")


@lrs_credentials.command("list")
@stage
def lrs_credentials_list(app: Flask) -> None:
    """List the credentials (never their secrets)."""
    _echo_json([{"key": c.key, "site": c.site_url, "name": c.name, "active": c.active,
                 "created": c.created_at.isoformat()} for c in list_credentials()])


@lrs_credentials.command("deactivate")
@click.argument("key")
@stage
def lrs_credentials_deactivate(app: Flask, key: str) -> None:
    """Refuse statements sent with this key from now on."""
    set_credential_active(key, active=False)
    click.echo(f"deactivated {key}")


@main.command("demo")
@click.option("--no-serve", is_flag=True, help="Run the job, print the summary and exit.")
@click.option("--port", default=5000, show_default=True)
def demo_cmd(no_serve: bool, port: int) -> None:
    """Run the whole job against the embedded Moodle sandbox, then serve the app."""
    try:
        app = run_demo(echo=click.echo)
    except (ConnectorError, SettingsError) as err:
        click.echo(f"profroute: error: {err}", err=True)
        sys.exit(2)
    if not no_serve:
        click.echo(f"Открыть: http://127.0.0.1:{port}/")
        _echo_web_user_hint(app)
        app.run(host="127.0.0.1", port=port)


def _echo_web_user_hint(app: Flask) -> None:
    """How to create the login that the policy and import pages ask for."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    click.echo("Изменять политику оценивания и загружать файлы может только методист с учётной "
               "записью. Создайте её в другом терминале (пароль будет запрошен дважды):\n"
               f"  PROFROUTE_DATABASE_URL='{url}' .venv/bin/profroute web-user add metodist "
               "--name \"Методист\"")


def _diagnostic(app: Flask):  # type: ignore[no-untyped-def]
    """The diagnostic the settings name (quiz id, else the latest of their kind)."""
    settings = settings_of(app)
    diagnostic = configured_diagnostic(settings)
    if diagnostic is None:
        raise SettingsError(f"no {settings.diagnostic_kind} diagnostic synced yet: run "
                            "`profroute sync` first")
    return diagnostic


main.add_command(web_user)

if __name__ == "__main__":
    main()
