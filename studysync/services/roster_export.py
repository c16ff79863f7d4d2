"""Admins export their college's students and staff: every row the list would page through, with
the list's own filters (the surfaces write them as CSV)."""
from __future__ import annotations

from collections.abc import Iterator

from ..db import db
from ..models import User
from ..policies import ensure_role
from .students import students_query
from .users import staff_query

CHUNK = 500


def export_students(actor: User, filters: dict) -> Iterator[User]:
    ensure_role(actor, "admin")
    # audit: record("students.exported", actor=actor, detail=filters)  (wired by ops at merge)
    return _all(students_query(filters))


def export_staff(actor: User, role: str | None = None, q: str | None = None) -> Iterator[User]:
    ensure_role(actor, "admin")
    # audit: record("staff.exported", actor=actor, detail={"role": role, "q": q})  (wired by ops at merge)
    return _all(staff_query(role, q))


def _all(stmt) -> Iterator[User]:
    """Read in chunks, so a college of many thousands is never one giant result in memory at once."""
    return db.session.execute(stmt.execution_options(yield_per=CHUNK)).scalars()
