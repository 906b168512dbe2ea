"""Analyse stage: stored attempts become stored deficit levels.

Owns the scoring policy (thresholds per framework and group, attempt policy, minimum
evidence, the risk-group rule) with its revisions and TOML text, the question → competency
map imports, and the scoring runs (``levels``: one diagnostic, or every stored one again).
"""
