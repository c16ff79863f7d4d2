"""Study groups, memberships and join requests."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..models.group import JOIN_POLICIES
from .common import HidesPrivateFields, Int, PageQuerySchema, Real, TrimmedString, UTCDateTime
from .compiled import CompiledDump

MAX_GROUP_SIZE = 100
MAX_USER_IDS = 100


def _text(max_chars: int, **kwargs):
    return TrimmedString(validate=validate.Length(max=max_chars), **kwargs)


class GroupCreateSchema(Schema):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=120))
    subject = _text(120, load_default=None)
    description = _text(2000, load_default=None)
    schedule = _text(200, load_default=None, metadata={"description": "free text, e.g. 'Mon/Wed 6-8pm'"})
    location = _text(200, load_default=None)
    max_members = Int(load_default=6, validate=validate.Range(min=1, max=MAX_GROUP_SIZE))
    min_rating = Real(load_default=0, validate=validate.Range(min=0))
    join_policy = fields.String(load_default="open", validate=validate.OneOf(JOIN_POLICIES))
    classroom_id = fields.String(load_default=None)
    member_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), load_default=list,
                             validate=validate.Length(max=MAX_USER_IDS))


class GroupUpdateSchema(Schema):
    name = TrimmedString(validate=validate.Length(min=1, max=120))
    subject = _text(120, allow_none=True)
    description = _text(2000, allow_none=True)
    schedule = _text(200, allow_none=True)
    location = _text(200, allow_none=True)
    max_members = Int(validate=validate.Range(min=1, max=MAX_GROUP_SIZE))
    min_rating = Real(validate=validate.Range(min=0))
    join_policy = fields.String(validate=validate.OneOf(JOIN_POLICIES))
    leader_id = fields.String(metadata={"description": "hand leadership to an active member"})


class UserIdsSchema(Schema):
    user_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), required=True,
                           validate=validate.Length(max=MAX_USER_IDS))


class GroupListQuerySchema(PageQuerySchema):
    q = fields.String()
    subject = fields.String()
    classroom_id = fields.String()
    has_space = fields.Boolean()


class MyGroupsQuerySchema(PageQuerySchema):
    status = fields.String(validate=validate.OneOf(("active", "pending")))


class GroupSchema(Schema):
    group_id = fields.String(attribute="id")
    name = fields.String()
    subject = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    schedule = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    max_members = fields.Integer()
    member_count = fields.Integer()
    has_space = fields.Boolean()
    min_rating = fields.Float()
    join_policy = fields.String()
    classroom_id = fields.String(allow_none=True)
    leader_id = fields.String()
    leader_name = fields.String(allow_none=True)
    created_by = fields.String()
    member_ids = fields.List(fields.String(), metadata={"description": "active members"})
    is_archived = fields.Boolean()
    last_message_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyGroupSchema(GroupSchema, CompiledDump):  # polled by the app: dumped through planned steps
    role = fields.String(metadata={"description": "leader or member"})
    status = fields.String(metadata={"description": "active or pending"})
    joined_at = UTCDateTime(allow_none=True)
    requested_at = UTCDateTime(allow_none=True)
    unread_count = fields.Integer()


class GroupMemberSchema(HidesPrivateFields):
    PRIVATE = ("email",)
    user_id = fields.String()
    name = fields.String()
    email = fields.String(metadata={"description": "only for viewers allowed to see it (staff, friends)"})
    role = fields.String(metadata={"description": "leader or member"})
    user_role = fields.String(metadata={"description": "student, teacher or admin"})
    joined_at = UTCDateTime(allow_none=True)


class ViewerMembershipSchema(Schema):
    role = fields.String()
    status = fields.String()


class GroupDetailSchema(GroupSchema):
    members = fields.List(fields.Nested(GroupMemberSchema))
    my_membership = fields.Nested(ViewerMembershipSchema, allow_none=True)
    can_manage = fields.Boolean()


class MembershipSchema(Schema):
    group_id = fields.String()
    user_id = fields.String()
    role = fields.String()
    status = fields.String()
    joined_at = UTCDateTime(allow_none=True)
    requested_at = UTCDateTime(allow_none=True)


class JoinRequestSchema(Schema):
    user_id = fields.String()
    name = fields.String()
    rating = fields.Float()
    requested_at = UTCDateTime(allow_none=True)
