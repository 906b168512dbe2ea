"""xAPI both ways, on the app's side.

Owns ProfRoute's own statement endpoint (validation with Ralph's models, storage, voiding,
queries) and its site credentials, the pull of Moodle's statements from an LRS into domain
events, and the emission of the route lifecycle as statements through the outbox. The LRS
client and the statement builders live in the top-level ``xapi`` package.
"""
