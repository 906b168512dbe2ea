"""The header spellings of each kind of imported file, kept in ``headers.toml`` (data, not code)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

KINDS = ("results", "schools", "partnerships", "offers", "question_map", "external_courses",
         "internships", "mentoring", "events", "availability")
# The default format of a school code (whole match): a ФИС ОКО login («sch160101»), a
# regional code («16-0001», «160101»); no spaces, no Cyrillic, no «E+» of a spreadsheet.
SCHOOL_CODE_PATTERN = r"[0-9A-Za-z][0-9A-Za-z._/-]{0,39}"


@cache
def _all() -> dict[str, dict[str, tuple[str, ...]]]:
    text = resources.files("tabular").joinpath("headers.toml").read_text(encoding="utf-8")
    return {kind: {name: tuple(spellings) for name, spellings in columns.items()}
            for kind, columns in tomllib.loads(text).items()}


def header_aliases(kind: str) -> dict[str, tuple[str, ...]]:
    """Canonical column → accepted header spellings for one kind of file (``KINDS``).

    Raises:
        KeyError: An unknown kind.
    """
    return dict(_all()[kind])
