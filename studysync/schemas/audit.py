from datetime import timezone

from marshmallow import RAISE, Schema, fields, validate

from .common import PageQuerySchema, UTCDateTime

ID = validate.Length(min=1, max=36)


class AuditQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE  # a misspelt filter is a 400, not a silently unfiltered page

    action = fields.String(validate=validate.Length(min=1, max=60))
    actor_id = fields.String(validate=ID)
    target_type = fields.String(validate=validate.Length(min=1, max=40))
    target_id = fields.String(validate=ID)
    since = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "ISO-8601, inclusive"})
    until = fields.AwareDateTime(default_timezone=timezone.utc, metadata={"description": "ISO-8601, exclusive"})


class AuditEntrySchema(Schema):
    audit_id = fields.String(attribute="id")
    created_at = UTCDateTime()
    college_id = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target_id = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    request_id = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)
