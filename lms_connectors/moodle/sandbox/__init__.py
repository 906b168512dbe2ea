"""Moodle sandbox: an embedded stand-in speaking Moodle's REST protocol, for demo and tests."""

from .app import create_app

__all__ = ["create_app"]
