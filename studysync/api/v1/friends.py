"""Friends (feature `social`): requests answered by the addressee, the caller's friends, unfriending."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.common import PageQuerySchema, envelope, reply
from ...schemas.social import (
    FriendRequestCreateSchema,
    FriendRequestQuerySchema,
    FriendRequestResultSchema,
    FriendRequestSchema,
    FriendSchema,
)
from ...services import friends
from .blueprint import Blueprint

blp = Blueprint("friends", __name__, url_prefix="/api/v1/friends", description="Friends (feature social)")



@blp.route("/requests", methods=["POST"])
@login_required
@blp.arguments(FriendRequestCreateSchema)
@blp.response(201, envelope(FriendRequestResultSchema), description="Request sent")
@blp.alt_response(200, schema=envelope(FriendRequestResultSchema),
                  description="The other user had already asked: you are now friends")
def send_request(body):
    result = friends.send_friend_request(current_user(), body["user_id"])
    if result.matched:
        return reply(friends.result_view(result), "You are now friends"), 200
    return reply(friends.result_view(result), "Friend request sent")


@blp.route("/requests", methods=["GET"])
@login_required
@blp.arguments(FriendRequestQuerySchema, location="query")
@blp.response(200, envelope(FriendRequestSchema, many=True, paginated=True))
def list_requests(query):
    page = friends.pending_requests(current_user(), query["direction"], query["page"], query["limit"])
    return reply(page.items, "Friend requests retrieved", page.pagination)


@blp.route("/requests/<request_id>/accept", methods=["POST"])
@login_required
@blp.response(200, envelope(FriendRequestResultSchema))
def accept_request(request_id):
    result = friends.respond(current_user(), request_id, accept=True)
    return reply(friends.result_view(result), "Friend request accepted")


@blp.route("/requests/<request_id>/reject", methods=["POST"])
@login_required
@blp.response(200, envelope(FriendRequestResultSchema))
def reject_request(request_id):
    result = friends.respond(current_user(), request_id, accept=False)
    return reply(friends.result_view(result), "Friend request rejected")


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(FriendSchema, many=True, paginated=True))
def list_friends(query):
    page = friends.friends_of(current_user(), query["page"], query["limit"])
    return reply(page.items, "Friends retrieved", page.pagination)


@blp.route("/<user_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope())
def unfriend(user_id):
    friends.unfriend(current_user(), user_id)
    return reply({}, "Friend removed")
