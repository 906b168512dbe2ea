"""Uploaded files kept on the server between their preview and their import.

Each upload gets a random token naming a private folder that holds the files, who uploaded
them, which form they came from, the kind of table each file is and the form's other choices;
only that user may apply or drop it, and uploads older than a day are removed whenever a new
one is kept.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_AGE = 24 * 3600


@dataclass(frozen=True)
class Pending:
    """A kept upload: its token, its files (name as chosen, path on the server), the form it
    came from, the kind of table of each file and the form's other choices."""

    token: str
    files: list[tuple[str, Path]]
    upload: str = "results"
    kinds: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


def keep(root: Path, owner: str, files: list[tuple[str, bytes]], *, upload: str = "results",
         kinds: list[str] | None = None, context: dict[str, Any] | None = None) -> Pending:
    """Keep the files under a new token for ``owner``; drop uploads older than a day.

    ``kinds`` names each file's kind of table (``results`` for all by default); ``context``
    holds the form's other choices as JSON values.
    """
    _sweep(root)
    token = secrets.token_urlsafe(16)
    folder = root / token
    folder.mkdir(parents=True, mode=0o700)
    kept = []
    for index, (name, data) in enumerate(files):
        path = folder / f"{index}.bin"
        path.write_bytes(data)
        kept.append((name, path))
    kinds = list(kinds or ["results"] * len(files))
    context = dict(context or {})
    meta = {"owner": owner, "names": [n for n, _ in files], "upload": upload, "kinds": kinds,
            "context": context}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return Pending(token, kept, upload, kinds, context)


def load(root: Path, owner: str, token: str, upload: str | None = None) -> Pending:
    """The upload kept under ``token`` for ``owner`` (from the form ``upload`` if given).

    :raise LookupError: no such upload (unknown, expired, applied already, another user's,
        or from another form).
    """
    folder = root / token
    meta = folder / "meta.json"
    if not _TOKEN.match(token) or not meta.is_file():
        raise LookupError(token)
    data = json.loads(meta.read_text(encoding="utf-8"))
    kept = data.get("upload", "results")
    if data["owner"] != owner or upload not in (None, kept):
        raise LookupError(token)
    names = data["names"]
    return Pending(token, [(name, folder / f"{i}.bin") for i, name in enumerate(names)], kept,
                   data.get("kinds") or ["results"] * len(names), data.get("context") or {})


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
