"""The analytics page: shares by school type, the ranking, the map over time, the risk group."""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import and_, func, select
from support import AppRunner, signed_in

from app import create_app, settings_of
from app.analyse.policy import policy_overview
from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, School, Teacher
from app.reports import analytics
from app.settings import Settings
from config import DEMO_DIR


@pytest.fixture
def client(signed_in_client: FlaskClient) -> FlaskClient:
    """The pages here are read by a methodologist of the whole region (and admin)."""
    return signed_in_client

VIEWS = ("by-type", "ranking", "over-time", "risk-group")


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str, moodle: tuple[str, str]) -> Flask:
    """The app on a fresh database and sandbox, with the demo schools and thresholds file."""
    url, token = moodle
    return make_app(database_url=database_url, moodle_url=url, moodle_token=token,
                    catalogue_dir=str(DEMO_DIR), thresholds_file=str(DEMO_DIR / "thresholds.toml"))


@pytest.fixture
def scored_app(app: Flask, runner: AppRunner) -> Flask:
    for stage in ("sync", "deficits"):
        run(runner, stage)
    return app


def run(runner: AppRunner, stage: str) -> None:
    result = runner.invoke([stage], catch_exceptions=False)
    db.session.expire_all()  # the command ran in its own session
    assert result.exit_code == 0, result.output


def percent(share: float | None) -> str:
    """A share as the page shows it (Jinja's round, as on the deficit map)."""
    return "—" if share is None else f"{round(share * 100)} %"


def row(page: str, attribute: str, value: object) -> str:
    found = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', page, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


def cells(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-competency="([^"]+)">(?:<b>)?([^<]+)', html))


def diagnostic() -> Diagnostic:
    return db.session.scalars(select(Diagnostic)).one()


def sheet_rows(client: object, url: str) -> list[tuple[object, ...]]:
    answer = client.get(url)  # type: ignore[attr-defined]
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(answer.data))
    return list(book.active.iter_rows(values_only=True))


def test_analytics_page_says_what_to_run_until_levels_are_stored(
        client: FlaskClient, runner: AppRunner) -> None:
    page = client.get("/analytics").get_data(as_text=True)
    assert "Данных пока нет" in page and "profroute sync" in page and 'href="/analytics"' in page
    assert client.get("/analytics/ranking.xlsx").status_code == 404
    assert client.get("/analytics?view=nonsense").status_code == 404
    assert client.get("/analytics/nonsense.xlsx").status_code == 404

    run(runner, "sync")
    page = client.get("/analytics").get_data(as_text=True)
    assert "уровни ещё не рассчитаны" in page and "profroute deficits" in page
    assert 'id="ranking"' not in page

    run(runner, "deficits")
    page = client.get("/analytics").get_data(as_text=True)
    for view in VIEWS:
        assert f'<h2 id="{view}">' in page and f'href="/api/deficit-map/{view}"' in page
        assert f'href="/analytics/{view}.xlsx"' in page
    only = client.get("/analytics?view=risk-group").get_data(as_text=True)
    assert 'id="risk-group"' in only and 'id="ranking"' not in only
    assert client.get("/analytics?school=00000").status_code == 404


def test_ranking_on_the_page_follows_analytics_ranking(scored_app: Flask,
                                                        client: FlaskClient) -> None:
    page = client.get("/analytics?view=ranking").get_data(as_text=True)
    shown = re.findall(r'<tr data-school="([^"]+)"><td>(\d+)</td>', page)
    ranked = analytics.ranking(diagnostic())
    assert len(ranked) > 3
    assert shown == [(r["school_code"], str(r["rank"])) for r in ranked]

    # The first school's mean share and worst competency, from its teachers' stored levels.
    first = db.session.scalars(select(School).filter_by(code=ranked[0]["school_code"])).one()
    counts: dict[str, Counter[str]] = {}
    for code, level in db.session.execute(
            select(Competency.idnumber, Deficit.level).join(Deficit.competency)
            .join(Teacher, Teacher.id == Deficit.teacher_id)
            .where(Teacher.school_id == first.id, Teacher.active.is_(True))):
        counts.setdefault(code, Counter())[level] += 1
    shares = {code: c["deficit"] / (c.total() - c["insufficient"])
              for code, c in counts.items() if c.total() > c["insufficient"]}
    worst = min(shares, key=lambda code: (-shares[code], code))
    first_row = row(page, "data-school", first.code)
    assert f"{percent(sum(shares.values()) / len(shares))}</td>" in first_row
    assert f"{worst} — {percent(shares[worst])}" in first_row
    assert first.name in first_row and f'href="/analytics?school={first.code}"' in first_row

    table = sheet_rows(client, "/analytics/ranking.xlsx")
    start = table.index(next(r for r in table if r[0] == "Место")) + 1
    assert [r[1] for r in table[start:]] == [r["school_code"] for r in ranked]


def test_school_type_shares_are_deficits_over_assessed_of_the_stored_levels(
        scored_app: Flask, client: FlaskClient) -> None:
    page = client.get("/analytics").get_data(as_text=True)
    levels = (select(Competency.idnumber, Deficit.level).join(Deficit.competency)
              .where(Deficit.diagnostic_id == diagnostic().id))
    low_results = levels.join(Teacher, Teacher.id == Deficit.teacher_id).join(
        School, School.id == Teacher.school_id).where(
        Teacher.active.is_(True), School.low_results.is_(True),
        School.resource_centre.is_(False))  # a resource centre counts as one, not as ШНОР
    for kind, query in (("low_results", low_results), ("municipality", levels)):
        counts: dict[str, Counter[str]] = {}
        for code, level in db.session.execute(query):
            counts.setdefault(code, Counter())[level] += 1
        assessed = {code: c.total() - c["insufficient"] for code, c in counts.items()}
        expected = {code: percent(c["deficit"] / assessed[code] if assessed[code] else None)
                    for code, c in counts.items()}
        shown = row(page, "data-type", kind)
        assert cells(shown) == expected
        assert f"<td>{max(assessed.values())}</td>" in shown
    assert len(set(cells(row(page, "data-type", "low_results")).values())) > 1
    assert "ШНОР" in page and "ШФНСУ" in page and "ресурсный центр" in page

    table = sheet_rows(client, "/analytics/by-type.xlsx")
    header = next(r for r in table if r[0] == "Тип школы")
    low = next(r for r in table if r[0] == "ШНОР")
    wanted = {r["competency"]: r["deficit_share"]
              for r in analytics.by_school_type(diagnostic())
              if r["school_type"] == "low_results"}
    assert dict(zip(header[2:], low[2:], strict=True)) == pytest.approx(wanted)


def test_risk_group_lists_analytics_risk_with_links_and_the_rule(
        scored_app: Flask, client: FlaskClient) -> None:
    page = client.get("/analytics?view=risk-group").get_data(as_text=True)
    risky = analytics.risk(diagnostic(), settings_of(scored_app))
    assessed = db.session.scalar(select(func.count(func.distinct(Deficit.teacher_id))))
    assert risky and f"В группе риска <b>{len(risky)}</b> из {assessed} педагогов" in page
    assert f"({percent(len(risky) / assessed)})" in page
    assert len(re.findall(r"<tr data-teacher=", page)) == len(risky)
    rule = re.search(r'<p id="risk-rule">(.*?)</p>', page, re.S).group(1)
    assert "не менее чем в 2 группах" in rule and "в группе «Предметный блок»" in rule
    assert "настройки сервера" in rule  # the file's revision sets no rule: settings

    # A deficit in PK-01 (the subject group) always puts a teacher in the risk group.
    subject = db.session.scalars(select(Teacher).join(Deficit, and_(
        Deficit.teacher_id == Teacher.id, Deficit.level == "deficit")).join(
        Deficit.competency).where(Competency.idnumber == "PK-01")
        .order_by(Teacher.id)).first()
    link = f'<a href="/teachers/{subject.moodle_user_id}">{subject.full_name}</a>'
    assert link in page
    assert "Предметный блок" in row(page, "data-teacher", subject.moodle_user_id)
    reason = next(r["reason"] for r in risky if r["user_id"] == subject.id)
    assert "«Предметный блок»" in reason and "subject" not in reason  # the group's label
    calm = db.session.scalars(select(Teacher).where(~Teacher.id.in_(
        select(Deficit.teacher_id).where(Deficit.level == "deficit")))).first()
    assert calm is not None and f'href="/teachers/{calm.moodle_user_id}"' not in page

    school = subject.school
    narrowed = client.get(f"/analytics?view=risk-group&school={school.code}")
    narrowed_page = narrowed.get_data(as_text=True)
    shown = re.findall(r'<tr data-teacher="(\d+)">', narrowed_page)
    assert f"<b>{len(risky)}</b>" in narrowed_page  # the count stays the municipality's
    assert f"в этой организации — {len(shown)}" in narrowed_page and shown
    people = {t.id: t for t in db.session.scalars(select(Teacher))}
    assert sorted(map(int, shown)) == sorted(
        people[r["user_id"]].moodle_user_id for r in risky
        if people[r["user_id"]].school_id == school.id)
    table = sheet_rows(client, f"/analytics/risk-group.xlsx?school={school.code}")
    assert sum(1 for r in table if r[1] is not None and isinstance(r[1], int)) == len(shown)


def test_risk_group_follows_the_rule_of_the_newest_policy_revision(
        scored_app: Flask, client: FlaskClient) -> None:
    from app import settings_of
    from app.analyse.policy import effective_document
    from app.analyse.revisions import save_revision

    before = len(analytics.risk(diagnostic(), settings_of(scored_app)))
    document = effective_document(settings_of(scored_app))
    revision = save_revision({**document, "risk": {"min_groups": 3, "groups": []}}, "тест", "")
    risky = analytics.risk(diagnostic(), settings_of(scored_app))
    assert 0 < len(risky) < before
    page = client.get("/analytics?view=risk-group").get_data(as_text=True)
    rule = re.search(r'<p id="risk-rule">(.*?)</p>', page, re.S).group(1)
    assert "не менее чем в 3 группах" in rule and "Предметный блок" not in rule
    assert f"редакция №{revision.id}" in rule
    assert f"В группе риска <b>{len(risky)}</b>" in page
    assert len(re.findall(r"<tr data-teacher=", page)) == len(risky)


def test_the_database_keeps_the_policy_without_the_thresholds_file(
        scored_app: Flask, database_url: str) -> None:
    """The reported bug: `profroute serve` on the demo's database without the demo's
    thresholds file showed another policy (nobody in the risk group). The deficits run
    imported the file as a policy revision, so an app without the file reads the same."""
    with_file = settings_of(scored_app)
    assert with_file.thresholds_file
    risky = analytics.risk(diagnostic(), with_file)
    overview = policy_overview(with_file)
    assert risky and overview["competency_groups"]["PK-01"] == "subject"
    page = signed_in(scored_app).get("/analytics?view=risk-group").get_data(as_text=True)
    count = re.search(r"В группе риска <b>\d+</b> из \d+ педагогов", page).group(0)

    served = create_app(Settings(database_url=database_url), {"TESTING": True})
    with served.app_context():
        without_file = settings_of(served)
        assert not without_file.thresholds_file
        assert analytics.risk(diagnostic(), without_file) == risky
        assert policy_overview(without_file) == overview
        again = signed_in(served, "petrova").get("/analytics?view=risk-group").get_data(as_text=True)
        assert count in again and f"В группе риска <b>{len(risky)}</b>" in again
        db.session.remove()
        db.engine.dispose()
    assert overview["source"].startswith("редакция №1 от ")
    assert "автор файл порогов " in overview["source"]


def test_map_over_time_shows_each_diagnostic_oldest_first(scored_app: Flask,
                                                           client: FlaskClient) -> None:
    entry = diagnostic()
    pk01 = db.session.scalars(select(Competency).filter_by(idnumber="PK-01")).one()
    final = Diagnostic(moodle_quiz_id=999, moodle_course_id=entry.moodle_course_id,
                       name="Итоговая диагностика", kind="final")
    db.session.add(final)
    db.session.flush()
    for old in db.session.scalars(select(Deficit).where(Deficit.diagnostic_id == entry.id)):
        level = "ok" if old.competency_id == pk01.id and old.level == "deficit" else old.level
        db.session.add(Deficit(diagnostic_id=final.id, teacher_id=old.teacher_id,
                               competency_id=old.competency_id, questions=old.questions,
                               score=old.score, level=level))
    db.session.commit()

    page = client.get("/analytics?view=over-time").get_data(as_text=True)
    entry_row, final_row = row(page, "data-period", 1), row(page, "data-period", 2)
    assert "(входная)" in entry_row and "«Итоговая диагностика» (итоговая)" in final_row
    levels = Counter(db.session.scalars(select(Deficit.level).where(
        Deficit.diagnostic_id == entry.id, Deficit.competency_id == pk01.id)))
    assert levels["deficit"] > 0
    assessed = levels.total() - levels["insufficient"]
    assert cells(entry_row)["PK-01"] == percent(levels["deficit"] / assessed)
    assert cells(final_row)["PK-01"] == "0 %"
    assert 'id="over-time-schools"' in page and "<details>" in page
