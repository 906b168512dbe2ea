"""The statement model the endpoint validates with: Ralph's base xAPI models, corrected where
they disagree with xAPI 1.0.3 (as the ADL LRS conformance suite checks it).

Only field types and Ralph's own model-level check are replaced; every rule is still checked
by Pydantic through Ralph's classes. Corrections:

- a Group may be a context instructor, an Agent or Group a sub-statement's object;
- numbers are numbers and strings strings (a score, an attachment's type and hash);
- an ``openid`` is a URI; a ``duration`` an xAPI ISO 8601 duration (weeks stand alone);
- a timestamp's offset is never ``-00:00`` (Data 4.5);
- an object without ``objectType`` is an Activity (so it needs an ``id``);
- an empty ``definition`` or ``extensions`` is valid, other empty values are not;
- ``revision`` and ``platform`` only with an Activity, in a sub-statement too;
- a Group authority is the anonymous pair of an OAuth consumer and user (Data 2.4.9).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, NoReturn, TypeAlias

from pydantic import (
    AfterValidator,
    StrictStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from ralph.models.xapi.base.agents import (
    BaseXapiAgentWithAccount,
    BaseXapiAgentWithMbox,
    BaseXapiAgentWithMboxSha1Sum,
    BaseXapiAgentWithOpenId,
)
from ralph.models.xapi.base.attachments import BaseXapiAttachment
from ralph.models.xapi.base.contexts import BaseXapiContext
from ralph.models.xapi.base.groups import (
    BaseXapiAnonymousGroup,
    BaseXapiIdentifiedGroupWithAccount,
    BaseXapiIdentifiedGroupWithMbox,
    BaseXapiIdentifiedGroupWithMboxSha1Sum,
    BaseXapiIdentifiedGroupWithOpenId,
)
from ralph.models.xapi.base.objects import BaseXapiSubStatement
from ralph.models.xapi.base.results import BaseXapiResult, BaseXapiResultScore
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.base.unnested_objects import BaseXapiUnnestedObject

URI = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")]
_NUM = r"\d+(?:\.\d+)?"
_DURATION = re.compile(rf"^P(?:{_NUM}W|(?=\d|T\d)(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}D)?"
                       rf"(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?)$")


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"not an ISO 8601 duration: {value!r}")
    return value


DURATION = Annotated[str, AfterValidator(_duration)]
NEGATIVE_ZERO = re.compile(r"-00:?00$")
MAY_BE_EMPTY = frozenset({"extensions", "definition"})
CONTEXT_MISUSED = "context.revision and context.platform need an Activity as the object"


class AgentWithOpenId(BaseXapiAgentWithOpenId):
    """An Agent named by an OpenID, which is a URI."""

    openid: URI


Agent: TypeAlias = (BaseXapiAgentWithMbox | BaseXapiAgentWithMboxSha1Sum | AgentWithOpenId
         | BaseXapiAgentWithAccount)


class AnonymousGroup(BaseXapiAnonymousGroup):
    """A Group known by its members only."""

    member: list[Agent]  # type: ignore[assignment]


class GroupWithOpenId(BaseXapiIdentifiedGroupWithOpenId):
    """A Group named by an OpenID, which is a URI."""

    openid: URI


Group: TypeAlias = (BaseXapiIdentifiedGroupWithMbox | BaseXapiIdentifiedGroupWithMboxSha1Sum
         | GroupWithOpenId | BaseXapiIdentifiedGroupWithAccount | AnonymousGroup)


class Context(BaseXapiContext):
    """A context whose instructor may be a Group."""

    instructor: Agent | Group | None = None  # type: ignore[assignment]
    team: Group | None = None  # type: ignore[assignment]


def _number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON number, not a string")
    return value


class Score(BaseXapiResultScore):
    """A score whose values are JSON numbers (Ralph would read ``"100"`` as 100)."""

    _numbers = field_validator("scaled", "raw", "min", "max", mode="before")(_number)


class Result(BaseXapiResult):
    """A result whose duration is checked as xAPI writes it, not as Python reads it."""

    score: Score | None = None  # type: ignore[assignment]
    duration: DURATION | None = None  # type: ignore[assignment]


class Attachment(BaseXapiAttachment):
    """An attachment whose content type and hash are JSON strings (Ralph coerces numbers)."""

    contentType: StrictStr  # type: ignore[assignment]  # noqa: N815 (xAPI's name)
    sha2: StrictStr  # type: ignore[assignment]


def _timestamp_offset(value: Any) -> Any:
    if isinstance(value, str) and NEGATIVE_ZERO.search(value):
        raise ValueError("a timestamp offset of -00:00 is not allowed")
    return value


def _activity_by_default(values: Any) -> Any:
    """An object without ``objectType`` is an Activity: never read it as an Agent."""
    if isinstance(values, dict) and isinstance(values.get("object"), dict) \
            and "objectType" not in values["object"]:
        return {**values, "object": {**values["object"], "objectType": "Activity"}}
    return values


class SubStatement(BaseXapiSubStatement):
    """A sub-statement whose object may be an Agent or a Group."""

    actor: Agent | Group  # type: ignore[assignment]
    object: BaseXapiUnnestedObject | Agent | Group  # type: ignore[assignment]
    context: Context | None = None  # type: ignore[assignment]
    result: Result | None = None  # type: ignore[assignment]
    attachments: list[Attachment] | None = None  # type: ignore[assignment]

    _offset = field_validator("timestamp", mode="before")(_timestamp_offset)

    @model_validator(mode="before")
    @classmethod
    def activity_by_default(cls, values: Any) -> Any:
        """See ``_activity_by_default``; revision and platform only with an Activity."""
        if _context_misused(values):
            raise ValueError(CONTEXT_MISUSED)
        return _activity_by_default(values)


class Statement(BaseXapiStatement):
    """A statement as ProfRoute's endpoint accepts it (see the module's corrections)."""

    actor: Agent | Group  # type: ignore[assignment]
    object: BaseXapiUnnestedObject | SubStatement | Agent | Group  # type: ignore[assignment]
    context: Context | None = None  # type: ignore[assignment]
    result: Result | None = None  # type: ignore[assignment]
    authority: Agent | AnonymousGroup | None = None  # type: ignore[assignment]
    attachments: list[Attachment] | None = None  # type: ignore[assignment]

    _offset = field_validator("timestamp", mode="before")(_timestamp_offset)

    @model_validator(mode="before")
    @classmethod
    def check_absence_of_empty_and_invalid_values(cls, values: Any) -> Any:
        """Replaces Ralph's check of the same name: empty values are refused except an
        empty ``definition`` or ``extensions``; see also ``activity_by_default``."""
        if isinstance(values, dict):
            _check_not_empty(values)
            if _context_misused(values):
                _refuse(("context",), CONTEXT_MISUSED)
            if _authority_misused(values.get("authority")):
                _refuse(("authority",), "a Group authority must be an anonymous Group of two "
                        "Agents (the OAuth consumer and user)")
        return _activity_by_default(values)


def _refuse(loc: tuple[str | int, ...], message: str) -> NoReturn:
    """Refuse the statement at ``loc`` (a model-level check keeps the field it is about)."""
    raise ValidationError.from_exception_data("XapiStatementError", [InitErrorDetails(
        type=PydanticCustomError("xapi_invalid", message), loc=loc, input=None)])


def _check_not_empty(values: dict[str, Any], loc: tuple[str | int, ...] = ()) -> None:
    for key, value in values.items():
        if key in MAY_BE_EMPTY and value == {}:
            continue
        if value is None or value in ("", {}):
            _refuse((*loc, key), "statements may not contain empty values")
        if isinstance(value, dict) and key != "extensions":
            _check_not_empty(value, (*loc, key))


def _context_misused(values: Any) -> bool:
    """True when ``revision`` or ``platform`` is in the context of an object no Activity."""
    if not isinstance(values, dict) or not isinstance(values.get("context"), dict):
        return False
    context, obj = values["context"], values.get("object")
    kind = obj.get("objectType", "Activity") if isinstance(obj, dict) else "Activity"
    return ("revision" in context or "platform" in context) and kind != "Activity"


def _authority_misused(authority: Any) -> bool:
    """True for a Group authority that is not an anonymous pair (OAuth consumer and user)."""
    if not (isinstance(authority, dict) and authority.get("objectType") == "Group"):
        return False
    members = authority.get("member")
    return not isinstance(members, list) or len(members) != 2 or any(
        k in authority for k in ("mbox", "mbox_sha1sum", "openid", "account"))
