"""Production: gunicorn with two workers and one PROFROUTE_SECRET_KEY, started by the README's
command; a sign-in served by one worker holds for forms posted to the other."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from support import PASSWORD, AppRunner, app_for

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
POLICY_FORM = {"deficit_below": "55", "risk_below": "75", "min_questions": "2",
               "attempt_policy": "last", "overrides": "", "comment": "Решение методсовета"}
ACCESS = re.compile(r'<(\d+)> "(GET|POST) (\S+) HTTP/[\d.]+" (\d{3})')
REQUESTS = 40

ADMIN_ROLES = ("--role", "admin", "--role", "methodologist", "--region")


LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


def served_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The address gunicorn bound (it was given port 0: no other test can take it first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            pytest.fail(f"gunicorn ended ({process.returncode}):\n{log.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not bind in 60 s:\n{log.read_text()}")


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def wait_until_served(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn ended ({process.returncode}):\n{log.read_text()}")
        try:
            if requests.get(f"{url}/login", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer in 60 s:\n{log.read_text()}")


@pytest.mark.slow
def test_two_workers_share_sign_in_and_forms(database_url: str, tmp_path: Path) -> None:
    with app_for(Settings(database_url=database_url)) as app:  # the schema and one account
        added = AppRunner(app).invoke(["web-user", "add", "ivanova", *ADMIN_ROLES, "--password-stdin"],
                                      input=PASSWORD + "\n")
        assert added.exit_code == 0, added.output
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("PROFROUTE_") and key != "WEB_CONCURRENCY"}
    key = secrets.token_hex(32)
    env.update(PROFROUTE_SECRET_KEY=key, PROFROUTE_DATABASE_URL=database_url,
               PYTHONPATH=str(ROOT))
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - the README's command, fixed arguments
            [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn_conf",
             "--workers", "2", "--bind", "127.0.0.1:0", "app:create_app()"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = served_url(process, log)
        wait_until_served(url, process, log)
        browser = requests.Session()
        token = csrf_token(browser.get(f"{url}/login", timeout=10).text)
        signed = browser.post(f"{url}/login", data={"login": "ivanova", "password": PASSWORD,
                                                    "csrf_token": token},
                              allow_redirects=False, timeout=10)
        assert signed.status_code == 302 and "/login" not in signed.headers["Location"]
        token = csrf_token(browser.get(f"{url}/policy", timeout=10).text)
        cookies = browser.cookies.get_dict()

        def post_form(_: int) -> tuple[int, int, str]:
            page = requests.get(f"{url}/imports", cookies=cookies, allow_redirects=False,
                                timeout=30)
            saved = requests.post(f"{url}/policy", data=POLICY_FORM | {"csrf_token": token},
                                  cookies=cookies, allow_redirects=False, timeout=30)
            return page.status_code, saved.status_code, saved.headers.get("Location", "")

        with ThreadPoolExecutor(4) as pool:  # while one worker is busy the other answers
            answers = list(pool.map(post_form, range(REQUESTS)))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert answers == [(200, 302, "/policy")] * REQUESTS
    logged = log.read_text()
    assert key not in logged and PASSWORD not in logged
    served = [match.groups() for match in ACCESS.finditer(logged)]
    signed_by = {pid for pid, method, path, status in served
                 if (method, path, status) == ("POST", "/login", "302")}
    posted_by = {pid for pid, method, path, status in served
                 if (method, path, status) == ("POST", "/policy", "302")}
    assert len(signed_by) == 1 and len(posted_by) == 2, served
    assert posted_by - signed_by  # the other worker took forms of this sign-in
    assert not [line for line in served if line[3].startswith("5")]
