"""Direct messages (feature `chat`): threads with a classmate, paged by message cursor, and the
caller's conversations. Reading a thread marks it read up to the newest message returned."""
from __future__ import annotations

from ...auth import current_user, login_required
from ...schemas.common import (
    CursorQuerySchema,
    PageQuerySchema,
    cursor_envelope,
    envelope,
    reply,
)
from ...schemas.social import (
    ConversationSchema,
    DirectMessageCreateSchema,
    DirectMessageSchema,
)
from ...services import direct_messages
from .blueprint import Blueprint

blp = Blueprint("dm", __name__, url_prefix="/api/v1", description="Direct messages (feature chat)")



@blp.route("/dm/<user_id>/messages", methods=["GET"])
@login_required
@blp.arguments(CursorQuerySchema, location="query")
@blp.response(200, cursor_envelope(DirectMessageSchema))
def get_thread(query, user_id):
    page = direct_messages.thread(current_user(), user_id, query.get("before"), query.get("after"), query["limit"])
    return {**reply(page.items, "Messages retrieved"), "cursor": page.cursor}


@blp.route("/dm/<user_id>/messages", methods=["POST"])
@login_required
@blp.arguments(DirectMessageCreateSchema)
@blp.response(201, envelope(DirectMessageSchema))
def send_message(body, user_id):
    return reply(direct_messages.send_dm(current_user(), user_id, body["content"]), "Message sent")


@blp.route("/conversations", methods=["GET"])
@login_required
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, envelope(ConversationSchema, many=True, paginated=True))
def list_conversations(query):
    page = direct_messages.conversations(current_user(), query["page"], query["limit"])
    return reply(page.items, "Conversations retrieved", page.pagination)
