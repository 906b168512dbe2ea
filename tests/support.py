"""Helpers for the app tests: the one app builder and CLI runner behind the fixtures of
``conftest.py``, a signed-in client, the sandbox's test hooks and backend-neutral DB snapshots.
"""

from __future__ import annotations

import atexit
import contextlib
import html
import json
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import make_url, select
from sqlalchemy.pool import NullPool

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


_MIGRATED: list[Path] = []


def _new_sqlite_file(url: str) -> Path | None:
    """The SQLite file of ``url`` when it is an absolute path with nothing there yet."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.query:
        return None
    path = Path(parsed.database)
    return path if path.is_absolute() and not path.exists() else None


def _migrated_sqlite() -> Path:
    """A SQLite file the migrations brought from empty to the latest revision, made on first
    use in this process (each pytest-xdist worker makes its own) and removed at its exit.

    ``app_for`` copies it instead of migrating every test's new file again (the same schema
    in a few milliseconds instead of a second; ``_clone_migrated_postgresql`` does the same on
    PostgreSQL). ``test_schema.py`` checks what the migrations make against the models.
    """
    if not _MIGRATED:
        folder = Path(tempfile.mkdtemp(prefix="profroute-migrated-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = folder / "migrated.db"
        application = create_app(Settings(database_url=f"sqlite:///{template}"), {"TESTING": True})
        with application.app_context():
            prepare_schema()
            db.session.remove()
            db.engine.dispose()
        _MIGRATED.append(template)
    return _MIGRATED[0]


def _admin_engine(url: sa.URL) -> sa.Engine:
    """An autocommit engine on the server's ``postgres`` database (for CREATE/DROP DATABASE)."""
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT",
                            poolclass=NullPool)


def _clone_migrated_postgresql(url: str) -> bool:
    """Make the PostgreSQL database of ``url``, when it has no tables, a copy of one the
    migrations brought to the latest revision (``CREATE DATABASE ... TEMPLATE``), made on
    first use in this process under the name ``<database>_migrated`` and dropped at its exit.
    False (nothing done) for other databases and for one that already has tables."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    engine = sa.create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if sa.inspect(conn).get_table_names():
                return False
    finally:
        engine.dispose()
    name, template = parsed.database, _migrated_postgresql(parsed)
    admin = _admin_engine(parsed)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return True


_MIGRATED_PG: dict[str, str] = {}


def _migrated_postgresql(url: sa.URL) -> str:
    """The name of this process's migrated template database beside ``url``'s database."""
    key = url.set(database="").render_as_string(hide_password=False)
    if key not in _MIGRATED_PG:
        template = f"{url.database}_migrated"
        admin = _admin_engine(url)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
        application = create_app(Settings(database_url=url.set(database=template)
                                          .render_as_string(hide_password=False)),
                                 {"TESTING": True})
        with application.app_context():
            prepare_schema()
            db.session.remove()
            db.engine.dispose()

        def drop() -> None:
            with contextlib.suppress(sa.exc.SQLAlchemyError), admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))

        atexit.register(drop)
        _MIGRATED_PG[key] = template
    return _MIGRATED_PG[key]


@contextlib.contextmanager
def app_for(settings: Settings) -> Iterator[Flask]:
    """The app for ``settings`` (``TESTING`` on) with its schema built by the migrations, inside
    its app context. A new SQLite file or an empty PostgreSQL database gets a copy of one this
    process migrated once (see ``_migrated_sqlite``); any other is migrated here.

    The session is removed and the engine disposed on exit. The ``app`` and ``make_app``
    fixtures are built on it; use it directly for module-scoped fixtures and for tests that
    build one app after another.
    """
    fresh = _new_sqlite_file(settings.database_url)
    if fresh is not None:  # what the migrations make of an empty file, made once per process
        shutil.copyfile(_migrated_sqlite(), fresh)
    cloned = fresh is None and _clone_migrated_postgresql(settings.database_url)
    application = create_app(settings, {"TESTING": True})
    with application.app_context():
        if fresh is None and not cloned:
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


def chart_figures(page: str) -> list[tuple[dict[str, Any], list[list[str]]]]:
    """Each chart of a page (``templates/_charts.html``): its figure's JSON and its data
    table's body rows (cells, unescaped)."""
    found = []
    for block in re.findall(r'<figure class="chart">(.*?)</figure>', page, re.DOTALL):
        figure = json.loads(html.unescape(re.search(
            r'<div class="chart-plot" data-figure=\'(.*?)\'></div>', block, re.DOTALL)[1]))
        body = re.search(r"<tbody>(.*?)</tbody>", block, re.DOTALL)[1]
        rows = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
                for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]
        found.append((figure, rows))
    return found
