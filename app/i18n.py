"""``N_``: marks a Russian text for the English catalog where it is defined and leaves it a
plain ``str`` (labels kept in module-level dicts that also go into files and JSON).

Where the text is shown during a request it is translated then: ``_(label)`` in a template,
``flask_babel.gettext(label)`` in a view; outside a request (CLI, exports made by jobs) it
stays Russian. ``make translations`` extracts ``N_("…")`` as it does ``_("…")``.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802  (the gettext convention's name)
    """``text`` itself: only a mark for the catalog's extraction."""
    return text
