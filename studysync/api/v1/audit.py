"""The audit log: a college's admins read their college's entries, the sysadmin everyone's."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.audit import AuditEntrySchema, AuditQuerySchema
from ...schemas.common import envelope, reply
from ...services import audit
from .blueprint import Blueprint

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log of staff actions")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, envelope(AuditEntrySchema, many=True, paginated=True))
def list_entries(query):
    page_number, limit = query.pop("page"), query.pop("limit")
    page = audit.list_entries(current_user(), page_number, limit, audit.AuditFilters(**query))
    return reply(page.items, "Audit entries retrieved", page.pagination)
