"""Study groups: browse, create, edit, archive, members, joining and join requests.

Leadership moves with `PATCH /groups/<id>` and `{"leader_id": ...}` (an active member); there is no
separate transfer route. A leader who leaves hands over to the longest-standing active member.
Join answers 200 with the caller's membership: `status` "active" (open group, or a former invited
member) or "pending" (request group; the leader gets a `join_request` notification).
"""
from __future__ import annotations

from flask_smorest import Blueprint

from ...auth import current_user, require_role
from ...schemas.common import PageQuerySchema, envelope, reply
from ...schemas.group import (
    GroupCreateSchema, GroupDetailSchema, GroupListQuerySchema, GroupMemberSchema, GroupSchema, GroupUpdateSchema,
    JoinRequestSchema, MembershipSchema, MyGroupSchema, MyGroupsQuerySchema, UserIdsSchema,
)
from ...models import StudyGroup
from ...services import groups
from ..ids import register_id

register_id("group_id", StudyGroup)  # another college's group is a 404 before any view

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Study groups")

COLLEGE_USERS = ("admin", "teacher", "student")


@blp.route("", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.arguments(GroupCreateSchema)
@blp.response(201, envelope(GroupDetailSchema))
def create_group(body):
    return reply(groups.create_group(current_user(), body), "Group created successfully")


@blp.route("", methods=["GET"])
@require_role(*COLLEGE_USERS)
@blp.arguments(GroupListQuerySchema, location="query")
@blp.response(200, envelope(GroupSchema, many=True, paginated=True))
def list_groups(query):
    page = groups.list_groups(current_user(), query.pop("page"), query.pop("limit"), query)
    return reply(page.items, "Groups retrieved", page.pagination)


@blp.route("/mine", methods=["GET"])
@require_role(*COLLEGE_USERS)
@blp.arguments(MyGroupsQuerySchema, location="query")
@blp.response(200, envelope(MyGroupSchema, many=True, paginated=True))
def my_groups(query):
    page = groups.my_groups(current_user(), query["page"], query["limit"], query.get("status"))
    return reply(page.items, "Your groups retrieved", page.pagination)


@blp.route("/<group_id>", methods=["GET"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(GroupDetailSchema))
def get_group(group_id):
    return reply(groups.get_group(current_user(), group_id), "Group retrieved")


@blp.route("/<group_id>", methods=["PATCH"])
@require_role(*COLLEGE_USERS)
@blp.arguments(GroupUpdateSchema)
@blp.response(200, envelope(GroupDetailSchema))
def update_group(body, group_id):
    return reply(groups.update_group(current_user(), group_id, body), "Group updated successfully")


@blp.route("/<group_id>/archive", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(GroupDetailSchema))
def archive(group_id):
    return reply(groups.set_archived(current_user(), group_id, True), "Group archived")


@blp.route("/<group_id>/unarchive", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(GroupDetailSchema))
def unarchive(group_id):
    return reply(groups.set_archived(current_user(), group_id, False), "Group unarchived")


@blp.route("/<group_id>/members", methods=["GET"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(GroupMemberSchema, many=True))
def list_members(group_id):
    return reply(groups.list_members(current_user(), group_id), "Members retrieved")


@blp.route("/<group_id>/members", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def add_members(body, group_id):
    return reply(groups.add_members(current_user(), group_id, body["user_ids"]), "Members added")


@blp.route("/<group_id>/members", methods=["PUT"])
@require_role(*COLLEGE_USERS)
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def replace_members(body, group_id):
    return reply(groups.replace_members(current_user(), group_id, body["user_ids"]), "Members replaced")


@blp.route("/<group_id>/members", methods=["DELETE"])
@require_role(*COLLEGE_USERS)
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def remove_members(body, group_id):
    return reply(groups.remove_members(current_user(), group_id, body["user_ids"]), "Members removed")


@blp.route("/<group_id>/join", methods=["POST"])
@require_role("student")
@blp.response(200, envelope(MembershipSchema))
def join(group_id):
    group, membership = groups.join_group(current_user(), group_id)
    message = "Join request sent to the group leader" if membership.status == "pending" else "Joined group"
    return reply(groups.membership_view(group, membership), message)


@blp.route("/<group_id>/leave", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(GroupSchema))
def leave(group_id):
    return reply(groups.leave_group(current_user(), group_id), "You left the group")


@blp.route("/<group_id>/requests", methods=["GET"])
@require_role(*COLLEGE_USERS)
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(JoinRequestSchema, many=True, paginated=True))
def list_requests(query, group_id):
    page = groups.list_requests(current_user(), group_id, query["page"], query["limit"])
    return reply(page.items, "Join requests retrieved", page.pagination)


@blp.route("/<group_id>/requests/<user_id>/approve", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(MembershipSchema))
def approve(group_id, user_id):
    group, membership = groups.approve_request(current_user(), group_id, user_id)
    return reply(groups.membership_view(group, membership), "Join request approved")


@blp.route("/<group_id>/requests/<user_id>/reject", methods=["POST"])
@require_role(*COLLEGE_USERS)
@blp.response(200, envelope(MembershipSchema))
def reject(group_id, user_id):
    group, membership = groups.reject_request(current_user(), group_id, user_id)
    return reply(groups.membership_view(group, membership), "Join request has been rejected")
