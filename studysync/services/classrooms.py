"""Classrooms: created by admins and teachers; enrollment lists kept by them.

Removing a student from a classroom leaves their existing classroom-group memberships alone (the
groups' history stays intact); it only stops them from joining or being added to that classroom's
groups from now on.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import delete, func, select

from ..access import allow
from ..conflicts import CODE_TAKEN
from ..db import db, utcnow
from ..errors import BadRequest, Conflict, Forbidden
from ..models import Classroom, ClassroomEnrollment, User
from ..models.user import COLLEGE_ROLES
from ..policies import ensure_manage_classroom, ensure_view_classroom
from ..queries import Page, get_scoped_or_404, paginate, text_search
from . import audit
from .friends import visible_emails

NOT_FOUND = "Classroom not found"


# Queries other services use ----------------------------------------------------------------------


def get_classroom_or_404(classroom_id: str) -> Classroom:
    return get_scoped_or_404(Classroom, classroom_id, NOT_FOUND)


def is_enrolled(classroom_id: str, user_id: str) -> bool:
    return db.session.execute(
        select(ClassroomEnrollment.student_id)
        .where(ClassroomEnrollment.classroom_id == classroom_id, ClassroomEnrollment.student_id == user_id)
    ).first() is not None


def enrolled_among(classroom_id: str, user_ids: Iterable[str]) -> set[str]:
    ids = set(user_ids)
    if not ids:
        return set()
    return set(db.session.execute(
        select(ClassroomEnrollment.student_id)
        .where(ClassroomEnrollment.classroom_id == classroom_id, ClassroomEnrollment.student_id.in_(ids))
    ).scalars())


def classroom_ids_of(student_id: str):
    """A subquery of the classrooms a student is enrolled in (for `IN (...)` filters)."""
    return select(ClassroomEnrollment.classroom_id).where(ClassroomEnrollment.student_id == student_id)


def students_among(user_ids: Iterable[str]) -> dict[str, User]:
    """Active students of the current college among `user_ids` (another college's ids are absent)."""
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(User).where(User.id.in_(ids), User.role == "student", User.status == "active")
    ).scalars()
    return {u.id: u for u in rows}


# Helpers ---------------------------------------------------------------------------------------------


@dataclass
class ClassroomCard:
    """A classroom as every answer shows it."""

    id: str
    name: str
    code: str | None
    description: str | None
    teacher_id: str | None
    created_at: datetime
    updated_at: datetime | None
    teacher_name: str | None = None
    student_count: int = 0


@dataclass
class EnrolledStudent:
    id: str
    name: str
    roll_no: str | None
    email: str | None = None  # only for viewers allowed to see it


def _decorate(classrooms: list[Classroom]) -> list[ClassroomCard]:
    """Each classroom with its `student_count` and `teacher_name`, two queries in all."""
    ids = [c.id for c in classrooms]
    counts: dict[str, int] = {}
    if ids:
        counts = dict(db.session.execute(
            select(ClassroomEnrollment.classroom_id, func.count())
            .where(ClassroomEnrollment.classroom_id.in_(ids))
            .group_by(ClassroomEnrollment.classroom_id)
        ).all())
    teacher_ids = {c.teacher_id for c in classrooms if c.teacher_id}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(teacher_ids))).all()) if teacher_ids else {}
    return [ClassroomCard(c.id, c.name, c.code, c.description, c.teacher_id, c.created_at, c.updated_at,
                          names.get(c.teacher_id), counts.get(c.id, 0)) for c in classrooms]


def _teacher_or_400(teacher_id: str) -> User:
    teacher = db.session.execute(
        select(User).where(User.id == teacher_id, User.role == "teacher", User.status == "active")
    ).scalar_one_or_none()
    if teacher is None:
        raise BadRequest("teacher_id must be an active teacher of this college",
                         errors={"teacher_id": ["Unknown teacher"]})
    return teacher


def _students_or_400(student_ids: list[str]) -> list[str]:
    ids = list(dict.fromkeys(student_ids))
    found = students_among(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        message = f"Unknown students: {', '.join(missing)}"
        raise BadRequest(message, errors={"student_ids": [message]})
    return ids


def _code_taken(code: str | None, exclude_id: str | None = None) -> bool:
    if not code:
        return False
    stmt = select(Classroom.id).where(Classroom.code == code)
    if exclude_id:
        stmt = stmt.where(Classroom.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def _managed(actor: User, classroom_id: str) -> Classroom:
    classroom = get_classroom_or_404(classroom_id)
    ensure_manage_classroom(actor, classroom)
    return classroom


def viewable(actor: User, classroom_id: str) -> Classroom:
    """The classroom if `actor` may see it: admins, its teacher, its students."""
    classroom = get_classroom_or_404(classroom_id)
    enrolled = actor.role == "student" and is_enrolled(classroom.id, actor.id)
    ensure_view_classroom(actor, classroom, enrolled=enrolled)
    return classroom


# Classrooms ------------------------------------------------------------------------------------------


@allow("admin", "teacher")
def create_classroom(actor: User, data: dict[str, Any]) -> ClassroomCard:
    teacher_id = data.get("teacher_id")
    if actor.role == "teacher":
        if teacher_id not in (None, actor.id):
            raise Forbidden("A teacher creates classrooms for themself; ask an admin to assign another teacher")
        teacher_id = actor.id
    elif teacher_id is not None:
        _teacher_or_400(teacher_id)
    if _code_taken(data.get("code")):
        raise Conflict(CODE_TAKEN, errors={"code": [CODE_TAKEN]})
    classroom = Classroom(name=data["name"], code=data.get("code"), description=data.get("description"),
                          teacher_id=teacher_id, updated_at=utcnow())
    db.session.add(classroom)
    db.session.flush()
    return _decorate([classroom])[0]


@allow(*COLLEGE_ROLES)
def list_classrooms(actor: User, page: int, limit: int, q: str | None = None) -> Page[ClassroomCard]:
    """Admins see every classroom, a teacher their own, a student those they are enrolled in."""
    stmt = select(Classroom).order_by(Classroom.name, Classroom.id)
    if actor.role == "teacher":
        stmt = stmt.where(Classroom.teacher_id == actor.id)
    elif actor.role == "student":
        stmt = stmt.where(Classroom.id.in_(classroom_ids_of(actor.id)))
    if q and q.strip():
        stmt = stmt.where(text_search(q, Classroom.name, Classroom.code))
    result = paginate(stmt, page, limit)
    result.items = _decorate(list(result.items))
    return result


@allow(*COLLEGE_ROLES)
def get_classroom(actor: User, classroom_id: str) -> ClassroomCard:
    return _decorate([viewable(actor, classroom_id)])[0]


@allow("admin", "teacher")
def update_classroom(actor: User, classroom_id: str, changes: dict[str, Any]) -> ClassroomCard:
    classroom = _managed(actor, classroom_id)
    if "teacher_id" in changes and changes["teacher_id"] != classroom.teacher_id:
        if actor.role != "admin":
            raise Forbidden("Only an admin can assign a classroom to another teacher")
        if changes["teacher_id"] is not None:
            _teacher_or_400(changes["teacher_id"])
    if "code" in changes and _code_taken(changes["code"], exclude_id=classroom.id):
        raise Conflict(CODE_TAKEN, errors={"code": [CODE_TAKEN]})
    for field in ("name", "code", "description", "teacher_id"):
        if field in changes:
            setattr(classroom, field, changes[field])
    classroom.updated_at = utcnow()
    return _decorate([classroom])[0]


# Enrollment ------------------------------------------------------------------------------------------


def _current_ids(classroom_id: str) -> set[str]:
    return set(db.session.execute(
        select(ClassroomEnrollment.student_id).where(ClassroomEnrollment.classroom_id == classroom_id)
    ).scalars())


@allow("admin", "teacher")
def enroll(actor: User, classroom_id: str, student_ids: list[str]) -> ClassroomCard:
    """Add students; those already enrolled are skipped (the body may repeat ids)."""
    classroom = _managed(actor, classroom_id)
    if not student_ids:
        raise BadRequest("student_ids must be a non-empty array", errors={"student_ids": ["Must not be empty"]})
    ids = _students_or_400(student_ids)
    current = _current_ids(classroom.id)
    audit.record(actor, "classroom.enroll", "classroom", classroom, {"added": sorted(set(ids) - current)})
    return _enroll_new(classroom, ids, current)


def _enroll_new(classroom: Classroom, ids: list[str], current: set[str]) -> ClassroomCard:
    """Enroll the `ids` not in `current`, and commit."""
    for student_id in ids:
        if student_id not in current:
            db.session.add(ClassroomEnrollment(classroom_id=classroom.id, student_id=student_id))
    classroom.updated_at = utcnow()
    db.session.flush()
    return _decorate([classroom])[0]


@allow("admin", "teacher")
def replace_enrollment(actor: User, classroom_id: str, student_ids: list[str]) -> ClassroomCard:
    classroom = _managed(actor, classroom_id)
    ids = _students_or_400(student_ids)
    current = _current_ids(classroom.id)
    gone = current - set(ids)
    audit.record(actor, "classroom.replace_enrollment", "classroom", classroom, {"student_ids": sorted(set(ids))})
    if gone:
        db.session.execute(
            delete(ClassroomEnrollment)
            .where(ClassroomEnrollment.classroom_id == classroom.id, ClassroomEnrollment.student_id.in_(gone))
            .execution_options(synchronize_session=False)
        )
    return _enroll_new(classroom, ids, current)


@allow("admin", "teacher")
def unenroll(actor: User, classroom_id: str, student_ids: list[str]) -> ClassroomCard:
    """Remove students; ids that are not enrolled are ignored."""
    classroom = _managed(actor, classroom_id)
    if not student_ids:
        raise BadRequest("student_ids must be a non-empty array", errors={"student_ids": ["Must not be empty"]})
    db.session.execute(
        delete(ClassroomEnrollment)
        .where(ClassroomEnrollment.classroom_id == classroom.id, ClassroomEnrollment.student_id.in_(set(student_ids)))
        .execution_options(synchronize_session=False)
    )
    classroom.updated_at = utcnow()
    audit.record(actor, "classroom.unenroll", "classroom", classroom, {"removed": sorted(set(student_ids))})
    db.session.flush()
    return _decorate([classroom])[0]


@allow(*COLLEGE_ROLES)
def list_students(actor: User, classroom_id: str, page: int, limit: int) -> Page[EnrolledStudent]:
    classroom = viewable(actor, classroom_id)
    stmt = (select(User).join(ClassroomEnrollment, ClassroomEnrollment.student_id == User.id)
            .where(ClassroomEnrollment.classroom_id == classroom.id).order_by(User.name, User.id))
    result = paginate(stmt, page, limit)
    emails = visible_emails(actor, result.items)
    result.items = [EnrolledStudent(u.id, u.name, u.roll_no, emails.get(u.id)) for u in result.items]
    return result
