"""Offboarding a college: its archive, then every row it owns deleted, in one confirmed operation.

The sysadmin repeats the college's subdomain as confirmation, so a wrong id pasted into the URL
cannot delete a college. The archive is built and the rows deleted in the same transaction: what
the archive holds is exactly what was removed. Tables are emptied children first (the reverse of
the schema's dependency order), each with one `DELETE ... WHERE college_id = :id`, so the report
counts rows per table and no database relies on cascades to finish the job.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete

from ..db import Base, db
from ..errors import BadRequest
from ..models import User
from ..access import allow
from . import audit
from ..tenancy import all_tenants
from .data_export import college_archive_document, college_or_404, college_tables

CONFIRMATION_MISMATCH = "Confirmation does not match: repeat the college's subdomain in confirm_subdomain"


@dataclass(frozen=True)
class Offboarded:
    college_id: str
    subdomain: str
    archive: dict[str, Any]
    removed: dict[str, int]


@allow("sysadmin")
def offboard_college(actor: User, college_id: str, confirm_subdomain: str) -> Offboarded:
    college = college_or_404(college_id)
    if confirm_subdomain.strip().lower() != college.subdomain:
        raise BadRequest(CONFIRMATION_MISMATCH, errors={"confirm_subdomain": [CONFIRMATION_MISMATCH]})
    archive = college_archive_document(college)
    removed: dict[str, int] = {}
    with all_tenants():
        for table in reversed(college_tables()):
            removed[table.name] = db.session.execute(
                delete(table).where(table.c.college_id == college.id)).rowcount
        colleges = Base.metadata.tables["colleges"]
        removed["colleges"] = db.session.execute(delete(colleges).where(colleges.c.id == college.id)).rowcount
        db.session.expunge_all()  # the ORM must not flush rows that no longer exist
        audit.record(actor, "college.offboarded", "college", college_id, {"subdomain": college.subdomain,
                     "removed": removed}, college_id=audit.PLATFORM)
    _forget_cached_index(college.id)
    return Offboarded(college_id=college.id, subdomain=college.subdomain, archive=archive, removed=removed)


def _forget_cached_index(college_id: str) -> None:
    """This worker's recommendation index of the college (other workers' entries simply age out:
    the college's id is never used again)."""
    cache = current_app.extensions.get("studysync.matching_index")
    if cache is not None:
        cache.forget(college_id)
