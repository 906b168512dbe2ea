"""Runs the Moodle sandbox as its own process (it is never imported by the app)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class SandboxError(RuntimeError):
    """Raised when the Moodle sandbox process does not start."""


@contextlib.contextmanager
def running_sandbox(token: str, *, seed: int = 2026, teachers: int | None = None,
                    grade_items: bool = True, plugin: bool = True,
                    limited_token: str | None = None,
                    timeout: float = 30.0) -> Iterator[str]:
    """Start the sandbox on a free port of 127.0.0.1; yield its base URL; stop it after.

    The token travels in the environment, never on the command line.

    :raise SandboxError: the process exited or did not listen within ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory(prefix="profroute-sandbox-") as tmp:
        port_file = Path(tmp) / "port"
        args = [sys.executable, "-m", "lms_connectors.moodle.sandbox", "--host", "127.0.0.1",
                "--port", "0", "--port-file", str(port_file), "--seed", str(seed)]
        if teachers is not None:
            args += ["--teachers", str(teachers)]
        if not grade_items:
            args.append("--no-grade-items")
        if not plugin:
            args.append("--no-plugin")
        env = {**os.environ, "PROFROUTE_SANDBOX_TOKEN": token}
        if limited_token:
            env["PROFROUTE_SANDBOX_LIMITED_TOKEN"] = limited_token
        log_path = Path(tmp) / "sandbox.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)  # noqa: S603
        try:
            try:
                port = _wait_for_port(proc, port_file, timeout)
            except SandboxError as err:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise SandboxError(f"{err}; its log ends with:\n{tail}") from None
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_for_port(proc: subprocess.Popen[bytes], port_file: Path, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the Moodle sandbox exited with code {proc.returncode}")
        text = port_file.read_text().strip() if port_file.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    raise SandboxError(f"the Moodle sandbox did not start within {timeout:.0f} s")
