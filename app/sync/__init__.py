"""Pull stage: reads Moodle into the database.

Owns the diagnostic's structure (course, quiz, competencies, mappings, Moodle offers), the
teachers in scope, their finished attempts with per-competency marks, course completions
(and the route items they complete), Moodle's own competency ratings, and ``check-moodle``.
Full and incremental runs; per-teacher calls through a bounded pool.
"""
