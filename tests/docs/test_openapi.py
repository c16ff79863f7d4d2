"""The OpenAPI document describes every route the app serves, and says what each one answers."""
from __future__ import annotations

import re

import pytest

from studysync.api.openapi.examples import REQUEST_EXAMPLES
from studysync.api.openapi.surfaces import ASGI_PATHS
from studysync.extensions import api

# Routes that serve the documentation itself (and Flask's static files), not the API.
NOT_API = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets.swagger_ui_file"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {
    ("post", "/api/v1/auth/login"), ("post", "/api/v1/auth/token"), ("post", "/api/v1/students/register"),
    ("post", "/api/v1/students/login"), ("post", "/api/auth/register"), ("post", "/api/auth/login"),
    ("get", "/api/health"), ("get", "/api/v1/health"),
    ("post", "/signup"), ("post", "/signin"), ("post", "/register"), ("post", "/login"),  # legacy clients
}
# Routes open without a login's token on another condition: the stream's `?token=`, `/metrics` from an
# allowed network (or with the operator's METRICS_TOKEN).
# The one route that really answers 422 (seed 001's form login, FastAPI's status for a missing field).
ANSWERS_422 = {("post", "/login")}
EITHER = ([{"bearerAuth": []}, {}], [{"metricsToken": []}, {}])


@pytest.fixture
def spec(app):
    return api.spec.to_dict()


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {m.lower() for m in METHODS}:
                yield method, path, operation


def test_every_served_route_is_in_the_spec(app, spec):
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_API:
            continue
        documented = spec["paths"].get(openapi_path(rule.rule), {})
        missing += [f"{method} {rule.rule}" for method in sorted(rule.methods & METHODS)
                    if method.lower() not in documented]
    assert missing == []


def test_spec_documents_only_served_routes(app, spec):
    served = {(m.lower(), openapi_path(r.rule)) for r in app.url_map.iter_rules() for m in r.methods & METHODS}
    served |= {("get", path) for path in ASGI_PATHS}  # served beside Flask by asgi.py
    assert {(method, path) for method, path, _ in operations(spec)} <= served


def test_operations_have_ids_summaries_and_real_error_statuses(spec):
    ids = [op.get("operationId") for _, _, op in operations(spec)]
    assert None not in ids and len(ids) == len(set(ids))
    for method, path, op in operations(spec):
        assert op.get("summary"), (method, path)
        responses = op["responses"]
        assert "default" not in responses, (method, path)
        assert "422" not in responses or (method, path) in ANSWERS_422, (method, path)
        if "requestBody" in op:
            assert "400" in responses and "413" in responses, (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert "$ref" in response or "content" in response, (method, path, status)


def test_bearer_token_is_required_everywhere_but_public_routes(spec):
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    public = {(method, path) for method, path, op in operations(spec) if op.get("security") == []}
    assert public == PUBLIC
    for method, path, op in operations(spec):
        if (method, path) not in PUBLIC and op.get("security") not in EITHER:
            assert "security" not in op and "401" in op["responses"], (method, path)


def test_error_envelope_is_the_one_errors_py_sends(client, spec):
    schema = spec["components"]["schemas"]["ErrorEnvelope"]
    assert schema["required"] == ["message", "success"] and "code" not in schema["properties"]
    body = client.get("/api/v1/auth/me").json
    assert set(body) <= set(schema["properties"]) and body["success"] is False
    mobile = spec["components"]["schemas"]["MobileErrorEnvelope"]
    assert set(client.get("/api/auth/me").json) <= set(mobile["properties"]) and "error" in mobile["required"]


def test_main_request_bodies_have_examples(spec):
    ids = {op["operationId"]: op for _, _, op in operations(spec)}
    assert set(REQUEST_EXAMPLES) <= set(ids)
    for operation_id in ("auth_login", "colleges_create_college", "students_register", "students_login",
                         "mobile_register", "mobile_create_group", "groups_create_group"):
        content = ids[operation_id]["requestBody"]["content"]["application/json"]
        assert content["example"], operation_id


def test_servers_point_at_this_server_first(spec):
    assert spec["servers"][0]["url"] == "/"


def test_docs_page_loads_swagger_ui_from_this_server(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/api/v1/docs/assets/") for source in sources)
    assert '"persistAuthorization": true' in page
    for source in sources:
        response = client.get(source)
        assert response.status_code == 200 and len(response.data) > 1000, source


def test_a_legacy_surface_switched_off_is_not_documented(app_factory):
    app_factory(legacy_surfaces="seed003")  # the app starts: no route of seed 000 or 001 is described
    paths = set(api.spec.to_dict()["paths"])
    assert "/api/studygroups/{group_id}/members" in paths
    assert not paths & {"/signup", "/signin", "/group/create_group", "/register", "/login", "/students"}


def test_metrics_are_plain_text_for_operators_only(spec):
    operation = spec["paths"]["/metrics"]["get"]
    assert "text/plain" in operation["responses"]["200"]["content"]
    assert operation["security"] == [{"metricsToken": []}, {}] and set(operation["responses"]) == {"200", "404"}


def test_each_legacy_surface_documents_the_error_shape_it_sends(client, spec):
    schemas = spec["components"]["schemas"]
    for method, path, schema, status in (("post", "/signin", "Seed000Error", 400), ("get", "/students", "Seed001Error", 401),
                                         ("get", "/api/studygroups/", "Seed003Error", 401)):
        response = getattr(client, method)(path, json={}) if method == "post" else client.get(path)
        documented = spec["paths"][path][method]["responses"][str(status)]
        assert response.status_code == status, path
        assert documented["content"]["application/json"]["schema"]["$ref"].endswith("/" + schema)
        assert set(schemas[schema]["required"]) <= set(response.json) <= set(schemas[schema]["properties"]), path
