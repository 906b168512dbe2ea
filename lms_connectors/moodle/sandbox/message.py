"""Handler for instant messages, including Moodle's mixed-batch failure."""

from __future__ import annotations

import html
from typing import Any

from . import errors
from .context import Context
from .store import Message

_FIRST_CONVERSATION = 24


def send_instant_messages(ctx: Context, params: dict[str, Any]) -> Any:
    """``core_message_send_instant_messages``.

    A single unknown recipient answers ``msgid: -1`` with ``errormessage``; a batch mixing
    known and unknown recipients fails with ``formatnotsupported`` although the messages
    to the known recipients are stored, exactly like the recorded Moodle.

    Raises:
        MoodleError: ``formatnotsupported`` for a mixed batch.
    """
    site = ctx.site
    results: list[dict[str, Any]] = []
    with site.lock:
        for item in params["messages"]:
            if item["touserid"] in site.users:
                results.append(_store(ctx, item))
            else:
                results.append(_refused(item))
    failed = sum(1 for r in results if r["msgid"] == -1)
    if 0 < failed < len(results):
        raise errors.messages_format_not_supported()
    return results


def _render(text: str, textformat: int) -> str:
    if textformat == 1:
        return text
    return f"<p>{html.escape(text, quote=False)}</p>"


def _store(ctx: Context, item: dict[str, Any]) -> dict[str, Any]:
    site = ctx.site
    pair = frozenset((ctx.userid, item["touserid"]))
    conversation = site.conversations.setdefault(
        pair, _FIRST_CONVERSATION + len(site.conversations))
    message = Message(
        id=len(site.messages) + 1, useridfrom=ctx.userid, touserid=item["touserid"],
        text=_render(item["text"], item["textformat"]), textformat=item["textformat"],
        clientmsgid=item.get("clientmsgid"), timecreated=site.now(),
        conversationid=conversation,
    )
    site.messages.append(message)
    data: dict[str, Any] = {"msgid": message.id}
    if message.clientmsgid is not None:
        data["clientmsgid"] = message.clientmsgid
    data.update(text=message.text, timecreated=message.timecreated,
                conversationid=conversation, useridfrom=ctx.userid,
                candeletemessagesforallusers=False)
    return data


def _refused(item: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"msgid": -1}
    if item.get("clientmsgid") is not None:
        data["clientmsgid"] = item["clientmsgid"]
    data["errormessage"] = (
        f"You cannot send a message to a user ID ({item['touserid']}) that doesn't exist."
    )
    data["candeletemessagesforallusers"] = False
    return data
