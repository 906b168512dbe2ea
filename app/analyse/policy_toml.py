"""The overrides of a policy revision as thresholds-file TOML text, and back."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any

from app.analyse.revisions import KEYS, SECTIONS, TOML_SECTIONS, PolicyError

_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def overrides_from_toml(text: str) -> dict[str, Any]:
    """``[frameworks.*]``, ``[groups.*]`` and ``[competency_groups]`` in thresholds-file syntax.

    :raise PolicyError: a syntax error (with its line) or another section.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = _AT_LINE.search(str(err))
        where = f"строка {found.group(1)}, столбец {found.group(2)}" if found else "TOML"
        raise PolicyError(where, f"ошибка синтаксиса TOML ({_AT_LINE.sub('', str(err))})"
                          ) from err
    other = sorted(set(data) - set(TOML_SECTIONS))
    if other:
        raise PolicyError(other[0], "здесь допустимы только разделы [frameworks.…], "
                          "[groups.…] и [competency_groups]")
    return {section: data.get(section, {}) for section in TOML_SECTIONS}


def overrides_to_toml(doc: Mapping[str, Any]) -> str:
    """The overrides and competency groups of a document in thresholds-file syntax."""
    lines: list[str] = []
    for section in SECTIONS:
        for key, values in sorted(doc.get(section, {}).items()):
            lines.append(f"[{section}.{_toml_key(key)}]")
            if values.get("label"):
                lines.append(f"label = {_toml_string(values['label'])}")
            lines += [f"{k} = {values[k]!r}" for k in KEYS if k in values]
            lines.append("")
    groups = doc.get("competency_groups", {})
    if groups:
        lines.append("[competency_groups]")
        lines += [f"{_toml_key(c)} = {_toml_string(g)}" for c, g in sorted(groups.items())]
    return "\n".join(lines).strip() + "\n" if lines else ""


def line_of(text: str, field: str) -> int | None:
    """The line of ``section.key[.name]`` in TOML text, to point at a refused value."""
    parts = field.split(".")
    if len(parts) < 2 or parts[0] not in TOML_SECTIONS:
        return None
    if parts[0] == "competency_groups":
        headers, name = {"[competency_groups]"}, parts[1]
    else:
        headers = {f"[{parts[0]}.{parts[1]}]", f'[{parts[0]}."{parts[1]}"]'}
        name = parts[2] if len(parts) > 2 else ""
    inside, header_line = False, None
    for number, line in enumerate(text.splitlines(), start=1):
        compact = "".join(line.split())
        if compact.startswith("["):
            inside = compact in headers
            header_line = header_line or (number if inside else None)
        elif inside and name and compact.split("=")[0].strip('"') == name:
            return number
    return header_line


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
