"""The audit log: who changed what, to whom, when, from which request and address.

Rows are written once and never changed: `install()` makes the app's sessions refuse to update or
delete one, through the unit of work or a bulk statement. They belong to the college acted upon, so
a college's admins read only theirs (the tenant criteria do it); platform actions that outlive a
college (its offboarding) have no college and only the sysadmin reads them. Actor and target are
plain ids, not foreign keys: the entry outlives the accounts it names.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, event
from sqlalchemy.orm import ORMExecuteState, Mapped, Session, mapped_column, relationship, sessionmaker

from ..db import Base, IdMixin, TenantScoped, utcnow


class AuditLogError(RuntimeError):
    """A programming error: something tried to rewrite history."""


class AuditEntry(IdMixin, TenantScoped, Base):
    __tablename__ = "audit_entries"
    __tenant_nullable__ = True  # platform actions (a college's offboarding) belong to no college
    __table_args__ = (Index("ix_audit_entries_college_created", "college_id", "created_at"),)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(36), index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(45))

    # Never read: it tells the unit of work to insert a new college before the entry naming it.
    college = relationship("College", lazy="raise")


def _refuse_changes(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogError("Audit entries are never changed or deleted")


def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ is AuditEntry for m in state.all_mappers):
        raise AuditLogError("Audit entries are never changed or deleted")


def install(session_factory: sessionmaker) -> None:
    event.listen(session_factory, "before_flush", _refuse_changes)
    event.listen(session_factory, "do_orm_execute", _refuse_bulk_changes)
