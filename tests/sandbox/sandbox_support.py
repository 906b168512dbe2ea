"""Helpers for the sandbox tests: an app, its site, and a Moodle-style call."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from lms_connectors.moodle.sandbox import create_app
from lms_connectors.moodle.sandbox.store import Site

TOKEN = "behaviour-token"
LIMITED = "behaviour-limited"


class Moodle:
    """A Flask test client that speaks the REST protocol to a fresh sandbox."""

    def __init__(self, **options: Any) -> None:
        self.app = create_app(TOKEN, limited_token=LIMITED, **options)
        self.client = self.app.test_client()

    @property
    def site(self) -> Site:
        """The sandbox's in-memory site."""
        return self.app.extensions["moodle_sandbox"].site

    def raw(self, function: str, token: str = TOKEN, **fields: Any) -> Any:
        """POST a call and return the Werkzeug response."""
        form = {"wstoken": token, "wsfunction": function, "moodlewsrestformat": "json"}
        form.update({k: str(v) for k, v in fields.items()})
        return self.client.post("/webservice/rest/server.php", data=form)

    def call(self, function: str, token: str = TOKEN, **fields: Any) -> Any:
        """POST a call and return the decoded JSON answer."""
        return json.loads(self.raw(function, token, **fields).get_data(as_text=True))

    def hook(self, method: str, path: str, body: Any = None, token: str = TOKEN) -> Any:
        """Call a ``/_sandbox/`` hook."""
        return self.client.open(f"/_sandbox/{path}", method=method, json=body,
                                headers={"X-Sandbox-Token": token})


def form(prefix: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """PHP-array form fields for a list of objects (``prefix[0][key]=value``)."""
    return {f"{prefix}[{i}][{k}]": v for i, row in enumerate(rows) for k, v in row.items()}


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve a sandbox app built in the test (a chosen role...) over HTTP; yield its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join()
