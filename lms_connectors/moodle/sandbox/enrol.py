"""Handlers for manual enrolment: enrol (creates or updates) and unenrol."""

from __future__ import annotations

import logging
from typing import Any

from . import errors
from .context import Context
from .store import STUDENT_ROLE, Enrolment

logger = logging.getLogger(__name__)


def enrol_users(ctx: Context, params: dict[str, Any]) -> Any:
    """``enrol_manual_enrol_users``: all or nothing, like Moodle's rolled-back transaction.

    Re-enrolling updates the existing enrolment: ``timestart``, ``timeend`` and ``suspend``
    take the values sent, an omitted one means 0 / active.

    Raises:
        MoodleError: ``invalidparameter`` (unknown course), ``wsusercannotassign`` (a role
            other than student), the PHP ``TypeError`` body (unknown user).
    """
    site = ctx.site
    with site.lock:
        for item in params["enrolments"]:
            if item["courseid"] not in site.courses:
                raise errors.invalid_parameter()
            if item["roleid"] != STUDENT_ROLE or not ctx.can("moodle/role:assign"):
                raise errors.cannot_assign_role(item["roleid"], item["userid"], item["courseid"])
            if item["userid"] not in site.users:
                raise errors.enrol_unknown_user()
        for item in params["enrolments"]:
            _apply(ctx, item)
    return None


def _apply(ctx: Context, item: dict[str, Any]) -> None:
    site = ctx.site
    key = (item["userid"], item["courseid"])
    enrolment = site.enrolments.get(key)
    if enrolment is None:
        enrolment = Enrolment(item["userid"], item["courseid"], item["roleid"],
                              timecreated=site.now())
        site.enrolments[key] = enrolment
        logger.info("Sandbox enrolled user %d in course %d", *key)
    enrolment.timestart = item.get("timestart") or 0
    enrolment.timeend = item.get("timeend") or 0
    enrolment.status = 1 if item.get("suspend") else 0


def unenrol_users(ctx: Context, params: dict[str, Any]) -> Any:
    """``enrol_manual_unenrol_users``: a user not enrolled is silently accepted.

    Raises:
        MoodleError: ``wsnoinstance`` (unknown course), ``invalidparameter`` (unknown user).
    """
    site = ctx.site
    with site.lock:
        for item in params["enrolments"]:
            if item["courseid"] not in site.courses:
                raise errors.moodle_exception(
                    "wsnoinstance",
                    "Manual enrolment plugin instance doesn't exist or is disabled for the "
                    f"course (id = {item['courseid']})",
                )
            if item["userid"] not in site.users:
                raise errors.invalid_parameter()
        for item in params["enrolments"]:
            key = (item["userid"], item["courseid"])
            if site.enrolments.pop(key, None) is not None:
                for group in site.groups.values():
                    if group.courseid == item["courseid"]:
                        group.members.discard(item["userid"])
                logger.info("Sandbox unenrolled user %d from course %d", *key)
    return None
