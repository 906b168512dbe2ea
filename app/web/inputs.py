"""Request input checked before any view reads it: ids in URLs and parameters, dates, JSON.

:func:`init_app` makes ``<int:…>`` in a URL refuse an id past ``MAX_ID`` with 404 (no
record has it; a database would refuse to compare it), parses JSON bodies only up to a
depth and a size, and answers 400 to a parameter or form value holding a NUL character (no
text column can store it). The helpers give views one way to read an id or a date from a
parameter, with a Russian message when it is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest, NotFound
from werkzeug.routing import IntegerConverter, Map

from app.common.inputs import MAX_ID, InputError, check_json_depth, parse_day, parse_id

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class IdConverter(IntegerConverter):
    """``<int:…>`` that matches only ids the tables can hold (0 … ``MAX_ID``)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a text nested deeper than the limit before parsing it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        check_json_depth(s)
        return super().loads(s, **kwargs)


def init_app(app: Flask) -> None:
    """Bind the id converter (before any blueprint adds its rules), the JSON limit and the
    NUL check."""
    app.url_map.converters["int"] = IdConverter
    app.json = DepthLimitedJSONProvider(app)
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    """A NUL character in a parameter or form field is refused before any view reads it.

    The xAPI endpoint reads its own body (its errors follow the xAPI specification).

    :raise 400: a parameter or form field (name or value) holds a NUL character.
    """
    fields = list(request.args.items(multi=True))
    if request.blueprint != "xapi" and request.mimetype in FORM_TYPES:
        fields += list(request.form.items(multi=True))
    bad = next((name for name, value in fields if "\x00" in name or "\x00" in value), None)
    if bad is not None:
        raise BadRequest(_("Поле «%(name)s» содержит недопустимый символ NUL: уберите его "
                           "и отправьте запрос снова.", name=bad.replace(chr(0), '�')[:40]))


def id_arg(values: Mapping[str, str], name: str) -> int | None:
    """The record id in a parameter or form field, None when it is absent or empty.

    :raise 400: not a whole number.
    :raise 404: past ``MAX_ID`` (no record has such an id).
    """
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_id(raw, name)
    except InputError as err:
        if raw.isascii() and raw.isdigit():
            raise NotFound(str(err)) from err
        raise BadRequest(str(err)) from err


def date_arg(values: Mapping[str, str], name: str) -> dt.date | None:
    """The day in a parameter or form field (``YYYY-MM-DD``), None when absent or empty.

    :raise 400: another form, a day that does not exist or one out of range.
    """
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_day(raw, name)
    except InputError as err:
        raise BadRequest(str(err)) from err


def date_args(values: Mapping[str, str], *names: str) -> list[str | None]:
    """Each named day checked by :func:`date_arg`, as ISO text (None when absent)."""
    return [day.isoformat() if (day := date_arg(values, name)) else None for name in names]
