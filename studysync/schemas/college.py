from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ..models.college import COLLEGE_STATUSES
from .common import Email, Int, PageQuerySchema, Password, TrimmedString, UTCDateTime

SUBDOMAIN = validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$",
                            error="Subdomain may contain lowercase letters, digits and hyphens")
NAME = validate.Length(min=2, max=200, error="Minimum 2 characters")


class CollegeSchema(Schema):
    college_id = fields.String(attribute="id")
    college_name = fields.String(attribute="name")
    college_subdomain = fields.String(attribute="subdomain")
    college_status = fields.String(attribute="status")
    enabled_features = fields.List(fields.String())
    created_at = UTCDateTime()
    updated_at = UTCDateTime(allow_none=True)


class CollegeDetailSchema(CollegeSchema):
    email_domains = fields.List(fields.String(), attribute="domain_names")
    settings = fields.Dict()


class CollegeCreateSchema(Schema):
    college_name = TrimmedString(required=True, validate=NAME)
    college_subdomain = TrimmedString(required=True, validate=SUBDOMAIN)
    admin_name = TrimmedString(required=True, validate=validate.Length(min=2, max=120, error="Minimum 2 characters"))
    admin_email = Email(required=True)
    admin_password = Password(required=True)
    enabled_features = fields.List(fields.String(), load_default=None)


class CollegeAdminSchema(Schema):
    user_id = fields.String()
    user_name = fields.String()
    user_email = fields.String()
    user_role = fields.String()
    temporary_password = fields.String()


class CollegeCreatedSchema(Schema):
    college = fields.Nested(CollegeSchema)
    admin = fields.Nested(CollegeAdminSchema)
    portal_url = fields.String()
    note = fields.String()


class CollegeUpdateSchema(Schema):
    college_name = TrimmedString(validate=NAME, data_key="college_name", attribute="name")
    college_subdomain = TrimmedString(validate=SUBDOMAIN, attribute="subdomain")
    college_status = fields.String(validate=validate.OneOf(COLLEGE_STATUSES), attribute="status")


class CollegeListQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE  # unknown query parameters stay a 400 on this list (PageQuerySchema ignores them)

    status = fields.String(validate=validate.OneOf(COLLEGE_STATUSES))
    q = fields.String()


class FeaturesSchema(Schema):
    enabled_features = fields.List(fields.String(), required=True)


RATELIMIT_FLOOR_PER_MINUTE = 10


def _at_least_the_floor(value: str) -> None:
    """A college's own limit may not shut it out: below the floor even the admin's request to undo
    it would be refused (the limit applies to every request of the college)."""
    from limits import parse

    try:
        item = parse(value)
        per_minute = item.amount * 60 / item.get_expiry()
    except (ValueError, ZeroDivisionError):
        raise ValidationError("Like '100 per minute'")
    if per_minute < RATELIMIT_FLOOR_PER_MINUTE:
        raise ValidationError(f"At least {RATELIMIT_FLOOR_PER_MINUTE} per minute, or the college's own "
                              "requests (undoing this one included) would be refused")


class CollegeSettingsSchema(Schema):
    email_domains = fields.List(
        fields.String(validate=validate.Regexp(r"^@?[a-z0-9.-]+\.[a-z]{2,}$", flags=0,
                                               error="Not a domain name")),
        validate=validate.Length(max=50),
    )
    group_limit = Int(validate=validate.Range(min=1, max=50))
    self_reported_rating = fields.Boolean(metadata={"description": "students may state their rating at sign-up"})
    ratelimit_api = fields.String(validate=[
        validate.Length(max=40),
        validate.Regexp(r"^\d+ per \d* ?(second|minute|hour|day)s?$", error="Like '100 per minute'"),
        _at_least_the_floor,
    ])
