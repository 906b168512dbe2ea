"""Connectors to learning-management systems (Moodle) and the embedded Moodle sandbox."""
