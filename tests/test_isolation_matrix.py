"""Every route with an id in its URL, every method, every role of another college: 404, and the
victim college's data unchanged.

The routes come from the app's own URL map, not from a list kept by hand, so a route added later
is covered the day it is added; a new kind of id fails here until the victim below owns one.
"""
import pytest
from sqlalchemy import select

from studysync.db import Base, db
from studysync.tenancy import all_tenants
from tests.support.world import build_world

SKIP_METHODS = {"HEAD", "OPTIONS"}
# Seed 003's clients read their own error body, `{"message": ...}`, not our envelope.
LEGACY_NOT_FOUND = {"/api/studygroups/": ({"message": "Study group not found"}, {"message": "Classroom not found"})}


def assert_not_found_body(rule: str, body) -> None:
    for prefix, bodies in LEGACY_NOT_FOUND.items():
        if rule.startswith(prefix):
            assert body in bodies, (rule, body)
            return
    assert body["success"] is False, (rule, body)


def victim_rows(app, college_id):
    """Every row of every table that belongs to the college, as comparable tuples."""
    rows = {}
    with app.app_context(), all_tenants():
        for table in Base.metadata.sorted_tables:
            if "college_id" in table.c:
                stmt = select(table).where(table.c.college_id == college_id)
            elif table.name == "colleges":
                stmt = select(table).where(table.c.id == college_id)
            else:
                continue
            rows[table.name] = sorted(tuple(str(v) for v in row) for row in db.session.execute(stmt))
    return rows


@pytest.fixture
def victim(app, client, factory):
    world = build_world(app, client, factory)
    return world.kit, world.ids


def id_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        params = sorted(a for a in rule.arguments if a.endswith("_id"))
        if params:
            for method in sorted(rule.methods - SKIP_METHODS):
                yield method, rule, params


def test_every_id_route_is_a_404_for_every_role_of_another_college(app, client, factory, victim):
    kit, ids = victim
    intruders = factory.college()
    before = victim_rows(app, kit.id)
    checked = 0
    for method, rule, params in id_routes(app):
        missing = [p for p in params if p not in ids]
        assert not missing, f"{rule.rule}: give the victim college a {missing} in this test"
        url = rule.rule
        for param in rule.arguments:
            url = url.replace(f"<{param}>", str(ids[param]))
        for actor in (intruders.admin, intruders.teacher, intruders.student):
            body = None if method in ("GET", "DELETE") else {}
            r = client.open(url, method=method, json=body, headers=actor.headers)
            assert r.status_code == 404, (method, rule.rule, actor.role, r.status_code, r.get_json())
            assert r.is_json
            assert_not_found_body(rule.rule, r.json)
            checked += 1
    assert checked > 150  # every id route of /api/v1 and /api, three roles each
    assert victim_rows(app, kit.id) == before
