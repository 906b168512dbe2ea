"""The availability page: a teacher's excluded dates and subjects set by hand."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Teacher, TeacherUnavailable


def _teacher() -> Teacher:
    teacher = Teacher(moodle_user_id=41, lastname="Иванова", firstname="Анна",
                      subjects="Математика")
    db.session.add(teacher)
    db.session.commit()
    return teacher


def test_dates_are_excluded_and_removed_and_subjects_set_then_given_back_to_moodle(
        signed_in_client: FlaskClient) -> None:
    teacher = _teacher()
    url = "/teachers/41/availability"
    bad = signed_in_client.post(url, data={"action": "add", "starts_on": "2027-03-10",
                                           "ends_on": "2027-03-01"})
    assert bad.status_code == 422 and "раньше" in bad.get_data(as_text=True)
    done = signed_in_client.post(url, data={"action": "add", "starts_on": "10.03.2027",
                                            "ends_on": "", "reason": "конференция"})
    assert done.status_code == 303
    (found,) = db.session.scalars(select(TeacherUnavailable)).all()
    assert (found.starts_on, found.ends_on, found.reason, found.source) == (
        dt.date(2027, 3, 10), dt.date(2027, 3, 10), "конференция", "page")
    assert "конференция" in signed_in_client.get(url).get_data(as_text=True)
    signed_in_client.post(url, data={"action": "subjects", "subjects": "Физика; Химия"})
    db.session.expire_all()
    assert db.session.get(Teacher, teacher.id).subject_list == ["Физика", "Химия"]
    signed_in_client.post(url, data={"action": "subjects", "moodle": "1"})
    db.session.expire_all()
    assert db.session.get(Teacher, teacher.id).subject_list == ["Математика"]
    assert signed_in_client.post(url, data={"action": "remove", "id": "999"}).status_code == 404
    assert signed_in_client.post(url, data={"action": "remove",
                                            "id": str(found.id)}).status_code == 303
    assert db.session.scalars(select(TeacherUnavailable)).all() == []
