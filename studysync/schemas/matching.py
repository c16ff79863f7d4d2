"""Recommendations, search and auto-formed groups: request and response shapes."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from .common import Int, MAX_PAGE_SIZE, Real

MAX_GROUP_SIZE = 20


class RecommendationQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # cache-busting parameters and the like are ignored

    kind = fields.String(load_default="groups", validate=validate.OneOf(("groups", "partners")))
    limit = Int(load_default=10, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class SearchQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(load_default="groups", validate=validate.OneOf(("groups", "people")))
    limit = Int(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class CompatibilitySchema(Schema):
    subject = fields.Float()
    schedule = fields.Float()
    learning_style = fields.Float()
    performance = fields.Float()


class CandidateSchema(Schema):
    """A group (`group_id`, ...) or a classmate (`user_id`, ...), as recommendations and search show them."""

    group_id = fields.String()
    name = fields.String()
    subject = fields.String(allow_none=True)
    schedule = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    member_count = fields.Integer()
    max_members = fields.Integer()
    join_policy = fields.String()
    user_id = fields.String()
    major = fields.String(allow_none=True)
    year = fields.String(allow_none=True)
    subjects = fields.List(fields.String())


class RecommendationSchema(CandidateSchema):
    """A group, a classmate, or (alone) the "create your own group" suggestion."""

    match_percentage = fields.Integer(allow_none=True)
    compatibility = fields.Nested(CompatibilitySchema)
    explanation = fields.String()
    # the suggestion
    suggested = fields.Boolean()
    title = fields.String()
    description = fields.String()


class SearchResultSchema(CandidateSchema):
    score = fields.Float()
    learning_style = fields.String(allow_none=True)


class WeightsSchema(Schema):
    subject = Real(validate=validate.Range(min=0, max=1))
    schedule = Real(validate=validate.Range(min=0, max=1))
    learning_style = Real(validate=validate.Range(min=0, max=1))
    performance = Real(validate=validate.Range(min=0, max=1))


class AutoFormSchema(Schema):
    group_size = Int(required=True, validate=validate.Range(min=2, max=MAX_GROUP_SIZE))
    weights = fields.Nested(WeightsSchema, load_default=None)
    dry_run = fields.Boolean(load_default=False)
    seed = Int(load_default=0, min=0)


class FormedMemberSchema(Schema):
    user_id = fields.String()
    name = fields.String()


class FormedGroupSchema(Schema):
    group_id = fields.String()
    name = fields.String()
    score = fields.Float()
    members = fields.List(fields.Nested(FormedMemberSchema))


class AutoFormResultSchema(Schema):
    dry_run = fields.Boolean()
    min_score = fields.Float()
    groups = fields.List(fields.Nested(FormedGroupSchema))
