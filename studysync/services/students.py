"""Student accounts and academic records."""
from __future__ import annotations

import secrets

from sqlalchemy import or_, select

from ..access import allow, public
from ..auth import sessions
from ..auth.passwords import hash_password
from ..auth.throttle import login_throttle
from ..config import settings
from ..conflicts import EMAIL_TAKEN, ROLL_NO_TAKEN
from ..db import db
from ..errors import BadRequest, Conflict, Forbidden, NotFound
from ..models import College, User
from ..queries import Page, paginate, text_search
from ..tenancy import all_tenants, tenant_context
from . import audit
from .colleges import require_active_college
from .users import email_taken

STAFF_EMAIL = "This email belongs to a staff account; staff and administrators sign in at /api/v1/auth/login"
USERNAME_TAKEN = "Username already exists"
RECORD_FIELDS = ("name", "email", "department", "year", "roll_no", "marks", "rating", "group_limit", "status",
                 "username")
SELF_REPORTED_RATING = "self_reported_rating"  # college setting: a student may state their rating at sign-up
STAFF_SET = ("rating", "marks", "group_limit", "status")  # record fields a student never sets on themselves


def domain_problem(college: College, email: str) -> str | None:
    domains = college.domain_names
    if domains and email.rsplit("@", 1)[-1] not in domains:
        return f"Email must belong to one of: {', '.join(domains)}"
    return None


def _check_unique(email: str | None, roll_no: str | None, exclude_id: str | None = None,
                  username: str | None = None) -> None:
    if email and email_taken(email):
        raise Conflict(EMAIL_TAKEN)
    if username and db.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(USERNAME_TAKEN)
    if roll_no:
        stmt = select(User.id).where(User.roll_no == roll_no)
        if exclude_id:
            stmt = stmt.where(User.id != exclude_id)
        if db.session.execute(stmt).first():
            raise Conflict(ROLL_NO_TAKEN)


def new_student(record: dict, password_hash: str | None) -> User:
    fields = {k: v for k, v in record.items() if k in RECORD_FIELDS}
    return User(role="student", password_hash=password_hash, **fields)


def _holder_role(college_id: str, email: str) -> str | None:
    """The role of the account of this college (or the sysadmin) already using `email`."""
    stmt = select(User.role).where(User.email == email, or_(User.college_id == college_id, User.role == "sysadmin"))
    with all_tenants():
        return db.session.execute(stmt).scalars().first()


def _self_registered(college: College, record: dict) -> dict:
    """What a student may state about themselves: their rating is staff's to set, unless the college's
    `self_reported_rating` setting lets students give it at sign-up."""
    allowed = {"rating"} if (college.settings or {}).get(SELF_REPORTED_RATING) else set()
    return {k: v for k, v in record.items() if k not in STAFF_SET or k in allowed}


@public
def register(college_id: str, record: dict, password: str, client: sessions.ClientInfo) -> User:
    """Public self-registration into a named college, for students: a staff email is sent to the
    staff login. Either answer tells that an account exists, so the login throttle counts it like
    a wrong password."""
    college = require_active_college(college_id)
    record = _self_registered(college, record)
    problem = domain_problem(college, record["email"])
    if problem:
        raise BadRequest(problem, errors={"student_email": [problem]})
    throttle = login_throttle()
    throttle.check(record["email"], client.ip_address)
    with tenant_context(college.id):
        holder = _holder_role(college.id, record["email"])
        if holder is not None:
            throttle.failed(record["email"], client.ip_address)
            raise Conflict(EMAIL_TAKEN) if holder == "student" else Forbidden(STAFF_EMAIL)
        _check_unique(None, record.get("roll_no"), username=record.get("username"))
        student = new_student(record, hash_password(password, settings().bcrypt_rounds))
        db.session.add(student)
        db.session.flush()  # inside the college's context: the flush guard stamps and checks it
    return student


@allow("admin")
def create_student(actor: User, record: dict, password: str | None) -> tuple[User, str | None]:
    """An admin creates one record; without a password a temporary one is issued once."""
    _check_unique(record["email"], record.get("roll_no"))
    temporary = None if password else secrets.token_urlsafe(9) + "A1"
    student = new_student(record, hash_password(password or temporary, settings().bcrypt_rounds))
    db.session.add(student)
    audit.record(actor, "student.create", "user", student)
    db.session.flush()
    return student, temporary


@allow("admin", "teacher")
def list_students(actor: User, page: int, limit: int, filters: dict) -> Page[User]:
    return paginate(students_query(filters), page, limit)


def students_query(filters: dict):
    """The list's filters, shared with the CSV export (services/roster_export.py)."""
    stmt = select(User).where(User.role == "student").order_by(User.name, User.id)
    if filters.get("q"):
        stmt = stmt.where(text_search(filters["q"], User.name, User.email, User.roll_no))
    for field in ("department", "year", "status", "roll_no"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(User, field) == filters[field])
    return stmt


@allow("admin", "teacher")
def get_student(actor: User, student_id: str) -> User:
    return _student_or_404(student_id)


def _student_or_404(student_id: str) -> User:
    student = db.session.execute(
        select(User).where(User.id == student_id, User.role == "student")
    ).scalar_one_or_none()
    if student is None:
        raise NotFound("Student not found")
    return student


@allow("admin", "teacher")
def update_record(actor: User, student_id: str, changes: dict) -> User:
    """Staff edit a student's record; setting the status inactive ends their sessions."""
    student = _student_or_404(student_id)
    if "email" in changes and changes["email"] != student.email and email_taken(changes["email"]):
        raise Conflict(EMAIL_TAKEN)
    _check_unique(None, changes.get("roll_no"), exclude_id=student.id)
    for field, value in changes.items():
        if field in RECORD_FIELDS:
            setattr(student, field, value)
    audit.record(actor, "student.update", "user", student, {"changes": changes})
    if student.status != "active":
        sessions.revoke_all(student)
    return student


@allow("admin")
def deactivate(actor: User, student_id: str) -> User:
    """Sessions end at once; memberships and messages stay for the groups' history."""
    student = _student_or_404(student_id)
    student.status = "inactive"
    audit.record(actor, "student.deactivate", "user", student)
    sessions.revoke_all(student)
    return student
