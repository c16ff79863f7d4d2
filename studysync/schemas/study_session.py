"""Study sessions, RSVPs and calendar-feed tokens (shape only).

Times come in as ISO-8601 with an offset (a naive time is refused: its zone would be a guess) and
go out in UTC with `Z`. Whether a time is in the future is the service's rule, not the schema's.
"""
from __future__ import annotations

from datetime import timezone

from marshmallow import EXCLUDE, Schema, fields, validate

from ..models.study_session import RSVP_STATUSES, SESSION_STATUSES
from .common import Int, PageQuerySchema, TrimmedString, UTCDateTime

MIN_DURATION, MAX_DURATION = 15, 720


class AwareTime(fields.AwareDateTime):
    """An ISO-8601 time with an offset, returned in UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(timezone.utc)
        except OverflowError as error:  # e.g. 9999-12-31T23:00:00-05:00
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from error


def _title(**kwargs):
    return TrimmedString(validate=validate.Length(min=1, max=100), **kwargs)


def _text(max_chars: int, **kwargs):
    return TrimmedString(validate=validate.Length(max=max_chars), allow_none=True, **kwargs)


def _duration(**kwargs):
    return Int(validate=validate.Range(min=MIN_DURATION, max=MAX_DURATION),
                          metadata={"description": f"{MIN_DURATION} to {MAX_DURATION} minutes"}, **kwargs)


_WHEN = {"description": "ISO-8601 with an offset, e.g. 2026-12-01T16:00:00Z; must be in the future"}


class StudySessionCreateSchema(Schema):
    title = _title(required=True)
    scheduled_time = AwareTime(required=True, metadata=_WHEN)
    duration_minutes = _duration(load_default=60)
    location = _text(200, load_default=None)
    description = _text(4000, load_default=None)


class StudySessionUpdateSchema(Schema):
    title = _title()
    scheduled_time = AwareTime(metadata=_WHEN)
    duration_minutes = _duration()
    location = _text(200)
    description = _text(4000)


class StudySessionListQuerySchema(PageQuerySchema):
    upcoming = fields.Boolean(load_default=True, metadata={"description": "only sessions not yet ended"})
    include_cancelled = fields.Boolean(load_default=False)


class RsvpSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(RSVP_STATUSES))


class CalendarQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    token = fields.String(metadata={"description": "the feed secret from POST /me/calendar/token; "
                                                   "lets a calendar app fetch the feed without a Bearer token"})


class RsvpCountsSchema(Schema):
    going = fields.Integer()
    maybe = fields.Integer()
    not_going = fields.Integer()


class AttendeeSchema(Schema):
    user_id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": " / ".join(RSVP_STATUSES)})


class SessionGroupSchema(Schema):
    group_id = fields.String()
    name = fields.String()


class StudySessionSchema(Schema):
    session_id = fields.String()
    group_id = fields.String()
    title = fields.String()
    scheduled_time = UTCDateTime()
    ends_at = UTCDateTime()
    duration_minutes = fields.Integer()
    location = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " / ".join(SESSION_STATUSES)})
    sequence = fields.Integer(metadata={"description": "grows with every edit (iCalendar SEQUENCE)"})
    created_by = fields.String()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    cancelled_at = UTCDateTime(allow_none=True)
    counts = fields.Nested(RsvpCountsSchema)
    my_rsvp = fields.String(allow_none=True, metadata={"description": "the caller's RSVP, or null"})


class StudySessionDetailSchema(StudySessionSchema):
    attendees = fields.List(fields.Nested(AttendeeSchema))


class MyStudySessionSchema(StudySessionSchema):
    group = fields.Nested(SessionGroupSchema)


class StudySessionEventSchema(StudySessionDetailSchema):
    """`session.changed`'s `session`: the detail, minus what depends on who is looking."""

    class Meta:
        exclude = ("my_rsvp",)


class CalendarTokenSchema(Schema):
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})
    url = fields.String(metadata={"description": "the feed URL to subscribe to"})
