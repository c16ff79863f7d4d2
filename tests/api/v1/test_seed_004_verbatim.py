"""Seed 004 requests that used to be refused, sent exactly as documented (shared/seeds/004_*.txt)."""
from __future__ import annotations

from studysync.db import db
from studysync.features import FEATURES
from studysync.services import users
from studysync.tenancy import tenant_context
from tests.factories import Factory
from tests.support.envelopes import error_body

API_6 = {"enabled_features": ["core", "ai_mock", "mcq_test", "resume_builder", "placement_help"]}


def test_api_6_stores_the_documented_feature_slugs(client, factory):
    sysadmin = factory.sysadmin()
    kit = factory.college(features=["core"])
    r = client.put(f"/api/v1/colleges/{kit.id}/features", json=API_6, headers=sysadmin.headers)
    assert r.status_code == 200 and r.json["message"] == "College features updated successfully"
    assert r.json["data"]["enabled_features"] == API_6["enabled_features"]
    r = client.get(f"/api/v1/colleges/{kit.id}", headers=kit.admin.headers)
    assert r.json["data"]["enabled_features"] == API_6["enabled_features"]
    # the unknown slugs gate nothing here; the known ones still do
    r = client.get("/api/v1/recommendations", headers=kit.student.headers)
    assert r.status_code == 403 and "ai_matching" in r.json["message"]
    r = client.put(f"/api/v1/colleges/{kit.id}/features", json={"enabled_features": ["ai_mock"]},
                   headers=sysadmin.headers)
    assert error_body(r) == {"success": False, "message": "Core feature must always be included in enabled features"}


def test_features_lists_the_known_ones_and_what_each_gates(client, factory):
    kit = factory.college()
    r = client.get("/api/v1/features", headers=kit.student.headers)
    assert r.status_code == 200 and r.json["success"] is True
    assert r.json["data"] == [{"name": name, "gates": gates} for name, gates in FEATURES.items()]
    assert client.get("/api/v1/features").status_code == 401


def test_api_7_without_college_id_uses_the_subdomain_for_an_email_in_two_colleges(app, client, factory):
    first, second = factory.college(), factory.college()
    with app.app_context(), tenant_context(second.id):
        users.create_staff(Factory.setup_actor(second.id), "Same Admin", first.admin.email, "Admin@1234", "admin")
        db.session.commit()
    body = {"email": first.admin.email, "password": "Admin@1234"}
    r = client.post("/api/v1/auth/login", json=body, base_url=f"http://{second.subdomain}.studysync.app")
    assert r.status_code == 200 and r.json["message"] == "Login successful"
    assert r.json["data"]["college_id"] == second.id and r.json["data"]["role"] == "admin"
    r = client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 400
    assert r.json["message"] == "This email belongs to more than one college; include college_id"
