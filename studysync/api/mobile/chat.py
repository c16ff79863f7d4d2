"""Group chat for the app (contract §2.21–2.22, seed 002's `/api/chat/...`), over services/chat.

The app's service layer defines these calls but its screens keep chat on the device for now; the
shapes follow seed 002's message example (`userId`, `userName`, `messageType`, `timestamp`) plus
the names the app's local `ChatMessage` uses (`senderId`, `senderName`, `message`, `type`), so either
reader finds its fields.
"""
from __future__ import annotations

from typing import Any

from ...auth.current import current_user
from ...db import utc_iso
from ...services import chat
from . import _body, _ok, _text, bp


def _message(view: dict[str, Any]) -> dict[str, Any]:
    content = view["content"] or ""
    return {
        "id": view["message_id"], "groupId": view["group_id"],
        "userId": view["sender_id"], "userName": view["sender_name"] or "",
        "senderId": view["sender_id"], "senderName": view["sender_name"] or "",
        "content": content, "message": content,
        "messageType": view["message_type"], "type": view["message_type"],
        "imageUrl": view["image_url"], "imageUri": view["image_url"],
        "timestamp": utc_iso(view["created_at"]), "createdAt": utc_iso(view["created_at"]),
        "edited": view["edited_at"] is not None, "deleted": view["is_deleted"],
        "reactions": [{"userId": user_id, "emoji": group["emoji"]}
                      for group in view["reactions"] for user_id in group["user_ids"]],
    }


@bp.get("/chat/<group_id>/messages")
def group_messages(group_id: str):
    page = chat.list_messages(current_user(), group_id, limit=chat.MAX_LIMIT)
    return _ok(messages=[_message(m) for m in page.items])


@bp.post("/chat/<group_id>/message")
@bp.post("/chat/<group_id>/send")
def send_group_message(group_id: str):
    body = _body()
    view = chat.post_message(current_user(), group_id, _text(body.get("content")),
                             _text(body.get("message_type") or body.get("messageType")) or "text",
                             _text(body.get("image_url") or body.get("imageUrl")) or None)
    return _ok(message="Message sent", data=_message(view)), 201


@bp.post("/chat/message/<message_id>/react")
def react(message_id: str):
    view = chat.toggle_reaction(current_user(), message_id, _text(_body().get("emoji")))
    return _ok(message="Reaction updated", data=_message(view), reactions=_message(view)["reactions"])
