"""Encode nested web-service parameters as the PHP-array form fields Moodle's REST server reads."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from lms_connectors.exceptions import InvalidRequest

# Moodle's deepest parameter structures have 3 levels (members[0][cohorttype][type]);
# anything much deeper is a programming error, not a Moodle structure.
MAX_DEPTH = 5


def encode_params(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """Flatten nested parameters into ordered form fields with explicit list indexes.

    ``{"enrolments": [{"userid": 5}]}`` becomes ``[("enrolments[0][userid]", "5")]``;
    booleans become ``"1"``/``"0"``, numbers their decimal text. A ``None`` value and an
    empty list or mapping are omitted: Moodle cannot receive an empty list, and an omitted
    optional parameter takes its default.

    Args:
        params: Top-level parameter names to values (scalars, sequences, mappings).

    Returns:
        The form fields in order, ready for ``requests`` ``data=``.

    Raises:
        InvalidRequest: A value cannot be encoded (``None`` inside a list, an unsupported
            type, a non-finite float, a non-string top-level key, nesting deeper than
            ``MAX_DEPTH``).
    """
    fields: list[tuple[str, str]] = []
    for key, value in params.items():
        if not isinstance(key, str) or not key:
            raise InvalidRequest(f"parameter name {key!r} is not a non-empty string")
        _encode(key, value, 1, fields)
    return fields


def _encode(prefix: str, value: object, depth: int, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if depth > MAX_DEPTH:
        raise InvalidRequest(f"{prefix} is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool) or key == "":
                raise InvalidRequest(f"{prefix} has a key {key!r} that is not a name or index")
            _encode(f"{prefix}[{key}]", item, depth + 1, out)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        for index, item in enumerate(value):
            if item is None:
                raise InvalidRequest(f"{prefix}[{index}] is None: a list cannot have holes")
            _encode(f"{prefix}[{index}]", item, depth + 1, out)
    else:
        out.append((prefix, encode_scalar(prefix, value)))


def encode_scalar(name: str, value: object) -> str:
    """Encode one scalar the way Moodle's PARAM_* cleaning expects it.

    Args:
        name: The form key, for the error message.
        value: A str, bool, int or finite float.

    Raises:
        InvalidRequest: Any other type, or NaN / infinity.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRequest(f"{name} is {value}, which Moodle cannot store")
        return repr(value)
    if isinstance(value, str):
        return value
    raise InvalidRequest(f"{name} has a value of type {type(value).__name__} (not a scalar)")
