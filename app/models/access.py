"""Who may see what: the roles a web user holds and a methodologist's municipalities."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class WebUserRole(db.Model):  # type: ignore[name-defined]
    """One role of a web user: ``admin``, ``methodologist`` (``whole_region``, or the
    municipalities in :class:`WebUserMunicipality`) or ``teacher`` (of ``teacher_moodle_id``).

    The teacher is named by Moodle user id, not by a foreign key: the role can be granted
    before the sync brings the teacher in, and an LTI launch knows only the Moodle id.
    """

    __tablename__ = "web_user_role"
    __table_args__ = (UniqueConstraint("web_user_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"),
                                             index=True)
    role: Mapped[str] = mapped_column(String(32))
    whole_region: Mapped[bool] = mapped_column(Boolean, default=False)
    teacher_moodle_id: Mapped[int | None] = mapped_column(Integer)


class WebUserMunicipality(db.Model):  # type: ignore[name-defined]
    """A municipality in a methodologist's scope."""

    __tablename__ = "web_user_municipality"
    __table_args__ = (UniqueConstraint("web_user_id", "municipality_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    web_user_id: Mapped[int] = mapped_column(ForeignKey("web_user.id", ondelete="CASCADE"),
                                             index=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id",
                                                            ondelete="CASCADE"))
