"""Friends and direct messages for the app (contract §2.13–2.18), over services/friends and
services/direct_messages."""
from __future__ import annotations

from typing import Any

from ...auth.current import companion_row, current_user, loads_with_token
from ...db import utc_iso
from ...services import direct_messages, friends
from .. import conditional
from . import LIST_LIMIT, _body, _ok, _text, bp


THREAD_ROUTE = "mobile.dm_thread"  # names the route inside its ETags (api/conditional.py)


def _id(value: Any) -> str:
    return str(value) if value is not None else ""


@bp.post("/friends/request")
def send_friend_request():
    result = friends.send_friend_request(current_user(), _id(_body().get("userId")))
    if result.matched:
        return _ok(message="You are now friends", status="friends")
    return _ok(message="Friend request sent", requestId=result.request.id, status="pending")


@bp.get("/friends/requests")
def friend_requests():
    page = friends.pending_requests(current_user(), "incoming", 1, LIST_LIMIT)
    items = [{"id": r["request_id"], "status": r["status"], "senderId": r["sender"]["user_id"],
              "senderName": r["sender"]["name"], "createdAt": utc_iso(r["created_at"])} for r in page.items]
    return _ok(requests=items)


@bp.post("/friends/request/<request_id>/accept")
def accept_friend_request(request_id: str):
    friends.respond(current_user(), request_id, True)
    return _ok(message="Friend request accepted")


@bp.post("/friends/request/<request_id>/reject")
def reject_friend_request(request_id: str):
    friends.respond(current_user(), request_id, False)
    return _ok(message="Friend request rejected")


@bp.get("/friends")
def list_friends():
    page = friends.friends_of(current_user(), 1, LIST_LIMIT)
    items = [{"id": f["user_id"], "name": f["name"] or "", "major": f.get("major"), "year": f.get("year"),
              "email": f.get("email")} for f in page.items]
    return _ok(friends=items)


@bp.post("/messages/send")
def send_message():
    body = _body()
    view = direct_messages.send_dm(current_user(), _id(body.get("receiverId")), _text(body.get("content")))
    return _ok(message="Message sent", data=_message(view))


@bp.get("/messages/<user_id>")
@loads_with_token(direct_messages.THREAD_HEAD)
def dm_thread(user_id: str):
    """Polled every 3 s: unchanged since the client's ETag → 304 before any message is loaded, from
    the one statement that also checked the token."""
    user = current_user()
    validator = conditional.Validator(THREAD_ROUTE, user)
    polled = direct_messages.poll_thread(user, user_id, limit=direct_messages.MAX_LIMIT,
                                         unchanged=validator.unchanged, head=companion_row())
    if polled.page is None:
        return validator.not_modified(polled.version)
    return validator.tagged(_ok(messages=[_message(m) for m in polled.page.items]), polled.version)


def _message(view: dict[str, Any]) -> dict[str, Any]:
    created = view["created_at"]
    return {"id": view["message_id"], "senderId": view["sender_id"], "senderName": view.get("sender_name") or "",
            "receiverId": view.get("receiver_id"), "content": view["content"],
            "createdAt": created if isinstance(created, str) else utc_iso(created)}
