"""The sandbox as its own process: free port, port file, HTTP calls, clean SIGTERM."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 20.0) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text(encoding="utf-8").strip():
            return int(path.read_text(encoding="utf-8"))
        assert process.poll() is None, "sandbox exited early"
        time.sleep(0.05)
    raise AssertionError("sandbox did not write its port file")


def test_sandbox_runs_as_a_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    token = secrets.token_urlsafe(16)
    port_file = tmp_path / "port"
    env = {**os.environ, "PROFROUTE_SANDBOX_TOKEN": token}
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "lms_connectors.moodle.sandbox", "--host", "127.0.0.1",
         "--port", "0", "--seed", "2026", "--port-file", str(port_file)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = _wait_for(port_file, process)
        url = f"http://127.0.0.1:{port}/webservice/rest/server.php"
        fields = {"wstoken": token, "wsfunction": "core_webservice_get_site_info",
                  "moodlewsrestformat": "json"}
        info = requests.post(url, data=fields, timeout=10).json()
        assert info["version"] == "2024090300"
        assert requests.get(url, params=fields, timeout=10).json()["userid"] == info["userid"]
        refused = requests.post(url, data={**fields, "wstoken": "nope"}, timeout=10)
        assert (refused.status_code, refused.json()["errorcode"]) == (200, "invalidtoken")
        state = requests.get(f"http://127.0.0.1:{port}/_sandbox/state", timeout=10,
                             headers={"X-Sandbox-Token": token}).json()
        assert state["calls"]["core_webservice_get_site_info"] == 3
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert f"Moodle sandbox on http://127.0.0.1:{port}" in output
    assert token not in output
