"""Classrooms and their enrollment lists."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from .common import HidesPrivateFields, PageQuerySchema, TrimmedString, UTCDateTime

MAX_IDS = 500


class ClassroomCreateSchema(Schema):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=120))
    code = TrimmedString(validate=validate.Length(min=1, max=50), load_default=None)
    description = TrimmedString(validate=validate.Length(max=1000), load_default=None)
    teacher_id = fields.String(load_default=None, metadata={"description": "defaults to the calling teacher"})


class ClassroomUpdateSchema(Schema):
    name = TrimmedString(validate=validate.Length(min=1, max=120))
    code = TrimmedString(validate=validate.Length(min=1, max=50), allow_none=True)
    description = TrimmedString(validate=validate.Length(max=1000), allow_none=True)
    teacher_id = fields.String(allow_none=True, metadata={"description": "admins only"})


class StudentIdsSchema(Schema):
    student_ids = fields.List(fields.String(validate=validate.Length(min=1, max=36)), required=True,
                              validate=validate.Length(max=MAX_IDS))


class ClassroomListQuerySchema(PageQuerySchema):
    q = fields.String()


class ClassroomSchema(Schema):
    classroom_id = fields.String(attribute="id")
    name = fields.String()
    code = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    teacher_id = fields.String(allow_none=True)
    teacher_name = fields.String(allow_none=True)
    student_count = fields.Integer()
    created_at = UTCDateTime()
    updated_at = UTCDateTime(allow_none=True)


class ClassroomStudentSchema(HidesPrivateFields):
    PRIVATE = ("email",)
    user_id = fields.String(attribute="id")
    name = fields.String()
    email = fields.String()
    roll_no = fields.String(allow_none=True)
