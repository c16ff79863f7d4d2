"""Study groups: browse, create, edit, archive, members, joining and join requests.

Leadership moves with `PATCH /groups/<id>` and `{"leader_id": ...}` (an active member); there is no
separate transfer route. A leader who leaves hands over to the longest-standing active member.
Join answers 200 with the caller's membership: `status` "active" (open group, or a former invited
member) or "pending" (request group; the leader gets a `join_request` notification).
"""
from __future__ import annotations

from ...auth import current_user, login_required
from ...models import StudyGroup
from ...schemas.common import PageQuerySchema, envelope, reply
from ...schemas.group import (
    GroupCreateSchema,
    GroupDetailSchema,
    GroupListQuerySchema,
    GroupMemberSchema,
    GroupSchema,
    GroupUpdateSchema,
    JoinRequestSchema,
    MembershipSchema,
    MyGroupSchema,
    MyGroupsQuerySchema,
    UserIdsSchema,
)
from ...services import groups
from ..ids import register_id
from .blueprint import Blueprint

register_id("group_id", StudyGroup)  # another college's group is a 404 before any view

blp = Blueprint("groups", __name__, url_prefix="/api/v1/groups", description="Study groups")



@blp.route("", methods=["POST"])
@login_required
@blp.arguments(GroupCreateSchema)
@blp.response(201, envelope(GroupDetailSchema))
def create_group(body):
    return reply(groups.create_group(current_user(), body), "Group created successfully")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(GroupListQuerySchema, location="query")
@blp.response(200, envelope(GroupSchema, many=True, paginated=True))
def list_groups(query):
    page = groups.list_groups(current_user(), query.pop("page"), query.pop("limit"), query)
    return reply(page.items, "Groups retrieved", page.pagination)


@blp.route("/mine", methods=["GET"])
@login_required
@blp.arguments(MyGroupsQuerySchema, location="query")
@blp.response(200, envelope(MyGroupSchema, many=True, paginated=True))
def my_groups(query):
    page = groups.my_groups(current_user(), query["page"], query["limit"], query.get("status"))
    return reply(page.items, "Your groups retrieved", page.pagination)


@blp.route("/<group_id>", methods=["GET"])
@login_required
@blp.response(200, envelope(GroupDetailSchema))
def get_group(group_id):
    return reply(groups.get_group(current_user(), group_id), "Group retrieved")


@blp.route("/<group_id>", methods=["PATCH"])
@login_required
@blp.arguments(GroupUpdateSchema)
@blp.response(200, envelope(GroupDetailSchema))
def update_group(body, group_id):
    return reply(groups.update_group(current_user(), group_id, body), "Group updated successfully")


@blp.route("/<group_id>/archive", methods=["POST"])
@login_required
@blp.response(200, envelope(GroupDetailSchema))
def archive(group_id):
    return reply(groups.set_archived(current_user(), group_id, True), "Group archived")


@blp.route("/<group_id>/unarchive", methods=["POST"])
@login_required
@blp.response(200, envelope(GroupDetailSchema))
def unarchive(group_id):
    return reply(groups.set_archived(current_user(), group_id, False), "Group unarchived")


@blp.route("/<group_id>/members", methods=["GET"])
@login_required
@blp.response(200, envelope(GroupMemberSchema, many=True))
def list_members(group_id):
    return reply(groups.list_members(current_user(), group_id), "Members retrieved")


@blp.route("/<group_id>/members", methods=["POST"])
@login_required
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def add_members(body, group_id):
    return reply(groups.add_members(current_user(), group_id, body["user_ids"]), "Members added")


@blp.route("/<group_id>/members", methods=["PUT"])
@login_required
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def replace_members(body, group_id):
    return reply(groups.replace_members(current_user(), group_id, body["user_ids"]), "Members replaced")


@blp.route("/<group_id>/members", methods=["DELETE"])
@login_required
@blp.arguments(UserIdsSchema)
@blp.response(200, envelope(GroupDetailSchema))
def remove_members(body, group_id):
    return reply(groups.remove_members(current_user(), group_id, body["user_ids"]), "Members removed")


@blp.route("/<group_id>/join", methods=["POST"])
@login_required
@blp.response(200, envelope(MembershipSchema))
def join(group_id):
    membership = groups.join_group(current_user(), group_id)
    message = "Join request sent to the group leader" if membership.status == "pending" else "Joined group"
    return reply(membership, message)


@blp.route("/<group_id>/leave", methods=["POST"])
@login_required
@blp.response(200, envelope(GroupSchema))
def leave(group_id):
    return reply(groups.leave_group(current_user(), group_id), "You left the group")


@blp.route("/<group_id>/requests", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(JoinRequestSchema, many=True, paginated=True))
def list_requests(query, group_id):
    page = groups.list_requests(current_user(), group_id, query["page"], query["limit"])
    return reply(page.items, "Join requests retrieved", page.pagination)


@blp.route("/<group_id>/requests/<user_id>/approve", methods=["POST"])
@login_required
@blp.response(200, envelope(MembershipSchema))
def approve(group_id, user_id):
    return reply(groups.approve_request(current_user(), group_id, user_id), "Join request approved")


@blp.route("/<group_id>/requests/<user_id>/reject", methods=["POST"])
@login_required
@blp.response(200, envelope(MembershipSchema))
def reject(group_id, user_id):
    return reply(groups.reject_request(current_user(), group_id, user_id), "Join request has been rejected")
