"""Schemas that dump a list without marshmallow's per-field machinery, for the hot lists (issue 15).

marshmallow's `dump` takes every field of every item through `Field.serialize`, its accessor and
`_serialize`: a page of 100 groups is some 2,000 trips through that generic path. A schema built on
`CompiledDump` plans its fields once (per schema instance) into a list of steps — where to read the
value, how to convert it — and its `dump` runs those steps in one loop (measured: 2.5 times less
time than marshmallow for a page of groups or notifications).

Only conversions whose marshmallow code is a plain call are planned: String, Integer, Float,
Boolean and Raw (dumped as they are), Dict without key or value fields, List and Nested of those, and
this package's UTCDateTime, each only when the field's class does not override its `_serialize`.
Any other field (or one with a dotted attribute) dumps through its own `serialize`, and a schema
with dump hooks through marshmallow whole. So the output is marshmallow's, which
tests/test_compiled_dump.py checks field type by field type. The schema's fields, and so the
OpenAPI document, are unchanged.
"""
from __future__ import annotations

from typing import Any, Callable

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

from ..db import utc_iso

Convert = Callable[[Any], Any]


def _get(obj: Any, key: str) -> Any:
    """marshmallow.utils.get_value for a key without dots (a mapping's item, else an attribute)."""
    if not hasattr(obj, "__getitem__"):
        return getattr(obj, key, missing)
    try:
        return obj[key]
    except (KeyError, IndexError, TypeError, AttributeError):
        return getattr(obj, key, missing)


def _text(value: Any) -> str:
    return value if type(value) is str else value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _same(value: Any) -> Any:
    return value


def _unchanged(field: fields.Field, base: type[fields.Field]) -> bool:
    """The field's class dumps exactly as `base` does (it may add validators or a constructor)."""
    return isinstance(field, base) and type(field)._serialize is base._serialize


def _converter(field: fields.Field) -> Convert | None:
    """A plain function giving what `field._serialize(value)` gives for any value but None (which
    every planned field dumps as None), or None when the field is not planned."""
    from .common import UTCDateTime

    if _unchanged(field, UTCDateTime):
        return utc_iso
    if _unchanged(field, fields.String):
        return _text
    if _unchanged(field, fields.Integer) and not field.as_string:
        return int
    if _unchanged(field, fields.Float) and not field.as_string:
        return float
    if type(field)._serialize is fields.Field._serialize:  # Boolean, Raw: marshmallow dumps the value as it is
        return _same
    if _unchanged(field, fields.Dict) and field.key_field is None and field.value_field is None:
        return field.mapping_type
    if _unchanged(field, fields.List):
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value: [None if each is None else inner(each) for each in value]
    if _unchanged(field, fields.Nested):
        schema = field.schema
        many = bool(schema.many or field.many)
        if not _plannable(schema):
            return lambda value: Schema.dump(schema, value, many=many)
        item = _plan(schema)
        return (lambda value: [item(each) for each in value]) if many else item
    return None


def _plannable(schema: Schema) -> bool:
    return not (schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP]) and schema.dict_class is dict


def _plan(schema: Schema) -> Convert:
    """One item's dump for a plannable `schema`, built on first use and kept on the instance.

    Each step is (key, name, convert, default, field): a planned field has `convert` and `name` is
    the attribute it reads; any other keeps its `field` and dumps through `field.serialize` under its
    schema `name`, exactly as marshmallow calls it. The schema's order is kept either way."""
    plan = schema.__dict__.get("_compiled_dump")
    if plan is not None:
        return plan
    steps = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        attribute = field.attribute or name
        convert = _converter(field) if field._CHECK_ATTRIBUTE and "." not in attribute else None
        steps.append((key, attribute, convert, field.dump_default, None) if convert else (key, name, None, None, field))
    accessor = schema.get_attribute

    def plan(obj: Any) -> dict:
        out = {}
        for key, name, convert, default, field in steps:
            if field is not None:
                value = field.serialize(name, obj, accessor=accessor)
                if value is not missing:
                    out[key] = value
                continue
            value = _get(obj, name)
            if value is missing:
                value = default() if callable(default) else default
                if value is missing:
                    continue
            out[key] = None if value is None else convert(value)
        return out

    schema.__dict__["_compiled_dump"] = plan
    return plan


class CompiledDump(Schema):
    """A schema whose `dump` runs its planned steps (see the module's docstring)."""

    def dump(self, obj: Any, *, many: bool | None = None):
        if not _plannable(self):
            return super().dump(obj, many=many)
        plan = _plan(self)
        many = self.many if many is None else bool(many)
        if many and obj is not None:
            return [plan(each) for each in obj]
        return plan(obj)
