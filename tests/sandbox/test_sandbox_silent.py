"""Where Moodle 4.5 refuses silently (an answer of 200 with less data, no error, no warning),
the sandbox does too for a role lacking the capability; the plugin's role keeps the whole
answer. Each case names the Moodle source lines it follows."""

from __future__ import annotations

from typing import Any

from sandbox.sandbox_support import Moodle

from lms_connectors.moodle.sandbox import PLUGIN_ROLE
from lms_connectors.moodle.sandbox.store import SEPARATEGROUPS, VISIBLEGROUPS

ENROLLED = "core_enrol_get_enrolled_users"
ALL_GROUPS = "moodle/site:accessallgroups"
COURSE = 3


def ids(answer: Any) -> list[int]:
    assert isinstance(answer, list), answer
    return [u["id"] for u in answer]


def enrolled_ids(moodle: Moodle, course: int = COURSE) -> list[int]:
    return sorted(e.userid for e in moodle.site.course_enrolments(course))


def test_separate_groups_without_accessallgroups_shows_nobody_to_a_ws_user_in_no_group() -> None:
    # enrol/externallib.php:876-888: "User doesn't belong to any group ... Return an empty array."
    moodle = Moodle(capabilities=PLUGIN_ROLE - {ALL_GROUPS})
    everyone = enrolled_ids(moodle)
    assert ids(moodle.call(ENROLLED, courseid=COURSE)) == everyone  # no groups: whole list
    moodle.site.courses[COURSE].groupmode = SEPARATEGROUPS
    assert moodle.call(ENROLLED, courseid=COURSE) == []  # 200, no error, nobody
    moodle.site.courses[COURSE].groupmode = VISIBLEGROUPS
    assert ids(moodle.call(ENROLLED, courseid=COURSE)) == everyone  # only separate groups hide


def test_separate_groups_with_accessallgroups_keeps_the_whole_list() -> None:
    moodle = Moodle()  # the plugin's role
    moodle.site.courses[COURSE].groupmode = SEPARATEGROUPS
    assert ids(moodle.call(ENROLLED, courseid=COURSE)) == enrolled_ids(moodle)


def test_separate_groups_show_only_the_members_of_the_callers_groups_and_shared_groups() -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {ALL_GROUPS})
    site = moodle.site
    site.courses[COURSE].groupmode = SEPARATEGROUPS
    groups = sorted((g for g in site.groups.values() if g.courseid == COURSE and g.members),
                    key=lambda g: g.id)
    mine, other = groups[0], groups[1]
    mine.members.add(site.ws_userid)
    both = min(other.members)  # a member of both groups: only the shared one is listed
    mine.members.add(both)
    answer = moodle.call(ENROLLED, courseid=COURSE)
    assert ids(answer) == sorted(mine.members - {site.ws_userid})  # the WS user is not enrolled
    assert len(ids(answer)) < len(enrolled_ids(moodle))
    listed = {u["id"]: [g["id"] for g in u.get("groups", [])] for u in answer}
    assert listed[both] == [mine.id]  # user/lib.php:553-558


def test_a_group_option_the_caller_is_not_in_needs_accessallgroups_even_if_it_does_not_exist(
) -> None:
    # enrol/externallib.php:862-864 with groups_is_member (lib/grouplib.php:578-581)
    options = {"options[0][name]": "groupid", "options[0][value]": "2147483647"}
    refused = Moodle(capabilities=PLUGIN_ROLE - {ALL_GROUPS}).call(
        ENROLLED, courseid=COURSE, **options)
    assert refused["errorcode"] == "nopermissions"
    assert refused["message"].endswith("(Access all groups).")
    assert Moodle().call(ENROLLED, courseid=COURSE, **options) == []


def test_without_viewdetails_only_course_contacts_are_returned_and_a_page_comes_back_short(
) -> None:
    moodle = Moodle(capabilities=PLUGIN_ROLE - {"moodle/user:viewdetails"})
    answer = moodle.call(ENROLLED, courseid=COURSE)
    assert ids(answer) == [moodle.site.methodologist_id]  # user/lib.php:367-370
    page = {"options[0][name]": "limitfrom", "options[0][value]": "0",
            "options[1][name]": "limitnumber", "options[1][value]": "5"}
    assert len(moodle.call(ENROLLED, courseid=COURSE, **page)) < 5
    assert len(Moodle().call(ENROLLED, courseid=COURSE, **page)) == 5
    contact = moodle.site.methodologist_id
    by_id = moodle.call("core_user_get_users_by_field", field="id",
                        **{"values[0]": 4, "values[1]": contact})
    assert [u["id"] for u in by_id] == [contact]  # as recorded for ws_limited: others left out


def test_identity_fields_are_withheld_without_viewuseridentity_and_viewalldetails() -> None:
    fields = {"options[0][name]": "userfields",
              "options[0][value]": "id,username,fullname,email,idnumber,customfields"}
    full = {u["id"]: u for u in Moodle().call(ENROLLED, courseid=COURSE, **fields)}
    teacher = next(u for u in full.values() if u.get("idnumber"))
    assert {"username", "email", "idnumber", "customfields"} <= set(teacher)

    without = PLUGIN_ROLE - {"moodle/site:viewuseridentity", "moodle/user:viewalldetails",
                             "moodle/course:useremail"}
    bare = {u["id"]: u for u in Moodle(capabilities=without).call(
        ENROLLED, courseid=COURSE, **fields)}
    assert set(bare) == set(full)  # the same users, fewer fields
    assert set(bare[teacher["id"]]) == {"id", "fullname", "customfields"}
    assert bare[teacher["id"]]["customfields"] == teacher["customfields"]

    identity = {u["id"]: u for u in Moodle(capabilities=without | {
        "moodle/site:viewuseridentity"}).call(ENROLLED, courseid=COURSE, **fields)}
    assert identity[teacher["id"]]["idnumber"] == teacher["idnumber"]
    assert identity[teacher["id"]]["email"] == teacher["email"]
    assert "username" not in identity[teacher["id"]]  # user/lib.php:375-378

    by_field = Moodle(capabilities=without).call(
        "core_user_get_users_by_field", field="id", **{"values[0]": teacher["id"]})
    assert [u["id"] for u in by_field] == [teacher["id"]]
    assert not {"email", "idnumber", "username", "auth"} & set(by_field[0])


def test_a_hidden_course_is_left_out_without_viewhiddencourses() -> None:
    lacking = PLUGIN_ROLE - {"moodle/course:viewhiddencourses"}
    moodle = Moodle(capabilities=lacking)
    moodle.site.courses[COURSE].visible = False
    listed = moodle.call("core_course_get_courses_by_field")
    assert COURSE not in [c["id"] for c in listed["courses"]]
    assert listed["warnings"] == []  # course/externallib.php:3327-3330: skipped, no warning
    assert moodle.call("core_course_get_courses_by_field", field="id", value=COURSE) == {
        "courses": [], "warnings": []}
    refused = moodle.call(ENROLLED, courseid=COURSE)  # lib/moodlelib.php:2470-2474
    assert refused["errorcode"] == "errorcoursecontextnotvalid"
    user = next(e.userid for e in moodle.site.course_enrolments(COURSE) if e.roleid == 5)
    courses = moodle.call("core_enrol_get_users_courses", userid=user)
    assert COURSE not in [c["id"] for c in courses]

    full = Moodle()
    full.site.courses[COURSE].visible = False
    shown = full.call("core_course_get_courses_by_field", field="id", value=COURSE)["courses"]
    assert [(c["id"], c["visible"]) for c in shown] == [(COURSE, 0)]


def test_the_course_answers_carry_its_group_mode() -> None:
    moodle = Moodle()
    moodle.site.courses[COURSE].groupmode = SEPARATEGROUPS
    shown = moodle.call("core_course_get_courses_by_field", field="id", value=COURSE)["courses"]
    assert shown[0]["groupmode"] == SEPARATEGROUPS
