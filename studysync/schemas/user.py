from marshmallow import Schema, fields, validate

from ..models.user import STAFF_ROLES
from .common import Email, Password, TrimmedString, UTCDateTime

NAME = validate.Length(min=2, max=120, error="Minimum 2 characters")


class StaffSchema(Schema):
    user_id = fields.String(attribute="id")
    college_id = fields.String()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    status = fields.String()
    created_at = UTCDateTime()
    updated_at = UTCDateTime(allow_none=True)


class StaffCreateSchema(Schema):
    name = TrimmedString(required=True, validate=NAME)
    email = Email(required=True)
    password = Password(required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


class StaffUpdateSchema(Schema):
    name = TrimmedString(validate=NAME)
    email = Email()
    password = Password()
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))


class StaffListQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    q = fields.String()
