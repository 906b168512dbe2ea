"""The marshmallow schemas of the JSON API: its query arguments and its answers.

They document ``/api/openapi.json`` and dump each answer (``@bp.response``). A dump keeps each
value as the view made it (a float stays a float, a row's keys stay as they are), so the JSON
is the same as before the API was described. Rows whose columns depend on the data (a table
of levels per competency) are documented as objects of their own keys.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from deficits.effectiveness import MIN_PAIRS

# Ids are INTEGER columns (PostgreSQL): a larger one is no record's.
MAX_ID = 2**31 - 1
VIEWS = ("by-type", "ranking", "over-time", "risk-group", "change")


class Number(fields.Raw):
    """A number, dumped as the view made it (an int stays an int, a float a float: a float
    field would write ``2`` as ``2.0``)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "number", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


class Rows(fields.List):
    """A list of rows the view made, dumped as it is: documented as a list of its inner
    schema, not dumped row by row (the deficit map's 4,000 schools: a nested dump of each
    took most of the answer's time)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else list(value)


class ErrorSchema(Schema):
    """Every refusal of the API: ``{code, status, message}``; bad arguments add ``errors``."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = fields.String(required=True, metadata={"description": "HTTP status name"})
    message = fields.String(required=True, metadata={"description": "What went wrong and "
                                                                     "how to fix it"})
    errors = fields.Dict(metadata={"description": "422 only: the messages of each refused "
                                                  "argument, by location and name"})


# --- /api/deficit-map ----------------------------------------------------------------------

class DeficitMapArgs(Schema):
    """``?diagnostic=`` picks a stored diagnostic; absent, empty or 0: the latest one."""

    class Meta:
        unknown = EXCLUDE

    diagnostic_id = fields.Integer(
        data_key="diagnostic", validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "id of a stored diagnostic (0, empty or absent: the latest)",
                  "allow_empty": True})

    @pre_load
    def _empty_is_absent(self, data: Any, **_: Any) -> Any:
        """``?diagnostic=`` (empty) means the latest diagnostic, as no parameter does."""
        if hasattr(data, "get") and data.get("diagnostic") == "":
            return {key: value for key, value in data.items() if key != "diagnostic"}
        return data


class SchoolSharesSchema(Schema):
    """One school of the map: its deficit share per competency among its assessed teachers."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "school type"})
    teachers = fields.Integer(required=True, metadata={"description": "teachers assessed"})
    shares = fields.Dict(keys=fields.String(), values=Number(allow_none=True),
                         required=True,
                         metadata={"description": "competency idnumber → deficit share"})


class DeficitMapSchema(Schema):
    """The deficit map of a diagnostic, of the teachers in the caller's scope."""

    competencies = fields.List(
        fields.List(fields.String()), required=True,
        metadata={"description": "[idnumber, name] of each competency, in the map's order"})
    schools = Rows(fields.Nested(SchoolSharesSchema), required=True)
    municipality = fields.Dict(
        keys=fields.String(), values=Number(allow_none=True), required=True,
        metadata={"description": "competency idnumber → deficit share of the whole scope"})
    thresholds = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the default thresholds set the levels were scored by: "
                       "deficit_below, risk_below (shares), min_questions, label…"})
    policy = fields.List(fields.String(), required=True,
                         metadata={"description": "the scoring policy the levels came from"})
    ratings = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        required=True,
        metadata={"description": "competency → Moodle's own ratings {agrees, disagrees}"})


class DiagnosticRefSchema(Schema):
    """A diagnostic named in an answer, with the policy its levels were scored by."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    policy = fields.List(fields.String(), required=True)


class ClosedDeficitSchema(Schema):
    """A deficit closed between the entry and the final diagnostic."""

    moodle_user_id = fields.Integer(required=True)
    teacher = fields.String(required=True)
    competency = fields.String(required=True)
    entry_score = Number(required=True)
    final_score = Number(required=True)


ROW = fields.Dict(keys=fields.String(), metadata={"description": "one row of the view's table"})


class DeficitViewSchema(Schema):
    """One more view of the levels: ``rows`` of a table, or (``change``) entry → final."""

    view = fields.String(required=True, validate=validate.OneOf(VIEWS))
    rows = fields.List(ROW, metadata={
        "description": "by-type: school_type, competency, assessed, deficit, deficit_share; "
                       "ranking: rank, school_code, teachers_assessed, deficit_share_mean, "
                       "need_score; over-time: period, school_code, competency, assessed, "
                       "deficit, deficit_share; risk-group: user_id, in_risk_group, reason"})
    entry = fields.Nested(DiagnosticRefSchema, metadata={"description": "change only"})
    final = fields.Nested(DiagnosticRefSchema, metadata={"description": "change only"})
    competencies = fields.List(ROW, metadata={
        "description": "change only: per competency compared, entry_deficits, closed, "
                       "level_up, level_down, unchanged, mean_rise, name"})
    schools = fields.List(ROW, metadata={
        "description": "change only: the same counts per school (school_code, name)"})
    closed = fields.List(fields.Nested(ClosedDeficitSchema),
                         metadata={"description": "change only"})


# --- /api/teachers/<id>/route --------------------------------------------------------------

class RouteItemSchema(Schema):
    """One offer of a teacher's route."""

    offer = fields.String(required=True, metadata={"description": "the offer's key"})
    kind = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)
    rule = fields.String(required=True, metadata={"description": "the rule that proposed it"})
    competencies = fields.List(fields.String(), required=True)
    reasons = fields.List(fields.String(), required=True, metadata={
        "description": "why it was proposed, in Russian unless ?lang=en"})
    explanation = fields.Dict(required=True, allow_none=True, metadata={
        "description": "what the reasons are made of (needs covered, place, better sessions "
                       "blocked, priority, offer and session); null on older items and swaps"})


class TeacherRouteSchema(Schema):
    """A teacher's route items with status, competencies and reasons."""

    teacher = fields.String(required=True)
    moodle_user_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(RouteItemSchema), required=True)


# --- /api/moodle/check ---------------------------------------------------------------------

class CheckLineSchema(Schema):
    """One checked requirement of the Moodle connection."""

    name = fields.String(required=True)
    ok = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"description": "what to do about it"})


class MoodleCheckSchema(Schema):
    """The check-moodle report."""

    ok = fields.Boolean(required=True)
    checks = fields.List(fields.Nested(CheckLineSchema), required=True)


# --- /api/policy ---------------------------------------------------------------------------

class ThresholdsSchema(Schema):
    """Thresholds of the levels (shares of the maximum score) and the evidence needed."""

    deficit_below = Number(required=True)
    risk_below = Number(required=True)
    min_questions = Number(required=True)


class PolicyCompetencySchema(Schema):
    """A competency with the thresholds that apply to it and where they come from."""

    idnumber = fields.String(required=True)
    name = fields.String(required=True)
    framework = fields.String(required=True)
    moodle_group = fields.String(required=True)
    group_override = fields.String(required=True)
    thresholds = fields.Nested(ThresholdsSchema, required=True)
    thresholds_from = fields.String(required=True)
    thresholds_key = fields.String(required=True)


class RevisionSchema(Schema):
    """A saved revision of the policy."""

    id = fields.Integer(required=True)
    created_at = fields.String(required=True, metadata={"description": "ISO 8601"})
    created_ru = fields.String(required=True)
    author = fields.String(required=True)
    comment = fields.String(required=True)
    risk_ru = fields.String(required=True)


class PolicySchema(Schema):
    """The scoring policy in force (the same content as the policy page)."""

    source = fields.String(required=True)
    default = fields.Nested(ThresholdsSchema, required=True)
    attempt_policy = fields.String(required=True)
    attempt_policy_ru = fields.String(required=True)
    frameworks = fields.List(ROW, required=True)
    groups = fields.List(ROW, required=True)
    competency_groups = fields.Dict(keys=fields.String(), values=fields.String(),
                                    required=True)
    competencies = fields.List(fields.Nested(PolicyCompetencySchema), required=True)
    describe = fields.List(fields.String(), required=True)
    risk = fields.Dict(keys=fields.String(), required=True,
                       metadata={"description": "the risk-group rule in force"})
    revisions = fields.List(fields.Nested(RevisionSchema), required=True)


# --- /api/effectiveness ----------------------------------------------------------------------

class EffectivenessArgs(Schema):
    """``?by=offer|kind|provider|centre``, ``?entry=`` and ``?final=`` diagnostic ids (absent:
    the latest of each kind), ``?min_pairs=`` (fewer pairs: counts, no share)."""

    class Meta:
        unknown = EXCLUDE

    by = fields.String(load_default="offer",
                       validate=validate.OneOf(("offer", "kind", "provider", "centre")))
    entry_id = fields.Integer(data_key="entry", validate=validate.Range(min=1, max=MAX_ID))
    final_id = fields.Integer(data_key="final", validate=validate.Range(min=1, max=MAX_ID))
    min_pairs = fields.Integer(load_default=MIN_PAIRS, validate=validate.Range(min=1, max=100_000))


class ShareSchema(Schema):
    """Closed entry deficits of ``pairs`` teacher × competency pairs: the share and its 95 %
    Wilson interval (null below ``min_pairs``) and the mean score change."""

    pairs = fields.Integer(required=True)
    closed = fields.Integer(required=True)
    share = Number(required=True, allow_none=True)
    low = Number(required=True, allow_none=True)
    high = Number(required=True, allow_none=True)
    mean_rise = Number(required=True, allow_none=True)


class EffectRowSchema(Schema):
    """One group (offer, kind, provider or centre) and competency."""

    group = fields.String(required=True)
    label = fields.String(required=True)
    competency = fields.String(required=True)
    competency_name = fields.String(required=True)
    completed = fields.Nested(ShareSchema, required=True, metadata={
        "description": "teachers with the deficit at entry who completed an offer of the group"})
    others = fields.Nested(ShareSchema, required=True, metadata={
        "description": "a naive comparison: teachers with the deficit who took no offer for it"})


class EffectivenessSchema(Schema):
    """Offer effectiveness between an entry and a final diagnostic, in the caller's scope."""

    entry_diagnostic = fields.Integer(required=True, allow_none=True)
    final_diagnostic = fields.Integer(required=True, allow_none=True)
    by = fields.String(required=True)
    min_pairs = fields.Integer(required=True)
    comparison = fields.String(required=True)
    rows = fields.List(fields.Nested(EffectRowSchema), required=True)


# --- /api/capacity ---------------------------------------------------------------------------

class CapacityArgs(Schema):
    """``?from=`` and ``?to=`` (the period, default a year from today) and rate overrides
    ``?<kind>.<rate>=`` (kind: internship, mentoring, course, external, event; rate: proposed,
    accepted, completed; a share 0..1 or a percent)."""

    class Meta:
        unknown = EXCLUDE

    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")


class RateSchema(Schema):
    """A kind's rates and where they come from (data, override, no_data)."""

    kind = fields.String(required=True)
    proposed = Number(required=True)
    accepted = Number(required=True)
    completed = Number(required=True)
    source = fields.String(required=True)
    deficits = fields.Integer(required=True)
    proposals = fields.Integer(required=True)
    acceptances = fields.Integer(required=True)
    completions = fields.Integer(required=True)


class CapacitySchema(Schema):
    """The next period's forecast in the caller's scope; shortfalls positive, surpluses
    negative; a null number of seats means no limit."""

    diagnostic = fields.Integer(required=True, allow_none=True)
    period = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    history = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          allow_none=True)
    rates = fields.List(fields.Nested(RateSchema), required=True)
    centres = fields.List(fields.Dict(), required=True, metadata={
        "description": "per centre and competency: teachers, deficits, interns, intern_seats, "
                       "intern_gap, mentees, mentor_hours, mentor_hours_offered, mentor_gap, "
                       "completions"})
    subjects = fields.List(fields.Dict(), required=True)
    courses = fields.List(fields.Dict(), required=True, metadata={
        "description": "per competency: deficits, moodle_places, external_places, "
                       "external_seats, to_order, completions"})
    unpartnered = fields.List(fields.Dict(), required=True)
    overloaded = fields.List(fields.Dict(), required=True)
    back_test = fields.List(fields.Dict(), required=True)
