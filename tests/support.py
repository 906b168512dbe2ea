"""Helpers for the app tests: the one app builder and CLI runner behind the fixtures of
``conftest.py``, a signed-in client, the sandbox's test hooks and backend-neutral DB snapshots.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import requests
from click.testing import CliRunner, Result
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from app.cli import main
from app.extensions import db, prepare_schema
from app.models import Attempt, AttemptResult, CourseCompletion, School, Teacher, WebUser
from app.settings import Settings


def sandbox_state(url: str, token: str) -> dict[str, Any]:
    """Enrolments, messages and call counts of a running sandbox."""
    answer = requests.get(f"{url}/_sandbox/state", headers={"X-Sandbox-Token": token},
                          timeout=10)
    answer.raise_for_status()
    return answer.json()


def sandbox_post(url: str, token: str, hook: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call a sandbox test hook (latency, faults, attempts)."""
    answer = requests.post(f"{url}/_sandbox/{hook}", json=body,
                           headers={"X-Sandbox-Token": token}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def pulled_data() -> dict[str, Any]:
    """What a sync stored, by natural keys only, so two databases can be compared."""
    teachers = {t.moodle_user_id: (t.username, t.lastname, t.firstname, t.middlename,
                                   t.subjects, t.active, t.school.code if t.school else None)
                for t in db.session.scalars(select(Teacher))}
    by_id = {t.id: t.moodle_user_id for t in db.session.scalars(select(Teacher))}
    attempts = {a.moodle_attempt_id: (by_id[a.teacher_id], a.attempt_no, a.state, a.sumgrades)
                for a in db.session.scalars(select(Attempt))}
    results = sorted(
        (moodle_attempt, r.source, r.key, r.mark, r.max_mark)
        for moodle_attempt, r in db.session.execute(
            select(Attempt.moodle_attempt_id, AttemptResult)
            .join(AttemptResult, AttemptResult.attempt_id == Attempt.id)).all())
    completions = sorted((by_id[c.teacher_id], c.moodle_course_id, c.completed)
                         for c in db.session.scalars(select(CourseCompletion)))
    schools = sorted(s.code for s in db.session.scalars(select(School)))
    return {"teachers": teachers, "attempts": attempts, "results": results,
            "completions": completions, "schools": schools}


PASSWORD = "методист-2026"


@contextlib.contextmanager
def app_for(settings: Settings) -> Iterator[Flask]:
    """The app for ``settings`` (``TESTING`` on) with its schema built by the migrations, inside
    its app context.

    The session is removed and the engine disposed on exit. The ``app`` and ``make_app``
    fixtures are built on it; use it directly for module-scoped fixtures and for tests that
    build one app after another.
    """
    application = create_app(settings, {"TESTING": True})
    with application.app_context():
        prepare_schema()
        try:
            yield application
        finally:
            db.session.remove()
            db.engine.dispose()


class AppRunner:
    """Runs ``profroute`` commands in-process on one app, the way ``app.test_cli_runner()``
    runs ``flask`` commands: ``runner.invoke(["sync", "--full"])``.

    The command group is plain click; the app reaches the commands as click's ``obj``, and
    each command runs in an app context, so a database session, of its own.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def invoke(self, args: Sequence[str], **kwargs: Any) -> Result:
        """Run ``profroute ARGS``; ``kwargs`` go to click's ``CliRunner.invoke`` (``input``,
        ``catch_exceptions``...). The result carries the exit code and the output."""
        return CliRunner().invoke(main, list(args), obj=self.app, **kwargs)


def forget_login_per_request(app: Flask) -> None:
    """Make each served request forget the last request's user and CSRF token.

    An app fixture keeps one app context, so one ``flask.g``, for the whole test; a served
    request has its own: drop what Flask-Login and Flask-WTF keep per request.
    """
    def forget_the_last_user() -> None:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    # First of all hooks: the access check (app.web.access) must see this request's user.
    app.before_request_funcs.setdefault(None, []).insert(0, forget_the_last_user)


# A methodologist of the whole region who is also the admin: sees and may do everything.
EVERYTHING = ("--role", "methodologist", "--region", "--role", "admin")


def signed_in(app: Flask, login: str = "ivanova", roles: Sequence[str] = EVERYTHING,
              name: str = "Иванова") -> FlaskClient:
    """A client signed in as ``login`` (Иванова by default) with ``roles`` (the options of
    ``web-user add``); CSRF is off (for tests that are not about CSRF)."""
    app.config["WTF_CSRF_ENABLED"] = False
    forget_login_per_request(app)
    if db.session.scalars(select(WebUser).filter_by(login=login)).first() is None:
        result = AppRunner(app).invoke(["web-user", "add", login, "--name", name,
                                        *roles, "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
    client = app.test_client()
    assert client.post("/login", data={"login": login, "password": PASSWORD}
                       ).status_code == 302
    return client
