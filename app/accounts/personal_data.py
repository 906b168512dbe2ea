"""Personal-data duties (152-ФЗ): what names a teacher (:class:`Holdings`), and erasure; the
export is ``app.accounts.personal_export``, the retention ``app.accounts.retention``.

Erasure deletes the teacher's row and everything that names them: attempts with their marks,
levels, Moodle's ratings, completions, routes with their items, the outbox rows (not while a
push is sending one: :class:`ErasureRefused`), the xAPI statements about them, and the link
of their LTI login (the login itself is disabled and loses its name when it was a teacher's).
Nothing is pseudonymised and kept: every aggregate (deficit maps, indicators, the risk group)
is computed from these rows when asked, so it stops counting the teacher at once. What stays
is the audit event of the erasure, naming the Moodle user id only, and what Moodle holds.

Outbox payloads and xAPI statements are matched in Python (their JSON is not queried in a way
both SQLite and PostgreSQL share): an export or an erasure reads the outbox once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from app.common import audit
from app.extensions import db
from app.models import (
    Attempt,
    AttemptResult,
    CompetencyRating,
    CourseCompletion,
    Deficit,
    LtiAccount,
    OutboxMessage,
    Route,
    RouteChangeRequest,
    RouteItem,
    RouteItemEvent,
    RouteUnmetNeed,
    RunLog,
    Teacher,
    TeacherGrade,
    TeacherUnavailable,
    UnmappedStatement,
    WebUser,
    XapiStatement,
    XapiStatementLink,
)
from xapi.mapping import normalise_site

logger = logging.getLogger(__name__)
IN_FLIGHT = "sending"  # app.push.outbox.SENDING: sent, Moodle's answer not yet stored
USER_KINDS = ("enrol", "message", "rating", "plan")  # outbox records with a ``user_id``
XAPI_KIND = "xapi"
AGENT_LINKS = ("agent", "related_agent")  # XapiStatementLink kinds naming an agent
ERASED_NAME = "(удалено)"


class ErasureRefused(ValueError):
    """Raised when a teacher cannot be erased now (a push is sending rows naming them)."""


def find_teacher(key: str) -> Teacher:
    """The teacher of a Moodle user id (digits) or a Moodle username.

    :raise ValueError: no such teacher.
    """
    key = key.strip()
    query = select(Teacher).where(Teacher.moodle_user_id == int(key)) if (
        key.isdigit() and len(key) < 19) else select(Teacher).where(Teacher.username == key)
    teacher = db.session.scalars(query).first()
    if teacher is None:
        raise ValueError(f"no teacher with Moodle user id or login {key[:100]!r}; search "
                         "by name on the page /teachers")
    return teacher


@dataclass
class Holdings:
    """The outbox rows and xAPI statements naming each of some teachers (by Moodle id)."""

    site: str
    outbox: dict[int, list[OutboxMessage]] = field(default_factory=dict)
    statements: dict[int, list[XapiStatement]] = field(default_factory=dict)
    unmapped: dict[int, list[UnmappedStatement]] = field(default_factory=dict)

    @classmethod
    def of(cls, moodle_ids: Iterable[int], site_url: str) -> Holdings:
        """Read the outbox, statements and unmapped statements once for ``moodle_ids``.

        ``site_url`` is the Moodle whose accounts are the teachers' (xAPI ``homePage``);
        empty, an account of any site with the user id matches.
        """
        wanted = {str(m): m for m in moodle_ids}
        found = cls(site=normalise_site(site_url) if site_url else "")
        for row in db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.kind.in_((*USER_KINDS, XAPI_KIND)))):
            owner = found._owner_of_row(row, wanted)
            if owner is not None:
                found.outbox.setdefault(owner, []).append(row)
        for statement in db.session.scalars(select(XapiStatement).where(
                XapiStatement.actor_account_name.in_(list(wanted)))):
            owner = found._owner({"account": {"homePage": statement.actor_home_page,
                                              "name": statement.actor_account_name}}, wanted)
            if owner is not None:
                found.statements.setdefault(owner, []).append(statement)
        found._statements_naming(wanted)
        for unmapped in db.session.scalars(select(UnmappedStatement)):
            owner = found._owner((unmapped.statement or {}).get("actor"), wanted)
            if owner is not None:
                found.unmapped.setdefault(owner, []).append(unmapped)
        return found

    def _statements_naming(self, wanted: Mapping[str, int]) -> None:
        """Add the statements whose object or context names a teacher's account."""
        known = {s.id for rows in self.statements.values() for s in rows}
        for mid_text, mid in wanted.items():
            links = db.session.execute(select(XapiStatementLink.statement_id,
                                              XapiStatementLink.key).where(
                XapiStatementLink.kind.in_(AGENT_LINKS),
                XapiStatementLink.key.endswith(f" {mid_text}", autoescape=True))).all()
            for statement_id, key in links:
                home = key.removeprefix("account:").rsplit(" ", 1)[0]
                if statement_id in known or not key.startswith("account:") or (
                        self.site and normalise_site(home) != self.site):
                    continue
                statement = db.session.get(XapiStatement, statement_id)
                if statement is not None:
                    known.add(statement_id)
                    self.statements.setdefault(mid, []).append(statement)

    def _owner_of_row(self, row: OutboxMessage, wanted: Mapping[str, int]) -> int | None:
        payload = row.payload or {}
        if row.kind == XAPI_KIND:
            statement = payload.get("statement")
            return self._owner(statement.get("actor") if isinstance(statement, dict) else None,
                               wanted)
        return wanted.get(str(payload.get("user_id")))

    def _owner(self, agent: object, wanted: Mapping[str, int]) -> int | None:
        account = agent.get("account") if isinstance(agent, dict) else None
        if not isinstance(account, dict):
            return None
        if self.site and normalise_site(str(account.get("homePage") or "")) != self.site:
            return None
        return wanted.get(str(account.get("name")))


@dataclass
class Erasure:
    """What erasing one teacher removed (counts only: the audit event repeats them)."""

    moodle_user_id: int
    removed: dict[str, int] = field(default_factory=dict)
    still_in_moodle: bool = False

    def as_dict(self) -> dict[str, object]:
        """Plain values for the CLI's JSON."""
        return {"moodle_user_id": self.moodle_user_id, "removed": self.removed,
                "still_in_moodle": self.still_in_moodle}


def check_erasable(teacher: Teacher, held: Holdings) -> None:
    """:raise ErasureRefused: a push is sending outbox rows naming the teacher."""
    sending = [r for r in held.outbox.get(teacher.moodle_user_id, []) if r.status == IN_FLIGHT]
    if sending:
        raise ErasureRefused(
            f"teacher {teacher.moodle_user_id}: a push is sending {len(sending)} outbox "
            f"row(s) for them (ids {', '.join(str(r.id) for r in sending[:10])}); wait for "
            "the push to end (or resolve them on /push), then erase again")


def erase_teacher(teacher: Teacher, held: Holdings, *, reason: str = "request") -> Erasure:
    """Delete the teacher and everything naming them, with an audit event; commit.

    :raise ErasureRefused: a push is sending rows for them; nothing is deleted.
    """
    check_erasable(teacher, held)
    mid, tid = teacher.moodle_user_id, teacher.id
    erasure = Erasure(mid, still_in_moodle=bool(teacher.active))
    removed = erasure.removed
    statements = [s.id for s in held.statements.get(mid, [])]
    if statements:
        db.session.execute(delete(XapiStatementLink).where(
            XapiStatementLink.statement_id.in_(statements)))
    removed["xapi_statements"] = _delete_all(held.statements.get(mid, []))
    removed["xapi_unmapped"] = _delete_all(held.unmapped.get(mid, []))
    removed["outbox"] = _delete_all(held.outbox.get(mid, []))
    routes = select(Route.id).where(Route.teacher_id == tid).scalar_subquery()
    items = select(RouteItem.id).where(RouteItem.route_id.in_(routes)).scalar_subquery()
    removed["route_item_events"] = _count(delete(RouteItemEvent).where(
        RouteItemEvent.route_item_id.in_(items)))
    removed["route_change_requests"] = _count(delete(RouteChangeRequest).where(
        RouteChangeRequest.route_item_id.in_(items)))
    removed["route_items"] = _count(delete(RouteItem).where(RouteItem.route_id.in_(routes)))
    removed["routes"] = _count(delete(Route).where(Route.teacher_id == tid))
    attempts = select(Attempt.id).where(Attempt.teacher_id == tid).scalar_subquery()
    removed["attempt_results"] = _count(delete(AttemptResult).where(
        AttemptResult.attempt_id.in_(attempts)))
    for name, model in (("attempts", Attempt), ("levels", Deficit),
                        ("grade_times", TeacherGrade), ("moodle_ratings", CompetencyRating),
                        ("course_completions", CourseCompletion),
                        ("unavailable_dates", TeacherUnavailable),
                        ("unmet_needs", RouteUnmetNeed)):
        removed[name] = _count(delete(model).where(model.teacher_id == tid))
    removed["lti_links"] = _unlink_lti(tid)
    db.session.flush()  # the links go before the row they point to
    removed["run_log_mentions"] = _scrub_run_log(mid)
    db.session.delete(teacher)
    audit.record("teacher.erase", ("teacher", mid),
                 {"reason": reason, "removed": dict(removed),
                  "still_in_moodle": erasure.still_in_moodle})
    db.session.commit()
    logger.info("teacher %s erased (%s)", mid, reason)
    return erasure


def _delete_all(rows: list[Any]) -> int:
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def _count(statement: Any) -> int:
    return int(db.session.execute(statement, execution_options={
        "synchronize_session": False}).rowcount or 0)  # type: ignore[attr-defined]


def _unlink_lti(teacher_id: int) -> int:
    """Unlink the teacher's LTI logins; a teacher's own login is disabled and unnamed."""
    accounts = list(db.session.scalars(select(LtiAccount).filter_by(teacher_id=teacher_id)))
    for account in accounts:
        account.teacher_id = None
        user = db.session.get(WebUser, account.web_user_id)
        if user is not None and account.role == "teacher":
            user.name, user.active = ERASED_NAME, False
            user.session_version += 1
    return len(accounts)


def _scrub_run_log(moodle_user_id: int) -> int:
    """Replace run summaries' lines naming the teacher (``login (id N)``, e.g. teachers
    without a school) by a placeholder; return how many lines."""
    mark, count = f"(id {moodle_user_id})", 0
    for run in db.session.scalars(select(RunLog)):
        summary = dict(run.summary or {})
        changed = False
        for key, value in summary.items():
            if isinstance(value, list) and any(isinstance(v, str) and mark in v for v in value):
                count += sum(1 for v in value if isinstance(v, str) and mark in v)
                summary[key] = [ERASED_NAME if isinstance(v, str) and mark in v else v
                                for v in value]
                changed = True
        if changed:
            run.summary = summary
    return count
