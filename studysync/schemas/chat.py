"""Group chat: messages, reactions and read markers (shape only; the rules live in services/chat.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models.chat import MESSAGE_TYPES
from .common import UTCDateTime

MAX_CONTENT = 4000


class MessageCreateSchema(Schema):
    """`content` is required for text and announcements and a caption for images (checked by the
    service, which also checks `image_url`); `mention_ids` notifies those members."""

    content = fields.String(validate=validate.Length(max=MAX_CONTENT), load_default=None, allow_none=True)
    message_type = fields.String(load_default="text", validate=validate.OneOf(MESSAGE_TYPES))
    image_url = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    mention_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)),
                              load_default=list, validate=validate.Length(max=50))


class MessageUpdateSchema(Schema):
    content = fields.String(required=True, allow_none=True, validate=validate.Length(max=MAX_CONTENT))


class ReactionSchema(Schema):
    emoji = fields.String(required=True)


class ReadMarkerCreateSchema(Schema):
    message_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36))


class ReactionGroupSchema(Schema):
    emoji = fields.String()
    count = fields.Integer()
    reacted = fields.Boolean()
    user_ids = fields.List(fields.String())


class MessageSchema(Schema):
    message_id = fields.String()
    group_id = fields.String()
    sender_id = fields.String()
    sender_name = fields.String()
    message_type = fields.String()
    content = fields.String(allow_none=True)  # null once deleted
    image_url = fields.String(allow_none=True)
    created_at = UTCDateTime()
    edited_at = UTCDateTime(allow_none=True)
    is_deleted = fields.Boolean()
    deleted_at = UTCDateTime(allow_none=True)
    reactions = fields.List(fields.Nested(ReactionGroupSchema))


class ReadMarkerSchema(Schema):
    group_id = fields.String()
    last_read_message_id = fields.String(allow_none=True)
    unread_count = fields.Integer()
