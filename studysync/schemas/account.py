"""Account lifecycle and data rights: password resets, erasure, offboarding."""
from marshmallow import Schema, fields, validate

from .common import Email, Password


class TemporaryPasswordSchema(Schema):
    user_id = fields.String(attribute="user.id")
    email = fields.String(attribute="user.email")
    role = fields.String(attribute="user.role")
    temporary_password = fields.String()
    must_change_password = fields.Boolean(dump_default=True)
    sessions_revoked = fields.Integer()


class ForgotPasswordSchema(Schema):
    email = Email(required=True)
    college_id = fields.String(load_default=None)


class ResetPasswordSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = Password(required=True)


class EraseSelfSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class ErasedSchema(Schema):
    user_id = fields.String()
    removed = fields.Dict(keys=fields.String(), values=fields.Integer())


class OffboardSchema(Schema):
    confirm_subdomain = fields.String(required=True, validate=validate.Length(min=1, max=63))


class OffboardedSchema(Schema):
    college_id = fields.String()
    subdomain = fields.String()
    removed = fields.Dict(keys=fields.String(), values=fields.Integer())
    archive = fields.Dict()
