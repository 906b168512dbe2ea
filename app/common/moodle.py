"""Builds the Moodle web-service API from the settings."""

from __future__ import annotations

import requests

from app.settings import Settings
from lms_connectors.moodle.api import MoodleAPI, ProfileFields
from lms_connectors.moodle.client import MoodleClient


def moodle_api(settings: Settings, session: requests.Session | None = None) -> MoodleAPI:
    """A MoodleAPI for the configured site.

    :raise SettingsError: the Moodle URL or token is not set.
    """
    settings.require_moodle()
    client = MoodleClient(settings.moodle_url, settings.moodle_token,
                          session=session or requests.Session(),
                          timeout=settings.moodle_timeout, retries=settings.moodle_retries)
    return MoodleAPI(client)


def profile_fields(settings: Settings) -> ProfileFields:
    """Which custom profile fields hold school code and name, municipality and subject."""
    return ProfileFields(school_code=settings.field_school_code,
                         school_name=settings.field_school_name,
                         municipality=settings.field_municipality,
                         subject=settings.field_subject)
