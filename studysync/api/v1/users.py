"""College staff, managed by the college's admins."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.common import envelope, reply
from ...schemas.user import StaffCreateSchema, StaffListQuerySchema, StaffSchema, StaffUpdateSchema
from ...services import roster_export, users
from .blueprint import Blueprint
from .csv_reply import csv_response, wants_csv

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Staff (admins and teachers)")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(StaffCreateSchema)
@blp.response(201, envelope(StaffSchema))
def create_staff(body):
    user = users.create_staff(current_user(), body["name"], body["email"], body["password"], body["role"])
    return reply(user, "User created successfully")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(StaffListQuerySchema, location="query")
@blp.response(200, envelope(StaffSchema, many=True, paginated=True))
def list_staff(query):
    if wants_csv(query.get("format")):  # every matching row, same filters
        rows = roster_export.export_staff(current_user(), query.get("role"), query.get("q"))
        return csv_response(StaffSchema(), rows, "staff.csv")
    page = users.list_staff(current_user(), query["page"], query["limit"], query.get("role"), query.get("q"))
    return reply(page.items, "Users retrieved", page.pagination)


@blp.route("/<user_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(StaffSchema))
def get_staff(user_id):
    return reply(users.get_staff(current_user(), user_id), "User retrieved")


@blp.route("/<user_id>", methods=["PUT"])
@login_required
@blp.arguments(StaffUpdateSchema)
@blp.response(200, envelope(StaffSchema))
def update_staff(body, user_id):
    return reply(users.update_staff(current_user(), user_id, body), "User updated successfully")


@blp.route("/<user_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope(StaffSchema))
def deactivate_staff(user_id):
    return reply(users.deactivate_staff(current_user(), user_id), "User deactivated")
