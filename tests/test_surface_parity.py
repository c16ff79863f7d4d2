"""One set of rules under every surface.

1. Every route of every surface (taken from the app's URL map, so a surface added later is in the
   test the day it is registered), every method, as anonymous, the sysadmin, an admin, a teacher,
   a student and a student of another college: never a 500.
2. Each route of the mobile `/api` and of every legacy surface answers every role the way its
   `/api/v1` twin does: allowed, 401, 403 or 404. The rules live in the services (`studysync/access.py`), so the two cannot
   drift; this proves it.
3. Every service function a surface calls declares who may call it.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import pathlib
import types

import pytest

from studysync.access import rule_of
from tests.factories import Factory
from tests.support.world import build_world

SKIP_METHODS = {"HEAD", "OPTIONS"}
NOT_HTTP = {"/api/v1/stream"}  # the WebSocket (tests/realtime)
ROLES = ("anonymous", "other_college", "student", "teacher", "admin", "sysadmin")

# Bodies that pass validation, so the answer is the rule's, not the schema's.
V1_BODIES = {
    ("POST", "/api/v1/groups"): {"name": "Parity group"},
    ("POST", "/api/v1/groups/<group_id>/messages"): {"content": "hello"},
    ("POST", "/api/v1/messages/<message_id>/reactions"): {"emoji": "👍"},
    ("POST", "/api/v1/friends/requests"): {"user_id": "<user_id>"},
    ("POST", "/api/v1/dm/<user_id>/messages"): {"content": "hello"},
}
MOBILE_BODIES = {
    "/api/groups/create": {"title": "Parity group"},
    "/api/chat/<group_id>/message": {"content": "hello"},
    "/api/chat/<group_id>/send": {"content": "hello"},
    "/api/chat/message/<message_id>/react": {"emoji": "👍"},
    "/api/friends/request": {"userId": "<user_id>"},
    "/api/messages/send": {"receiverId": "<user_id>", "content": "hello"},
    "/api/search": {"query": "math"},
    "/api/search/people": {"query": "math"},
    # legacy surfaces
    "/api/studygroups/": {"classroomId": "<classroom_id>", "memberUserIds": ["<user_id>"], "name": "Parity"},
    "/api/studygroups/<group_id>/members": {"userIds": ["<user_id>"], "memberUserIds": ["<user_id>"]},
    "/group/create_group": {"name": "Parity", "feild": "Maths", "min_requirement": 0},
    "/students": {"roll_no": "P-1", "name": "Parity", "branch": "CS", "marks": 50},
    "/students/<roll_no>": {"marks": 60},
}
V1_BODIES.update({
    ("POST", "/api/v1/groups/<group_id>/members"): {"user_ids": ["<user_id>"]},
    ("PUT", "/api/v1/groups/<group_id>/members"): {"user_ids": ["<user_id>"]},
    ("DELETE", "/api/v1/groups/<group_id>/members"): {"user_ids": ["<user_id>"]},
    ("POST", "/api/v1/students"): {"student_name": "Parity", "student_email": "parity@example.edu"},
    ("PUT", "/api/v1/students/<student_id>/profile"): {"marks": 60},
})

# mobile route → its /api/v1 twin (method, rule, query string)
TWINS = {
    ("GET", "/api/auth/profile"): ("GET", "/api/v1/me/profile", ""),
    ("GET", "/api/auth/me"): ("GET", "/api/v1/me/profile", ""),
    ("GET", "/api/users/<user_id>"): ("GET", "/api/v1/users/<user_id>/profile", ""),
    ("POST", "/api/recommend"): ("GET", "/api/v1/recommendations", ""),
    ("POST", "/api/groups/create"): ("POST", "/api/v1/groups", ""),
    ("GET", "/api/groups/mine"): ("GET", "/api/v1/groups/mine", ""),
    ("POST", "/api/groups/<group_id>/join"): ("POST", "/api/v1/groups/<group_id>/join", ""),
    ("POST", "/api/groups/<group_id>/request-join"): ("POST", "/api/v1/groups/<group_id>/join", ""),
    ("POST", "/api/groups/<group_id>/requests/<user_id>/approve"):
        ("POST", "/api/v1/groups/<group_id>/requests/<user_id>/approve", ""),
    ("POST", "/api/groups/<group_id>/requests/<user_id>/reject"):
        ("POST", "/api/v1/groups/<group_id>/requests/<user_id>/reject", ""),
    ("POST", "/api/search"): ("GET", "/api/v1/search", "?q=math&type=groups"),
    ("POST", "/api/search/people"): ("GET", "/api/v1/search", "?q=math&type=people"),
    ("GET", "/api/notifications"): ("GET", "/api/v1/notifications", ""),
    ("POST", "/api/notifications/<notification_id>/read"):
        ("POST", "/api/v1/notifications/<notification_id>/read", ""),
    ("GET", "/api/chat/<group_id>/messages"): ("GET", "/api/v1/groups/<group_id>/messages", ""),
    ("POST", "/api/chat/<group_id>/message"): ("POST", "/api/v1/groups/<group_id>/messages", ""),
    ("POST", "/api/chat/<group_id>/send"): ("POST", "/api/v1/groups/<group_id>/messages", ""),
    ("POST", "/api/chat/message/<message_id>/react"): ("POST", "/api/v1/messages/<message_id>/reactions", ""),
    ("POST", "/api/friends/request"): ("POST", "/api/v1/friends/requests", ""),
    ("GET", "/api/friends/requests"): ("GET", "/api/v1/friends/requests", ""),
    ("POST", "/api/friends/request/<request_id>/accept"): ("POST", "/api/v1/friends/requests/<request_id>/accept", ""),
    ("POST", "/api/friends/request/<request_id>/reject"): ("POST", "/api/v1/friends/requests/<request_id>/reject", ""),
    ("GET", "/api/friends"): ("GET", "/api/v1/friends", ""),
    ("POST", "/api/messages/send"): ("POST", "/api/v1/dm/<user_id>/messages", ""),
    ("GET", "/api/messages/<user_id>"): ("GET", "/api/v1/dm/<user_id>/messages", ""),
    # seed 003
    ("GET", "/api/studygroups/"): ("GET", "/api/v1/groups/mine", ""),
    ("POST", "/api/studygroups/"): ("POST", "/api/v1/groups", ""),
    ("GET", "/api/studygroups/<group_id>"): ("GET", "/api/v1/groups/<group_id>", ""),
    ("GET", "/api/studygroups/classroom/<classroom_id>"): ("GET", "/api/v1/classrooms/<classroom_id>/groups", ""),
    ("POST", "/api/studygroups/<group_id>/archive"): ("POST", "/api/v1/groups/<group_id>/archive", ""),
    ("POST", "/api/studygroups/<group_id>/members"): ("POST", "/api/v1/groups/<group_id>/members", ""),
    ("PUT", "/api/studygroups/<group_id>/members"): ("PUT", "/api/v1/groups/<group_id>/members", ""),
    ("DELETE", "/api/studygroups/<group_id>/members"): ("DELETE", "/api/v1/groups/<group_id>/members", ""),
    # seed 000
    ("POST", "/group/create_group"): ("POST", "/api/v1/groups", ""),
    # seed 001
    ("GET", "/students"): ("GET", "/api/v1/students", ""),
    ("POST", "/students"): ("POST", "/api/v1/students", ""),
    ("GET", "/students/<roll_no>"): ("GET", "/api/v1/students/<student_id>", ""),
    ("PUT", "/students/<roll_no>"): ("PUT", "/api/v1/students/<student_id>/profile", ""),
    ("DELETE", "/students/<roll_no>"): ("DELETE", "/api/v1/students/<student_id>", ""),
}
# When a twin's /api/v1 body must say what the other surface's body says (a classroom's group).
TWIN_BODIES = {"/api/studygroups/": {"name": "Parity", "classroom_id": "<classroom_id>", "member_ids": ["<user_id>"]}}
PUBLIC = {"/api/auth/register", "/api/auth/login", "/api/health", "/signup", "/signin", "/register", "/login",
          "/metrics"}


# Seed 001 names a student by roll number, not by id: another college's student cannot be told
# "not found" by the URL-id check before the role check runs, so there both 403 and 404 mean refused.
KEYED_OTHERWISE = {"/students/<roll_no>"}


def outcome(status: int, rule: str = "") -> str:
    """What the rules decided: refused (401/403/404), or let through (whatever the body or the
    state then made of it)."""
    if rule in KEYED_OTHERWISE and status in (403, 404):
        return "refused"
    return str(status) if status in (401, 403, 404) else "allowed"


@pytest.fixture
def parity_app(app_factory):
    """Rate limits off: this test makes hundreds of requests as each user."""
    return app_factory(ratelimit_enabled=False)


def _world_and_actors(app, client, factory, sysadmin, stranger):
    world = build_world(app, client, factory)
    return world, {"anonymous": None, "other_college": stranger, "student": world.kit.students[1],
                   "teacher": world.kit.teacher, "admin": world.kit.admin, "sysadmin": sysadmin}


@pytest.fixture
def surfaces(parity_app):
    """A client, a college with one of everything, and an actor for each role."""
    client = parity_app.test_client()
    factory = Factory(parity_app, client)
    world, actors = _world_and_actors(parity_app, client, factory, factory.sysadmin(), factory.college().student)
    return client, world, actors


@pytest.fixture
def twin_worlds(parity_app):
    """Two identical colleges: one sees only mobile calls, the other only their /api/v1 twins, in
    the same order, so both are in the same state at every step (an approval on one surface
    cannot turn its twin's approval into a 404)."""
    client = parity_app.test_client()
    factory = Factory(parity_app, client)
    sysadmin, stranger = factory.sysadmin(), factory.college().student
    mobile = _world_and_actors(parity_app, client, factory, sysadmin, stranger)
    v1 = _world_and_actors(parity_app, client, factory, sysadmin, stranger)
    return client, mobile, v1


def _fill(value, world):
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, str) and value.startswith("<"):
        return world.ids[value.strip("<>")]
    return value


def call(client, world, actor, method, rule, body=None, query=""):
    headers = actor.headers if actor is not None else {}
    json = _fill(body, world) if body is not None else (None if method in ("GET", "DELETE") else {})
    return client.open(world.url(rule) + query, method=method, json=json, headers=headers)


def http_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.rule in NOT_HTTP:
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            yield method, rule.rule


def test_no_route_of_any_surface_answers_500_to_any_role(surfaces):
    client, world, actors = surfaces
    checked = 0
    for method, rule in http_routes(client.application):
        body = V1_BODIES.get((method, rule)) or MOBILE_BODIES.get(rule)
        for role in ROLES:
            r = call(client, world, actors[role], method, rule, body)
            assert r.status_code < 500, (method, rule, role, r.status_code, r.get_data(as_text=True)[:300])
            checked += 1
    assert checked >= 6 * 120  # every route of /api/v1 and /api at least


def test_every_route_of_every_other_surface_answers_each_role_as_its_v1_twin_does(twin_worlds):
    client, (mobile_world, mobile_actors), (v1_world, v1_actors) = twin_worlds
    others = {(m, r) for m, r in http_routes(client.application) if not r.startswith("/api/v1")}
    untwinned = {route for route in others if route not in TWINS and route[1] not in PUBLIC}
    assert not untwinned, f"give these routes a /api/v1 twin in TWINS: {sorted(untwinned)}"
    differences = []
    # deletions last: a deleted student is gone from seed 001's surface but still readable by id on /api/v1
    for (method, rule), (twin_method, twin_rule, query) in sorted(TWINS.items(), key=lambda t: (t[0][0] == "DELETE", t)):
        for role in ROLES:
            mine = call(client, mobile_world, mobile_actors[role], method, rule, MOBILE_BODIES.get(rule))
            theirs = call(client, v1_world, v1_actors[role], twin_method, twin_rule,
                          TWIN_BODIES.get(rule) or V1_BODIES.get((twin_method, twin_rule)), query)
            if outcome(mine.status_code, rule) != outcome(theirs.status_code, rule):
                differences.append((rule, role, mine.status_code, theirs.status_code, mine.get_json()))
    assert not differences, differences


def _surface_modules():
    root = pathlib.Path(__file__).resolve().parents[1] / "studysync" / "api"
    for path in sorted(root.rglob("*.py")):
        yield path, "studysync." + ".".join(path.relative_to(root.parent).with_suffix("").parts)


def test_every_service_a_surface_calls_declares_who_may_call_it():
    """A surface that calls a service function with no rule fails here: the rule cannot be left
    to the surface."""
    undeclared = []
    for path, module_name in _surface_modules():
        module = importlib.import_module(module_name.removesuffix(".__init__"))
        services = {name: value for name, value in vars(module).items() if isinstance(value, types.ModuleType)
                    and value.__name__.startswith(("studysync.services.", "studysync.auth.sessions"))}
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in services:
                function = getattr(services[node.func.value.id], node.func.attr, None)
                if inspect.isfunction(function) and rule_of(function) is None:
                    undeclared.append(f"{path.name}: {node.func.value.id}.{node.func.attr}")
    assert not undeclared, sorted(set(undeclared))
