"""Offer effectiveness from the stored rows (issue 14): what closes deficits, for whom.

The period and the exposures are ``app.analyse.outcomes``'s; the numbers come from
``deficits.effectiveness`` over the teachers in the caller's scope.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from sqlalchemy import select

from app.accounts.roles import Scope
from app.analyse.outcomes import evidence_period, levels_frame
from app.analyse.outcomes import exposures as outcome_exposures
from app.extensions import db
from app.i18n import N_
from app.models import Competency, Diagnostic
from app.reports.xlsx import table_workbook
from deficits.change import deficit_changes
from deficits.effectiveness import MIN_PAIRS, offer_effectiveness

# What a group is made of: ?by= → the exposures' column beside the competency.
GROUPS = {"offer": "offer_key", "kind": "kind", "provider": "provider", "centre": "centre"}
# Labels in Russian (the XLSX keeps them; the page translates them where it shows them)
KIND_RU = {"course": N_("КПК (Moodle)"), "external": N_("КПК (внешний)"),
           "internship": N_("Стажировка"), "mentoring": N_("Наставничество"),
           "event": N_("Методическое мероприятие")}


@dataclass(frozen=True)
class Share:
    """Closed deficits of ``pairs``: the share and its 95 % Wilson interval, None when there
    are fewer than the report's minimum pairs."""

    pairs: int
    closed: int
    share: float | None
    low: float | None
    high: float | None
    mean_rise: float | None


@dataclass(frozen=True)
class EffectRow:
    """One group (an offer, kind, provider or centre) and competency."""

    group: str
    label: str
    competency: str
    competency_name: str
    completed: Share
    others: Share  # teachers with that deficit and no offer for it: a naive comparison


@dataclass(frozen=True)
class EffectReport:
    entry: Diagnostic | None
    final: Diagnostic | None
    by: str
    min_pairs: int
    rows: list[EffectRow]

    def as_dict(self) -> dict[str, object]:
        return {"entry_diagnostic": self.entry.id if self.entry else None,
                "final_diagnostic": self.final.id if self.final else None,
                "by": self.by, "min_pairs": self.min_pairs,
                "comparison": "naive: teachers with the deficit who took no offer for it",
                "rows": [_row_dict(r) for r in self.rows]}


def effectiveness_report(scope: Scope, by: str = "offer", entry_id: int | None = None,
                         final_id: int | None = None, min_pairs: int = MIN_PAIRS
                         ) -> EffectReport:
    """Effectiveness per ``by`` group and competency, of the teachers in ``scope``, between the
    entry diagnostic ``entry_id`` and the final one ``final_id`` (default, when neither is
    given: the latest finished period, ``app.analyse.outcomes.evidence_period``; one given:
    the latest of the other kind).

    :raise ValueError: an unknown ``by``, a diagnostic id that is not of its kind, or
        ``min_pairs`` below 1.
    """
    if by not in GROUPS:
        raise ValueError(f"by must be one of {', '.join(GROUPS)}, got {by!r}")
    period = evidence_period() if entry_id is None and final_id is None else None
    entry, final = period or (_diagnostic("entry", entry_id), _diagnostic("final", final_id))
    if entry is None or final is None:
        return EffectReport(entry, final, by, min_pairs, [])
    changes = deficit_changes(levels_frame(entry, scope=scope)[0],
                              levels_frame(final, scope=scope)[0])
    exposures = outcome_exposures(entry, scope)
    column = GROUPS[by]
    table = offer_effectiveness(changes, exposures, by=(column, "competency"),
                                min_pairs=min_pairs)
    labels = _labels(exposures, column)
    names = dict(db.session.execute(select(Competency.idnumber, Competency.name)).all())
    rows = [EffectRow(str(r[column]), labels.get(str(r[column]), str(r[column])),
                      str(r["competency"]), names.get(str(r["competency"]), ""),
                      _share(r, ""), _share(r, "others_"))
            for r in table.to_dict("records")]
    rows.sort(key=_by_share)
    return EffectReport(entry, final, by, min_pairs, rows)


def _by_share(row: EffectRow) -> tuple[str, float, str]:
    """Per competency, the highest share first, then the groups with too few pairs."""
    share = row.completed.share
    return row.competency, -share if share is not None else 1.0, row.label


def _diagnostic(kind: str, chosen: int | None) -> Diagnostic | None:
    if chosen is None:
        return db.session.scalars(select(Diagnostic).where(Diagnostic.kind == kind)
                                  .order_by(Diagnostic.id.desc())).first()
    found = db.session.get(Diagnostic, chosen)
    if found is None:
        raise ValueError(f"no diagnostic with id {chosen}")
    if found.kind != kind:
        article = "an" if found.kind[0] in "aeiou" else "a"
        raise ValueError(f"diagnostic {chosen} is {article} {found.kind} diagnostic, not "
                         f"{'an' if kind == 'entry' else 'a'} {kind} one: give the id of "
                         f"{'an' if kind == 'entry' else 'a'} {kind} diagnostic")
    return found


def _labels(exposures: pd.DataFrame, column: str) -> dict[str, str]:
    if column == "offer_key":
        return {str(k): f"{t} ({k})" for k, t in zip(exposures["offer_key"], exposures["title"],
                                                       strict=True)}
    if column == "kind":
        return {str(k): KIND_RU.get(str(k), str(k)) for k in exposures["kind"]}
    if column == "centre":
        return dict(zip(exposures["centre"].astype(str), exposures["centre_name"].astype(str),
                        strict=True))
    return {str(k): str(k) for k in exposures[column]}


def _share(row: dict[str, Any], prefix: str) -> Share:
    def number(key: str) -> float | None:
        value = row[prefix + key]
        return None if value is None or math.isnan(float(value)) else float(value)

    return Share(int(row["others" if prefix else "pairs"]), int(row[prefix + "closed"]),
                 number("share"), number("low"), number("high"), number("mean_rise"))


def _row_dict(row: EffectRow) -> dict[str, object]:
    return {"group": row.group, "label": row.label, "competency": row.competency,
            "competency_name": row.competency_name, "completed": asdict(row.completed),
            "others": asdict(row.others)}


BY_RU = {"offer": N_("предложение"), "kind": N_("вид предложения"),
         "provider": N_("организатор"), "centre": N_("ресурсный центр")}


def effectiveness_workbook(report: EffectReport) -> bytes:
    """The report as one XLSX table; a group with too few pairs has its counts and no share."""
    notes = [f"Входная диагностика: {report.entry.name if report.entry else '—'}; итоговая: "
             f"{report.final.name if report.final else '—'}.",
             "Доля закрытых дефицитов среди педагогов с дефицитом на входе, завершивших "
             "предложение; 95 % интервал Уилсона. Сравнение наивное: педагоги с тем же "
             "дефицитом, не проходившие по нему ничего (группы не случайны).",
             f"Меньше {report.min_pairs} пар: доля не приводится."]
    headers = [BY_RU[report.by].capitalize(), "Компетенция", "Пар", "Закрыто", "Доля",
               "Нижняя граница", "Верхняя граница", "Средний прирост балла",
               "Без предложения: пар", "закрыто", "доля", "средний прирост"]
    rows = [[r.label, f"{r.competency} {r.competency_name}".strip(), r.completed.pairs,
             r.completed.closed, r.completed.share, r.completed.low, r.completed.high,
             r.completed.mean_rise, r.others.pairs, r.others.closed, r.others.share,
             r.others.mean_rise] for r in report.rows]
    return table_workbook("Эффективность предложений", notes, headers, rows)
