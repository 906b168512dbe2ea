#!/usr/bin/env python3
"""Sign in to ProfRoute from the kit's real Moodle by LTI 1.3, as a browser would (by hand, not
in ``make test``).

Against a kit Moodle (../shared/moodle-kit, http://127.0.0.1:8081), from the repository root:

1. a fresh SQLite database in a temporary folder; ``profroute sync`` from the kit, so the
   teachers exist (token: ``PROFROUTE_KIT_TOKEN`` or the line ``TOKEN profroute <token>`` of
   ``~/profroute-token.txt``, which ``plugin_token.php`` prints);
2. ``lti_tool.php`` (as www-data) adds the External tool "ProfRoute" (LTI 1.3, ProfRoute's URLs)
   and an activity of it in the diagnostic course, or finds them; the platform is registered in
   ProfRoute with ``profroute lti add-platform`` and the client id Moodle generated;
3. ProfRoute runs under gunicorn (two workers) on 127.0.0.1:5000 (``--https``: 127.0.0.1:5443
   with a self-signed certificate, a tool of its own in Moodle);
4. for each person: sign in to Moodle (login form with its ``logintoken``), open the activity's
   page ``mod/lti/view.php?id=<cmid>`` and load its iframe (``launch.php``), then submit each
   auto-submitted form as the browser would: Moodle → ProfRoute ``/lti/login`` → Moodle
   ``auth.php`` → ProfRoute ``/lti/launch``; check where the launch lands, who is signed in and
   what that person may open.

Browser honesty: ``requests`` keeps and sends cookies by host, paying no heed to ``SameSite`` or
partitioning. Over plain HTTP this matches a browser here only because Moodle and ProfRoute share
the host 127.0.0.1, one *site* (ports do not count), so even ``Lax`` cookies go with Moodle's
form posts; two hosts need HTTPS (``--https``), where the cookies are ``SameSite=None; Secure;
Partitioned`` and the script checks those flags on the way.

    python3 tests/tools/moodle_kit/lti_check.py [--https] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
import urllib3
from lxml import html

ROOT = Path(__file__).resolve().parents[3]
VENV = Path(os.environ.get("PROFROUTE_VENV", "/work/main/.venv"))
MOODLE = os.environ.get("MOODLE_URL", "http://127.0.0.1:8081")
TEACHER = os.environ.get("MOODLE_TEACHER_PASSWORD", "Teacher#2026")  # the kit's throw-away values
COURSE = 2  # diag-2026: its students are ProfRoute's teachers, metodist.kn edits it
# (Moodle login, password, Moodle user id, expected ProfRoute role, expected landing path)
CERTIFICATE = [""]  # the --https certificate, once made
PEOPLE = [
    ("ivanova.ms", TEACHER, 3, "teacher", "/teachers/3"),
    ("petrov.an", TEACHER, 4, "teacher", "/teachers/4"),
    ("metodist.kn", os.environ.get("MOODLE_METODIST_PASSWORD", "Metodist#2026"), 25,
     "methodologist", "/"),
    ("admin", os.environ.get("MOODLE_ADMIN_PASSWORD", "Admin#2026"), 2, "admin", "/"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--https", action="store_true",
                        help="serve ProfRoute over HTTPS (self-signed) on 127.0.0.1:5443")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profroute-lti-"))
    scheme, port = ("https", 5443) if args.https else ("http", 5000)
    tool = f"{scheme}://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "PROFROUTE_DATABASE_URL": f"sqlite:///{work / 'profroute.db'}",
           "PROFROUTE_SECRET_KEY": secrets.token_hex(32), "PROFROUTE_MOODLE_URL": MOODLE,
           "PROFROUTE_MOODLE_TOKEN": kit_token(), "PROFROUTE_LTI_TOOL_URL": tool,
           "PROFROUTE_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    profroute(env, "sync")
    tool_args = [f"--profroute={tool}", f"--course={COURSE}",
                 "--name=" + ("ProfRoute HTTPS" if args.https else "ProfRoute")]
    made = moodle_tool(*tool_args)
    print(f"Moodle {made['release']}: tool client id {made['client_id']}, deployment "
          f"{made['deployment_id']}, activity cmid {made['cmid']}")
    profroute(env, "lti", "add-platform", "--issuer", made["issuer"], "--client-id",
              made["client_id"], "--deployment-id", made["deployment_id"])
    command = [str(VENV / "bin/gunicorn"), "-c", "python:config.gunicorn_conf", "app:create_app()"]
    if args.https:
        command += ["--certfile", str(self_signed(work) / "cert.pem"),
                    "--keyfile", str(work / "key.pem")]
    log = (work / "gunicorn.log").open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    failures = 0
    try:
        wait_for(tool + "/health")
        for login, password, moodle_id, role, landing in PEOPLE:
            failures += not check_person(tool, made["cmid"], (login, password), moodle_id, role,
                                         landing, secure=args.https)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        if args.https:  # the kit keeps one tool and one activity: the plain HTTP ones
            print(f"removed from Moodle: {moodle_tool(*tool_args, '--remove')}")
    with sqlite3.connect(work / "profroute.db") as db:
        for subject, role, lti_roles in db.execute(
                "SELECT subject, role, lti_roles FROM lti_account ORDER BY id"):
            short = ", ".join(r.split("/v2/")[-1] for r in json.loads(lti_roles))
            print(f"  lti_account: Moodle user {subject} → {role} (Moodle sent {short})")
    print(f"{len(PEOPLE) - failures} of {len(PEOPLE)} launches as expected"
          + (f"; files kept in {work}" if args.keep else ""))
    if not args.keep:
        for path in sorted(work.rglob("*"), reverse=True):
            path.unlink()
        work.rmdir()
    return 1 if failures else 0


def check_person(tool: str, cmid: int, person: tuple[str, str], moodle_id: int, role: str,
                 landing: str, *, secure: bool) -> bool:
    """One person's launch, as a browser follows it; True when everything is as expected."""
    browser = requests.Session()
    browser.trust_env = False  # else REQUESTS_CA_BUNDLE would win over the certificate below
    browser.verify = CERTIFICATE[0] or True  # --https: ProfRoute's self-signed certificate
    login, password = person
    moodle_sign_in(browser, login, password)
    started = time.monotonic()
    view = browser.get(f"{MOODLE}/mod/lti/view.php?id={cmid}", timeout=30)
    frame = html.fromstring(view.content).xpath("//iframe[@id='contentframe']/@src")
    if not frame:
        print(f"BAD {login}: the activity's page holds no launch iframe (launch container?)")
        return False
    page = browser.get(urljoin(view.url, frame[0]), timeout=30)  # what the iframe loads
    hops = [frame[0].split("?")[0]]
    answer = page
    launch_form: tuple[str, dict[str, str]] | None = None
    for _ in range(4):  # the iframe's launch.php → /lti/login → auth.php → /lti/launch
        form = auto_form(answer)
        if form is None:
            break
        action, fields = form
        if "id_token" in fields:
            launch_form = form
        hops.append(action.split("?")[0])
        answer = browser.post(action, data=fields, timeout=30, allow_redirects=False)
        cookies = set_cookies(answer)
        while answer.is_redirect:
            location = urljoin(answer.url, answer.headers["Location"])
            hops.append(location.split("?")[0])
            answer = browser.get(location, timeout=30, allow_redirects=False)
        if secure and action.startswith(tool):
            lax = [c for c in cookies if not {"SameSite=None", "Secure", "Partitioned"}
                   <= {flag.strip() for flag in c.split(";")}]
            if not cookies or lax:
                print(f"BAD {login}: {action} set cookies without SameSite=None; Secure; "
                      f"Partitioned: {lax or 'none'}")
                return False
    elapsed = time.monotonic() - started
    final = answer.url.removeprefix(tool)
    found = re.search(r"frame-ancestors ([^;]+)", answer.headers.get("Content-Security-Policy", ""))
    ancestors = found.group(1) if found else "missing"
    ok = answer.status_code == 200 and final == landing and MOODLE in ancestors.split()
    detail = f"HTTP {answer.status_code} at {final} (frame-ancestors {ancestors})"
    if not ok:
        text = html.fromstring(answer.content).text_content() if answer.content else ""
        detail += ": " + " ".join(text.split())[:300]
    else:
        ok, detail = what_they_may_open(browser, tool, login, moodle_id, role, detail)
    if launch_form is not None:  # the same id_token posted again: its nonce is spent
        replay = browser.post(launch_form[0], data=launch_form[1], timeout=30,
                              allow_redirects=False)
        ok = ok and replay.status_code == 400
        detail += f"; the id_token replayed: HTTP {replay.status_code}"
    print(f"{'ok ' if ok else 'BAD'} {login} (Moodle user {moodle_id}) → {role}: {detail}; "
          f"{len(hops)} hops in {elapsed:.2f} s: {' → '.join(hops)}")
    return ok


def what_they_may_open(browser: requests.Session, tool: str, login: str, moodle_id: int,
                       role: str, detail: str) -> tuple[bool, str]:
    """What the launched role opens and what it does not (answers without following
    redirects: an anonymous request would be sent to /login). A teacher opens their own page
    only (another teacher's is 404, as out-of-scope reads are); a methodologist made by a
    launch holds no scope until an admin grants one; only an admin opens /lti."""
    def status(path: str) -> int:
        return browser.get(tool + path, timeout=30, allow_redirects=False).status_code

    other = 5 if moodle_id != 5 else 6
    got = {"own page": status(f"/teachers/{moodle_id}"),
           "another teacher's page": status(f"/teachers/{other}"),
           "teacher list": status("/teachers?q=%25"), "/lti": status("/lti")}
    expected = {"teacher": {"own page": 200, "another teacher's page": 404,
                            "teacher list": 403, "/lti": 403},
                "methodologist": {"another teacher's page": 404, "/lti": 403},
                "admin": {"another teacher's page": 200, "teacher list": 200, "/lti": 200}}[role]
    ok = all(got[name] == code for name, code in expected.items())
    return ok, detail + "; " + ", ".join(f"{name} {code}" for name, code in got.items())


def set_cookies(answer: requests.Response) -> list[str]:
    """The cookies an answer sets (each Set-Cookie line), leaving out those it expires."""
    lines = answer.raw.headers.getlist("Set-Cookie") if answer.raw is not None else []
    return [line for line in lines if "Max-Age=0" not in line]


def moodle_sign_in(browser: requests.Session, login: str, password: str) -> None:
    """Moodle's login form, with the logintoken it requires."""
    form = browser.get(f"{MOODLE}/login/index.php", timeout=30)
    token = html.fromstring(form.content).xpath("//input[@name='logintoken']/@value")
    answer = browser.post(f"{MOODLE}/login/index.php", timeout=30, data={
        "username": login, "password": password, "logintoken": token[0] if token else ""})
    if "/login/index.php" in answer.url:
        raise SystemExit(f"Moodle refused the sign-in of {login} (password?)")


def auto_form(answer: requests.Response) -> tuple[str, dict[str, str]] | None:
    """The form a page submits by script on load (its action and fields), if any."""
    if "html" not in answer.headers.get("Content-Type", "") or not answer.content:
        return None
    document = html.fromstring(answer.content)
    for form in document.xpath("//form"):
        action = form.get("action") or ""
        fields = {i.get("name"): i.get("value") or "" for i in form.xpath(".//input")
                  if i.get("name")}
        if action and ("id_token" in fields or "login_hint" in fields):
            return urljoin(answer.url, action), fields
    return None


def moodle_tool(*args: str) -> dict[str, Any]:
    """lti_tool.php's JSON answer."""
    done = subprocess.run(["runuser", "-u", "www-data", "--", "php",
                           str(ROOT / "tests/tools/moodle_kit/lti_tool.php"), *args],
                          check=True, capture_output=True, text=True)
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def kit_token() -> str:
    token = os.environ.get("PROFROUTE_KIT_TOKEN", "")
    if token:
        return token
    path = Path.home() / "profroute-token.txt"
    found = re.search(r"^TOKEN profroute (\S+)", path.read_text(), re.M) if path.exists() else None
    if found is None:
        raise SystemExit(f"no token: set PROFROUTE_KIT_TOKEN or run plugin_token.php > {path}")
    return found.group(1)


def profroute(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(VENV / "bin/profroute"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"profroute {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    print(f"profroute {args[0]}: ok")


def self_signed(work: Path) -> Path:
    """A throw-away certificate for 127.0.0.1 (cert.pem, key.pem in ``work``)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (work / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    CERTIFICATE[0] = str(work / "cert.pem")
    (work / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    return work


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            if requests.get(url, timeout=2, verify=False).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"ProfRoute did not answer on {url}")


if __name__ == "__main__":
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    sys.exit(main())
