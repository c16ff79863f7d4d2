"""Student accounts and academic records."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from ..auth.passwords import hash_password
from ..config import settings
from ..db import db
from ..errors import BadRequest, Conflict, NotFound
from ..models import College, User
from ..queries import Page, paginate, text_search
from ..tenancy import tenant_context
from . import sessions
from .colleges import require_active_college
from .users import EMAIL_TAKEN, commit_or_conflict, email_taken

ROLL_NO_TAKEN = "Roll number already exists"
RECORD_FIELDS = ("name", "email", "department", "year", "roll_no", "marks", "rating", "group_limit", "status")


def domain_problem(college: College, email: str) -> str | None:
    domains = college.domain_names
    if domains and email.rsplit("@", 1)[-1] not in domains:
        return f"Email must belong to one of: {', '.join(domains)}"
    return None


def _check_unique(email: str | None, roll_no: str | None, exclude_id: str | None = None) -> None:
    if email and email_taken(email):
        raise Conflict(EMAIL_TAKEN)
    if roll_no:
        stmt = select(User.id).where(User.roll_no == roll_no)
        if exclude_id:
            stmt = stmt.where(User.id != exclude_id)
        if db.session.execute(stmt).first():
            raise Conflict(ROLL_NO_TAKEN)


def new_student(record: dict, password_hash: str | None) -> User:
    fields = {k: v for k, v in record.items() if k in RECORD_FIELDS}
    return User(role="student", password_hash=password_hash, **fields)


def register(college_id: str, record: dict, password: str) -> User:
    """Public self-registration into a named college."""
    college = require_active_college(college_id)
    problem = domain_problem(college, record["email"])
    if problem:
        raise BadRequest(problem, errors={"student_email": [problem]})
    with tenant_context(college.id):
        _check_unique(record["email"], record.get("roll_no"))
        student = new_student(record, hash_password(password, settings().bcrypt_rounds))
        db.session.add(student)
        commit_or_conflict()
    return student


def create_student(record: dict, password: str | None) -> tuple[User, str | None]:
    """An admin creates one record; without a password a temporary one is issued once."""
    _check_unique(record["email"], record.get("roll_no"))
    temporary = None if password else secrets.token_urlsafe(9) + "A1"
    student = new_student(record, hash_password(password or temporary, settings().bcrypt_rounds))
    db.session.add(student)
    commit_or_conflict()
    return student, temporary


def list_students(page: int, limit: int, filters: dict) -> Page[User]:
    stmt = select(User).where(User.role == "student").order_by(User.name, User.id)
    if filters.get("q"):
        stmt = stmt.where(text_search(filters["q"], User.name, User.email, User.roll_no))
    for field in ("department", "year", "status", "roll_no"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(User, field) == filters[field])
    return paginate(stmt, page, limit)


def get_student(student_id: str) -> User:
    student = db.session.execute(
        select(User).where(User.id == student_id, User.role == "student")
    ).scalar_one_or_none()
    if student is None:
        raise NotFound("Student not found")
    return student


def update_record(student_id: str, changes: dict) -> User:
    """Staff edit a student's record; setting the status inactive ends their sessions."""
    student = get_student(student_id)
    if "email" in changes and changes["email"] != student.email and email_taken(changes["email"]):
        raise Conflict(EMAIL_TAKEN)
    _check_unique(None, changes.get("roll_no"), exclude_id=student.id)
    for field, value in changes.items():
        if field in RECORD_FIELDS:
            setattr(student, field, value)
    commit_or_conflict()
    if student.status != "active":
        sessions.revoke_all(student)
    return student


def deactivate(student_id: str) -> User:
    """Sessions end at once; memberships and messages stay for the groups' history."""
    student = get_student(student_id)
    student.status = "inactive"
    db.session.flush()
    sessions.revoke_all(student)
    return student
