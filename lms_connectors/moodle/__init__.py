"""Moodle REST web-service client, its Moodle sandbox and the Moodle-side plugin."""
