"""Which users of the diagnostic course are scored: role, optional cohort, profile fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.settings import Settings, SettingsError
from deficits import records as rec
from lms_connectors.moodle.api import MoodleAPI


@dataclass(frozen=True)
class TeacherScope:
    """The filter a full sync applies to the course's participants.

    Moodle's web services cannot filter users by cohort or profile field, so the course is
    paged and the filter applied here (ARCHITECTURE §8).
    """

    role: str
    cohort: frozenset[int] | None = None
    category: frozenset[int] | None = None
    fields: dict[str, frozenset[str]] = field(default_factory=dict)

    def admits(self, teacher: rec.Teacher) -> bool:
        """True for a teacher this ProfRoute instance scores."""
        if self.role not in teacher.roles:
            return False
        if self.cohort is not None and teacher.moodle_user_id not in self.cohort:
            return False
        if self.category is not None and teacher.moodle_user_id not in self.category:
            return False
        for attribute, allowed in self.fields.items():
            value = getattr(teacher, attribute)
            values = set(value) if isinstance(value, tuple) else {value}
            if not values & allowed:
                return False
        return True


def teacher_scope(api: MoodleAPI, settings: Settings) -> TeacherScope:
    """The scope from the settings (a cohort read, or the category's courses, when named).

    :raise SettingsError: unknown cohort or empty category, or a filter on a field
        ProfRoute does not read.
    """
    cohort = None
    if settings.teacher_cohort:
        found = api.cohort_by_idnumber(settings.teacher_cohort)
        if found is None:
            raise SettingsError(f"PROFROUTE_TEACHER_COHORT: no cohort with idnumber "
                                f"{settings.teacher_cohort!r} in Moodle (Site administration "
                                "› Users › Cohorts shows their ids)")
        cohort = frozenset(api.cohort_members([found.cohort_id]).get(found.cohort_id, set()))
    return TeacherScope(settings.student_role, cohort, _category_members(api, settings),
                        parse_filter(settings))


def _category_members(api: MoodleAPI, settings: Settings) -> frozenset[int] | None:
    """Users holding the student role in some course of the configured course category."""
    if not settings.teacher_category:
        return None
    courses = api.courses_by_field("category", settings.teacher_category)
    if not courses:
        raise SettingsError(f"PROFROUTE_TEACHER_CATEGORY: no course in category "
                            f"{settings.teacher_category!r} (give the category id)")
    members: set[int] = set()
    for course in courses:
        members.update(t.moodle_user_id for t in api.enrolled_users(
            course.course_id, page_size=settings.page_size) if settings.student_role in t.roles)
    return frozenset(members)


def parse_filter(settings: Settings) -> dict[str, frozenset[str]]:
    """``"municipality=Казань;subject=Математика,Физика"`` → record attribute → values.

    :raise SettingsError: a part without ``=`` or naming a field ProfRoute does not read.
    """
    attributes = {settings.field_school_code: "school_code",
                  settings.field_school_name: "school_name",
                  settings.field_municipality: "municipality",
                  settings.field_subject: "subjects"}
    out: dict[str, frozenset[str]] = {}
    for part in filter(None, (p.strip() for p in settings.teacher_filter.split(";"))):
        name, sep, values = part.partition("=")
        if not sep or name.strip() not in attributes:
            raise SettingsError(
                f"PROFROUTE_TEACHER_FILTER: {part!r} must be <field>=<value>[,<value>] with "
                f"a field among {', '.join(sorted(attributes))}")
        out[attributes[name.strip()]] = frozenset(v.strip() for v in values.split(",") if v)
    return out
