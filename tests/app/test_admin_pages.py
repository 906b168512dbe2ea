"""The admin pages: accounts (the same services as ``web-user``, audited, the last-admin rule,
CSRF), connection settings (origins, secrets never shown, the Moodle check) and schedules
(cron validated in Russian, changes audited)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from support import PASSWORD, AppRunner, signed_in

from app.extensions import db
from app.models import AuditEvent, Municipality, WebUser
from app.models.schedule import Schedule

NEW_PASSWORD = "другой-пароль-методиста-2027"
LAST_ADMIN = "последний действующий администратор"


def audited(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action)
                                   .order_by(AuditEvent.id)))


def user(login: str) -> WebUser:
    db.session.expire_all()
    found = db.session.scalars(select(WebUser).filter_by(login=login)).first()
    assert found is not None
    return found


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    """Иванова: admin and methodologist of the region; CSRF off."""
    db.session.add(Municipality(name="Альфа"))
    db.session.commit()
    return signed_in(app)


def test_an_admin_creates_an_account_with_its_scope_and_it_is_audited(
        admin: FlaskClient) -> None:
    answer = admin.post("/admin/accounts", data={
        "login": "petrova", "name": "Петрова", "password": PASSWORD, "password2": PASSWORD,
        "role": ["methodologist"], "municipality": ["Альфа"]})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = admin.get("/admin/accounts").get_data(as_text=True)
    assert "petrova" in page and "методист: Альфа" in page and "действует" in page
    added, granted = audited("account.add"), audited("account.grant")
    assert added[-1].actor == "ivanova" and added[-1].details["login"] == "petrova"
    assert granted[-1].details["role"] == "methodologist" and granted[-1].actor == "ivanova"
    assert PASSWORD not in str([e.details for e in added + granted])
    assert user("ivanova").last_login_at is not None  # signing in notes the time
    assert user("petrova").last_login_at is None


@pytest.mark.parametrize(("data", "message"), [
    ({"password": "short-one", "password2": "short-one"}, "at least 12 characters"),
    ({"password": "qwertyuiop123", "password2": "qwertyuiop123"}, "common passwords"),
    ({"password": PASSWORD, "password2": PASSWORD + "x"}, "Пароли не совпадают"),
    ({"password": PASSWORD, "password2": PASSWORD, "role": "methodologist"}, "scope"),
])
def test_a_refused_account_is_not_created(admin: FlaskClient, data: dict[str, str],
                                          message: str) -> None:
    answer = admin.post("/admin/accounts", data={"login": "petrova", "role": "admin", **data})
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert db.session.scalars(select(WebUser).filter_by(login="petrova")).first() is None


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(
        app: Flask, admin: FlaskClient) -> None:
    me = user("ivanova").id
    for path, data in ((f"/admin/accounts/{me}/active", {"active": "0"}),
                       (f"/admin/accounts/{me}/revoke", {"role": "admin"})):
        answer = admin.post(path, data=data)
        assert answer.status_code == 400 and LAST_ADMIN in answer.get_data(as_text=True)
    assert user("ivanova").active
    cli = AppRunner(app).invoke(["web-user", "disable", "ivanova"])
    assert cli.exit_code == 2 and LAST_ADMIN in cli.output  # the CLI keeps the same rule
    # With a second admin, the first may step down (a disabled admin does not count).
    assert admin.post("/admin/accounts", data={
        "login": "sidorov", "password": PASSWORD, "password2": PASSWORD,
        "role": "admin"}).status_code == 302
    sidorov = user("sidorov").id
    assert admin.post(f"/admin/accounts/{sidorov}/active", data={"active": "0"}
                      ).status_code == 302
    assert admin.post(f"/admin/accounts/{me}/revoke", data={"role": "admin"}
                      ).status_code == 400
    assert admin.post(f"/admin/accounts/{sidorov}/active", data={"active": "1"}
                      ).status_code == 302
    assert admin.post(f"/admin/accounts/{me}/revoke", data={"role": "admin"}
                      ).status_code == 302
    assert [e.details["login"] for e in audited("account.disable")] == ["sidorov"]
    assert audited("account.revoke")[-1].details == {
        "login": "ivanova", "role": "admin", "region": False, "municipalities": []}


def test_a_password_reset_ends_the_accounts_sessions(app: Flask, admin: FlaskClient) -> None:
    other = signed_in(app, "petrova", ("--role", "methodologist", "--region"), "Петрова")
    assert other.get("/teachers").status_code == 200
    target = user("petrova").id
    assert admin.post(f"/admin/accounts/{target}/password", data={
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD}).status_code == 302
    assert other.get("/teachers").status_code == 302  # signed out
    assert audited("account.password")[-1].actor == "ivanova"
    assert app.test_client().post("/login", data={"login": "petrova",
                                                  "password": NEW_PASSWORD}).status_code == 302


def test_grant_and_revoke_a_teacher_role_from_the_page(admin: FlaskClient) -> None:
    assert admin.post("/admin/accounts", data={
        "login": "orlova", "password": PASSWORD, "password2": PASSWORD,
        "role": "methodologist", "region": "1"}).status_code == 302
    target = user("orlova").id
    for bad in ("abc", "9" * 30):
        assert admin.post(f"/admin/accounts/{target}/grant", data={
            "role": "teacher", "teacher_moodle_id": bad}).status_code == 400
    assert admin.post(f"/admin/accounts/{target}/grant", data={
        "role": "teacher", "teacher_moodle_id": "42"}).status_code == 302
    assert "(id Moodle 42)" in admin.get("/admin/accounts").get_data(as_text=True)
    assert admin.post(f"/admin/accounts/{target}/revoke", data={"role": "teacher"}
                      ).status_code == 302
    assert [e.details["role"] for e in audited("account.revoke")] == ["teacher"]


def test_account_forms_need_their_csrf_token(app: Flask, admin: FlaskClient) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    me = user("ivanova").id
    answer = admin.post(f"/admin/accounts/{me}/password", data={
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert answer.status_code == 400
    assert 'name="csrf_token"' in admin.get("/admin/accounts").get_data(as_text=True)


def test_settings_show_origins_and_never_a_secret(
        make_app: Callable[..., Flask], database_url: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROFROUTE_LRS_USERNAME", "lrs-reader")
    app = make_app(database_url=database_url, moodle_url="http://127.0.0.1:9",
                   moodle_token="tok-9f8e7d6c5b4a", lrs_password="lrs-pass-31337")
    page = signed_in(app).get("/admin/settings").get_data(as_text=True)
    assert "tok-9f8e7d6c5b4a" not in page and "lrs-pass-31337" not in page and "4a<" not in page
    assert "PROFROUTE_MOODLE_TOKEN" in page and "<td>задан</td>" in page
    assert "<td>не задан</td>" in page  # PROFROUTE_SECRET_KEY in tests
    assert "окружение" in page and "по умолчанию" in page and "задано при запуске" in page
    assert "источник истины — переменные окружения" in page


def test_the_moodle_check_button_shows_the_report(make_app: Callable[..., Flask],
                                                  moodle: tuple[str, str]) -> None:
    url, token = moodle
    app = make_app(moodle_url=url, moodle_token=token, moodle_retries=0)
    answer = signed_in(app).post("/admin/settings/check-moodle")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'class="check"' in page and token not in page
    assert audited("site.check_moodle")[-1].actor == "ivanova"


def test_the_moodle_check_without_a_moodle_names_the_setting(admin: FlaskClient) -> None:
    answer = admin.post("/admin/settings/check-moodle")
    assert answer.status_code == 400
    assert "PROFROUTE_MOODLE_URL" in answer.get_data(as_text=True)


@pytest.mark.parametrize(("cron", "message"), [
    ("каждый час", "нужно пять полей"),
    ("*/30 * * *", "нужно пять полей"),
    ("61 * * * *", "не разобрано"),
    ("0 25 * * *", "не разобрано"),
    ("0 0 30 2 *", "не наступит никогда"),
    ("0 " + ",".join(["1"] * 60) + " * * *", "длиннее 100 символов"),
])
def test_a_bad_cron_expression_is_refused_in_russian(admin: FlaskClient, cron: str,
                                                     message: str) -> None:
    answer = admin.post("/admin/schedules", data={"name": "Ночью", "job": "sync", "cron": cron})
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert db.session.scalars(select(Schedule).filter_by(name="Ночью")).first() is None


def test_schedules_are_seeded_disabled_and_managed_from_the_page(admin: FlaskClient) -> None:
    seeded = list(db.session.scalars(select(Schedule).order_by(Schedule.id)))
    assert [(s.job, s.cron, s.enabled) for s in seeded] == [
        ("sync-chain", "*/30 * * * *", False), ("full-sync-chain", "15 2 * * *", False),
        ("push", "*/15 * * * *", False), ("retention", "45 3 * * *", False)]
    assert all(s.next_run_at is None for s in seeded)
    assert admin.post("/admin/schedules", data={
        "name": "Ночная отправка", "job": "push", "cron": "0 1 * * *", "enabled": "1"}
        ).status_code == 302
    db.session.expire_all()
    row = db.session.scalars(select(Schedule).filter_by(name="Ночная отправка")).one()
    assert row.enabled and row.next_run_at is not None
    assert admin.post("/admin/schedules", data={"name": "Ночная отправка", "job": "push",
                                                "cron": "0 2 * * *"}).status_code == 400
    assert admin.post(f"/admin/schedules/{row.id}", data={
        "name": "Ночная отправка", "job": "push", "cron": "0 2 * * *"}).status_code == 302
    db.session.expire_all()
    assert (row.cron, row.enabled, row.next_run_at) == ("0 2 * * *", False, None)
    assert admin.post(f"/admin/schedules/{row.id}/run").status_code == 302
    db.session.expire_all()
    assert row.run_requested
    page = admin.get("/admin/schedules").get_data(as_text=True)
    assert "Ночная отправка" in page and "по запросу" in page and "profroute push" in page
    assert admin.post(f"/admin/schedules/{row.id}/delete").status_code == 302
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_kind == "schedule").order_by(AuditEvent.id))] == [
        "schedule.add", "schedule.change", "schedule.run_now", "schedule.delete"]
    assert {e.actor for e in audited("schedule.add")} == {"ivanova"}
