"""The password rule of web logins: at least 12 characters and not a common password.

Common passwords are the 30,000 most frequent ones of the list that zxcvbn ships
(``zxcvbn.frequency_lists``, drawn from leaked password sets); a password typed in the Russian
keyboard layout is also checked as the same keys in the Latin one ("парольпароль" is the common
"gfhjkmgfhjkm").
"""

from __future__ import annotations

import functools
import re

MIN_PASSWORD = 12
_RUSSIAN_KEYS = str.maketrans("йцукенгшщзхъфывапролджэячсмитьбюё",
                              "qwertyuiop[]asdfghjkl;'zxcvbnm,.`")
_REPEATED = re.compile(r"(.{1,4}?)\1+", re.DOTALL)


def password_problem(password: str, login: str = "") -> str | None:
    """Why ``password`` may not be used (one sentence), or None when it may."""
    if len(password) < MIN_PASSWORD:
        return (f"the password must have at least {MIN_PASSWORD} characters "
                f"(this one has {len(password)})")
    folded = password.casefold()
    if login and folded == login.strip().casefold():
        return "the password must not be the login"
    if _REPEATED.fullmatch(folded):
        return "the password is one short sequence repeated; choose another"
    if folded in common_passwords() or folded.translate(_RUSSIAN_KEYS) in common_passwords():
        return "the password is one of the 30,000 most common passwords; choose another"
    return None


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common passwords, lower case (loaded once)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # a large module: loaded when needed

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
