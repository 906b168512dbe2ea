"""What a handler gets besides its parameters: the site, who is calling, what they may do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from . import errors
from .store import Site

COURSE_VIEW = "moodle/course:view"
VIEW_HIDDEN_COURSES = "moodle/course:viewhiddencourses"


@dataclass(frozen=True)
class Context:
    """The call's context.

    Attributes:
        site: The sandbox site state.
        userid: The web-service user owning the token.
        functions: The functions of the token's service, in site-info order.
        siteurl: Base URL used in rendered links (``http://host:port``).
        privatekey: The ``userprivateaccesskey`` of the token (never logged).
        capabilities: What the token's user holds (its role, system context).
    """

    site: Site
    userid: int
    functions: tuple[str, ...]
    siteurl: str
    privatekey: str = ""
    capabilities: frozenset[str] = field(default_factory=frozenset)

    def can(self, capability: str) -> bool:
        """``has_capability``: the token's role holds it."""
        return capability in self.capabilities

    def require(self, capability: str, *, also: Iterable[str] = (), named: str = "") -> None:
        """``require_capability`` (or ``has_any_capability`` of it and ``also``).

        Raises:
            MoodleError: ``nopermissions`` naming ``named`` (default: the capability).
        """
        if not self.can(capability) and not any(self.can(other) for other in also):
            raise errors.missing_capability(named or capability)

    def enter_course(self, courseid: int, *, wrapped: bool = False) -> None:
        """``validate_context`` of a course: the WS user is enrolled nowhere, so entering a
        course needs ``moodle/course:view`` (``require_login``, ``is_viewing``), and a
        hidden course ``moodle/course:viewhiddencourses`` too (lib/moodlelib.php:2470-2474
        of Moodle 4.5: ``require_login_exception('Course is hidden')``, whose body without
        debugging is the same "Course or activity not accessible.").

        Raises:
            MoodleError: ``requireloginerror``, or ``errorcoursecontextnotvalid`` where the
                function wraps the failure (``wrapped``) like enrolled users and groups do.
        """
        course = self.site.courses.get(courseid)
        if course is not None and (not self.can(COURSE_VIEW) or (
                not course.visible and not self.can(VIEW_HIDDEN_COURSES))):
            raise (errors.course_context_not_valid(courseid, errors.NOT_ACCESSIBLE) if wrapped
                   else errors.require_login())
