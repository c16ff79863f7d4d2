"""Friends, friend requests, direct messages and conversations (shape only).

Thread routes page by message cursor, not by page number (`common.CursorQuerySchema`,
`common.cursor_envelope`).
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import PageQuerySchema, TrimmedString, UTCDateTime

MAX_DM_CHARS = 4000
DIRECTIONS = ("incoming", "outgoing")


class UserBriefSchema(Schema):
    user_id = fields.String()
    name = fields.String()
    role = fields.String()


class FriendRequestCreateSchema(Schema):
    user_id = fields.String(required=True, validate=validate.Length(min=1, max=36))


class FriendRequestQuerySchema(PageQuerySchema):
    direction = fields.String(load_default="incoming", validate=validate.OneOf(DIRECTIONS))


class FriendRequestSchema(Schema):
    request_id = fields.String()
    status = fields.String()
    sender = fields.Nested(UserBriefSchema)
    receiver = fields.Nested(UserBriefSchema)
    created_at = UTCDateTime()
    responded_at = UTCDateTime(allow_none=True)


class FriendSchema(Schema):
    user_id = fields.String()
    name = fields.String()
    email = fields.String()  # friends see each other's email
    role = fields.String()
    department = fields.String(allow_none=True)
    major = fields.String(allow_none=True)
    year = fields.Raw(allow_none=True)  # the profile's label ("Junior") or the record's number
    friends_since = UTCDateTime()


class FriendRequestResultSchema(Schema):
    """`status`: `pending` (a request was sent), `friends` (accepted, or it matched a request the other
    had sent) or `rejected`."""

    status = fields.String()
    request = fields.Nested(FriendRequestSchema)
    friend = fields.Nested(FriendSchema, allow_none=True)


class DirectMessageCreateSchema(Schema):
    content = TrimmedString(required=True, validate=validate.Length(
        min=1, max=MAX_DM_CHARS, error=f"Message must be 1 to {MAX_DM_CHARS} characters"))


class DirectMessageSchema(Schema):
    message_id = fields.String()
    conversation_id = fields.String()
    sender_id = fields.String()
    sender_name = fields.String()
    receiver_id = fields.String()
    content = fields.String()
    created_at = UTCDateTime()


class ConversationSchema(Schema):
    conversation_id = fields.String()
    user = fields.Nested(UserBriefSchema)
    last_message = fields.Nested(DirectMessageSchema, allow_none=True)
    last_message_at = UTCDateTime(allow_none=True)
    unread_count = fields.Integer()
