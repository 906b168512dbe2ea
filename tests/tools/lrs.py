"""A real LRS for the tests: Ralph (PyPI ``ralph-malph``) on its file-system backend.

Ralph pins its own fastapi, pydantic, click and sentry-sdk, so it lives in its own virtualenv,
made on first use outside the checkout (a fresh clone stays clean, re-runs and other clones
reuse it) and run as a subprocess on a free port of 127.0.0.1. Where that virtualenv is:

- ``PROFROUTE_LRS_PYTHON``: the python of a ready virtualenv with Ralph, used as it is;
- else ``PROFROUTE_LRS_VENV``: the virtualenv's directory, made there on first use;
- else ``${XDG_CACHE_HOME:-~/.cache}/profroute/lrs-venv-<hash>``, the hash of the pinned
  requirements and the Python version, so a change of either makes a new one.

Making it holds an exclusive lock (``<venv>.lock``), so test runs started together build it
once; a half-made one (no ``.ralph-installed`` marker) is removed and made again.

This file is both the launcher (imported by the tests, standard library only) and, run as a
script by that venv's python, the server entry point that works around the fs backend's quirks
before Ralph is imported:

- writes after the first one fail (``default_operation_type = CREATE``): set to APPEND;
- ``verb`` and ``activity`` filters never match (IRI objects compared with strings),
  ``since``/``until`` filter on ``timestamp`` instead of ``stored``, ``ascending`` is read
  backwards: the statement query is replaced by one that does what xAPI says.
The credentials reach the child in its environment only; it writes Ralph's auth file
(``[{"username", "hash" (bcrypt), "scopes", "agent"}]``) itself, as bcrypt is in its venv.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RALPH_REQUIREMENTS = ("ralph-malph[cli,lrs]==5.1.0", "requests>=2.31,<3")
ENV_PYTHON, ENV_VENV = "PROFROUTE_LRS_PYTHON", "PROFROUTE_LRS_VENV"
INSTALLED = ".ralph-installed"
ENV_USER, ENV_PASSWORD = "PROFROUTE_LRS_USERNAME", "PROFROUTE_LRS_PASSWORD"  # noqa: S105


class LRSStartError(RuntimeError):
    """Raised when the LRS cannot be installed or does not start."""


def default_venv() -> Path:
    """Where Ralph's virtualenv goes: ``PROFROUTE_LRS_VENV``, else the per-user cache."""
    if os.environ.get(ENV_VENV):
        return Path(os.environ[ENV_VENV]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    pinned = "\n".join((*RALPH_REQUIREMENTS, f"python{sys.version_info[0]}.{sys.version_info[1]}"))
    digest = hashlib.sha256(pinned.encode()).hexdigest()[:12]
    return cache / "profroute" / f"lrs-venv-{digest}"


def lrs_python(venv: Path | None = None) -> Path:
    """The python of Ralph's virtualenv, made and filled on first use (see the module doc).

    Raises:
        LRSStartError: the venv cannot be created or Ralph cannot be installed.
    """
    if os.environ.get(ENV_PYTHON):
        return Path(os.environ[ENV_PYTHON])
    venv = venv or default_venv()
    python = venv / "bin" / "python"
    if (venv / INSTALLED).exists():
        return python
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (venv / INSTALLED).exists():
            _make_venv(venv)
    return python


def _make_venv(venv: Path) -> None:
    """Create ``venv`` afresh and install Ralph into it; mark it done last."""
    shutil.rmtree(venv, ignore_errors=True)
    python = venv / "bin" / "python"
    commands = [[sys.executable, "-m", "venv", str(venv)],
                [str(python), "-m", "pip", "install", "--quiet", *RALPH_REQUIREMENTS]]
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode:
            raise LRSStartError(f"{' '.join(command[:4])} failed:\n{done.stderr[-2000:]}")
    (venv / INSTALLED).touch()


@contextlib.contextmanager
def running_lrs(data_dir: Path, *, username: str, password: str,
                timeout: float = 60.0) -> Iterator[str]:
    """Start Ralph on a free port of 127.0.0.1 storing into ``data_dir``; yield its xAPI URL.

    The URL ends with ``/xAPI/``. The process is stopped on exit.

    Raises:
        LRSStartError: Ralph is not installable, exited, or did not answer within ``timeout``.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port_file, log_path = data_dir / "port", data_dir / "lrs.log"
    port_file.unlink(missing_ok=True)
    env = {**os.environ, ENV_USER: username, ENV_PASSWORD: password}
    args = [str(lrs_python()), str(Path(__file__).resolve()), "--data-dir", str(data_dir),
            "--port-file", str(port_file)]
    with log_path.open("wb") as log:
        try:
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)  # noqa: S603
        except OSError as err:
            raise LRSStartError(f"cannot run {args[0]}: {err.strerror}") from err
    try:
        try:
            url = _wait_until_up(proc, port_file, timeout)
        except LRSStartError as err:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise LRSStartError(f"{err}; its log ends with:\n{tail}") from None
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(proc: subprocess.Popen[bytes], port_file: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LRSStartError(f"Ralph exited with code {proc.returncode}")
        text = port_file.read_text().strip() if port_file.exists() else ""
        if text.isdigit():
            base = f"http://127.0.0.1:{text}"
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(base + "/__heartbeat__", timeout=2):  # noqa: S310
                    return base + "/xAPI/"
        time.sleep(0.1)
    raise LRSStartError(f"Ralph did not answer within {timeout:.0f} s")


# ---- below: runs inside Ralph's virtualenv as the server process -----------------------------


def _write_auth_file(path: Path, username: str, password: str) -> None:
    import bcrypt

    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode("ascii")
    agent = {"objectType": "Agent", "name": "ProfRoute tests",
             "account": {"homePage": "https://profroute.ru", "name": username}}
    users = [{"username": username, "hash": hashed, "scopes": ["all"], "agent": agent}]
    path.write_text(json.dumps(users), encoding="utf-8")


def _query_statements(self, params, target=None):  # noqa: ANN001, ANN202 - Ralph's signature
    """The fs backend's query as xAPI says: filters by IRI string, ``stored`` and order."""
    from datetime import datetime

    from ralph.backends.lrs.base import StatementQueryResult

    def stored(statement: dict) -> datetime:
        return datetime.fromisoformat(statement["stored"])

    related = str(params.related_activities).lower() == "true"
    filters: list = []
    self._add_filter_by_id(filters, params.statement_id)
    self._add_filter_by_agent(filters, params.agent, params.related_agents)
    self._add_filter_by_authority(filters, params.authority)
    self._add_filter_by_verb(filters, str(params.verb) if params.verb else None)
    self._add_filter_by_activity(filters, str(params.activity) if params.activity else None,
                                 related)
    self._add_filter_by_registration(filters, params.registration)
    if params.since:
        filters.append(lambda s: stored(s) > datetime.fromisoformat(str(params.since)))
    if params.until:
        filters.append(lambda s: stored(s) <= datetime.fromisoformat(str(params.until)))
    rows = [s for s in self.read(query=self.settings.DEFAULT_LRS_FILE, target=target)
            if all(check(s) for check in filters)]
    rows.sort(key=stored, reverse=str(params.ascending).lower() != "true")
    if params.search_after:
        ids = [s.get("id") for s in rows]
        rows = rows[ids.index(params.search_after) + 1:] if params.search_after in ids else []
    limit = int(params.limit or 0)
    page = rows[:limit] if limit else rows
    after = page[-1]["id"] if limit and len(page) == limit else None
    return StatementQueryResult(statements=page, pit_id=None, search_after=after)


def _serve(data_dir: Path, port_file: Path) -> None:
    """Configure Ralph through its environment, patch the fs backend, serve on a free port."""
    os.environ.update({
        "RALPH_APP_DIR": str(data_dir), "RALPH_AUTH_FILE": str(data_dir / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs", "RALPH_RUNSERVER_AUTH_BACKENDS": "basic",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data_dir / "store"),
    })
    (data_dir / "store").mkdir(exist_ok=True)
    _write_auth_file(data_dir / "auth.json", os.environ.pop(ENV_USER),
                     os.environ.pop(ENV_PASSWORD))
    import uvicorn
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    FSLRSBackend.query_statements = _query_statements
    from ralph.api import app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning")
    server = uvicorn.Server(config)
    port_file.write_text(str(sock.getsockname()[1]))
    server.run(sockets=[sock])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--port-file", type=Path, required=True)
    options = parser.parse_args()
    _serve(options.data_dir, options.port_file)
