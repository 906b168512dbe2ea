"""Helpers of the import tests: uploads through /imports and what the page then shows."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.extensions import db


def upload(client: FlaskClient, path: str, form: dict[str, str] | None = None,
           **files: tuple[bytes, str]) -> tuple[int, str]:
    data: dict[str, object] = {field: (io.BytesIO(content), name)
                               for field, (content, name) in files.items()}
    answer = client.post(path, data=data | (form or {}), content_type="multipart/form-data")
    return answer.status_code, answer.get_data(as_text=True)


def upload_applied(client: FlaskClient, path: str, changes: dict[str, str] | None = None,
                   form: dict[str, str] | None = None,
                   **files: tuple[bytes, str]) -> tuple[int, str]:
    """Upload files to a form, then apply its preview as shown (with ``changes`` of columns)."""
    status, page = upload(client, path, form, **files)
    assert status == 200 and "Проверка перед загрузкой" in page, page
    answer = client.post(f"{path}/apply", data=form_choices(page) | (changes or {}))
    return answer.status_code, answer.get_data(as_text=True)


def form_choices(page: str) -> dict[str, str]:
    """The fields a browser would send from the preview form: the token, each selected option."""
    fields = dict(re.findall(r'<input type="hidden" name="(token)" value="([^"]*)"', page))
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        fields[name] = chosen[1] if chosen else ""
    return fields


def upload_results(client: FlaskClient, content: bytes, name: str,
                   **changes: str) -> tuple[int, str]:
    """Upload a results file, then apply its preview as shown (with ``changes`` of columns)."""
    status, page = upload(client, "/imports/results", files=(content, name))
    assert status == 200 and "Проверка перед загрузкой" in page
    answer = client.post("/imports/results/apply", data=form_choices(page) | changes)
    return answer.status_code, answer.get_data(as_text=True)


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def items(page: str) -> list[str]:
    return [re.sub(r"\s+", " ", i).strip() for i in re.findall(r"<li>(.*?)</li>", page, re.S)]
