"""Individual routes (ИОМ): deficits become proposed route items, then approved, cancelled.

Owns the matching run (``courses.matching`` on the stored deficits and offers) and the
review of its items. Moodle is not called here: the push stage sends what was approved.
"""
