"""A `CompiledDump` schema dumps exactly what marshmallow dumps for the same fields (issue 15: the hot
lists skip marshmallow's per-field path, not its rules)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from marshmallow import Schema, fields, post_dump

from studysync.models import User
from studysync.schemas.auth import MeSchema
from studysync.schemas.common import UTCDateTime, envelope, reply
from studysync.schemas.compiled import CompiledDump
from studysync.schemas.group import MyGroupSchema
from studysync.schemas.notification import NotificationListEnvelope
from studysync.services.groups.views import MyGroup
from studysync.services.notifications import NotificationView

WHEN = datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=timezone.utc)


def plain(schema_class: type[Schema]) -> Schema:
    """The same fields on marshmallow's own Schema (nested schemas too)."""
    def copied(f):
        f = copy.deepcopy(f)
        if isinstance(f, fields.Nested) and isinstance(f.nested, type) and issubclass(f.nested, Schema):
            f.nested = type(plain(f.nested))
        return f
    return Schema.from_dict({name: copied(f) for name, f in schema_class._declared_fields.items()},
                            name=f"Plain{schema_class.__name__}")()


class Inner(CompiledDump):
    n = fields.Integer()
    label = fields.String(data_key="Label")


class Everything(CompiledDump):
    text = fields.String()
    renamed = fields.String(attribute="source", data_key="shown")
    number = fields.Integer()
    ratio = fields.Float()
    flag = fields.Boolean()
    when = UTCDateTime(allow_none=True)
    plain_when = fields.DateTime()  # not planned: dumps through marshmallow
    data = fields.Dict()
    tags = fields.List(fields.String())
    inner = fields.Nested(Inner)
    inners = fields.Nested(Inner, many=True)
    default = fields.String(dump_default="fallback")
    computed = fields.Function(lambda obj: repr(obj)[:20])  # not planned either
    always = fields.Boolean(dump_default=lambda: True)


@dataclass
class Thing:
    text: object = "a"
    source: object = "from source"
    number: object = 3
    ratio: object = 0.5
    flag: object = True
    when: object = WHEN
    plain_when: object = WHEN
    data: object = field(default_factory=lambda: {"k": [1, 2]})
    tags: object = field(default_factory=lambda: ["x", None, b"y"])
    inner: object = field(default_factory=lambda: {"n": "7", "label": 5})
    inners: object = field(default_factory=lambda: [{"n": 1}, {"label": None}])


CASES = [
    Thing(),
    Thing(text=None, source=None, number=None, ratio=None, flag=None, when=None, plain_when=None, data=None,
          tags=None, inner=None, inners=None),
    Thing(text=b"bytes", number="12", ratio=2, flag=0, tags=[], inners=[]),
    Thing(flag="yes", text=42, data={}),
    {"text": "from a dict", "number": 1, "flag": 1, "items": "a key that shadows dict.items"},
    {},
]


@pytest.mark.parametrize("obj", CASES, ids=range(len(CASES)))
def test_each_field_type_dumps_as_marshmallow_does(obj):
    assert Everything().dump(obj) == plain(Everything).dump(obj)


def test_lists_and_many_dump_as_marshmallow_does():
    assert Everything(many=True).dump(CASES) == plain(Everything).dump(CASES, many=True)
    assert Everything().dump(CASES, many=True) == plain(Everything).dump(CASES, many=True)


def test_a_schema_with_dump_hooks_dumps_through_marshmallow_whole():
    class Hooked(CompiledDump):
        name = fields.String()

        @post_dump(pass_collection=True)
        def wrap(self, data, **kwargs):
            return {"wrapped": data}

    class Outer(CompiledDump):
        hooked = fields.Nested(Hooked, many=True)

    assert Hooked().dump([{"name": "a"}], many=True) == {"wrapped": [{"name": "a"}]}
    assert Outer().dump({"hooked": [{"name": "a"}]}) == {"hooked": {"wrapped": [{"name": "a"}]}}


def test_the_hot_lists_dump_as_marshmallow_does():
    group = MyGroup(id="g1", name="Calculus", subject=None, description="d", schedule=None, location="Room 1",
                    max_members=6, member_count=2, min_rating=0, join_policy="open", classroom_id=None,
                    leader_id="u1", created_by="u1", is_archived=False, last_message_at=None, created_at=WHEN,
                    updated_at=WHEN, leader_name=None, member_ids=["u1", "u2"], role="leader", status="active",
                    joined_at=WHEN, requested_at=None, unread_count=3)
    pagination = {"page": 1, "limit": 20, "total": 1, "pages": 1}
    body = reply([group], "Your groups retrieved", pagination)
    schema = envelope(MyGroupSchema, many=True, paginated=True)()
    assert isinstance(schema, CompiledDump)
    assert schema.dump(body) == plain(type(schema)).dump(body)

    notes = [NotificationView("n1", "join_request", "Title", "Message", {"groupId": "g1"}, None, WHEN),
             NotificationView("n2", "direct_message", "Title", "", {}, WHEN, WHEN)]
    body = {**reply(notes, "Notifications retrieved", pagination), "unread_count": 1}
    assert NotificationListEnvelope().dump(body) == plain(NotificationListEnvelope).dump(body)
    assert NotificationListEnvelope().dump(body)["data"][1]["read"] is True


def test_the_callers_own_record_dumps_as_marshmallow_does():
    """GET /api/v1/auth/me dumps the caller's ORM row through planned steps, a nullable college
    and a renamed field (`user_id` is the row's `id`) included."""
    user = User(id="u1", name="Ada", email="ada@c1.edu", role="sysadmin", college_id=None, status="active",
                created_at=WHEN, must_change_password=False)
    body = reply(user, "Current user")
    schema = envelope(MeSchema)()
    assert isinstance(schema, CompiledDump)
    assert schema.dump(body) == plain(type(schema)).dump(body)
    assert schema.dump(body)["data"]["user_id"] == "u1" and schema.dump(body)["data"]["college_id"] is None
