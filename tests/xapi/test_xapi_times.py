"""xAPI timestamps and durations to and from unix seconds."""

from __future__ import annotations

import datetime as dt

import pytest

from xapi.times import format_timestamp, parse_duration, parse_timestamp


@pytest.mark.parametrize(("text", "unix"), [
    ("2015-06-10T14:31:41.000Z", 1433946701), ("2015-06-10T17:31:41+03:00", 1433946701),
    ("2015-06-10T14:31:41", 1433946701), ("2015-06-10T14:31:41.999Z", 1433946701)])
def test_parse_timestamp_to_unix_utc(text: str, unix: int) -> None:
    assert parse_timestamp(text) == unix


def test_format_timestamp_is_utc_with_z() -> None:
    assert format_timestamp(1433946701) == "2015-06-10T14:31:41Z"
    moscow = dt.datetime(2015, 6, 10, 17, 31, 41, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    assert format_timestamp(moscow) == "2015-06-10T14:31:41Z"
    with pytest.raises(ValueError, match="naive"):
        format_timestamp(dt.datetime(2015, 6, 10))


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT1S", 1.0), ("PT1M30.5S", 90.5), ("P1DT2H", 93600.0), ("PT0S", 0.0)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["P1Y", "PT", "1S", ""])
def test_parse_duration_refuses_what_has_no_fixed_length(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
