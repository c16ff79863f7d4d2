"""Learning profiles: what a student edits (`ProfileUpdateSchema`) and what others see.

Every list and text is bounded, and the schedule accepts only weekdays (any case, or a 3+ letter
abbreviation such as "Mon" or "thurs"), normalised to "Monday"… so the matcher and the apps read
one spelling. A day's value may be a list of slot labels or one label.
"""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from .common import Int, Real, TrimmedString, UTCDateTime

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_SUBJECTS = 20
MAX_LIST_ITEMS = 10
MAX_ITEM_CHARS = 100
MAX_SLOTS_PER_DAY = 8
MAX_SLOT_CHARS = 50
MAX_TEXT_CHARS = 2000


def weekday(name: str) -> str | None:
    """"mon", " MONDAY ", "Thurs" → the weekday's full name; anything else → None."""
    key = " ".join(str(name).split()).casefold()
    if len(key) < 3:
        return None
    matches = [day for day in WEEKDAYS if day.casefold().startswith(key)]
    return matches[0] if len(matches) == 1 else None


class StringList(fields.List):
    """Trimmed strings, blanks dropped, duplicates (ignoring case) dropped, bounded in count and size."""

    def __init__(self, max_items: int = MAX_LIST_ITEMS, max_chars: int = MAX_ITEM_CHARS, **kwargs):
        super().__init__(TrimmedString(validate=validate.Length(max=max_chars)), **kwargs)
        self.max_items = max_items

    def _deserialize(self, value, attr, data, **kwargs):
        items = super()._deserialize(value, attr, data, **kwargs)
        seen: dict[str, str] = {}
        for item in items:
            if item and item.casefold() not in seen:
                seen[item.casefold()] = item
        if len(seen) > self.max_items:
            raise ValidationError(f"At most {self.max_items} items")
        return list(seen.values())


class ScheduleField(fields.Field):
    """{"Monday": ["Evening (5-9 PM)"], ...}: known weekdays only; empty days are dropped."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError("Schedule must be an object of weekday: [time slots]")
        schedule: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        for raw_day, slots in value.items():
            day = weekday(raw_day) if isinstance(raw_day, str) else None
            if day is None:
                errors[str(raw_day)] = [f"Unknown weekday; use one of {', '.join(WEEKDAYS)}"]
                continue
            if slots is None:
                slots = []
            if isinstance(slots, str):
                slots = [slots]
            if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots):
                errors[str(raw_day)] = ["Time slots must be a list of strings"]
                continue
            cleaned = list(dict.fromkeys(" ".join(s.split()) for s in slots if s.strip()))
            if len(cleaned) > MAX_SLOTS_PER_DAY:
                errors[str(raw_day)] = [f"At most {MAX_SLOTS_PER_DAY} time slots per day"]
            elif any(len(s) > MAX_SLOT_CHARS for s in cleaned):
                errors[str(raw_day)] = [f"Time slots are at most {MAX_SLOT_CHARS} characters"]
            elif cleaned:
                schedule.setdefault(day, [])
                schedule[day].extend(s for s in cleaned if s not in schedule[day])
        if errors:
            raise ValidationError(errors)
        return {day: schedule[day] for day in WEEKDAYS if day in schedule}


class GroupPreferencesSchema(Schema):
    group_size = Int(validate=validate.Range(min=2, max=20), allow_none=True)
    session_duration = Real(validate=validate.Range(min=0.5, max=12), allow_none=True)
    study_goals = StringList()


def _text(max_chars: int):
    return TrimmedString(validate=validate.Length(max=max_chars), allow_none=True)


class ProfileUpdateSchema(Schema):
    """PUT /me/profile: the fields sent are set (null clears one), the others keep their values."""

    major = _text(120)
    year = _text(50)
    university = _text(200)
    learning_style = _text(MAX_TEXT_CHARS)
    bio = _text(MAX_TEXT_CHARS)
    subjects = StringList(max_items=MAX_SUBJECTS)
    schedule = ScheduleField()
    performance_level = Int(validate=validate.Range(min=1, max=5), allow_none=True)
    group_preferences = fields.Nested(GroupPreferencesSchema)
    study_environments = StringList()
    study_methods = StringList()


class ProfileSchema(Schema):
    """A profile as shown: `email` is present only when the viewer may see it."""

    user_id = fields.String()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    major = fields.String(allow_none=True)
    year = fields.String(allow_none=True)
    university = fields.String(allow_none=True)
    learning_style = fields.String(allow_none=True)
    bio = fields.String(allow_none=True)
    subjects = fields.List(fields.String())
    schedule = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    performance_level = fields.Integer(allow_none=True)
    group_preferences = fields.Dict()
    study_environments = fields.List(fields.String())
    study_methods = fields.List(fields.String())
    updated_at = UTCDateTime(allow_none=True)
