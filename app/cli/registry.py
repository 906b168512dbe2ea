"""Commands on ProfRoute's own data: question maps, national results, school identification,
the programme's indicators."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask import Flask

from app import settings_of
from app.accounts.roles import REGION
from app.analyse.question_map import import_question_map, is_moodle_xml
from app.cli.base import echo_json, logged_stage, named_diagnostic, stage
from app.common import audit
from app.common.runs import logged_run
from app.common.store import read_file
from app.registry.results import identify_schools, import_results
from app.reports.capacity import capacity_report, capacity_workbook, parse_overrides
from app.reports.effectiveness import GROUPS, effectiveness_report, effectiveness_workbook
from app.reports.indicators import compare_period, indicator_report, period_from, report_workbook
from app.reports.municipal_pdf import municipal_report, municipality_scope, report_pdf
from app.settings import SettingsError
from app.web.import_messages import column_warnings, table_warnings
from deficits.effectiveness import MIN_PAIRS
from tabular import read_table, table_kind


def parse_mapping(pairs: tuple[str, ...], kinds: tuple[str, ...] = ("results",)) -> dict[str, str]:
    """``("Всего=participants",)`` → ``{"Всего": "participants"}``.

    :raise click.BadParameter: a pair without ``=`` or naming no column of ``kinds``.
    """
    accepted = list(dict.fromkeys(c for kind in kinds for c in table_kind(kind).columns))
    chosen: dict[str, str] = {}
    for pair in pairs:
        header, sep, column = pair.partition("=")
        if not sep or not header.strip() or column.strip() not in (*accepted, ""):
            raise click.BadParameter(f"{pair!r}: write HEADER=COLUMN, COLUMN one of "
                                     + ", ".join(accepted), param_hint="--map")
        chosen[header.strip()] = column.strip()
    return chosen


def map_option(*kinds: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The repeatable ``--map HEADER=COLUMN`` option of an import, COLUMN of ``kinds``."""
    return click.option(
        "--map", "mapping", multiple=True, metavar="HEADER=COLUMN",
        callback=lambda _ctx, _param, pairs: parse_mapping(pairs, kinds),
        help="Read the column headed HEADER as COLUMN (one of " + ", ".join(
            dict.fromkeys(c for kind in kinds for c in table_kind(kind).columns))
        + "); repeatable; an empty COLUMN leaves the column unread.")


@click.command("import-question-map")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@map_option("question_map")
@stage
def import_question_map_cmd(app: Flask, file: str, mapping: dict[str, str]) -> None:
    """Import a question → competency table (CSV/XLSX) or a Moodle XML question-bank export.

    ``--map`` applies to a table (a Moodle XML question bank has no columns). Exits 2 when
    the file is refused as a whole, 1 when rows are refused or conflict; unread columns are
    warned about on stderr.
    """
    xml = is_moodle_xml(read_file(file), file)
    if mapping and xml:
        raise click.BadParameter("a Moodle XML question bank has no columns to map",
                                 param_hint="--map")
    result = logged_stage("import-question-map",
                          lambda: import_question_map(named_diagnostic(app), file,
                                                      mapping=mapping))
    if not result.refused and not xml:
        kind = table_kind("question_map")
        table = read_table(file, aliases=kind.aliases(), mapping=mapping)
        for line in table_warnings(kind, table.unread, table.columns):
            click.echo(f"{Path(file).name}: {line}", err=True)
    if result.refused:
        sys.exit(2)
    if result.errors or result.conflicts:
        sys.exit(1)


@click.command("import-results")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@map_option("results")
@stage
def import_results_cmd(app: Flask, files: tuple[str, ...], mapping: dict[str, str]) -> None:
    """Import ВПР/ОГЭ/ЕГЭ results per school (CSV or XLSX; UTF-8, UTF-16 with BOM or
    Windows-1251).

    Exits 2 when a file is refused as a whole (nothing of it stored), 1 when rows are
    refused; unread columns and the rules they disable are warned about on stderr.
    """
    pattern = settings_of(app).school_code_pattern
    out = []
    with logged_run("import-results") as run:
        for path in files:
            found = import_results(path, mapping=mapping, code_pattern=pattern)
            for line in column_warnings(found.unread, found.disabled):
                click.echo(f"{Path(path).name}: {line}", err=True)
            out.append(found.as_dict() | {"file": path})
        run.summary = {"files": out}
    echo_json(out)
    if any(f["refused"] for f in out):
        sys.exit(2)
    if any(f["errors"] for f in out):
        sys.exit(1)


@click.command("identify-schools")
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
    echo_json([{"school_code": r.school_code, "low_results": bool(r.low_results),
                 "resource_centre_candidate": bool(r.resource_centre_candidate),
                 "reasons": r.reasons} for r in found.itertuples(index=False)])


@click.command("indicators")
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
    echo_json(report.as_dict())
    if xlsx_path:
        Path(xlsx_path).write_bytes(report_workbook(settings, report))
        audit.record("export.xlsx", ("indicators", report.period.start),
                     {"municipality": municipality, "file": xlsx_path}, commit=True)


@click.command("effectiveness")
@click.option("--by", type=click.Choice(list(GROUPS)), default="offer", show_default=True,
              help="Group by offer, offer kind, provider or resource centre (with competency).")
@click.option("--entry", "entry_id", type=int, default=None,
              help="The entry diagnostic's id (default: the latest entry diagnostic).")
@click.option("--final", "final_id", type=int, default=None,
              help="The final diagnostic's id (default: the latest final diagnostic).")
@click.option("--min-pairs", type=click.IntRange(min=1), default=MIN_PAIRS, show_default=True,
              help="Fewer pairs than this give counts and no share.")
@click.option("--xlsx", "xlsx_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the table to this XLSX file.")
@stage
def effectiveness_cmd(app: Flask, *, by: str, entry_id: int | None, final_id: int | None,
                      min_pairs: int, xlsx_path: str | None) -> None:
    """Which offers close deficits: per offer (or kind, provider, centre) and competency, the
    share of entry deficits the final diagnostic closed among teachers who completed it (95 %
    Wilson interval), beside teachers with the deficit who took no offer for it (a naive
    comparison), and the mean score changes. Prints JSON.
    """
    try:
        report = effectiveness_report(REGION, by, entry_id, final_id, min_pairs)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    echo_json(report.as_dict())
    if xlsx_path:
        Path(xlsx_path).write_bytes(effectiveness_workbook(report))
        audit.record("export.xlsx", ("effectiveness", by), {"file": xlsx_path}, commit=True)


@click.command("capacity")
@click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The period's first day (default: today).")
@click.option("--to", "end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The period's last day (default: a year after the first).")
@click.option("--rate", "rates", multiple=True, metavar="KIND.RATE=SHARE",
              help="Override a rate, e.g. internship.accepted=0.7 (kinds: internship, "
                   "mentoring, course, external, event; rates: proposed, accepted, completed).")
@click.option("--xlsx", "xlsx_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the tables to this XLSX file.")
@stage
def capacity_cmd(app: Flask, *, start: dt.datetime | None, end: dt.datetime | None,
                 rates: tuple[str, ...], xlsx_path: str | None) -> None:
    """What the next period asks of the resource centres (internship seats and mentor hours
    per centre and competency, against the catalogue) and course providers (places to order
    per competency), schools with deficits and no partner centre, overloaded centres, the
    assumptions and last period's forecast against what happened. Prints JSON.
    """
    given: dict[str, str] = {}
    for text in rates:
        key, sep, value = text.partition("=")
        if not sep:
            raise click.UsageError(f"--rate {text!r}: write KIND.RATE=SHARE, e.g. "
                                   "internship.accepted=0.7")
        given[key.strip()] = value
    try:
        report = capacity_report(REGION, start=start.date() if start else None,
                                 end=end.date() if end else None,
                                 overrides=parse_overrides(given))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    echo_json(report.as_dict())
    if xlsx_path:
        Path(xlsx_path).write_bytes(capacity_workbook(report))
        audit.record("export.xlsx", ("capacity", report.period[0].isoformat()),
                     {"file": xlsx_path}, commit=True)


@click.command("municipal-report")
@click.option("--pdf", "pdf_path", required=True, type=click.Path(dir_okay=False),
              help="Write the municipal report to this PDF file.")
@click.option("--municipality", default=None,
              help="Only this municipality; without it the whole region.")
@stage
def municipal_report_cmd(app: Flask, *, pdf_path: str, municipality: str | None) -> None:
    """The municipal report as a PDF (A4, in Russian): the deficit heat map, the indicators,
    offer effectiveness and capacity, of the region or of ``--municipality``.
    """
    report = municipal_report(settings_of(app), municipality_scope(municipality))
    pdf = report_pdf(report)
    Path(pdf_path).write_bytes(pdf)
    audit.record("export.pdf", ("municipal_report", report.day.isoformat()),
                 {"area": report.area, "file": pdf_path}, commit=True)
    click.echo(f"{pdf_path}: {report.area}, {len(pdf)} bytes")


COMMANDS = (import_question_map_cmd, import_results_cmd, identify_schools_cmd, indicators_cmd,
            effectiveness_cmd, capacity_cmd, municipal_report_cmd)
