"""One JSON envelope for every error: `{"success": false, "message": ..., ["errors": {...}]}`.

Whatever goes wrong — routing, body parsing, validation, auth, or a bug — a client gets JSON it can
show, never an HTML page and never a stack trace.
"""
from __future__ import annotations

import json

import pytest


def assert_envelope(response, status: int, message: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert body["success"] is False
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message
    return body


def test_unknown_route_is_a_json_404(client):
    body = assert_envelope(client.get("/api/v1/no-such-thing"), 404, "Resource not found")
    assert "errors" not in body
    assert_envelope(client.get("/not-even-the-api"), 404)


def test_wrong_method_is_a_json_405_that_names_the_allowed_ones(client):
    response = client.get("/api/v1/auth/login")
    assert_envelope(response, 405, "Method not allowed")
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_a_400(client):
    response = client.post("/api/v1/auth/login", data='{"email": "a@b.edu", "password": ',
                           content_type="application/json")
    assert_envelope(response, 400, "Malformed JSON body")


def test_a_text_body_to_a_json_route_is_a_415(client):
    response = client.post("/api/v1/auth/login", data="email=a@b.edu&password=x", content_type="text/plain")
    assert_envelope(response, 415, "Content-Type must be application/json")


def test_a_body_over_one_mebibyte_is_a_413(client):
    padding = "x" * (1024 * 1024)
    response = client.post("/api/v1/students/register", data=json.dumps({"student_name": padding}),
                           content_type="application/json")
    assert_envelope(response, 413, "Request body too large (limit 1 MiB)")


def test_a_body_just_under_the_limit_is_read_and_validated(client):
    """The limit is 1 MiB, not less: a big but allowed body reaches validation."""
    payload = json.dumps({"college_id": "x", "student_name": "A" * (1024 * 1024 - 200)})
    assert len(payload) < 1024 * 1024
    response = client.post("/api/v1/students/register", data=payload, content_type="application/json")
    assert_envelope(response, 400)


def test_validation_errors_name_each_field(client, factory):
    kit = factory.college()
    response = client.post("/api/v1/students/register", json={
        "college_id": kit.id, "student_name": "J", "student_email": "not-an-email",
        "student_password": "short", "surprise": True,
    })
    body = assert_envelope(response, 400)
    errors = body["errors"]
    assert set(errors) >= {"student_name", "student_email", "student_password", "surprise"}
    assert errors["student_name"] == ["Minimum 2 characters"]
    assert all(isinstance(problems, list) and problems for problems in errors.values())
    # the message is the first problem, readable on its own
    assert any(body["message"].endswith(problems[0]) for problems in errors.values())


def test_a_missing_required_field_is_named(client):
    body = assert_envelope(client.post("/api/v1/auth/login", json={"email": "admin@c1.edu"}), 400)
    assert "password" in body["errors"]


def test_requests_validated_at_once_each_get_their_own_errors(app):
    """A route's argument schema is built once and shared by every request (api/v1/blueprint.py):
    bodies validated at the same moment on many threads each get the errors of their own fields."""
    from concurrent.futures import ThreadPoolExecutor

    bodies = [{"email": "admin@c1.edu"}, {"password": "x"}, {"email": "not-an-email", "password": "x"}] * 16

    def login(body: dict) -> set[str]:
        response = app.test_client().post("/api/v1/auth/login", json=body)
        return set(assert_envelope(response, 400)["errors"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(login, bodies))
    assert answers == [{"password"}, {"email"}, {"email"}] * 16


def test_no_token_is_a_401_missing_header(client):
    assert_envelope(client.get("/api/v1/auth/me"), 401, "Missing Authorization header")


@pytest.mark.parametrize("header", [
    "Bearer not-a-jwt",
    "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
])
def test_a_bad_token_is_a_401_invalid(client, header):
    assert_envelope(client.get("/api/v1/auth/me", headers={"Authorization": header}), 401,
                    "Invalid or expired token")


def test_a_revoked_token_is_a_401_invalid(client, factory):
    kit = factory.college()
    student = kit.student
    assert client.post("/api/v1/students/logout", headers=student.headers).status_code == 200
    assert_envelope(client.get("/api/v1/auth/me", headers=student.headers), 401, "Invalid or expired token")


def test_the_wrong_role_is_a_403(client, factory):
    kit = factory.college()
    assert_envelope(client.get("/api/v1/colleges", headers=kit.admin.headers), 403,
                    "Forbidden - insufficient permissions")
    assert_envelope(client.get("/api/v1/students", headers=kit.student.headers), 403,
                    "Forbidden - insufficient permissions")


def test_an_unexpected_exception_is_a_500_without_details(app, caplog):
    @app.get("/api/v1/_test/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = app.test_client().get("/api/v1/_test/boom")
    body = assert_envelope(response, 500)
    assert body == {"success": False, "message": "Internal server error",
                    "request_id": response.headers["X-Request-ID"]}
    assert "hunter2" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text  # logged for the operator, not shown to the client
