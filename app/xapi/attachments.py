"""Statement attachments (Data 2.4.11, Communication 2.1.4): multipart/mixed requests in,
their raw data checked against the statements and kept by hash, multipart answers out.

A signature attachment (Data 2.6) must be a JWS of RS256, RS384 or RS512 whose payload is
the statement as signed (without its attachments). The RSA signature itself is not verified:
xAPI 1.0.3 names no key the LRS could trust.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.message
import email.policy
import json
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from app.common.inputs import load_json
from app.extensions import db
from app.models.xapi import XapiAttachment
from app.xapi.store import StatementRejected

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_TYPE = "application/octet-stream"
ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
HASH_HEADER = "X-Experience-API-Hash"
LRS_SET = ("attachments", "authority", "stored", "version")  # not part of a signed payload


@dataclass(frozen=True)
class Part:
    """The raw data of one attachment as sent."""

    content_type: str
    content: bytes


def parse_multipart(content_type: str, body: bytes) -> tuple[Any, dict[str, Part]]:
    """The statements (first part, JSON) and the attachments' data by SHA-2 hash.

    :raise StatementRejected: not a well-formed xAPI multipart/mixed request (400).
    """
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP)
    if not message.is_multipart():
        raise StatementRejected("a multipart/mixed request needs a boundary and parts")
    parts = list(message.iter_parts())
    if not parts or parts[0].get_content_type() != "application/json":
        raise StatementRejected("the first part of a multipart request must be "
                                "application/json statements")
    try:
        statements = load_json(_payload(parts[0]) or b"null")
    except ValueError as err:
        raise StatementRejected(f"the statements part is not JSON: {err}") from err
    data: dict[str, Part] = {}
    for index, part in enumerate(parts[1:], start=1):
        sha2 = part.get(HASH_HEADER)
        if not sha2:
            raise StatementRejected(f"part {index} has no {HASH_HEADER} header")
        if str(part.get("Content-Transfer-Encoding", "binary")).lower() != "binary":
            raise StatementRejected(f"part {index}: Content-Transfer-Encoding must be binary")
        data[str(sha2).strip()] = Part(part.get_content_type(), _payload(part))
    return statements, data


def receiver(parts: Mapping[str, Part]) -> Callable[[list[Any]], None]:
    """What the store calls once the statements are valid: check, then keep the data."""
    def receive(statements: list[Any]) -> None:
        check(statements, parts)
        keep(parts)
    return receive


def check(statements: list[Any], parts: Mapping[str, Part]) -> None:
    """Every attachment without ``fileUrl`` has its data, every part belongs to an
    attachment, every signature is a JWS of the statement it signs.

    :raise StatementRejected: which statement and why (400); nothing is stored.
    """
    named: set[str] = set()
    for index, statement in enumerate(statements):
        for attachment in _attachments(statement):
            sha2 = str(attachment.get("sha2", ""))
            named.add(sha2)
            if sha2 not in parts and not attachment.get("fileUrl"):
                raise StatementRejected(
                    f"statement {index}: attachment {sha2} has neither fileUrl nor data "
                    "(send it as a part of a multipart/mixed request)")
            if attachment.get("usageType") == SIGNATURE:
                _check_signature(index, statement, attachment, parts.get(sha2))
    extra = sorted(set(parts) - named)
    if extra:
        raise StatementRejected(f"parts {', '.join(extra)} belong to no attachment")


def keep(parts: Mapping[str, Part]) -> None:
    """Store the data not stored yet (in the caller's transaction)."""
    if not parts:
        return
    known = set(db.session.scalars(select(XapiAttachment.sha2).where(
        XapiAttachment.sha2.in_(list(parts)))))
    rows = [{"sha2": sha2, "content_type": part.content_type, "content": part.content}
            for sha2, part in parts.items() if sha2 not in known]
    if rows:
        db.session.execute(insert(XapiAttachment), rows)


def multipart_answer(body: Any, statements: Iterable[dict[str, Any]]) -> tuple[bytes, str]:
    """The answer with ``attachments=true``: the JSON, then each attachment's data.

    Returns the body and its Content-Type (with the boundary).
    """
    hashes = {str(a.get("sha2")) for s in statements for a in _attachments(s)}
    rows = db.session.scalars(select(XapiAttachment).where(
        XapiAttachment.sha2.in_(hashes))).all() if hashes else []
    boundary = secrets.token_hex(16)
    chunks = [_part_head(boundary, "application/json", ()), json.dumps(body).encode()]
    for row in rows:
        chunks += [_part_head(boundary, row.content_type, (
            ("Content-Transfer-Encoding", "binary"), (HASH_HEADER, row.sha2))), row.content]
    chunks.append(f"\r\n--{boundary}--".encode())
    return b"".join(chunks), f"multipart/mixed; boundary={boundary}"


def _payload(part: email.message.Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _part_head(boundary: str, content_type: str,
               headers: Iterable[tuple[str, str]]) -> bytes:
    lines = ["", f"--{boundary}", f"Content-Type: {content_type}",
             *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode()


def _attachments(statement: Any) -> list[dict[str, Any]]:
    found = statement.get("attachments") if isinstance(statement, dict) else None
    return [a for a in found if isinstance(a, dict)] if isinstance(found, list) else []


def _check_signature(index: int, statement: dict[str, Any], attachment: dict[str, Any],
                     part: Part | None) -> None:
    where = f"statement {index}: signature"
    if attachment.get("contentType") != SIGNATURE_TYPE or (
            part is not None and part.content_type != SIGNATURE_TYPE):
        raise StatementRejected(f"{where}: its content type must be {SIGNATURE_TYPE}")
    if part is None:
        raise StatementRejected(f"{where}: the JWS must be sent with the statement")
    try:
        encoded_header, encoded_payload, _ = part.content.decode("ascii").split(".")
        header = load_json(_unbase64(encoded_header))
        payload = load_json(_unbase64(encoded_payload))
    except (ValueError, UnicodeDecodeError, binascii.Error) as err:
        raise StatementRejected(f"{where}: not a JWS in compact serialisation") from err
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise StatementRejected(f"{where}: the algorithm must be one of "
                                f"{', '.join(sorted(ALGORITHMS))}")
    if not isinstance(payload, dict) or _signed(payload) != _signed(statement):
        raise StatementRejected(f"{where}: its payload is not this statement")


def _signed(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k not in LRS_SET}


def _unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
