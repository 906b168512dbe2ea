"""Moodle's LTI roles → ProfRoute roles, through the ``lti_role_map`` setting.

Moodle (mod/lti, ``lti_get_ims_role``) sends ``membership#Instructor`` to whoever may manage
the activity (editing teachers), ``membership#Learner`` to everyone else, and adds
``system/person#Administrator`` and ``institution/person#Administrator`` for site
administrators (and holders of ``mod/lti:admin``), dropping Learner for them. A map entry
names a role by its full URI or by its short name (the part after ``#``); a person holding
several mapped roles gets the strongest one (admin › methodologist › teacher).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from app.settings import SettingsError

ROLES = ("teacher", "methodologist", "admin")  # weakest first
_SEPARATORS = re.compile(r"[;\n,]")


def parse_role_map(text: str) -> dict[str, str]:
    """``"Administrator=admin; Instructor=methodologist"`` → ``{LTI role: ProfRoute role}``.

    :raise SettingsError: an entry is not ``LTI role = one of admin, methodologist, teacher``.
    """
    mapping: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in _SEPARATORS.split(text))):
        lti_role, sep, role = (piece.strip() for piece in entry.partition("="))
        if not sep or not lti_role or role not in ROLES:
            raise SettingsError(
                f"setting PROFROUTE_LTI_ROLE_MAP: entry {entry!r} is not 'LTI role=ProfRoute "
                f"role' with a ProfRoute role among {', '.join(ROLES)} "
                "(e.g. 'Administrator=admin; Instructor=methodologist; Learner=teacher')")
        mapping[lti_role] = role
    return mapping


def resolve_role(lti_roles: Iterable[str], role_map: Mapping[str, str]) -> str | None:
    """The strongest ProfRoute role any of the launch's LTI roles maps to, or None."""
    found = {role_map[name] for uri in lti_roles for name in _names(uri) if name in role_map}
    return max(found, key=ROLES.index) if found else None


def _names(uri: str) -> tuple[str, ...]:
    """A role as the map may name it: the full URI, then its short name."""
    short = uri.rsplit("#", 1)[-1] if "#" in uri else uri.rsplit("/", 1)[-1]
    return (uri, short)
