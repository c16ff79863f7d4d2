"""Notifications: the caller's own, newest first.

API.md lists these routes under Social, but join-request notifications (and their approvals and
rejections) are core group behaviour, so the routes stay available whatever the college's
features: they are deliberately not gated by `require_feature("social")`. The social issue gates
its own notification *types* (friend requests...) where it creates them.

Other services create notifications with `services.notifications.notify(...)`, inside their own
transaction; the live `notification.created` event waits in
`session.info["studysync.after_commit_events"]` for the realtime issue to publish after commit.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from ...auth import current_user, login_required
from ...models import Notification
from ...schemas.common import envelope, reply
from ...schemas.notification import (
    NotificationListEnvelope,
    NotificationQuerySchema,
    NotificationSchema,
    ReadAllSchema,
)
from ...services import notifications
from ..ids import register_id

register_id("notification_id", Notification)  # the owner check is in the service

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="Notifications")



@blp.route("", methods=["GET"])
@login_required
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListEnvelope)
def list_notifications(query):
    user = current_user()
    page = notifications.list_notifications(user, query["page"], query["limit"], unread_only=query["unread"])
    body = reply(page.items, "Notifications retrieved", page.pagination)
    body["unread_count"] = notifications.unread_count(user)
    return body


@blp.route("/<notification_id>/read", methods=["POST"])
@login_required
@blp.response(200, envelope(NotificationSchema))
def mark_read(notification_id):
    return reply(notifications.mark_read(current_user(), notification_id), "Notification marked as read")


@blp.route("/read-all", methods=["POST"])
@login_required
@blp.response(200, envelope(ReadAllSchema))
def mark_all_read():
    updated = notifications.mark_all_read(current_user())
    return reply({"updated": updated, "unread_count": 0}, "All notifications marked as read")
