"""Configuration, health, OpenAPI and the operator commands."""
import threading

import pytest
from sqlalchemy import func, select

from studysync.config import ConfigError, load_config
from studysync.db import db
from studysync.models import User
from studysync.services.bootstrap import create_sysadmin
from studysync.tenancy import all_tenants
from tests.conftest import make_app


def test_production_refuses_a_missing_or_short_secret(monkeypatch):
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        load_config(app_env="production", jwt_secret_key="")
    with pytest.raises(ConfigError):
        load_config(app_env="production", jwt_secret_key="short")
    assert load_config(app_env="production", jwt_secret_key="x" * 40).jwt_secret_key == "x" * 40


def test_environment_is_read(monkeypatch):
    monkeypatch.setenv("JWT_TTL", "12h")
    monkeypatch.setenv("BCRYPT_ROUNDS", "10")
    monkeypatch.setenv("RATELIMIT_AUTH", "3 per minute")
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    settings = load_config()
    assert settings.jwt_ttl.total_seconds() == 12 * 3600
    assert settings.bcrypt_rounds == 10 and settings.ratelimit_auth == "3 per minute"
    assert settings.trusted_proxies == 1


def test_health_shapes(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    assert set(r.json) == {"status", "database", "ai_model", "model_name"}
    assert r.json["status"] == "healthy" and r.json["database"] == "connected"
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json["data"]["database"] == "ok"


def test_health_is_503_when_the_database_is_down():
    app = make_app("postgresql+psycopg://nobody@127.0.0.1:1/none")
    r = app.test_client().get("/api/v1/health")
    assert r.status_code == 503 and r.json["success"] is False and r.json["data"]["database"] == "down"
    r = app.test_client().get("/api/health")
    assert r.status_code == 503 and r.json["database"] == "disconnected"


def test_openapi_document_and_docs_page(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json["paths"]
    assert "/api/v1/colleges/{college_id}/features" in paths and "/api/v1/students/register" in paths
    schema = paths["/api/v1/students/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema
    assert client.get("/api/v1/docs").status_code == 200


def test_sysadmin_created_once_with_workers_starting_together(app_factory):
    app = app_factory()
    errors = []

    def start():
        try:
            with app.app_context():
                create_sysadmin("root@studysync.test", "Root-pass-1")
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    with app.app_context(), all_tenants():
        count = db.session.execute(select(func.count()).select_from(User).where(User.role == "sysadmin")).scalar()
    assert count == 1


def test_sysadmin_from_the_environment(app_factory):
    app = app_factory(sysadmin_email="env-root@studysync.test", sysadmin_password="Env-root-1")
    r = app.test_client().post("/api/v1/auth/login", json={"email": "env-root@studysync.test", "password": "Env-root-1"})
    assert r.status_code == 200 and r.json["data"]["role"] == "sysadmin"


def test_cli_create_sysadmin_and_seed_demo(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-sysadmin", "--email", "cli@studysync.test", "--password", "Cli-pass-123"])
    assert result.exit_code == 0 and "Created" in result.output
    result = runner.invoke(args=["create-sysadmin", "--email", "cli@studysync.test", "--password", "Cli-pass-123"])
    assert "Already present" in result.output
    result = runner.invoke(args=["create-sysadmin", "--email", "weak@studysync.test", "--password", "weak"])
    assert result.exit_code != 0
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.edu" in result.output and result.output.count("student") >= 12
    again = runner.invoke(args=["seed-demo"])
    assert "already present" in again.output
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"email": "teacher@demo.edu", "password": "Teacher@1234"})
    assert r.status_code == 200
