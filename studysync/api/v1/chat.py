"""Group chat (feature `chat`): a group's messages paged by message cursor, posting, editing,
deleting, reactions and the read marker. Who may do what: `services/chat.py`."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...models import GroupMessage
from ...schemas.chat import (
    MessageCreateSchema,
    MessageSchema,
    MessageUpdateSchema,
    ReactionSchema,
    ReadMarkerCreateSchema,
    ReadMarkerSchema,
)
from ...schemas.common import CursorQuerySchema, cursor_envelope, envelope, reply
from ...services import chat
from ..ids import register_id
from .blueprint import Blueprint

register_id("message_id", GroupMessage)

blp = Blueprint("chat", __name__, url_prefix="/api/v1", description="Group chat (feature chat)")



@blp.route("/groups/<group_id>/messages", methods=["GET"])
@login_required
@blp.arguments(CursorQuerySchema, location="query")
@blp.response(200, cursor_envelope(MessageSchema))
def list_messages(query, group_id):
    page = chat.list_messages(current_user(), group_id, query.get("before"), query.get("after"), query["limit"])
    return {**reply(page.items, "Messages retrieved"), "cursor": page.cursor}


@blp.route("/groups/<group_id>/messages", methods=["POST"])
@login_required
@blp.arguments(MessageCreateSchema)
@blp.response(201, envelope(MessageSchema))
def post_message(body, group_id):
    return reply(chat.post_message(current_user(), group_id, **body), "Message sent")


@blp.route("/messages/<message_id>", methods=["PATCH"])
@login_required
@blp.arguments(MessageUpdateSchema)
@blp.response(200, envelope(MessageSchema))
def edit_message(body, message_id):
    return reply(chat.edit_message(current_user(), message_id, body["content"]), "Message updated")


@blp.route("/messages/<message_id>", methods=["DELETE"])
@login_required
@blp.response(200, envelope(MessageSchema))
def delete_message(message_id):
    return reply(chat.delete_message(current_user(), message_id), "Message deleted")


@blp.route("/messages/<message_id>/reactions", methods=["POST"])
@login_required
@blp.arguments(ReactionSchema)
@blp.response(200, envelope(MessageSchema))
def toggle_reaction(body, message_id):
    return reply(chat.toggle_reaction(current_user(), message_id, body["emoji"]), "Reaction updated")


@blp.route("/groups/<group_id>/read", methods=["POST"])
@login_required
@blp.arguments(ReadMarkerCreateSchema)
@blp.response(200, envelope(ReadMarkerSchema))
def mark_read(body, group_id):
    return reply(chat.mark_read(current_user(), group_id, body["message_id"]), "Marked as read")
