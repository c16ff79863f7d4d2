"""Recording and reading the audit log of staff actions.

Services call `record(...)` in the same unit of work as the change it describes, before their
commit, so an action and its entry are committed (or rolled back) together. The request id and the
caller's address come from the work context the HTTP layer fills (`observability/context.py`);
outside a request (CLI, tests) they are simply empty.

Actions are `<thing>.<verb>` strings, e.g. `college.create`, `college.features`, `staff.password`,
`student.deactivate`, `group.member_add`; `details` says what changed and never holds a secret
(a password change records that it happened, not the password).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from ..db import db, new_id, utcnow
from ..access import allow
from ..models import User
from ..models.audit import AuditEntry
from ..models.user import STAFF_ROLES
from ..observability import context
from ..queries import Page, paginate
from ..tenancy import ALL_TENANTS_KEY, all_tenants, current_college_id

CURRENT_COLLEGE = object()  # `college_id` default: the college the session is working in
PLATFORM = None  # `college_id=PLATFORM`: an entry of no college (only the sysadmin reads it)
READERS = ("admin", "sysadmin")


def record(actor: User | None, action: str, target_type: str, target: Any, details: dict | None = None,
           *, college_id: Any = CURRENT_COLLEGE) -> None:
    """Add one entry to the current transaction.

    `target` is an id or the row itself (a row not flushed yet is given its id now, as its default
    would at the flush). `actor` None means the caller of the current request. `college_id` defaults
    to the session's current college; the sysadmin, who works in none, names the college acted on.
    """
    work = context.current()
    college = current_college_id() if college_id is CURRENT_COLLEGE else college_id
    values = dict(
        id=new_id(), created_at=utcnow(), college_id=college,
        actor_id=actor.id if actor is not None else work.user_id,
        actor_role=actor.role if actor is not None else work.user_role,
        action=action, target_type=target_type, target_id=_target_id(target), details=details or None,
        request_id=work.request_id, client_address=work.client_address,
    )
    session = db.session
    if college == current_college_id() or session.info.get(ALL_TENANTS_KEY):
        session.add(AuditEntry(**values))  # flushed with the change itself, after the rows it names
    else:
        # Another college than the session's (the sysadmin acting on one): a plain insert in the same
        # transaction, past the tenancy guard that rightly refuses such rows from the unit of work.
        session.execute(insert(AuditEntry.__table__).values(**values))


def _target_id(target: Any) -> str | None:
    if target is None or isinstance(target, str):
        return target
    if getattr(target, "id", None) is None:
        target.id = new_id()
    return target.id


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    actor_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@allow(*READERS)
def list_entries(actor: User, page: int, limit: int, filters: AuditFilters) -> Page[AuditEntry]:
    """Newest first. An admin reads their college's entries (the tenant criteria); the sysadmin all."""
    stmt = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    for column in ("action", "actor_id", "target_type", "target_id"):
        value = getattr(filters, column)
        if value:
            stmt = stmt.where(getattr(AuditEntry, column) == value)
    if filters.since:
        stmt = stmt.where(AuditEntry.created_at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.created_at < filters.until)
    if actor.role == "sysadmin":
        with all_tenants():
            return paginate(stmt, page, limit)
    return paginate(stmt, page, limit)


def record_if_staff(actor: User, action: str, target_type: str, target: Any, details: dict | None = None) -> None:
    """`record` when staff act (a teacher forcing a membership); a student leading their group is not audited."""
    if actor.role in STAFF_ROLES + ("sysadmin",):
        record(actor, action, target_type, target, details)
