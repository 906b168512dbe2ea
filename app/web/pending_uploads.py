"""Uploaded files kept on the server between their preview and their import.

Each upload gets a random token naming a private folder that holds the files and who
uploaded them; only that user may apply or drop it, and uploads older than a day are
removed whenever a new one is kept.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class Pending:
    """A kept upload: its token and its files (name as chosen, path on the server)."""

    token: str
    files: list[tuple[str, Path]]


def keep(root: Path, owner: str, files: list[tuple[str, bytes]]) -> Pending:
    """Keep the files under a new token for ``owner``; drop uploads older than a day."""
    _sweep(root)
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(parents=True, mode=0o700)
    kept = []
    for index, (name, data) in enumerate(files):
        path = folder / f"{index}.bin"
        path.write_bytes(data)
        kept.append((name, path))
    (folder / "meta.json").write_text(json.dumps({"owner": owner, "names": [n for n, _ in files]}),
                                      encoding="utf-8")
    return Pending(token, kept)


def load(root: Path, owner: str, token: str) -> Pending:
    """The upload kept under ``token`` for ``owner``.

    :raise LookupError: no such upload (unknown, expired, applied already, or another user's).
    """
    folder = root / token
    meta = folder / "meta.json"
    if not _TOKEN.match(token) or not meta.is_file():
        raise LookupError(token)
    data = json.loads(meta.read_text(encoding="utf-8"))
    if data["owner"] != owner:
        raise LookupError(token)
    return Pending(token, [(name, folder / f"{i}.bin") for i, name in enumerate(data["names"])])


def drop(root: Path, token: str) -> None:
    """Remove a kept upload (nothing happens when it is gone already)."""
    if _TOKEN.match(token):
        shutil.rmtree(root / token, ignore_errors=True)


def default_root() -> Path:
    """Where uploads are kept unless the app says otherwise: a folder of the temp directory."""
    return Path(tempfile.gettempdir()) / "profroute-uploads"


def _sweep(root: Path) -> None:
    """Remove kept uploads older than ``MAX_AGE``."""
    if not root.is_dir():
        return
    limit = time.time() - MAX_AGE
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
