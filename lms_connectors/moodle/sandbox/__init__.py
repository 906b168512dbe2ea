"""Moodle sandbox: an embedded stand-in speaking Moodle's REST protocol, for demo and tests."""

from .app import LIMITED_CAPABILITIES, PLUGIN_ROLE, TokenRole, create_app

__all__ = ["LIMITED_CAPABILITIES", "PLUGIN_ROLE", "TokenRole", "create_app"]
