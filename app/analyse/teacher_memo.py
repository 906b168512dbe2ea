"""Per-teacher results the teacher page shows, computed once per change of their inputs.

The risk-group reason of a teacher depends only on the competencies where the teacher has a
deficit, each competency's group and the policy's rule and group labels; the entry → final
change only on the teacher's levels in the two diagnostics. Each result is stored in
``teacher_memo`` with the digest of exactly those inputs: the deficits stage stores them for
every teacher it scores (whole population, once per run), and a page whose inputs changed
since (a policy revision, a group moved, levels replaced or erased) computes that one teacher
again and replaces the row. A view therefore reads a few rows, never the whole population,
and never shows a result of other inputs than those it reads. All workers share the rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from app.analyse.policy import effective_document
from app.analyse.revisions import policy_from_document
from app.analyse.risk_rule import rule_of
from app.common.marker import kept
from app.extensions import db
from app.models import Competency, Deficit, Diagnostic, TeacherMemo
from app.settings import Settings
from deficits.change import deficit_changes
from deficits.levels import LEVEL_DEFICIT
from deficits.risk import RiskRule, risk_group

logger = logging.getLogger(__name__)

RISK = "risk"
CHANGES = "changes"
LEVEL_COLUMNS = ["user_id", "competency", "score", "level", "questions"]


def digest_of(*parts: object) -> str:
    """SHA-256 of the parts as canonical JSON (sorted keys)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


Stored = dict[tuple[str, int], tuple[str, dict[str, Any]]]


_memo_t = TeacherMemo.__table__
STORED_FOR = select(_memo_t.c.kind, _memo_t.c.diagnostic_id, _memo_t.c.digest,
                    _memo_t.c.value).where(_memo_t.c.teacher_id == bindparam("teacher_id"))


def stored_for(teacher_id: int, connection: Connection | None = None) -> Stored:
    """Every stored result of the teacher, (kind, diagnostic id) → (digest, value): one
    query for all that a page shows (built once, plain rows; ``connection``: the session's,
    when the caller has it already)."""
    rows = (connection or db.session.connection()).execute(STORED_FOR,
                                                           {"teacher_id": teacher_id})
    return {(kind, int(diagnostic)): (digest, dict(value))
            for kind, diagnostic, digest, value in rows}


def recall(kind: str, diagnostic_id: int, teacher_id: int, digest: str,
           stored: Stored | None = None) -> dict[str, Any] | None:
    """The stored result when it was computed from inputs of this digest, else None
    (``stored``: the teacher's results read before, else they are read now)."""
    found = (stored if stored is not None else stored_for(teacher_id)).get((kind, diagnostic_id))
    return found[1] if found is not None and found[0] == digest else None


def remember(kind: str, diagnostic_id: int, teacher_id: int, digest: str,
             value: Mapping[str, Any]) -> None:
    """Store (or replace) one result and commit; two workers storing the same row at once
    both succeed (an upsert). A result that cannot be stored (a busy SQLite file) is logged
    and computed again next time: the page that computed it still shows it."""
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(TeacherMemo).values(kind=kind, diagnostic_id=diagnostic_id,
                                           teacher_id=teacher_id, digest=digest,
                                           value=dict(value))
    try:
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["kind", "diagnostic_id", "teacher_id"],
            set_={"digest": statement.excluded.digest, "value": statement.excluded.value,
                  "computed_at": statement.excluded.computed_at}))
        db.session.commit()
    except OperationalError as err:
        db.session.rollback()
        logger.warning("teacher %s: %s of diagnostic %s not stored: %s", teacher_id, kind,
                       diagnostic_id, err)


def replace_all(kind: str, diagnostic_id: int, rows: Iterable[tuple[int, str, dict[str, Any]]]
                ) -> None:
    """Replace every stored result of ``kind`` for the diagnostic (no commit)."""
    db.session.execute(delete(TeacherMemo).where(TeacherMemo.kind == kind,
                                                 TeacherMemo.diagnostic_id == diagnostic_id))
    values = [{"kind": kind, "diagnostic_id": diagnostic_id, "teacher_id": teacher,
               "digest": digest, "value": value} for teacher, digest, value in rows]
    if values:
        db.session.execute(TeacherMemo.__table__.insert(), values)


@dataclass(frozen=True)
class RiskInputs:
    """What the risk group depends on besides a teacher's deficits: the rule, the groups'
    labels and every competency's group, as the policy in force gives them."""

    rule: RiskRule
    labels: dict[str, str]
    groups: dict[str, str]  # competency idnumber → group ("" without one)

    def digest(self, deficits: Iterable[str]) -> str:
        """The digest of these inputs and a teacher's deficit competencies."""
        return digest_of(self.rule.min_groups_with_deficit, list(self.rule.groups_always),
                         self.labels, self.groups, sorted(set(deficits)))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.groups.items()), columns=["competency", "group"])


def risk_inputs(settings: Settings) -> RiskInputs:
    """The risk group's inputs from the policy in force (as ``app.reports.analytics.risk``
    reads them: the newest revision, else the thresholds file, else the settings).

    :raise SettingsError: the revision or the file breaks a rule, or is unreadable.
    """
    doc = effective_document(settings)
    overrides = doc["competency_groups"]
    groups = {str(code): str(overrides.get(code, group or "")) for code, group
              in db.session.execute(select(Competency.idnumber, Competency.group))}
    return RiskInputs(rule_of(doc["risk"]), dict(policy_from_document(doc).labels), groups)


def kept_risk_inputs(settings: Settings, version: Hashable) -> RiskInputs:
    """:func:`risk_inputs`, read again only when the change marker (``version``, read before)
    or the thresholds file (its modification time and size) changed since this process read
    them last.

    :raise SettingsError: as :func:`risk_inputs`.
    """
    return kept("risk_inputs", version, lambda: risk_inputs(settings),
                _file_stamp(settings.thresholds_file))


def _file_stamp(path: str | None) -> Hashable:
    if not path:
        return None
    try:
        found = os.stat(path)
    except OSError:
        return "missing"
    return (found.st_mtime_ns, found.st_size, found.st_ino)


def teacher_risk(diagnostic_id: int, teacher_id: int, levels: Iterable[tuple[str, str]],
                 inputs: RiskInputs, stored: Stored | None = None) -> str | None:
    """The reason the teacher is in the risk group of the diagnostic, or None.

    Args:
        levels: The teacher's stored (competency idnumber, level) pairs in the diagnostic.
        stored: The teacher's stored results (``stored_for``), when already read.
    """
    deficits = sorted({str(code) for code, level in levels if level == LEVEL_DEFICIT})
    digest = inputs.digest(deficits)
    found = recall(RISK, diagnostic_id, teacher_id, digest, stored)
    if found is not None:
        return found["reason"]  # type: ignore[no-any-return]
    frame = pd.DataFrame([(teacher_id, code, LEVEL_DEFICIT) for code in deficits],
                         columns=["user_id", "competency", "level"])
    reason = _reasons(frame, inputs).get(teacher_id)
    remember(RISK, diagnostic_id, teacher_id, digest, {"reason": reason})
    return reason


def store_teacher_memos(diagnostic_id: int, levels: pd.DataFrame, settings: Settings) -> None:
    """After the deficits stage stored the diagnostic's ``levels``: store every teacher's
    risk-group reason, and the entry → final change when the diagnostic is one of the
    latest pair; commit."""
    store_risk_group(diagnostic_id, levels, risk_inputs(settings))
    pair = latest_pair()
    if pair is not None and diagnostic_id in pair:
        store_changes(*pair)
    db.session.commit()


def store_risk_group(diagnostic_id: int, levels: pd.DataFrame, inputs: RiskInputs) -> int:
    """Store the risk-group reason of every teacher of ``levels`` (user_id, competency,
    level: the diagnostic's levels just stored), replacing the diagnostic's stored ones;
    no commit. Returns how many are in the risk group."""
    reasons = _reasons(levels, inputs)
    deficits = levels.loc[levels["level"] == LEVEL_DEFICIT]
    per_user = deficits.groupby("user_id")["competency"].agg(list).to_dict()
    replace_all(RISK, diagnostic_id, (
        (int(user), inputs.digest(str(c) for c in per_user.get(user, [])),
         {"reason": reasons.get(int(user))})
        for user in levels["user_id"].unique().tolist()))
    return len(reasons)


def _reasons(levels: pd.DataFrame, inputs: RiskInputs) -> dict[int, str]:
    """Teacher id → reason, for the teachers of ``levels`` in the risk group."""
    if levels.empty:
        return {}
    found = risk_group(levels, inputs.frame(), inputs.rule, labels=inputs.labels)
    found = found[found["in_risk_group"]]
    return {int(u): str(r) for u, r in zip(found["user_id"], found["reason"], strict=True)}


def teacher_change(entry_id: int, final_id: int, teacher_id: int,
                   stored: Stored | None = None,
                   levels: Sequence[tuple[int, str, Any, str, Any]] | None = None
                   ) -> dict[str, dict[str, object]]:
    """One teacher's entry → final change per competency, keyed by idnumber (the rows of
    ``deficits.change.deficit_changes``); ``stored`` as for ``teacher_risk``.

    Args:
        levels: The teacher's stored (diagnostic id, competency idnumber, score, level,
            questions) in both diagnostics (others are left out), when already read.
    """
    rows = levels if levels is not None else db.session.execute(
        select(Deficit.diagnostic_id, Competency.idnumber, Deficit.score, Deficit.level,
               Deficit.questions)
        .join(Competency, Competency.id == Deficit.competency_id)
        .where(Deficit.teacher_id == teacher_id,
               Deficit.diagnostic_id.in_((entry_id, final_id)))).all()
    rows = [row for row in rows if row[0] in (entry_id, final_id)]
    inputs = sorted((int(d), str(c), s, str(lv), float(q)) for d, c, s, lv, q in rows)
    digest = digest_of(entry_id, final_id, inputs)
    found = recall(CHANGES, final_id, teacher_id, digest, stored)
    if found is not None:
        return found
    entry, final = ([(teacher_id, c, s, lv, q) for d, c, s, lv, q in inputs if d == which]
                    for which in (entry_id, final_id))
    result = change_rows(deficit_changes(pd.DataFrame(entry, columns=LEVEL_COLUMNS),
                                         pd.DataFrame(final, columns=LEVEL_COLUMNS)))
    remember(CHANGES, final_id, teacher_id, digest, result)
    return result


def diagnostic_ids() -> tuple[int | None, tuple[int, int] | None]:
    """In one query: the latest diagnostic's id (the one pages show), and the latest entry
    and final pair (:func:`latest_pair`)."""
    kind = Diagnostic.kind
    latest, entry, final = db.session.execute(select(
        func.max(Diagnostic.id), func.max(Diagnostic.id).filter(kind == "entry"),
        func.max(Diagnostic.id).filter(kind == "final"))).one()
    pair = (int(entry), int(final)) if entry is not None and final is not None else None
    return (int(latest) if latest is not None else None), pair


def latest_pair() -> tuple[int, int] | None:
    """The ids of the latest entry and the latest final diagnostic (the pair the teacher
    page compares), or None without both."""
    latest = dict(db.session.execute(
        select(Diagnostic.kind, func.max(Diagnostic.id))
        .where(Diagnostic.kind.in_(("entry", "final"))).group_by(Diagnostic.kind)).all())
    entry, final = latest.get("entry"), latest.get("final")
    return (int(entry), int(final)) if entry is not None and final is not None else None


def store_changes(entry_id: int, final_id: int) -> None:
    """Store every teacher's entry → final change from the stored levels of both
    diagnostics, replacing the stored ones of the final diagnostic; no commit."""
    per_teacher: dict[int, list[tuple[int, str, Any, str, float]]] = {}
    for d, teacher, c, s, lv, q in db.session.execute(
            select(Deficit.diagnostic_id, Deficit.teacher_id, Competency.idnumber,
                   Deficit.score, Deficit.level, Deficit.questions)
            .join(Competency, Competency.id == Deficit.competency_id)
            .where(Deficit.diagnostic_id.in_((entry_id, final_id)))):
        per_teacher.setdefault(int(teacher), []).append((int(d), str(c), s, str(lv), float(q)))
    frames = {which: pd.DataFrame(
        [(t, c, s, lv, q) for t, rows in per_teacher.items() for d, c, s, lv, q in rows
         if d == which], columns=LEVEL_COLUMNS) for which in (entry_id, final_id)}
    changes = deficit_changes(frames[entry_id], frames[final_id])
    found: dict[int, dict[str, dict[str, object]]] = {}
    for row in records(changes):
        found.setdefault(int(str(row["user_id"])), {})[str(row["competency"])] = row
    replace_all(CHANGES, final_id, (
        (teacher, digest_of(entry_id, final_id, sorted(rows)), found.get(teacher, {}))
        for teacher, rows in per_teacher.items()))


def change_rows(changes: pd.DataFrame) -> dict[str, dict[str, object]]:
    """``deficit_changes`` rows as plain values keyed by competency (NaN as None)."""
    return {str(row["competency"]): row for row in records(changes)}


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """A frame's rows as plain Python values (NaN as None, numpy scalars unwrapped)."""
    plain = frame.astype(object)  # numpy scalars become Python ones
    return plain.where(plain.notna(), None).to_dict(orient="records")  # type: ignore[return-value]

