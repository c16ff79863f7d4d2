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
from .. import conditional
from ..ids import register_id
from .blueprint import Blueprint

register_id("notification_id", Notification)  # the owner check is in the service

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications", description="Notifications")
ROUTE = "v1.notifications"  # names the route inside its ETags (api/conditional.py)


@blp.route("", methods=["GET"])
@login_required
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListEnvelope)
@blp.alt_response(304, description="Unchanged since the `If-None-Match` the client sent (no body)")
def list_notifications(query):
    """List notifications

    Tagged with an ETag decided before the list is loaded: a client revalidating with
    `If-None-Match` gets a 304, with no body, when nothing changed.
    """
    user = current_user()
    validator = conditional.Validator(ROUTE, user)
    polled = notifications.poll(user, query["page"], query["limit"], unread_only=query["unread"],
                                unchanged=validator.unchanged)
    if polled.page is None:
        return validator.not_modified(polled.version)
    body = reply(polled.page.items, "Notifications retrieved", polled.page.pagination)
    body["unread_count"] = polled.unread
    return body, 200, validator.headers(polled.version)


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
