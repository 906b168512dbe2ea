"""The errors of ProfRoute's LTI 1.3 tool; each message says what to fix and where."""

from __future__ import annotations


class LtiError(ValueError):
    """Raised when an LTI request or registration cannot be accepted (base class)."""


class PlatformError(LtiError):
    """Raised when a platform registration is malformed or already exists."""


class LaunchRefused(LtiError):
    """Raised when a login initiation or launch fails a check (state, nonce, signature...)."""


class UnknownMoodleUser(LtiError):
    """Raised when a launch's Moodle user is neither a known teacher nor given a staff role."""

    def __init__(self, subject: str, issuer: str) -> None:
        super().__init__(f"Moodle user {subject!r} of {issuer} is not a ProfRoute teacher")
        self.subject = subject
        self.issuer = issuer
