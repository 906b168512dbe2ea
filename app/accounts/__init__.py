"""Accounts: the people who sign in to ProfRoute's web UI, their passwords (hashed) and state
(``web_users``), the roles and scopes that say what each of them may see (``roles``), and the
personal-data duties towards teachers (export, erasure, retention: ``personal_data``,
``retention``)."""
