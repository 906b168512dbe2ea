"""Accounts: the people who sign in to ProfRoute's web UI (methodologists), their
passwords (hashed) and their state; the personal-data duties towards teachers (export,
erasure, retention: ``personal_data``, ``retention``)."""
