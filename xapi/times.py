"""Time values in xAPI: ISO 8601 timestamps and durations to and from unix seconds (UTC)."""

from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_timestamp(value: str) -> int:
    """Turn an xAPI ISO 8601 timestamp into unix seconds.

    A timestamp without an offset is read as UTC (the specification asks for one, some LRSs
    drop it).

    Raises:
        ValueError: the value is not an ISO 8601 timestamp.
    """
    return int(parse_instant(value).timestamp())


def parse_instant(value: str) -> dt.datetime:
    """An xAPI ISO 8601 timestamp as an aware datetime in UTC, to the microsecond.

    Raises:
        ValueError: the value is not an ISO 8601 timestamp.
    """
    if not isinstance(value, str):
        raise ValueError(f"timestamp must be a string, not {type(value).__name__}")
    moment = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def format_timestamp(value: int | float | dt.datetime) -> str:
    """Format unix seconds or an aware datetime as an xAPI timestamp in UTC (``…Z``).

    Raises:
        ValueError: a naive datetime (its zone would be guessed).
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no time zone; pass an aware one")
        moment = value.astimezone(dt.UTC)
    else:
        moment = dt.datetime.fromtimestamp(value, dt.UTC)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_duration(value: str) -> float:
    """Seconds in an ISO 8601 duration of days, hours, minutes and seconds (``PT1M30S``).

    Raises:
        ValueError: not such a duration (years and months have no fixed length).
    """
    match = _DURATION.match(value or "")
    if not match or value in ("P", "PT"):
        raise ValueError(f"unsupported ISO 8601 duration {value!r}")
    parts = {key: float(num) for key, num in match.groupdict().items() if num}
    return (parts.get("d", 0.0) * 86400 + parts.get("h", 0.0) * 3600
            + parts.get("m", 0.0) * 60 + parts.get("s", 0.0))
