"""Hostile input and abuse of legitimate features (issue 16): a 400 naming the field, never a 500.

Every test runs on the configured database (TEST_DATABASE): PostgreSQL refuses NUL bytes, MariaDB's
FLOAT overflows past 3.4e38 and every database's OFFSET overflows on a huge page, so the same request
must be refused before any of them sees it.
"""
from __future__ import annotations

import io
import json

import pytest

from studysync.api.guard import MAX_JSON_DEPTH
from studysync.schemas.college import RATELIMIT_FLOOR_PER_MINUTE
from studysync.services import colleges
from studysync.tenancy import all_tenants

from ...factories import PASSWORD

HUGE = "9223372036854775807"


def refused(response, field: str) -> dict:
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is False
    assert field in body["errors"], body
    return body


# 1. Bounded integers ---------------------------------------------------------------------------


def test_every_number_a_client_sends_is_bounded_in_the_spec(client):
    """Every integer and number in every route's parameters and bodies has a minimum and a maximum,
    so no schema lets through a number a column or an OFFSET cannot hold."""
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    unbounded = []

    def walk(schema: dict, where: str, seen: set) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(schemas[name], f"{where}<{name}>", seen | {name})
            return
        for sub in schema.get("allOf", []) + schema.get("anyOf", []) + schema.get("oneOf", []):
            walk(sub, where, seen)
        if schema.get("type") in ("integer", "number") and ("minimum" not in schema or "maximum" not in schema):
            unbounded.append(where)
        for name, prop in schema.get("properties", {}).items():
            walk(prop, f"{where}.{name}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                walk(parameter.get("schema", {}), f"{method.upper()} {path} ?{parameter.get('name')}", set())
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk(media.get("schema", {}), f"{method.upper()} {path} body", set())
    assert unbounded == []


@pytest.mark.parametrize("path, who", [
    ("/api/v1/groups", "student"), ("/api/v1/groups/mine", "student"), ("/api/v1/students", "admin"),
    ("/api/v1/users", "admin"), ("/api/v1/classrooms", "teacher"), ("/api/v1/notifications", "student"),
    ("/api/v1/friends", "student"), ("/api/v1/conversations", "student"),
])
def test_a_huge_page_is_a_400_naming_page(client, factory, path, who):
    kit = factory.college()
    actor = {"student": kit.student, "admin": kit.admin, "teacher": kit.teacher}[who]
    refused(client.get(f"{path}?page={HUGE}", headers=actor.headers), "page")
    assert client.get(f"{path}?page=2", headers=actor.headers).status_code == 200


def test_a_huge_page_of_colleges_and_a_huge_year_are_400s(client, factory):
    kit = factory.college()
    sysadmin = factory.sysadmin()
    refused(client.get(f"/api/v1/colleges?page={HUGE}", headers=sysadmin.headers), "page")
    refused(client.get("/api/v1/students?year=9223372036854775808", headers=kit.admin.headers), "year")
    assert client.get("/api/v1/students?year=2", headers=kit.admin.headers).get_json()["pagination"]["total"] == 2


def test_a_rating_the_narrowest_float_column_cannot_hold_is_refused_and_one_it_can_is_stored(client, factory):
    kit = factory.college()
    body = {"student_name": "Big Rating", "student_email": "big@x.edu", "rating": 1e308}
    refused(client.post("/api/v1/students", headers=kit.admin.headers, json=body), "rating")
    body["rating"] = 3e38
    created = client.post("/api/v1/students", headers=kit.admin.headers, json=body)
    assert created.status_code == 201, created.get_json()
    student_id = created.get_json()["data"]["student_id"]
    shown = client.get(f"/api/v1/students/{student_id}", headers=kit.admin.headers).get_json()["data"]
    assert shown["rating"] == pytest.approx(3e38, rel=1e-6)


def test_a_huge_max_members_from_the_mobile_app_is_refused_in_its_shape(client, factory):
    kit = factory.college()
    r = client.post("/api/groups/create", headers=kit.student.headers,
                    json={"title": "Big", "maxMembers": 10 ** 30})
    assert r.status_code == 400
    assert r.get_json()["error"] and "maxMembers" in r.get_json()["errors"]


# 1. Text that every database can store ---------------------------------------------------------


def test_a_lone_surrogate_in_a_password_is_a_400_naming_it(client, factory):
    kit = factory.college()
    raw = '{"email": "%s", "password": "\\ud800x"}' % kit.admin.email
    r = client.post("/api/v1/auth/login", data=raw, content_type="application/json")
    refused(r, "password")


def test_nul_in_a_body_field_a_query_and_a_cursor_is_a_400_naming_it(client, factory):
    kit = factory.college()
    refused(client.post("/api/v1/groups", headers=kit.student.headers, json={"name": "Calc\x00"}), "name")
    refused(client.get("/api/v1/groups?q=%00", headers=kit.student.headers), "q")
    group = client.post("/api/v1/groups", headers=kit.student.headers, json={"name": "Calc"}).get_json()["data"]
    messages = f"/api/v1/groups/{group['group_id']}/messages"
    refused(client.get(f"{messages}?before=%00", headers=kit.student.headers), "before")
    refused(client.get("/api/v1/groups/%00", headers=kit.student.headers), "group_id")
    refused(client.get("/api/v1/groups", headers={**kit.student.headers, "User-Agent": "x\x00y"}), "User-Agent")
    assert client.get(f"{messages}", headers=kit.student.headers).status_code == 200


def test_nul_in_a_nested_field_names_its_path(client, factory):
    kit = factory.college()
    body = {"students": [{"student_name": "A", "student_email": "a@x.edu", "student_password": "P\x00ssw0rd!x"}]}
    refused(client.post("/api/v1/students/bulk", headers=kit.admin.headers, json=body), "students.0.student_password")


def test_a_deeply_nested_body_is_a_400_not_a_recursion_error(client):
    r = client.post("/api/v1/auth/login", data="[" * 1000 + "]" * 1000, content_type="application/json")
    refused(r, "body")
    r = client.post("/api/v1/auth/login", data="[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
                    content_type="application/json")
    refused(r, "body")


def test_non_finite_and_oversized_json_numbers_are_refused(client, factory):
    kit = factory.college()
    r = client.post("/api/groups/create", headers=kit.student.headers, data='{"title": "x", "maxMembers": 1e999}',
                    content_type="application/json")
    assert r.status_code == 400 and "maxMembers" in r.get_json()["errors"]
    r = client.post("/api/groups/create", headers=kit.student.headers,
                    data='{"title": "x", "maxMembers": 99999999999999999999999}', content_type="application/json")
    assert r.status_code == 400 and "maxMembers" in r.get_json()["errors"]


def test_the_mobile_surface_refuses_bad_text_in_its_own_shape(client, factory):
    kit = factory.college(domain="hostile.edu")
    r = client.post("/api/auth/login", json={"email": "s@hostile.edu", "password": "a\x00b"})
    assert r.status_code == 400
    body = r.get_json()
    assert body["success"] is False and body["error"] == body["message"] and "password" in body["errors"]


# 2. LIKE wildcards are literal -----------------------------------------------------------------


@pytest.mark.parametrize("wildcard", ["%", "_"])
def test_wildcards_match_only_themselves_on_every_searchable_list(client, factory, wildcard):
    kit = factory.college()
    sysadmin = factory.sysadmin()
    client.post("/api/v1/groups", headers=kit.student.headers, json={"name": "Calculus"})
    client.post("/api/v1/classrooms", headers=kit.teacher.headers, json={"name": "Physics"})
    lists = [("/api/v1/groups", kit.student), ("/api/v1/classrooms", kit.teacher), ("/api/v1/students", kit.admin),
             ("/api/v1/users", kit.admin), ("/api/v1/colleges", sysadmin)]
    for path, actor in lists:
        everything = client.get(path, headers=actor.headers).get_json()
        assert everything["pagination"]["total"] > 0, path
        r = client.get(path, headers=actor.headers, query_string={"q": wildcard})
        assert r.status_code == 200 and r.get_json()["pagination"]["total"] == 0, path


def test_a_name_with_a_percent_sign_is_found_by_it(client, factory):
    kit = factory.college()
    client.post("/api/v1/groups", headers=kit.student.headers, json={"name": "100% Calculus"})
    client.post("/api/v1/groups", headers=kit.student.headers, json={"name": "1000 Calculus"})
    found = client.get("/api/v1/groups", headers=kit.student.headers, query_string={"q": "100%"}).get_json()
    assert [g["name"] for g in found["data"]] == ["100% Calculus"]


# 3. Chunked bodies ------------------------------------------------------------------------------


def _chunked(client, path, data: bytes, content_type: str, headers=None):
    """A body with no Content-Length, as gunicorn hands over a `Transfer-Encoding: chunked` one."""
    return client.post(path, input_stream=io.BytesIO(data), content_type=content_type,
                       headers={"Transfer-Encoding": "chunked", **(headers or {})},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_body_that_is_not_json_is_a_415(client, factory):
    kit = factory.college()
    r = _chunked(client, "/api/v1/groups", b"name=Calc", "text/plain", kit.student.headers)
    assert r.status_code == 415 and r.get_json()["success"] is False


def test_a_chunked_body_over_the_limit_is_a_413(client, factory):
    kit = factory.college()
    body = json.dumps({"name": "Calc", "description": "x" * (1024 * 1024)}).encode()
    r = _chunked(client, "/api/v1/groups", body, "application/json", kit.student.headers)
    assert r.status_code == 413 and r.get_json()["success"] is False
    small = _chunked(client, "/api/v1/groups", json.dumps({"name": "Calc"}).encode(), "application/json",
                     kit.student.headers)
    assert small.status_code == 201


# 5. Security headers ----------------------------------------------------------------------------


def test_login_and_token_answers_are_not_stored_and_never_sniffed(client, factory):
    kit = factory.college(domain="headers.edu")
    student = factory.student_in(kit, email="s@headers.edu")
    answers = [
        client.post("/api/v1/auth/login", json={"email": kit.admin.email, "password": PASSWORD}),
        client.post("/api/v1/auth/token", data={"username": kit.admin.email, "password": PASSWORD,
                                                "grant_type": "password"}),
        client.post("/api/v1/students/login", json={"student_email": student.email, "student_password": PASSWORD,
                                                   "college_id": kit.id}),
        client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD}),
    ]
    for r in answers:
        assert r.status_code == 200, r.get_json()
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    error = client.get("/api/v1/nowhere")
    assert error.headers["X-Content-Type-Options"] == "nosniff"


def test_the_docs_page_cannot_be_framed(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


# 6. Rate-limit overrides have a floor -----------------------------------------------------------


def test_an_admin_cannot_lock_the_college_out_with_its_own_rate_limit(client, factory):
    kit = factory.college()
    settings_url = f"/api/v1/colleges/{kit.id}/settings"
    for too_low in ("0 per minute", "9 per minute", "100 per day"):
        refused(client.put(settings_url, headers=kit.admin.headers, json={"ratelimit_api": too_low}), "ratelimit_api")
    assert client.get("/api/v1/auth/me", headers=kit.teacher.headers).status_code == 200
    floor = f"{RATELIMIT_FLOOR_PER_MINUTE} per minute"
    assert client.put(settings_url, headers=kit.admin.headers, json={"ratelimit_api": floor}).status_code == 200


# 7. Email domains are the sysadmin's --------------------------------------------------------------


def test_an_admin_cannot_claim_another_colleges_undeclared_domain(client, factory):
    ours = factory.college()
    theirs = factory.college()
    r = client.put(f"/api/v1/colleges/{ours.id}/settings", headers=ours.admin.headers,
                   json={"email_domains": [f"{theirs.subdomain}.edu"]})
    assert r.status_code == 403 and "sysadmin" in r.get_json()["message"]
    login = client.post("/api/auth/login", json={"email": theirs.student.email, "password": PASSWORD})
    assert login.status_code != 200 or login.get_json()["user"]["id"] == theirs.student.id
    detail = client.get(f"/api/v1/colleges/{ours.id}", headers=ours.admin.headers).get_json()["data"]
    assert detail["email_domains"] == []


def test_an_admin_may_resend_the_domains_the_college_already_has(client, factory):
    kit = factory.college(domain="ours.edu")
    r = client.put(f"/api/v1/colleges/{kit.id}/settings", headers=kit.admin.headers,
                   json={"email_domains": ["ours.edu"], "group_limit": 4})
    assert r.status_code == 200 and r.get_json()["data"]["settings"]["group_limit"] == 4


def test_the_sysadmin_assigns_a_domain_to_one_college_only(client, factory):
    sysadmin = factory.sysadmin()
    ours = factory.college()
    theirs = factory.college(domain="declared.edu")
    url = f"/api/v1/colleges/{ours.id}/settings"
    r = client.put(url, headers=sysadmin.headers, json={"email_domains": ["declared.edu"]})
    assert r.status_code == 409
    # undeclared, but the other college's people already log in with it: it would send them here
    r = client.put(url, headers=sysadmin.headers, json={"email_domains": [f"{theirs.subdomain}.edu"]})
    assert r.status_code == 409 and f"{theirs.subdomain}.edu" in r.get_json()["message"]
    r = client.put(url, headers=sysadmin.headers, json={"email_domains": [f"{ours.subdomain}.edu"]})
    assert r.status_code == 200 and r.get_json()["data"]["email_domains"] == [f"{ours.subdomain}.edu"]
    with client.application.app_context(), all_tenants():
        assert colleges.college_for_email(ours.student.email).id == ours.id
