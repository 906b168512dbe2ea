"""The audit log: a row with its actor at each audited action (CLI, web, LTI launch, a
pipeline run), never a password; the /audit page and ``profroute audit`` filter it."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from import_support import upload_results
from lti_support import CLIENT_ID, DEPLOYMENT_ID, ISSUER, LEARNER, launch, login_initiation
from lti_support import running_platform as lti_platform
from sqlalchemy import select
from support import PASSWORD, AppRunner, forget_login_per_request

from app.common import audit
from app.common.audit import AuditError, acting_as, cli_actor
from app.demo.sandbox import running_sandbox
from app.extensions import db
from app.lti.platforms import add_platform
from app.models import AuditEvent, Diagnostic, Offer, Route, RouteItem, RunLog, Teacher
from app.routes.items import approve, cancel
from config import DEMO_DIR

NEW_PASSWORD = "новый-пароль-методиста-2027"
RESULTS = ("Код ОО;Наименование ОО;Год;Оценочная процедура;Предмет;Класс;Средний балл;"
           "Доля ниже минимального порога;Число участников\n"
           "30001;МБОУ «СОШ № 1»;2025;ВПР;Математика;5;14,5;36 %;21\n"
           "30099;МБОУ «Ошибка»;20х4;ВПР;Математика;5;50;10 %;30\n")


def results_file(path: Path) -> Path:
    """One good row, one refused (its year)."""
    path.write_bytes(RESULTS.encode("cp1251"))
    return path


def audited(action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def invoke(runner: AppRunner, *args: str, stdin: str | None = None, code: int = 0) -> str:
    result = runner.invoke(list(args), input=stdin)
    assert result.exit_code == code, result.output
    db.session.expire_all()
    return result.stdout


def test_account_changes_are_audited_as_the_cli_user_and_never_hold_a_password(
        runner: AppRunner) -> None:
    # Another admin first: the last active admin can be neither disabled nor demoted.
    invoke(runner, "web-user", "add", "boss", "--role", "admin", "--password-stdin",
           stdin=PASSWORD + "\n")
    invoke(runner, "web-user", "add", "petrov", "--name", "Петров", "--role", "admin",
           "--password-stdin", stdin=PASSWORD + "\n")
    invoke(runner, "web-user", "passwd", "petrov", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    invoke(runner, "web-user", "disable", "petrov")
    invoke(runner, "web-user", "enable", "petrov")
    invoke(runner, "web-user", "revoke", "petrov", "--role", "admin")
    rows = [e for e in audited() if e.details["login"] == "petrov"]
    assert [e.action for e in rows] == ["account.add", "account.grant", "account.password",
                                        "account.disable", "account.enable", "account.revoke"]
    user_id = rows[0].object_id
    assert {(e.actor, e.object_kind, e.object_id, e.details["login"]) for e in rows} == {
        (cli_actor(), "web_user", user_id, "petrov")}
    assert cli_actor().startswith("cli:") and all(e.address is None for e in rows)
    dumped = json.dumps([audit.event_dict(e) for e in rows], ensure_ascii=False)
    assert PASSWORD not in dumped and NEW_PASSWORD not in dumped and "hash" not in dumped


def test_a_secret_in_the_details_is_refused(app: Flask) -> None:
    with pytest.raises(AuditError, match="lrs_password"):
        audit.record("site.settings", None, {"lrs_password": "x"})
    assert audited() == []


def two_routes() -> Diagnostic:
    """Teachers 7 and 8, each with a proposed item of one offer."""
    diagnostic = Diagnostic(moodle_quiz_id=1, moodle_course_id=2)
    offer = Offer(key="kpk-1", kind="course", title="КПК")
    db.session.add_all([diagnostic, offer])
    db.session.flush()
    for mid in (7, 8):
        teacher = Teacher(moodle_user_id=mid, username=f"t{mid}")
        db.session.add(teacher)
        db.session.flush()
        db.session.add(Route(teacher_id=teacher.id, diagnostic_id=diagnostic.id,
                             items=[RouteItem(offer_id=offer.id)]))
    db.session.commit()
    return diagnostic


def test_approvals_and_cancellations_name_the_actor_and_the_teachers(app: Flask) -> None:
    diagnostic = two_routes()
    with acting_as("cli:metodist"):
        assert approve(diagnostic, teacher_ids=[8]) == 1
        assert cancel(diagnostic, teacher_id=8) == 1
    assert approve(diagnostic) == 1  # no actor set: the scheduler, the demo
    approved, cancelled, approved_all = audited()
    assert (approved.action, approved.actor, approved.object_kind, approved.object_id) == (
        "route.approve", "cli:metodist", "diagnostic", str(diagnostic.id))
    assert approved.details["teachers"] == [8] and approved.details["approved"] == 1
    assert (cancelled.action, cancelled.actor, cancelled.object_id) == (
        "route.cancel", "cli:metodist", "8")
    assert cancelled.details["cancelled"] == 1
    assert (approved_all.actor, approved_all.details["teachers"]) == ("system", [7])


def test_a_policy_revision_and_an_xlsx_export_name_the_signed_in_user_and_address(
        signed_in_client: FlaskClient) -> None:
    form = {"deficit_below": "55", "risk_below": "70", "min_questions": "2",
            "attempt_policy": "quiz", "overrides": "", "comment": "порог выше"}
    assert signed_in_client.post("/policy", data=form).status_code == 302
    assert signed_in_client.get("/indicators.xlsx").status_code == 200
    revision, export = audited()[-2:]  # after the fixture's account.add
    assert (revision.action, revision.actor, revision.object_kind) == (
        "policy.revision", "ivanova", "policy_revision")
    assert revision.details["comment"] == "порог выше"
    assert (export.action, export.actor, export.object_kind) == ("export.xlsx", "ivanova",
                                                                  "indicators")
    assert revision.actor_user_id is not None and export.actor_user_id == revision.actor_user_id
    assert revision.address == export.address == "127.0.0.1"


def test_imports_of_each_kind_are_audited(runner: AppRunner, tmp_path: Path) -> None:
    invoke(runner, "import-catalogue", str(DEMO_DIR))
    invoke(runner, "import-results", str(results_file(tmp_path / "vpr.csv")), code=1)
    invoke(runner, "identify-schools", "--apply")
    db.session.add(Diagnostic(moodle_quiz_id=1, moodle_course_id=2))
    db.session.commit()
    slots = tmp_path / "slots.csv"
    slots.write_text("slot;competency\n1;PK-01\n", encoding="utf-8")
    runner.invoke(["import-question-map", str(slots)])
    catalogue, results, identified, question_map = audited()
    assert catalogue.action == "import.catalogue" and catalogue.details["schools"] > 0
    assert set(catalogue.details["files"]) == {"schools.csv", "partnerships.csv", "offers.csv"}
    assert (results.action, results.object_id, results.details["errors"]) == (
        "import.results", "vpr.csv", 1)
    assert identified.action == "schools.identify"
    assert (question_map.action, question_map.details["file"]) == ("import.question_map",
                                                                   "slots.csv")
    assert {e.actor for e in audited()} == {cli_actor()}
    runs = {r.id: r.stage for r in db.session.scalars(select(RunLog))}
    assert runs[catalogue.run_id] == "import-catalogue"  # its figures stay in the run log
    assert runs[question_map.run_id] == "import-question-map"


def test_an_lti_launch_that_makes_a_login_is_audited_as_the_platform(
        app: Flask, client: FlaskClient) -> None:
    forget_login_per_request(app)
    with lti_platform() as platform:
        add_platform(issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=DEPLOYMENT_ID,
                     key_set_url=platform.keyset_url)
        db.session.add(Teacher(moodle_user_id=5, username="petrova", lastname="Петрова"))
        db.session.commit()
        state, nonce, _ = login_initiation(client)
        answer = launch(client, platform.sign(platform.claims("5", (LEARNER,), nonce)), state)
        assert answer.status_code == 302, answer.get_data(as_text=True)
    added, created = audited()
    assert (added.action, added.details["issuer"]) == ("lti.platform.add", ISSUER)
    assert (created.action, created.actor, created.details["role"]) == (
        "lti.account.create", f"lti:{ISSUER}", "teacher")
    assert created.details["login"].startswith("moodle") and created.address == "127.0.0.1"


@pytest.fixture
def moodle() -> Iterator[tuple[str, str]]:
    token = secrets.token_hex(16)
    with running_sandbox(token, teachers=4) as url:
        yield url, token


def test_a_pipeline_run_audits_approval_and_push_with_their_run(
        make_app: Callable[..., Flask], moodle: tuple[str, str]) -> None:
    url, token = moodle
    app = make_app(moodle_url=url, moodle_token=token, catalogue_dir=str(DEMO_DIR))
    runner = AppRunner(app)
    for stage in (["sync"], ["deficits"], ["recommend"], ["approve", "--all"], ["push"]):
        assert runner.invoke(stage).exit_code in (0, 1), stage
    actions = [e.action for e in audited()]
    assert actions[-3:] == ["route.approve", "push.start", "push.done"]
    approved = audited("route.approve")[0]
    routed = db.session.scalars(select(Teacher.moodle_user_id).join(
        Route, Route.teacher_id == Teacher.id).distinct()).all()
    assert approved.details["teachers"] == sorted(routed) and routed
    push_run = db.session.get(RunLog, audited("push.done")[0].run_id)
    assert push_run is not None and push_run.stage == "push"
    assert {e.actor for e in audited()} == {cli_actor()}


def seeded_log() -> None:
    """Three events: an approval on 1 March (cli:a), an export and an approval on 2 March."""
    for at, actor, action in ((dt.datetime(2026, 3, 1, 23, 59, tzinfo=dt.UTC), "cli:a",
                               "route.approve"),
                              (dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC), "ivanova",
                               "export.xlsx"),
                              (dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), "ivanova",
                               "route.cancel")):
        db.session.add(AuditEvent(at=at, actor=actor, action=action, details={"n": 1}))
    db.session.commit()


def test_the_audit_page_filters_by_action_actor_and_dates(
        signed_in_client: FlaskClient) -> None:
    seeded_log()

    def shown(query: str) -> list[str]:
        answer = signed_in_client.get(f"/audit?{query}")
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        return [a for a in ("route.approve", "export.xlsx", "route.cancel", "account.add")
                if f"<td>{a}</td>" in text]

    assert shown("") == ["route.approve", "export.xlsx", "route.cancel", "account.add"]
    assert shown("action=route.approve") == ["route.approve"]
    assert shown("action=route.") == ["route.approve", "route.cancel"]
    assert shown("actor=ivanova&since=2026-03-02&until=2026-03-02") == [
        "export.xlsx", "route.cancel"]
    assert shown("until=2026-03-01") == ["route.approve"]
    refused = signed_in_client.get("/audit?since=2026-02-30")
    assert refused.status_code == 400 and "since" in refused.get_data(as_text=True)
    assert signed_in_client.get("/audit?page=0").status_code == 400


def test_the_audit_page_needs_sign_in(client: FlaskClient) -> None:
    answer = client.get("/audit")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_audit_command_filters_and_prints_json(runner: AppRunner) -> None:
    seeded_log()
    out = json.loads(invoke(runner, "audit", "--since", "2026-03-02", "--json"))
    assert [e["action"] for e in out] == ["route.cancel", "export.xlsx"]  # newest first
    out = json.loads(invoke(runner, "audit", "--action", "route.approve", "--json"))
    assert [(e["actor"], e["at"][:10]) for e in out] == [("cli:a", "2026-03-01")]
    text = invoke(runner, "audit", "--actor", "ivanova", "--limit", "1")
    assert "route.cancel" in text and "export.xlsx" not in text
    bad = runner.invoke(["audit", "--since", "вчера"])
    assert bad.exit_code == 2 and "--since" in bad.output


def test_an_upload_on_the_imports_page_is_audited_as_the_signed_in_user(
        signed_in_client: FlaskClient) -> None:
    status, _ = upload_results(signed_in_client, RESULTS.encode("cp1251"), "ВПР-2025.csv")
    assert status == 200
    event = audited("import.results")[0]
    assert (event.actor, event.object_id, event.address) == ("ivanova", "ВПР-2025.csv",
                                                             "127.0.0.1")
    assert event.details["errors"] == 1 and event.run_id is not None
