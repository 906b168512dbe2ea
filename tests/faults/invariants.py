"""What Moodle must hold after a run under faults and its rerun: every approved item exactly
once, no message or rating twice, no enrolment someone else made changed.

The sandbox's ``/_sandbox/contents`` is reduced to comparable values (no ids or times that
differ between runs) and compared with what a fault-free push left.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.common.outbox import MessageRecord, RatingRecord, record_of
from app.extensions import db
from app.models import OutboxMessage
from app.push.outbox import SENDING, UNCERTAIN

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Contents:
    """Moodle's state as a push leaves it, by natural keys."""

    enrolments: dict[Key, Key]
    cohorts: Counter[Key]
    groups: Counter[Key]
    events: Counter[Key]
    plans: Counter[Key]
    evidence: Counter[Key]
    messages: Counter[Key]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Contents:
        """Reduce the sandbox's ``/_sandbox/contents`` answer."""
        idnumber = {g["id"]: g["idnumber"] for g in raw["groups"]}
        return cls(
            enrolments={(e["userid"], e["courseid"]): (e["roleid"], e["timestart"],
                                                       e["timeend"], e["status"])
                        for e in raw["enrolments"]},
            cohorts=Counter((c["idnumber"], m) for c in raw["cohorts"] for m in c["members"]),
            groups=Counter((g["courseid"], g["idnumber"], m)
                           for g in raw["groups"] for m in g["members"]),
            events=Counter((e["name"], e["courseid"], idnumber.get(e["groupid"], ""),
                            e["timestart"], e["timeduration"]) for e in raw["events"]),
            plans=Counter((p["userid"], p["name"], tuple(p["competencies"]))
                          for p in raw["plans"]),
            evidence=Counter((*e["user_competency"], e["grade"], e["note"])
                             for e in raw["evidence"] if e["user_competency"]),
            messages=Counter((m["touserid"], m["text"]) for m in raw["messages"]))


@dataclass
class Verdict:
    """What a run lost and doubled, per kind of item, and what it left for a person."""

    lost: Counter[str] = field(default_factory=Counter)
    doubled: Counter[str] = field(default_factory=Counter)
    uncertain: int = 0  # sends whose answer was lost: never repeated, left for a person
    foreign_changed: list[Key] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing doubled, no foreign enrolment changed."""
        return not (sum(self.lost.values()) or sum(self.doubled.values())
                    or self.foreign_changed)

    def explain(self) -> str:
        """One line for an assertion message."""
        return (f"lost {dict(self.lost)}, doubled {dict(self.doubled)}, foreign enrolments "
                f"changed {self.foreign_changed}, uncertain {self.uncertain}")


def _compare(kind: str, got: Counter[Key], want: Counter[Key], verdict: Verdict,
             excused: Counter[Key] | None = None) -> None:
    missing = want - got
    if excused is not None:
        missing -= excused
    verdict.lost[kind] += sum(missing.values())
    verdict.doubled[kind] += sum((got - want).values())


def _uncertain_sends() -> tuple[Counter[Key], Counter[Key]]:
    """Messages and ratings whose send may or may not have happened (left for a person)."""
    messages: Counter[Key] = Counter()
    ratings: Counter[Key] = Counter()
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.status.in_((UNCERTAIN, SENDING)))):
        if row.kind == "message":
            message = record_of(row, MessageRecord)
            messages[(message.user_id, message.text)] += 1
        elif row.kind == "rating":
            rating = record_of(row, RatingRecord)
            ratings[(rating.user_id, rating.competency_id, rating.grade, rating.note)] += 1
    return messages, ratings


def check(got: Contents, want: Contents, foreign: dict[Key, Key]) -> Verdict:
    """Compare Moodle after a run and its rerun with Moodle after a fault-free push.

    A message or rating missing from Moodle is excused only when its outbox row says its
    send is uncertain (the answer was lost: it is never re-sent, a person resolves it).

    Args:
        got: Moodle now.
        want: Moodle after a fault-free push from the same start.
        foreign: The enrolments someone else made, as they were before any push.
    """
    verdict = Verdict()
    wanted_enrolments = Counter(want.enrolments.items())
    _compare("enrolments", Counter(got.enrolments.items()), wanted_enrolments, verdict)
    for kind in ("cohorts", "groups", "events", "plans"):
        _compare(kind, getattr(got, kind), getattr(want, kind), verdict)
    messages, ratings = _uncertain_sends()
    excused_messages = messages & (want.messages - got.messages)
    excused_ratings = ratings & (want.evidence - got.evidence)
    verdict.uncertain = sum(messages.values()) + sum(ratings.values())
    _compare("messages", got.messages, want.messages, verdict, excused_messages)
    _compare("ratings", got.evidence, want.evidence, verdict, excused_ratings)
    verdict.foreign_changed = sorted(k for k, v in foreign.items()
                                     if got.enrolments.get(k) != v)
    return verdict
