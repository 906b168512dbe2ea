#!/usr/bin/env python3
"""Record Moodle's silent refusal of a separate-groups course, from a kit Moodle.

With course 4 (``pk-digital``) in separate groups mode and ``moodle/site:accessallgroups``
prohibited there for the kit's web-service role (``separate_groups.php on``), records into
the folder given (default ``tests/recordings/moodle``):

* ``core_enrol_get_enrolled_users`` as the push reads it back: ``[]``, no error, though 8
  users are enrolled (enrol/externallib.php:876-888: the WS user is in no group);
* the probe ProfRoute makes first (``groupid`` of a group that does not exist):
  ``nopermissions`` "(Access all groups)." (enrol/externallib.php:862-864);
* ``core_course_get_courses_by_field`` by ids, which tells the course's ``groupmode``.

The course is put back (``off``) whatever happens. Run as root on the kit's machine; the
token is the kit's ``pd_integration`` one (``MOODLE_TOKEN_FILE``, default
``~/moodle-token.txt``), written as ``REDACTED``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, os.environ.get("MOODLE_KIT_DIR", str(ROOT.parent / "shared" / "moodle-kit")))
import wsrec  # noqa: E402  (the kit's stdlib REST client and recorder)

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "recordings" / "moodle"
COURSE = 4
FIELDS = "id,username,firstname,lastname,fullname,email,idnumber,customfields,roles"
PHP = Path(__file__).with_name("separate_groups.php")


def switch(action: str) -> None:
    subprocess.run(["runuser", "-u", "www-data", "--", "php", str(PHP), action, str(COURSE)],
                   check=True)


def main() -> None:
    token = wsrec.load_tokens()["pd_integration"]
    switch("on")
    try:
        wsrec.record(str(OUT), "core_enrol_get_enrolled_users__separategroups_without_accessallgroups",
                     "core_enrol_get_enrolled_users", {"courseid": COURSE, "options": [
                         {"name": "userfields", "value": FIELDS},
                         {"name": "limitfrom", "value": 0}, {"name": "limitnumber", "value": 200}]},
                     "Course 4 in separate groups mode, accessallgroups prohibited for the WS "
                     "role there: no error, no user (8 are enrolled).", token)
        wsrec.record(str(OUT), "core_enrol_get_enrolled_users__groupid_probe_without_accessallgroups",
                     "core_enrol_get_enrolled_users", {"courseid": COURSE, "options": [
                         {"name": "groupid", "value": 2147483647},
                         {"name": "userfields", "value": "id,fullname"},
                         {"name": "limitnumber", "value": 1}]},
                     "A group that does not exist is one the caller is not in: Moodle requires "
                     "accessallgroups in the course.", token)
        wsrec.record(str(OUT), "core_course_get_courses_by_field__separategroups",
                     "core_course_get_courses_by_field", {"field": "ids", "value": str(COURSE)},
                     "The course's groupmode (1 = separate groups).", token)
    finally:
        switch("off")


if __name__ == "__main__":
    main()
