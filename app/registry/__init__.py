"""ProfRoute's own data about the school network, imported from files.

Owns the catalogue (schools and their flags, partnerships, offers), national assessment
results, the identification of low-results schools and resource-centre candidates, and the
dated history of school statuses.
"""
