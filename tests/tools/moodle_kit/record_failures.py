#!/usr/bin/env python3
"""Record the failure replies the push relies on, from a kit Moodle (../shared/moodle-kit).

Writes recordings in the format of ../shared/moodle-recordings/4.5 (tokens replaced by
``REDACTED_*``) into the folder given, by default ``tests/recordings/moodle``:

* the push's read-back ``core_enrol_get_enrolled_users`` with ``onlyactive`` (and
  ``onlysuspended``) refused with ``nopermissions`` for the plugin's role, which lacks
  ``moodle/course:enrolreview`` (plugin 1.1.0);
* the group, calendar and plan reads of the push made by a user without their capability
  (``ws_limited`` of the kit: only ``webservice/rest:use``), to show how each one refuses;
* ``core_message_send_instant_messages`` with a batch of 50 messages, one of them to a user id
  that does not exist (and, with ``KIT_DELETED_USER_ID``, one to a deleted user), and the
  number of messages Moodle stored during the call.

Environment: ``PROFROUTE_KIT_TOKEN`` (token of a user holding only the plugin's role, see
``plugin_token.php``); the kit's token file for ``ws_limited`` (``MOODLE_TOKEN_FILE``, default
``~/moodle-token.txt``). Run as root on the kit's machine (it counts stored messages with psql).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, os.environ.get("MOODLE_KIT_DIR", str(ROOT.parent / "shared" / "moodle-kit")))
import wsrec  # noqa: E402  (the kit's stdlib REST client and recorder)

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "recordings" / "moodle"
PLUGIN_ROLE = "REDACTED_PROFROUTE_TOKEN"
LIMITED = "REDACTED_LIMITED_USER_TOKEN"
TEACHERS = list(range(3, 23))  # the kit's teachers, users 3-22
BAD_USER = 99999
BAD_AT = 24  # position of the bad recipient in the batch of 50


def stored_messages() -> int:
    """Number of rows in Moodle's messages table (the kit's PostgreSQL database ``moodle``)."""
    out = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-d", "moodle", "-Atc",
                          "select count(*) from mdl_messages"],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


def enrolled_options(option: str) -> list[dict[str, object]]:
    """The options the push sends to core_enrol_get_enrolled_users, with ``option`` set."""
    return [{"name": "userfields", "value": "id,username"}, {"name": option, "value": 1},
            {"name": "limitfrom", "value": 0}, {"name": "limitnumber", "value": 200}]


def batch_of_50(stamp: str, bad_user: int = BAD_USER) -> list[dict[str, object]]:
    """50 messages to the kit's teachers (in turn), message ``BAD_AT + 1`` to ``bad_user``."""
    messages = []
    for i in range(50):
        to = bad_user if i == BAD_AT else TEACHERS[i % len(TEACHERS)]
        messages.append({"touserid": to, "text": f"Проба пакета {stamp}, сообщение {i + 1}",
                         "textformat": 1, "clientmsgid": f"batch-{stamp}-{i:02d}"})
    return messages


def record(name: str, function: str, params: dict[str, object], why: str, token: str,
           redact_as: str) -> object:
    """Record one call and print its outcome."""
    resp = wsrec.record(str(OUT), name, function, params, why, token, redact_as)
    print(("ERR " if wsrec.is_error(resp) else "ok  ") + name + ": " + str(resp)[:160])
    return resp


def record_read_backs(token: str, limited: str) -> None:
    """The push's read-backs refused: enrolreview for the plugin role, other caps for ws_limited."""
    for option in ("onlyactive", "onlysuspended"):
        record(f"core_enrol_get_enrolled_users__{option}_without_enrolreview",
               "core_enrol_get_enrolled_users",
               {"courseid": 3, "options": enrolled_options(option)},
               f"The push's read-back (option {option}) with the token of a user holding only the "
               "plugin's role 'profroute' (plugin 1.1.0, no moodle/course:enrolreview): Moodle "
               "requires moodle/course:enrolreview in the course for onlyactive/onlysuspended and "
               "names it by its title 'Review course enrolments'.", token, PLUGIN_ROLE)
    reads = [
        ("core_group_get_course_groups", {"courseid": 3}, "moodle/course:managegroups"),
        ("core_group_get_group_members", {"groupids": [6]}, "moodle/course:managegroups"),
        ("core_calendar_get_calendar_events",
         {"events": {"courseids": [3], "groupids": [6]},
          "options": {"userevents": 0, "siteevents": 0}}, "moodle/calendar:manageentries"),
        ("core_competency_list_user_plans", {"userid": 5}, "moodle/competency:planview"),
        ("core_competency_list_plan_competencies", {"id": 1}, "moodle/competency:planview"),
    ]
    for function, params, cap in reads:
        record(f"{function}__without_capability", function, params,
               f"{function} with the token of ws_limited (only webservice/rest:use; the function "
               f"is in its service): how Moodle answers a caller lacking {cap} (and not "
               "enrolled in the course). An empty list here is a silent refusal.",
               limited, LIMITED)


def record_message_batch(token: str, name: str, bad_user: int, bad_what: str) -> None:
    """A batch of 50 messages with one bad recipient, and what Moodle stored meanwhile."""
    stamp = time.strftime("%H%M%S")
    before = stored_messages()
    record(name, "core_message_send_instant_messages", {"messages": batch_of_50(stamp, bad_user)},
           f"50 messages in one call with the plugin role's token; message {BAD_AT + 1} goes to "
           f"user id {bad_user}, {bad_what}. See messages_stored_during_failed_call: how many "
           "of the 49 good messages Moodle stored during the call.", token, PLUGIN_ROLE)
    path = OUT / f"{name}.json"
    text = path.read_text(encoding="utf-8")
    stored = stored_messages() - before
    path.write_text(text.rstrip().rstrip("}") + f',\n "messages_stored_during_failed_call": '
                    f"{stored}\n}}\n", encoding="utf-8")
    print(f"     stored during the call: {stored}")


def main() -> int:
    """Record everything; tokens come from the environment and the kit's token file."""
    OUT.mkdir(parents=True, exist_ok=True)
    token = os.environ["PROFROUTE_KIT_TOKEN"]
    limited = wsrec.load_tokens()["ws_limited"]
    record_read_backs(token, limited)
    record_message_batch(token, "core_message_send_instant_messages__batch50_one_invalid_recipient",
                         BAD_USER, "which does not exist")
    deleted = os.environ.get("KIT_DELETED_USER_ID")
    if deleted:
        record_message_batch(
            token, "core_message_send_instant_messages__batch50_one_deleted_recipient",
            int(deleted), "a user deleted in Moodle (user.deleted = 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
