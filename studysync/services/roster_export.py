"""Admins export their college's students and staff: every row the list would page through, with
the list's own filters (the surfaces write them as CSV)."""
from __future__ import annotations

from collections.abc import Iterator

from ..db import db
from ..models import User
from ..access import allow
from . import audit
from .students import students_query
from .users import staff_query

CHUNK = 500


@allow("admin")
def export_students(actor: User, filters: dict) -> Iterator[User]:
    audit.record(actor, "students.exported", "college", actor.college_id, {"filters": _plain(filters)})
    return _all(students_query(filters))


@allow("admin")
def export_staff(actor: User, role: str | None = None, q: str | None = None) -> Iterator[User]:
    audit.record(actor, "staff.exported", "college", actor.college_id, {"filters": {"role": role, "q": q}})
    return _all(staff_query(role, q))


def _plain(filters: dict) -> dict:
    return {k: v for k, v in filters.items() if isinstance(v, (str, int, float, bool)) or v is None}


def _all(stmt) -> Iterator[User]:
    """Read in chunks, so a college of many thousands is never one giant result in memory at once."""
    return db.session.execute(stmt.execution_options(yield_per=CHUNK)).scalars()
