from marshmallow import RAISE, Schema, fields, validate

from ..models.user import STAFF_ROLES
from .common import Email, PageQuerySchema, Password, TrimmedString, UTCDateTime

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


class StaffListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE  # unknown query parameters stay a 400 on this list (PageQuerySchema ignores them)

    role = fields.String(validate=validate.OneOf(STAFF_ROLES))
    q = fields.String()
    format = fields.String(validate=validate.OneOf(("json", "csv")), load_default=None)  # or Accept: text/csv
