"""Moodle REST protocol: PHP-array form decoding, parameter validation, JSON and XML answers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import MoodleError, invalid_parameter

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_VALUE_PATTERNS = {
    "int": re.compile(r"-?\d+"),
    "bool": re.compile(r"[01]"),
    "alpha": re.compile(r"[A-Za-z]*"),
    "alphanumext": re.compile(r"[A-Za-z0-9_-]*"),
    "alphaext": re.compile(r"[A-Za-z/_-]*"),
    "float": re.compile(r"-?\d+(\.\d+)?"),
}
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" ?>\n'


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode PHP-array form keys (``enrolments[0][userid]=5``) into nested dicts.

    Lists stay dicts keyed by their index strings, like PHP arrays; validation turns
    them into lists. ``key[]`` appends, as in PHP.

    Args:
        pairs: The form fields in the order they were sent.

    Returns:
        The nested parameters.
    """
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        path = [head] + (_SEGMENT.findall("[" + rest) if rest else [])
        node = root
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        last = path[-1] if path[-1] != "" else str(len(node))
        node[last] = value
    return root


def validate(spec: Mapping[str, Any], value: Any) -> Any:
    """Validate and clean parameters against a Moodle parameter description.

    Mirrors ``external_api::validate_parameters``: unknown keys, missing required keys,
    a scalar where a list or object is expected and badly typed values all fail with the
    one recorded ``invalidparameter`` body.

    Args:
        spec: A ``{kind: value|object|list, ...}`` node of ``spec.json``.
        value: The decoded input for that node.

    Returns:
        The cleaned value: ints and bools converted, lists as lists, defaults filled in.

    Raises:
        MoodleError: ``invalidparameter``.
    """
    kind = spec["kind"]
    if kind == "value":
        return _clean_value(spec["type"], value)
    if not isinstance(value, dict):
        raise invalid_parameter()
    if kind == "list":
        return [validate(spec["content"], item) for item in value.values()]
    keys: Mapping[str, Any] = spec["keys"]
    if set(value) - set(keys):
        raise invalid_parameter()
    cleaned: dict[str, Any] = {}
    for name, child in keys.items():
        if name in value:
            cleaned[name] = validate(child, value[name])
        elif child["required"] == "required":
            raise invalid_parameter()
        elif child["required"] == "default":
            default = child.get("default")
            if child["kind"] == "value":
                cleaned[name] = _cast(child["type"], default)
            elif child["kind"] == "object" and not default:
                cleaned[name] = validate(child, {})  # Moodle validates the default too
            else:
                cleaned[name] = default
    return cleaned


def _clean_value(param_type: str, value: Any) -> Any:
    if not isinstance(value, str):
        raise invalid_parameter()
    pattern = _VALUE_PATTERNS.get(param_type)
    if pattern is not None and not pattern.fullmatch(value):
        raise invalid_parameter()
    return _cast(param_type, value)


def _cast(param_type: str, value: Any) -> Any:
    if value is None:
        return None
    if param_type == "int":
        return int(value)
    if param_type == "bool":
        return bool(int(value))
    if param_type == "float":
        return float(value)
    return value


def to_json(data: Any) -> str:
    """Encode like PHP ``json_encode``: ASCII only, ``\\/`` for slashes."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def error_json(error: MoodleError) -> str:
    """The JSON body of a Moodle error."""
    return to_json(error.body)


def to_xml(data: Any) -> str:
    """Encode a result like Moodle's REST server without ``moodlewsrestformat``."""
    return _XML_HEAD + "<RESPONSE>\n" + _xml_node(data) + "</RESPONSE>\n"


def error_xml(error: MoodleError) -> str:
    """The XML body of a Moodle error (``format_xml_error_invalid_token``)."""
    body = error.body
    parts = [f'{_XML_HEAD}<EXCEPTION class="{_xml_escape(body["exception"])}">\n']
    if "errorcode" in body:
        parts.append(f"<ERRORCODE>{_xml_escape(body['errorcode'])}</ERRORCODE>\n")
    parts.append(f"<MESSAGE>{_xml_escape(body['message'])}</MESSAGE>\n</EXCEPTION>\n")
    return "".join(parts)


def _xml_node(data: Any) -> str:
    if isinstance(data, dict):
        keys = "".join(
            f'<KEY name="{_xml_escape(k)}">{_xml_node(v)}</KEY>\n' for k, v in data.items()
        )
        return "<SINGLE>\n" + keys + "</SINGLE>\n"
    if isinstance(data, list):
        return "<MULTIPLE>\n" + "".join(_xml_node(item) for item in data) + "</MULTIPLE>\n"
    if data is None:
        return '<VALUE null="null"/>\n'
    if isinstance(data, bool):
        return f"<VALUE>{int(data)}</VALUE>\n"
    return f"<VALUE>{_xml_escape(str(data))}</VALUE>\n"


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(
        ">", "&gt;"
    )
