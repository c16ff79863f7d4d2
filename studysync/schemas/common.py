"""The success envelope and shared fields.

Every `/api/v1` success is `{"success": true, "data": ..., "message": "..."}` (lists add
`pagination`). `envelope(Schema)` builds the response schema once per data schema so the OpenAPI
document shows the real shape of each route.
"""
from __future__ import annotations

from functools import lru_cache

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_dump, validate

from ..db import utc_iso
from .compiled import CompiledDump

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000  # (page - 1) * limit stays far inside every database's OFFSET
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1  # an INTEGER column on SQLite, PostgreSQL and MariaDB
REAL_MAX = 3.4e38  # MariaDB's FLOAT is single precision (PostgreSQL's and SQLite's are double)


class UTCDateTime(fields.DateTime):
    """ISO-8601 in UTC with `Z` (never a naive time, never `+00:00`)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return utc_iso(value)


class TrimmedString(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip()


class Email(fields.Email):
    """Trimmed and lower-cased: emails are unique per college regardless of case."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


class Password(fields.String):
    """Checked against the policy (and bcrypt's 72-byte limit) at validation, so it is a 400."""

    def __init__(self, *, strong: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.strong = strong

    def _deserialize(self, value, attr, data, **kwargs):
        from ..auth.passwords import password_problem

        value = super()._deserialize(value, attr, data, **kwargs)
        problem = password_problem(value, strong=self.strong)
        if problem:
            raise ValidationError(problem)
        return value


class HidesPrivateFields(Schema):
    """Fields named in `PRIVATE` are left out, not shown as null, when the service withheld them
    from this viewer (a classmate's email)."""

    PRIVATE: tuple[str, ...] = ()

    @post_dump
    def _drop_withheld(self, data, **_kwargs):
        for name in self.PRIVATE:
            if data.get(name) is None:
                data.pop(name, None)
        return data


def _with_range(validators, low, high) -> list:
    extra = validators if isinstance(validators, (list, tuple)) else [validators] if validators else []
    return [*extra, validate.Range(min=low, max=high)]  # the field's own bounds speak first


class Int(fields.Integer):
    """An integer every database column holds: bounded by default to a 32-bit INTEGER, narrower with
    `min`/`max`. Input schemas use this, never a bare `fields.Integer`, so no number a client sends
    can overflow a column or an OFFSET (tests/api/v1/test_hostile_input.py checks the whole spec)."""

    def __init__(self, *, min: int = INT_MIN, max: int = INT_MAX, **kwargs):
        kwargs["validate"] = _with_range(kwargs.get("validate"), min, max)
        super().__init__(**kwargs)


class Real(fields.Float):
    """A finite float every database column holds (MariaDB's FLOAT is the narrowest), narrower with
    `min`/`max`."""

    def __init__(self, *, min: float = -REAL_MAX, max: float = REAL_MAX, **kwargs):
        kwargs["validate"] = _with_range(kwargs.get("validate"), min, max)
        super().__init__(**kwargs)


class EmptySchema(Schema):
    pass


class PaginationSchema(Schema):
    page = fields.Integer()
    limit = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()


class PageQuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    page = Int(load_default=1, min=1, max=MAX_PAGE)
    limit = Int(load_default=20, min=1, max=MAX_PAGE_SIZE)


@lru_cache(maxsize=None)
def envelope(data_schema: type[Schema] | None = None, *, many: bool = False, paginated: bool = False) -> type[Schema]:
    """The response schema `{success, data, message[, pagination]}` around `data_schema`; it dumps
    through planned steps (`compiled.CompiledDump`) when `data_schema` does."""
    name = (data_schema.__name__.removesuffix("Schema") if data_schema else "Empty")
    name += "List" if many else ""
    attrs: dict = {
        "success": fields.Boolean(dump_default=True),
        "message": fields.String(),
        "data": fields.Nested(data_schema, many=many) if data_schema else fields.Dict(),
    }
    if paginated:
        attrs["pagination"] = fields.Nested(PaginationSchema)
    base = CompiledDump if data_schema is not None and issubclass(data_schema, CompiledDump) else Schema
    return base.from_dict(attrs, name=f"{name}Envelope")


def reply(data=None, message: str = "", pagination: dict | None = None) -> dict:
    body = {"success": True, "data": {} if data is None else data, "message": message}
    if pagination is not None:
        body["pagination"] = pagination
    return body


class CursorQuerySchema(Schema):
    """`?before=<message_id>&after=<message_id>&limit=50` for routes paged by message cursor."""

    class Meta:
        unknown = EXCLUDE

    before = fields.String(validate=validate.Length(min=1, max=36))
    after = fields.String(validate=validate.Length(min=1, max=36))
    limit = Int(load_default=50, min=1, max=MAX_PAGE_SIZE)


class CursorSchema(Schema):
    oldest = fields.String(allow_none=True)
    newest = fields.String(allow_none=True)
    has_more = fields.Boolean()


@lru_cache(maxsize=None)
def cursor_envelope(data_schema: type[Schema]) -> type[Schema]:
    """`{success, data: [...], message, cursor}` for routes paged by message cursor, where
    `cursor` is `{"oldest": <message_id>, "newest": <message_id>, "has_more": bool}`."""
    name = data_schema.__name__.removesuffix("Schema")
    return Schema.from_dict({
        "success": fields.Boolean(dump_default=True),
        "message": fields.String(),
        "data": fields.Nested(data_schema, many=True),
        "cursor": fields.Nested(CursorSchema),
    }, name=f"{name}CursorEnvelope")
