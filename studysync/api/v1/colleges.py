"""Colleges: onboarding (sysadmin), features, settings (the college's admin)."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.college import (
    CollegeCreatedSchema,
    CollegeCreateSchema,
    CollegeDetailSchema,
    CollegeListQuerySchema,
    CollegeSchema,
    CollegeSettingsSchema,
    CollegeUpdateSchema,
    FeaturesSchema,
)
from ...schemas.common import envelope, reply
from ...services import colleges
from .blueprint import Blueprint

blp = Blueprint("colleges", __name__, url_prefix="/api/v1/colleges", description="Colleges (tenants)")


@blp.route("", methods=["POST"])
@login_required
@blp.arguments(CollegeCreateSchema)
@blp.response(201, envelope(CollegeCreatedSchema))
def create_college(body):
    created = colleges.create_college(
        current_user(), body["college_name"], body["college_subdomain"], body["admin_name"], body["admin_email"],
        body["admin_password"], body["enabled_features"],
    )
    admin = created.admin
    data = {
        "college": created.college,
        "admin": {"user_id": admin.id, "user_name": admin.name, "user_email": admin.email,
                  "user_role": admin.role, "temporary_password": created.temporary_password},
        "portal_url": colleges.portal_url(created.college),
        "note": "Please change the temporary password on first login",
    }
    return reply(data, "College created successfully")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(CollegeListQuerySchema, location="query")
@blp.response(200, envelope(CollegeSchema, many=True, paginated=True))
def list_colleges(query):
    page = colleges.list_colleges(current_user(), query["page"], query["limit"], query.get("status"), query.get("q"))
    return reply(page.items, "Colleges retrieved", page.pagination)


@blp.route("/<college_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(CollegeDetailSchema))
def get_college(college_id):
    return reply(colleges.visible_college(current_user(), college_id), "College retrieved")


@blp.route("/<college_id>", methods=["PUT"])
@login_required
@blp.arguments(CollegeUpdateSchema)
@blp.response(200, envelope(CollegeSchema))
def update_college(body, college_id):
    return reply(colleges.update_college(current_user(), college_id, body), "College updated successfully")


@blp.route("/<college_id>/features", methods=["PUT"])
@login_required
@blp.arguments(FeaturesSchema)
@blp.response(200, envelope(CollegeSchema))
def update_features(body, college_id):
    college = colleges.update_features(current_user(), college_id, body["enabled_features"])
    return reply(college, "College features updated successfully")


@blp.route("/<college_id>/settings", methods=["PUT"])
@login_required
@blp.arguments(CollegeSettingsSchema)
@blp.response(200, envelope(CollegeDetailSchema))
def update_settings(body, college_id):
    college = colleges.update_settings(current_user(), college_id, body)
    return reply(college, "College settings updated successfully")
