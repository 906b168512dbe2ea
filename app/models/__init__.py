"""SQLAlchemy 2 typed models of ProfRoute; the schema itself comes from Alembic migrations."""

from app.models.access import WebUserMunicipality, WebUserRole
from app.models.assessment import (
    Attempt,
    AttemptResult,
    Competency,
    CompetencyFramework,
    CompetencyRating,
    Deficit,
    Diagnostic,
    DiagnosticMapping,
    PolicyRevision,
    TeacherGrade,
)
from app.models.audit import AuditEvent
from app.models.catalogue import OfferSession, TeacherUnavailable
from app.models.lti import LtiAccount, LtiDeployment, LtiLaunchValue, LtiPlatform, LtiToolKey
from app.models.maps import ChangeCounter, DeficitMapStore
from app.models.memo import TeacherMemo
from app.models.network import (
    Municipality,
    Partnership,
    School,
    SchoolIdentification,
    SchoolResult,
    SchoolStatus,
    Teacher,
)
from app.models.ops import OutboxMessage, RunLog, SyncCursor, UnmappedStatement
from app.models.route import CourseCompletion, Offer, OfferCompetency, Route, RouteItem
from app.models.route_review import RouteChangeRequest, RouteItemEvent, RouteUnmetNeed
from app.models.schedule import JobLock, Schedule
from app.models.web import RateLimitCounter, WebUser
from app.models.xapi import (
    LrsCredential,
    XapiAttachment,
    XapiPulledStatement,
    XapiStatement,
    XapiStatementLink,
)

__all__ = [
    "Attempt", "AttemptResult", "Competency", "CompetencyFramework", "CourseCompletion",
    "Deficit", "Diagnostic", "DiagnosticMapping", "Municipality", "Offer", "OfferCompetency",
    "OutboxMessage", "Partnership", "Route", "RouteItem", "RunLog", "School", "SyncCursor",
    "UnmappedStatement",
    "Teacher", "TeacherGrade", "SchoolResult", "SchoolIdentification",
    "LrsCredential", "XapiStatement", "XapiStatementLink", "XapiPulledStatement",
    "XapiAttachment",
    "CompetencyRating", "PolicyRevision",
    "SchoolStatus",
    "WebUser",
    "LtiAccount", "LtiDeployment", "LtiLaunchValue", "LtiPlatform", "LtiToolKey",
    "RateLimitCounter",
    "WebUserRole", "WebUserMunicipality",
    "TeacherMemo",
    "ChangeCounter", "DeficitMapStore",
    "AuditEvent",
    "Schedule", "JobLock",
    "OfferSession", "TeacherUnavailable",
    "RouteItemEvent", "RouteChangeRequest", "RouteUnmetNeed",
]
