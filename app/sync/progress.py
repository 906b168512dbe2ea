"""Follows progress: enrolled route items whose course Moodle reports complete move on."""

from __future__ import annotations

import logging

from sqlalchemy import and_, select

from app.extensions import db
from app.models import CourseCompletion, Offer, Route, RouteItem, Teacher
from app.models.route import COMPLETED, ENROLLED
from app.sync.structure import SyncSummary
from lms_connectors.exceptions import NotEnrolled
from lms_connectors.moodle.api import MoodleAPI

logger = logging.getLogger(__name__)


def complete_route_items(api: MoodleAPI, summary: SyncSummary) -> int:
    """Mark enrolled items completed when their course is complete; return how many.

    A completion seen in the bulk read (the plugin, or the user's course list) is confirmed
    with ``core_completion_get_course_completion_status`` before the item moves: one call
    per item that changes, none for the others.
    """
    rows = db.session.execute(
        select(RouteItem, Teacher.moodle_user_id, Offer.moodle_course_id)
        .join(Route, Route.id == RouteItem.route_id)
        .join(Teacher, Teacher.id == Route.teacher_id)
        .join(Offer, Offer.id == RouteItem.offer_id)
        .join(CourseCompletion, and_(CourseCompletion.teacher_id == Teacher.id,
                                     CourseCompletion.moodle_course_id == Offer.moodle_course_id))
        .where(RouteItem.status == ENROLLED, CourseCompletion.completed.is_(True))).all()
    moved = 0
    for item, user_id, course_id in rows:
        assert course_id is not None  # joined on equality with a completion's course id
        try:
            status = api.course_completion(course_id, user_id)
        except NotEnrolled:
            status = None
        if status is not None and status.completed:
            item.move_to(COMPLETED)
            moved += 1
        else:
            summary.mapping_errors.append(
                f"course {course_id}, user {user_id}: the course list says completed, the "
                "completion status does not; left enrolled")
    db.session.commit()
    return moved
