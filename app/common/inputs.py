"""What a person may send, checked in one place: ids, dates, JSON and TOML nesting, file names.

Each check raises :class:`InputError` (a ``ValueError``, so the CLI and the error pages
already report it as a 400) with a Russian message that names the value and says what is
accepted, and an English one after « / » for the API and the logs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

import numpy as np

MAX_ID = 2**31 - 1  # the largest id every table holds (ids are INTEGER in PostgreSQL)
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2999, 12, 31)
MAX_JSON_DEPTH = 64
MAX_JSON_BYTES = 5 * 1024 * 1024  # a batch of xAPI statements from Moodle is far smaller
MAX_TOML_DEPTH = 16
MAX_NAME_BYTES = 150  # of a file name kept or shown; a file system allows 255
_JSON_ESCAPE = re.compile(rb"\\.", re.S)
_JSON_STRING = re.compile(rb'"[^"]*"')  # once escapes are gone, a string has no other quote
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class InputError(ValueError):
    """Raised when a value a person sent cannot be accepted (the message says why)."""


def parse_id(text: str, name: str) -> int:
    """A record id from text: digits only, at most ``MAX_ID``.

    :raise InputError: not a whole non-negative number, or past ``MAX_ID`` (no record has it).
    """
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit()):
        raise InputError(f"{name} = «{_shown(text)}»: нужен номер записи (целое число) / "
                         f"{name} must be a record id")
    value = int(raw)
    if value > MAX_ID:
        raise InputError(f"{name} = «{_shown(text)}»: такого номера записи не бывает "
                         f"(не больше {MAX_ID}) / {name} is out of range")
    return value


def parse_day(text: str, name: str) -> dt.date:
    """A calendar day written ``YYYY-MM-DD``, between ``FIRST_DAY`` and ``LAST_DAY``.

    :raise InputError: another form, a day that does not exist (2026-02-30) or one out of
        that range (0001-01-01, 9999-12-31).
    """
    raw = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise InputError(f"{name} = «{_shown(text)}»: запишите дату как ГГГГ-ММ-ДД / "
                         f"{name}: write dates as YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name} = «{raw}»: такой даты нет в календаре / "
                         f"{name}: no such day") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{name} = «{raw}»: дата вне допустимого диапазона "
                         f"{FIRST_DAY.isoformat()} … {LAST_DAY.isoformat()} / "
                         f"{name}: date out of range")
    return day


def json_depth(data: bytes | str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings aside).

    Escapes go first, then strings, then all but brackets, each by one pass of a regular
    expression or ``bytes.translate``; the running depth is a cumulative sum. So the time
    is linear in the length and nothing recurses: it is safe on any input. A string never
    closed leaves its brackets counted (the text is no JSON anyway).
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    brackets = _JSON_STRING.sub(b"", _JSON_ESCAPE.sub(b"", raw)).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return max(int(np.cumsum(steps).max()), 0)


def check_json_depth(data: bytes | str, limit: int = MAX_JSON_DEPTH,
                     most_bytes: int = MAX_JSON_BYTES) -> None:
    """Refuse JSON longer than ``most_bytes`` or nested deeper than ``limit`` before it is
    parsed.

    :raise InputError: the text is longer or nests deeper.
    """
    if len(data) > most_bytes:
        raise InputError(f"JSON слишком большой: {len(data) / 2**20:.1f} МБ, допустимо "
                         f"{most_bytes / 2**20:.0f} МБ / JSON longer than "
                         f"{most_bytes / 2**20:.0f} MB")
    if json_depth(data) > limit:
        raise InputError(f"JSON вложен слишком глубоко: больше {limit} уровней / "
                         f"JSON nested more than {limit} levels deep")


def load_json(data: bytes | str, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` of a text nested at most ``limit`` deep and at most ``MAX_JSON_BYTES``
    long.

    :raise InputError: nested deeper or longer (checked before parsing).
    :raise json.JSONDecodeError: not JSON (both are ``ValueError``).
    """
    check_json_depth(data, limit)
    return json.loads(data)


def load_toml(text: str, limit: int = MAX_TOML_DEPTH) -> dict[str, Any]:
    """Parse TOML whose tables and arrays nest at most ``limit`` deep.

    :raise tomllib.TOMLDecodeError: not TOML (the parser's own error, with line and column).
    :raise InputError: nested deeper than ``limit``.
    """
    try:
        document = tomllib.loads(text)
    except RecursionError:
        document = None
    depth = limit + 1 if document is None else nesting_depth(document)
    if depth > limit:
        raise InputError(f"TOML вложен слишком глубоко: больше {limit} уровней таблиц и "
                         f"массивов / TOML nested deeper than {limit} levels")
    assert document is not None
    return document


def nesting_depth(value: object) -> int:
    """How deep dicts and lists nest in a parsed document (walked without recursion)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def safe_file_name(name: str, fallback: str, limit: int = MAX_NAME_BYTES) -> str:
    """An uploaded file's name fit to keep and show: no folder part, no control or
    direction characters, at most ``limit`` bytes in UTF-8 with its extension kept.

    ``fallback`` stands for a name that is empty (or only dots) once cleaned.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    cleaned = cleaned.strip().strip(".") and cleaned.strip()
    if not cleaned:
        return fallback
    suffix = PurePosixPath(cleaned).suffix
    suffix = suffix if len(suffix.encode()) <= 10 else ""
    stem = cleaned[:len(cleaned) - len(suffix)] if suffix else cleaned
    room = limit - len(suffix.encode())
    while len(stem.encode()) > room:
        stem = stem[:-1]
    return stem.rstrip() + suffix if stem.strip() else fallback


def _shown(text: str, most: int = 40) -> str:
    """A value as a message quotes it: printable, at most ``most`` characters."""
    printable = "".join(c if c.isprintable() else "�" for c in text)
    return printable if len(printable) <= most else printable[:most] + "…"
