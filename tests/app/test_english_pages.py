"""English is there for whoever chooses it: per user, and every page then speaks English.

The choice is kept on the login (``POST /language``): it holds in a new session and on every
page, and it is the user's own (another user still gets Russian). On an English page no
Russian is left but the data (names of people, schools, competencies, offers — whatever the
database holds); the catalog translates every text the code marks (``make translations``).
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from browser.browser_support import seed
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import String, Text, select
from support import signed_in

from app import MIGRATIONS
from app.accounts.roles import account_of
from app.common.marker import counters
from app.extensions import db
from app.models.web import WebUser

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "app/translations/en/LC_MESSAGES/messages.po"
CYRILLIC = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё\w .,:;«»()\-–—№%/]*")
# The region methodologist-admin's pages, and the teacher's.
PAGES = ("/", "/teachers", "/teachers/1", "/teachers/1/availability", "/network",
         "/indicators", "/dynamics", "/analytics", "/effectiveness", "/capacity", "/policy",
         "/catalogue", "/review", "/review/requests", "/imports", "/push", "/audit",
         "/admin/accounts", "/admin/settings", "/admin/schedules", "/lti", "/api-docs",
         "/no-such-page")


@pytest.fixture
def english(app: Flask) -> Iterator[FlaskClient]:
    """The seeded world, and an admin of the whole region who chose English."""
    seed()
    client = signed_in(app, "kim", name="Kim")
    answer = client.post("/language", data={"lang": "en", "next": "/teachers?page=2"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/teachers?page=2"
    yield client


def data_strings() -> list[str]:
    """Every text the database holds (longest first): what a page may show untranslated."""
    found: set[str] = set()
    connection = db.session.connection()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | Text)]
        if not columns:
            continue
        for row in connection.execute(select(*columns)):
            found.update(v for v in row if isinstance(v, str) and CYRILLIC.search(v))
    return sorted(found, key=len, reverse=True)


def russian_left(page: str, data: list[str]) -> list[str]:
    """The Russian on a page that is not the database's data (nor the switch back to
    Russian, named in Russian as language switches are)."""
    text = html.unescape(re.sub(r"<script.*?</script>|<style.*?</style>"
                                r'|<form method="post" action="/language" class="lang">.*?</form>',
                                " ", page, flags=re.DOTALL))
    for value in data:
        text = text.replace(value, " ")
    return [m.strip() for m in CYRILLIC.findall(text) if m.strip()]


@pytest.mark.parametrize("path", PAGES)
def test_a_page_speaks_english_to_whoever_chose_it(english: FlaskClient, path: str) -> None:
    answer = english.get(path)
    assert answer.status_code in (200, 404), path
    page = answer.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert russian_left(page, data_strings()) == [], path


def test_the_teachers_own_page_and_sign_in_speak_english(app: Flask) -> None:
    seed()
    teacher = signed_in(app, "anna", ("--role", "teacher", "--teacher-moodle-id", "1"))
    teacher.post("/language", data={"lang": "en", "next": "/my/route"})
    data = data_strings()
    assert russian_left(teacher.get("/my/route").get_data(as_text=True), data) == []
    assert russian_left(teacher.get("/capacity").get_data(as_text=True), data) == []  # 403
    anonymous = app.test_client()
    anonymous.post("/language", data={"lang": "en", "next": "/login"})
    assert russian_left(anonymous.get("/login").get_data(as_text=True), data) == []


def test_the_choice_is_the_users_and_outlives_the_session(english: FlaskClient,
                                                         app: Flask) -> None:
    (stored,) = db.session.scalars(select(WebUser.language).filter_by(login="kim"))
    assert stored == "en"
    again = signed_in(app, "kim", name="Kim")  # a new session: no ?lang=, no cookie of before
    assert "Teachers" in again.get("/teachers").get_data(as_text=True)
    other = signed_in(app, "olga", name="Ольга")
    page = other.get("/teachers").get_data(as_text=True)
    assert '<html lang="ru">' in page and "Педагоги" in page
    # and it can be taken back
    english.post("/language", data={"lang": "ru", "next": "/"})
    assert '<html lang="ru">' in english.get("/").get_data(as_text=True)


def test_an_unknown_language_or_a_foreign_return_address_is_refused(
        english: FlaskClient) -> None:
    refused = english.post("/language", data={"lang": "de", "next": "/"})
    assert refused.status_code == 400
    assert "ru or en" in refused.get_data(as_text=True)  # said in English, the user's choice
    away = english.post("/language", data={"lang": "ru", "next": "https://evil.example/"})
    assert away.status_code == 302 and away.headers["Location"] == "/"


def test_every_marked_text_has_its_english_translation() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    method_map = [("app/**.py", "python"), ("app/web/templates/**.html", "jinja2")]
    missing = []
    for filename, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords={"_": None, "gettext": None, "lazy_gettext": None,
                                              "_l": None, "N_": None, "ngettext": (1, 2)}):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid)
        text = entry.string if entry is not None else None
        if isinstance(text, tuple):
            text = text[0]
        if not text or (entry is not None and entry.fuzzy):
            missing.append(f"{filename}: {msgid}")
    assert missing == [], "run `make translations` and translate:\n" + "\n".join(missing)


def test_a_choice_made_in_one_worker_holds_in_the_others(english: FlaskClient,
                                                        app: Flask) -> None:
    """Workers keep accounts while web_user's change counter holds (migration 0021): the
    choice changes the counter, so no worker goes on serving the old language."""
    before = counters()["web_user"]
    english.post("/language", data={"lang": "ru", "next": "/"})
    db.session.rollback()
    assert counters()["web_user"] != before
    (kim,) = db.session.scalars(select(WebUser.id).filter_by(login="kim"))
    account = account_of(kim)
    assert account is not None and account.language == "ru"


def test_the_language_migration_downgrades_and_upgrades(app: Flask) -> None:
    downgrade(directory=MIGRATIONS, revision="0028")
    assert "language" not in {c["name"] for c in sa.inspect(db.engine).get_columns("web_user")}
    upgrade(directory=MIGRATIONS)
    assert "language" in {c["name"] for c in sa.inspect(db.engine).get_columns("web_user")}


@pytest.mark.parametrize("path", ["/map.xlsx", "/effectiveness.xlsx", "/capacity.xlsx",
                                  "/indicators.xlsx", "/analytics/risk-group.xlsx"])
def test_exports_stay_russian_for_an_english_reader(english: FlaskClient, app: Flask,
                                                    path: str) -> None:
    russian = signed_in(app, "olga", name="Ольга")
    assert russian.get("/").status_code == 200

    def cells(client: FlaskClient) -> list[list[object]]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        book = openpyxl.load_workbook(io.BytesIO(answer.data))
        return [[c for row in sheet.iter_rows(values_only=True) for c in row]
                for sheet in book.worksheets]

    assert cells(english) == cells(russian)
    assert '<html lang="en">' in english.get("/").get_data(as_text=True)  # still English
