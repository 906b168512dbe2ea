"""Map a quiz attempt's grade items or slots to competencies and turn them into marks."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from deficits.records import Mark, QuizAttempt, UnmappedSource

KIND_GRADE_ITEM = "grade_item"
KIND_SLOT = "slot"

# Punctuation tolerated right after the idnumber token: "PK-01: Предметные знания".
_TRAILING_PUNCTUATION = ".:;,"


class _Index:
    """Case-insensitive lookup of known competency idnumbers (exact spelling wins)."""

    def __init__(self, known: Collection[str]) -> None:
        self._exact = set(known)
        self._folded: dict[str, str] = {}
        for idnumber in sorted(known):
            self._folded.setdefault(idnumber.casefold(), idnumber)

    def canonical(self, idnumber: str) -> str | None:
        """Return the known idnumber spelled like ``idnumber`` (any case), else None."""
        text = idnumber.strip()
        if text in self._exact:
            return text
        return self._folded.get(text.casefold())


def _item_competency(name: str, index: _Index, explicit: Mapping[str, str] | None) -> str | None:
    """Resolve one grade item name with a prepared index (see competency_of_item)."""
    if explicit:
        target = explicit.get(name, explicit.get(name.strip()))
        if target is not None:
            return index.canonical(target)
    tokens = name.split()
    if not tokens:
        return None
    return index.canonical(tokens[0].rstrip(_TRAILING_PUNCTUATION))


def competency_of_item(
    name: str, known: Collection[str], explicit: Mapping[str, str] | None = None
) -> str | None:
    """Return the competency idnumber a quiz grade item stands for.

    An explicit mapping (item name → idnumber) wins; otherwise the first whitespace token of
    the name (trailing ``.:;,`` ignored) is matched case-insensitively against ``known``.
    Either way the result is the canonical spelling from ``known``; an explicit target that
    is not a known idnumber maps to nothing, so it is reported rather than scored.

    Args:
        name: The grade item's name, e.g. ``"PK-01 Предметные знания"``.
        known: Idnumbers of the framework's competencies.
        explicit: Optional item name → competency idnumber table from the methodologist.

    Returns:
        The canonical idnumber, or None when the item maps to no known competency.
    """
    return _item_competency(name, _Index(known), explicit)


def _attempt_mark(attempt: QuizAttempt, competency: str, grade: float, maxgrade: float,
                  questions: float) -> Mark:
    """Build one Mark of ``attempt`` for ``competency``."""
    return Mark(
        user_id=attempt.user_id,
        competency=competency,
        attempt_id=attempt.attempt_id,
        attempt_no=attempt.attempt_no,
        sumgrades=float(attempt.sumgrades or 0.0),
        grade=grade,
        maxgrade=maxgrade,
        questions=questions,
        time_finish=attempt.time_finish,
    )


def _unmapped(attempt: QuizAttempt, kind: str, key: str) -> UnmappedSource:
    return UnmappedSource(quiz_id=attempt.quiz_id, kind=kind, key=key, users=(attempt.user_id,))


def _item_marks(
    attempt: QuizAttempt, index: _Index, item_map: Mapping[str, str] | None
) -> tuple[list[Mark], list[UnmappedSource]]:
    """Marks from grade items: an item's maximum in marks stands for its questions."""
    totals: dict[str, list[float]] = {}
    unmapped: list[UnmappedSource] = []
    for item in attempt.item_marks:
        competency = _item_competency(item.name, index, item_map)
        if competency is None:
            unmapped.append(_unmapped(attempt, KIND_GRADE_ITEM, item.name))
            continue
        total = totals.setdefault(competency, [0.0, 0.0])
        total[0] += item.grade
        total[1] += item.maxgrade
    marks = [_attempt_mark(attempt, c, g, m, m) for c, (g, m) in sorted(totals.items())]
    return marks, unmapped


def _slot_marks(
    attempt: QuizAttempt, index: _Index, slot_map: Mapping[int, str] | None
) -> tuple[list[Mark], list[UnmappedSource]]:
    """Marks from slots: one per competency; ungraded slots (mark None) are not evidence."""
    totals: dict[str, list[float]] = {}
    unmapped: list[UnmappedSource] = []
    for slot in attempt.slot_marks:
        target = (slot_map or {}).get(slot.slot)
        competency = index.canonical(target) if target is not None else None
        if competency is None:
            unmapped.append(_unmapped(attempt, KIND_SLOT, str(slot.slot)))
            continue
        total = totals.setdefault(competency, [0.0, 0.0, 0.0])
        if slot.mark is not None:
            total[0] += slot.mark
            total[1] += slot.maxmark
            total[2] += 1.0
    marks = [_attempt_mark(attempt, c, g, m, q) for c, (g, m, q) in sorted(totals.items())]
    return marks, unmapped


def marks_from_attempt(
    attempt: QuizAttempt,
    *,
    known: Collection[str],
    item_map: Mapping[str, str] | None,
    slot_map: Mapping[int, str] | None,
) -> tuple[list[Mark], list[UnmappedSource]]:
    """Turn one attempt into per-competency marks and the sources that map to nothing.

    A non-scorable attempt (in progress, or without ``sumgrades``) gives nothing. Grade
    items are preferred; when the attempt has none, slots are mapped with ``slot_map``
    (one Mark per competency summing its graded slots, ``questions`` = graded slots; a
    competency whose slots are all ungraded gets a Mark with 0 questions). Unmapped items
    or slots are returned as UnmappedSource and never folded into another competency.

    Args:
        attempt: The quiz attempt.
        known: Idnumbers of the framework's competencies.
        item_map: Optional explicit grade item name → competency idnumber.
        slot_map: Optional slot number → competency idnumber.

    Returns:
        Marks sorted by competency, and unmapped sources in the attempt's order.
    """
    if not attempt.is_scorable:
        return [], []
    index = _Index(known)
    if attempt.item_marks:
        return _item_marks(attempt, index, item_map)
    return _slot_marks(attempt, index, slot_map)


def merge_unmapped(sources: Iterable[UnmappedSource]) -> list[UnmappedSource]:
    """Merge unmapped sources of many attempts: one per (quiz, kind, key) with all users.

    Args:
        sources: Unmapped sources, e.g. from many ``marks_from_attempt`` calls.

    Returns:
        One source per (quiz_id, kind, key), users sorted and unique, sorted by that key.
    """
    users: dict[tuple[int, str, str], set[int]] = {}
    for source in sources:
        users.setdefault((source.quiz_id, source.kind, source.key), set()).update(source.users)
    return [
        UnmappedSource(quiz_id=q, kind=k, key=key, users=tuple(sorted(u)))
        for (q, k, key), u in sorted(users.items())
    ]


def competency_of_question(category_idnumber: str, idnumber: str, tags: Collection[str],
                           known: Collection[str]) -> tuple[str | None, str]:
    """Which competency a quiz slot's question measures, and by which evidence.

    In order: the question category's idnumber, the first ``-``-separated tokens of the
    question's idnumber (``PK-01-Q1`` → ``PK-01``), a tag. Sources that disagree are a
    conflict: ``(None, "conflict: …")``, never a guess. Nothing found: ``(None, "none")``.
    """
    folded = {k.casefold(): k for k in known}
    found: dict[str, str] = {}
    if category_idnumber.casefold() in folded:
        found["category"] = folded[category_idnumber.casefold()]
    parts = idnumber.split("-")
    for end in range(len(parts), 0, -1):
        prefix = "-".join(parts[:end]).casefold()
        if prefix in folded:
            found["idnumber"] = folded[prefix]
            break
    tagged = {folded[t.casefold()] for t in tags if t.casefold() in folded}
    if len(tagged) == 1:
        found["tag"] = tagged.pop()
    elif tagged:
        return None, f"conflict: tags name {', '.join(sorted(tagged))}"
    values = set(found.values())
    if len(values) > 1:
        return None, "conflict: " + ", ".join(f"{k} {v}" for k, v in sorted(found.items()))
    if not values:
        return None, "none"
    return values.pop(), "+".join(sorted(found))
