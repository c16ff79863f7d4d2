"""The OpenAPI document of every surface, and the offline docs page.

`create_app` passes `spec_kwargs()` to `api.init_app` (servers, the bearer scheme applied to every
operation, the conventions plugin that completes each `/api/v1` operation) and calls `install()`
once every blueprint is registered: it adds the error responses, the surfaces that are not
flask-smorest views (each a list of `surfaces.Operation`) and the Swagger UI assets.

A new surface (a legacy client) adds its module with an `OPERATIONS` list and one line in `SURFACES`.
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import legacy, mobile, system
from .assets import ASSETS_URL, SWAGGER_UI_CONFIG, bp as assets_bp
from .conventions import Conventions
from .errors import register_error_responses
from .surfaces import Operation, document, served

__all__ = ["ASSETS_URL", "SWAGGER_UI_CONFIG", "Operation", "install", "spec_kwargs"]

DESCRIPTION = """\
StudySync: study groups for colleges. One multi-tenant backend, several surfaces over the same services:

- `/api/v1/...` — the canonical API. Success `{"success": true, "data": ..., "message": ...}` (lists add
  `pagination`); errors `{"success": false, "message": ..., "errors": {...}}`.
- `/api/...` — the StudySync mobile app's routes (tag `mobile`), in the app's own shapes; errors add `error`.
- `/api/health`, `/api/v1/health` — health checks; `/api/v1/stream` — live events over a WebSocket;
  `/metrics` — Prometheus metrics (operators only).
- The earlier systems' clients at their own paths, in their own shapes and errors (tags `legacy-seed000`:
  `/signup`, `/signin`, `/group/create_group`; `legacy-seed001`: `/register`, `/login`, `/students`;
  `legacy-seed003`: `/api/studygroups`).

Authorize with a token from `POST /api/v1/auth/login` (staff), `POST /api/v1/students/login` or
`POST /api/auth/login` (the `data.token` or `token` field); routes marked with no lock are public.
Validation errors are 400 (never 422). A college's users need its features enabled
(`PUT /api/v1/colleges/{college_id}/features`) for the routes of those features, and the mobile app's
registration needs the college's `email_domains` (`PUT /api/v1/colleges/{college_id}/settings`).
"""

SERVERS = [
    {"url": "/", "description": "This server"},
    {"url": "http://localhost:5000", "description": "`make run` on this computer"},
]

TAGS = [
    {"name": "mobile", "description": "The StudySync mobile app's `/api` routes (its own shapes, camelCase)"},
    {"name": "health", "description": "Health checks (public, never rate limited)"},
    {"name": "realtime", "description": "Live events over a WebSocket"},
    {"name": "observability", "description": "Prometheus metrics, for operators"},
    *legacy.TAGS,
]

SURFACES: list[list[Operation]] = [mobile.OPERATIONS, system.OPERATIONS, legacy.OPERATIONS]


def spec_kwargs() -> dict:
    return {
        "extra_plugins": [Conventions()],
        "info": {"description": DESCRIPTION},
        "servers": SERVERS,
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                           "description": "The `token` of a login answer"},
            "metricsToken": {"type": "http", "scheme": "bearer",
                             "description": "`METRICS_TOKEN`, for `/metrics` from outside its allowed networks"}}},
    }


def install(app: Flask, api: Api) -> None:
    register_error_responses(api.spec)
    for tag in TAGS:
        api.spec.tag(tag)
    for operations in SURFACES:
        document(api.spec, app.url_map, served(operations, app.blueprints))
    app.register_blueprint(assets_bp)
