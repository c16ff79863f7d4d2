"""Notifications as their owner reads them."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import PageQuerySchema, UTCDateTime, envelope
from .compiled import CompiledDump


class NotificationQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=False)


class NotificationSchema(CompiledDump):  # the bell's list: dumped through planned steps
    notification_id = fields.String(attribute="id")
    type = fields.String()
    title = fields.String()
    message = fields.String()
    data = fields.Dict()
    read = fields.Boolean()
    read_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()


class NotificationListEnvelope(envelope(NotificationSchema, many=True, paginated=True)):
    unread_count = fields.Integer(metadata={"description": "the caller's unread notifications, all pages"})


class ReadAllSchema(Schema):
    updated = fields.Integer()
    unread_count = fields.Integer()
