"""xAPI vocabulary: verbs, activity types and extensions ProfRoute reads and writes."""

from __future__ import annotations

# ADL and other registry verbs.
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
VERB_REGISTERED = "http://adlnet.gov/expapi/verbs/registered"
VERB_ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
VERB_APPROVED = "http://activitystrea.ms/schema/1.0/approve"
VERB_VIEWED = "http://id.tincanapi.com/verb/viewed"

# Verbs Moodle's xAPI log store (xAPI-vle/moodle-logstore_xapi) emits beyond the ADL ones.
VERB_UNCOMPLETED = "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/uncompleted"
VERB_ENROLLED = "https://xapi.edlm/profiles/edlm-lms/concepts/verbs/enrolled"
VERB_LEFT = "http://activitystrea.ms/leave"
VERB_SUSPENDED = "https://w3id.org/xapi/tla/verbs/suspended"
VERB_RESUMED = "https://w3id.org/xapi/tla/verbs/resumed"
VERB_EDITED = "https://w3id.org/xapi/acrossx/verbs/edited"
VERB_STARTED = "http://activitystrea.ms/schema/1.0/start"
VERB_RECEIVED = "http://activitystrea.ms/schema/1.0/receive"
VERB_SCORED = "https://w3id.org/xapi/tla/verbs/scored"

# Activity types.
TYPE_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"
TYPE_ATTEMPT = "http://adlnet.gov/expapi/activities/attempt"
TYPE_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
TYPE_INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
TYPE_OBJECTIVE = "http://adlnet.gov/expapi/activities/objective"
TYPE_LMS = "http://id.tincanapi.com/activitytype/lms"

# The log store's context extension carrying the Moodle event name.
EXT_MOODLE_INFO = "http://lrs.learninglocker.net/define/extensions/info"

# ProfRoute's own IRIs.
PROFROUTE_BASE = "https://profroute.ru/xapi/"
PROFROUTE_ACTIVITY = PROFROUTE_BASE.rstrip("/")
VERB_PROPOSED = PROFROUTE_BASE + "verbs/proposed"
VERB_CLOSED = PROFROUTE_BASE + "verbs/closed"
# Route item steps a person or the final diagnostic decides (app.routes.review).
VERB_REJECTED = PROFROUTE_BASE + "verbs/rejected"
VERB_DECLINED = PROFROUTE_BASE + "verbs/declined"
VERB_CANCELLED = PROFROUTE_BASE + "verbs/cancelled"
VERB_VERIFIED = PROFROUTE_BASE + "verbs/verified"
VERB_REPLANNED = PROFROUTE_BASE + "verbs/replanned"
TYPE_PD_COURSE = PROFROUTE_BASE + "activity-types/pd-course"
TYPE_INTERNSHIP = PROFROUTE_BASE + "activity-types/internship"
TYPE_MENTORING = PROFROUTE_BASE + "activity-types/mentoring"
TYPE_SYSTEM = PROFROUTE_BASE + "activity-types/system"
TYPE_BY_OFFER_KIND = {
    "course": TYPE_PD_COURSE,
    "internship": TYPE_INTERNSHIP,
    "mentoring": TYPE_MENTORING,
}
EXT_COMPETENCIES = PROFROUTE_BASE + "extensions/competencies"
EXT_OFFER_KIND = PROFROUTE_BASE + "extensions/offer-kind"
EXT_OFFER_KEY = PROFROUTE_BASE + "extensions/offer-key"

VERB_DISPLAY = {
    VERB_PROPOSED: "proposed",
    VERB_APPROVED: "approved",
    VERB_REGISTERED: "registered",
    VERB_ATTENDED: "attended",
    VERB_COMPLETED: "completed",
    VERB_CLOSED: "closed",
    VERB_REJECTED: "rejected",
    VERB_DECLINED: "declined",
    VERB_CANCELLED: "cancelled",
    VERB_VERIFIED: "verified",
    VERB_REPLANNED: "re-planned",
}
