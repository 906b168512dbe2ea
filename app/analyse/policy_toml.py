"""Policy documents as TOML: the thresholds file, and a revision's overrides as its text.

Read with the standard library's ``tomllib`` (its errors carry the line and column), written
with ``tomlkit``; both are checked by the one schema of ``app.analyse.policy_schema``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from flask_babel import gettext as _

from app.analyse.policy_schema import (
    KEYS,
    SECTIONS,
    TOML_SECTIONS,
    PolicyError,
    validate_document,
)
from app.common.inputs import InputError, load_toml
from app.settings import SettingsError


class TomlSyntaxError(PolicyError):
    """A TOML text that does not parse; ``field`` is where (line and column) or «TOML»."""


_AT_LINE = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
# The settings a thresholds file inherits when it leaves the field out.
SETTING_OF = {"default.deficit_below": "PROFROUTE_DEFICIT_BELOW",
              "default.risk_below": "PROFROUTE_RISK_BELOW",
              "default.min_questions": "PROFROUTE_MIN_QUESTIONS",
              "attempt_policy": "PROFROUTE_ATTEMPT_POLICY"}


def overrides_from_toml(text: str) -> dict[str, Any]:
    """``[frameworks.*]``, ``[groups.*]``, ``[competency_groups]`` and ``[matching]`` in
    thresholds-file syntax.

    :raise PolicyError: a syntax error (with its line) or another section.
    """
    data = _parse(text)
    other = sorted(set(data) - set(TOML_SECTIONS))
    if other:
        raise PolicyError(other[0], _("здесь допустимы только разделы [frameworks.…], "
                                      "[groups.…], [competency_groups] и [matching]"))
    # [matching] only when written: a document without it keeps the planner's defaults
    return {section: data.get(section, {}) for section in TOML_SECTIONS
            if section != "matching" or section in data}


def overrides_to_toml(doc: Mapping[str, Any]) -> str:
    """The overrides, competency groups and planner weights of a document in thresholds-file
    syntax."""
    out = tomlkit.document()
    for section in SECTIONS:
        entries = sorted(doc.get(section, {}).items())
        if not entries:
            continue
        tables = tomlkit.table(is_super_table=True)
        for key, values in entries:
            table = tomlkit.table()
            if values.get("label"):
                table.add("label", values["label"])
            for name in (k for k in KEYS if k in values):
                table.add(name, values[name])
            tables.add(key, table)
        out.add(section, tables)
    groups = doc.get("competency_groups", {})
    if groups:
        table = tomlkit.table()
        for competency, group in sorted(groups.items()):
            table.add(competency, group)
        out.add("competency_groups", table)
    matching = doc.get("matching", {})
    if matching:  # the planner's weights the policy sets (the others: their defaults)
        table = tomlkit.table()
        for name, value in sorted(matching.items()):
            table.add(name, value)
        out.add("matching", table)
    return tomlkit.dumps(out)


def file_document(path: Path, inherited: Mapping[str, Any]) -> dict[str, Any]:
    """The policy document of a thresholds file (``PROFROUTE_THRESHOLDS_FILE``)::

        attempt_policy = "best"
        [frameworks.PKU-2026]
        deficit_below = 0.45
        [groups.subject]
        label = "Предметный блок"
        deficit_below = 0.55
        risk_below = 0.8
        [competency_groups]
        PK-01 = "subject"

    Every section of a revision may be written in it (``[default]``, ``[risk]`` too); the
    ``default`` thresholds and the ``attempt_policy`` it leaves out are ``inherited``'s (the
    settings').

    :raise SettingsError: the file is unreadable or not TOML, or breaks a rule (the field,
        with its line, or the setting the value came from).
    """
    try:
        text = path.read_text(encoding="utf-8")
        data = _parse(text)
    except (OSError, PolicyError) as err:
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {path}: {err}") from err
    default = data.get("default", {})
    if isinstance(default, Mapping):
        data["default"] = {**inherited["default"], **default}
    data.setdefault("attempt_policy", inherited["attempt_policy"])
    try:
        return validate_document(data)
    except PolicyError as err:
        line = line_of(text, err.field)
        if line is None and err.field in SETTING_OF:
            raise SettingsError(_("%(setting)s (для файла %(path)s): %(reason)s",
                                  setting=SETTING_OF[err.field], path=str(path),
                                  reason=err.reason)) from err
        where = _(", строка %(line)s", line=line) if line else ""
        raise SettingsError(f"PROFROUTE_THRESHOLDS_FILE {path}{where}: {err}") from err


def line_of(text: str, field: str) -> int | None:
    """The line of a field (``section.key[.name]``, ``default.key``, ``attempt_policy``) in
    TOML text, to point at a refused value; a table's own line when the key is not there."""
    parts = field.split(".")
    if len(parts) == 1:
        headers, name = {""}, parts[0]  # a top-level key, before any table
    elif parts[0] in SECTIONS:
        headers = {f"[{parts[0]}.{parts[1]}]", f'[{parts[0]}."{parts[1]}"]'}
        name = parts[2] if len(parts) > 2 else ""
    else:
        headers, name = {f"[{parts[0]}]"}, parts[1]
    inside, header_line = "" in headers, None
    for number, line in enumerate(text.splitlines(), start=1):
        compact = "".join(line.split())
        if compact.startswith("["):
            inside = compact in headers
            header_line = header_line or (number if inside else None)
        elif inside and name and compact.split("=")[0].strip('"') == name:
            return number
    return header_line


def _parse(text: str) -> dict[str, Any]:
    """TOML text as plain values.

    :raise TomlSyntaxError: a syntax error, named by its line and column, or tables and
        arrays nested deeper than ``app.common.inputs.MAX_TOML_DEPTH``.
    """
    try:
        return load_toml(text)
    except InputError as err:
        raise TomlSyntaxError("TOML", str(err).split(" / ")[0]) from err
    except tomllib.TOMLDecodeError as err:
        found = _AT_LINE.search(str(err))
        where = _("строка %(line)s, столбец %(column)s", line=found.group(1),
                  column=found.group(2)) if found else "TOML"
        raise TomlSyntaxError(where, _("ошибка синтаксиса TOML (%(detail)s)",
                                       detail=_AT_LINE.sub("", str(err)))) from err
