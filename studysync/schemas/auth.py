from marshmallow import Schema, fields, validate

from .common import Email, Password, TrimmedString, UTCDateTime
from .compiled import CompiledDump


class LoginSchema(Schema):
    email = Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))
    college_id = fields.String(load_default=None)


class LoginResultSchema(Schema):
    token = fields.String()
    role = fields.String()
    email = fields.String()
    user_id = fields.String()
    college_id = fields.String()


class TokenFormSchema(Schema):
    """OAuth2 password grant (form-encoded)."""

    username = Email(required=True)
    password = fields.String(required=True)
    college_id = fields.String(load_default=None)
    grant_type = fields.String(load_default="password", validate=validate.Equal("password"))
    scope = fields.String(load_default="")


class TokenResultSchema(Schema):
    access_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()


class PasswordChangeSchema(Schema):
    old_password = fields.String(required=True)
    new_password = Password(required=True)


class MeSchema(CompiledDump):  # GET /api/v1/auth/me (issue 15): dumped through planned steps
    user_id = fields.String(attribute="id")
    name = fields.String()
    email = fields.String()
    role = fields.String()
    college_id = fields.String(allow_none=True)
    status = fields.String()
    created_at = UTCDateTime()
    must_change_password = fields.Boolean()


class SessionSchema(Schema):
    session_id = fields.String(attribute="id")
    created_at = UTCDateTime()
    last_used_at = UTCDateTime()
    expires_at = UTCDateTime()
    user_agent = fields.String(allow_none=True)
    ip_address = fields.String(allow_none=True)
    current = fields.Boolean()


class RevokedSchema(Schema):
    revoked = fields.Integer()


__all__ = ["LoginSchema", "LoginResultSchema", "TokenFormSchema", "TokenResultSchema", "PasswordChangeSchema",
           "MeSchema", "SessionSchema", "RevokedSchema", "TrimmedString"]
