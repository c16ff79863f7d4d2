"""Data rights: everything the college holds about one person, and a whole college as an archive.

Both read the tables themselves (Core selects, one per table) rather than the API's views, so a
table added later shows up in the college archive without anyone remembering to add it, and the
personal export names each table it reads. Secrets never leave: password and token hashes are
dropped from every row.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, or_, select

from ..db import Base, db, utc_iso, utcnow
from ..errors import NotFound
from ..models import College, User
from ..models.user import ERASED_ROLE
from ..access import allow
from ..policies import ensure
from . import audit
from ..tenancy import all_tenants

SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})
ARCHIVE_FORMAT = "studysync-college-archive/1"
PERSONAL_FORMAT = "studysync-personal-data/1"

# section → (table, the columns that name the person). "Messages they wrote" means what they sent;
# what others sent them is the others' data.
PERSONAL_SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "profile": ("profiles", ("user_id",)),
    "memberships": ("group_members", ("user_id",)),
    "groups_led_or_created": ("study_groups", ("leader_id", "created_by")),
    "classroom_enrollments": ("classroom_enrollments", ("student_id",)),
    "classrooms_taught": ("classrooms", ("teacher_id",)),
    "group_messages": ("messages", ("sender_id",)),
    "message_reactions": ("message_reactions", ("user_id",)),
    "direct_messages": ("direct_messages", ("sender_id",)),
    "login_sessions": ("auth_sessions", ("user_id",)),
    "study_sessions_created": ("study_sessions", ("created_by",)),
    "study_session_rsvps": ("session_attendees", ("user_id",)),
    "friendships": ("friendships", ("user_low_id", "user_high_id")),
    "friend_requests": ("friend_requests", ("sender_id", "receiver_id")),
    "notifications": ("notifications", ("user_id",)),
}


@dataclass(frozen=True)
class PersonalData:
    subject: User
    document: dict[str, Any]


def plain(value: Any) -> Any:
    """A column value as JSON: times in UTC with `Z`, bytes (embedding vectors) as base64."""
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def row_dict(table: Table, row) -> dict[str, Any]:
    return {column.name: plain(row._mapping[column]) for column in table.columns if column.name not in SECRET_COLUMNS}


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _rows(table: Table, condition) -> list[dict[str, Any]]:
    order = [c for c in table.primary_key.columns]
    return [row_dict(table, row) for row in db.session.execute(select(table).where(condition).order_by(*order))]


# One person ---------------------------------------------------------------------------------------


def _subject_for(actor: User, user_id: str) -> User:
    """A student reads their own; their college's admin reads any of its people (not the sysadmin's)."""
    ensure(actor.id == user_id or actor.role == "admin", "You can only download your own data")
    subject = db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if subject is None or subject.role == ERASED_ROLE:
        raise NotFound("User not found")
    return subject


@allow("student", "teacher", "admin")
def personal_data(actor: User, user_id: str) -> PersonalData:
    subject = _subject_for(actor, user_id)
    users = _table("users")
    college = db.session.get(College, subject.college_id)
    document: dict[str, Any] = {
        "format": PERSONAL_FORMAT,
        "generated_at": utc_iso(utcnow()),
        "college": {"college_id": college.id, "name": college.name, "subdomain": college.subdomain},
        "account": _rows(users, users.c.id == subject.id)[0],
    }
    for section, (table_name, columns) in PERSONAL_SECTIONS.items():
        table = _table(table_name)
        condition = or_(*(table.c[c] == subject.id for c in columns)) & (table.c.college_id == subject.college_id)
        document[section] = _rows(table, condition)
    embeddings = _table("embeddings")
    document["embeddings"] = _rows(embeddings, (embeddings.c.owner_type == "profile")
                                   & (embeddings.c.owner_id == subject.id)
                                   & (embeddings.c.college_id == subject.college_id))
    audit.record(actor, "user.data_exported", "user", subject)
    return PersonalData(subject=subject, document=document)


# A whole college ----------------------------------------------------------------------------------


def college_tables() -> list[Table]:
    """Every table holding a college's rows, parents before children."""
    return [t for t in Base.metadata.sorted_tables if "college_id" in t.columns]


def college_archive_document(college: College) -> dict[str, Any]:
    colleges = _table("colleges")
    with all_tenants():
        tables = {table.name: _rows(table, table.c.college_id == college.id) for table in college_tables()}
        return {
            "format": ARCHIVE_FORMAT,
            "generated_at": utc_iso(utcnow()),
            "college": _rows(colleges, colleges.c.id == college.id)[0],
            "tables": tables,
        }


def college_or_404(college_id: str) -> College:
    with all_tenants():
        college = db.session.get(College, college_id)
    if college is None:
        raise NotFound("College not found")
    return college


@allow("sysadmin")
def college_archive(actor: User, college_id: str) -> dict[str, Any]:
    college = college_or_404(college_id)
    audit.record(actor, "college.exported", "college", college, college_id=college.id)
    return college_archive_document(college)
