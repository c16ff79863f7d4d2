"""The app factory: config → extensions → tenancy and auth hooks → blueprints → errors → CLI."""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db as database_module
from . import tenancy
from .auth.current import authenticate_request
from .config import Settings, load_config
from .db import Database
from .errors import register_error_handlers
from .extensions import api, cors, limiter
from .realtime.broker import create_broker
from .services import events

MAX_BODY_BYTES = 1024 * 1024
FORM_ENDPOINTS = {"auth.token"}


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    settings = settings or load_config(**overrides)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        API_TITLE="StudySync API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="studysync",
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies)

    database = Database(settings.database_url)
    database_module.init_app(app, database)
    tenancy.install(database.session_factory)
    app.extensions["studysync.broker"] = create_broker(settings.redis_url)
    events.install(app)  # live events leave after their transaction commits
    _install_matching(app, settings)

    cors.init_app(app, resources={r"/api/*": {"origins": _origins(settings.cors_origins)}})
    app.before_request(_require_json_bodies)
    app.before_request(authenticate_request)  # before the limiter: limits key on the user
    limiter.init_app(app)

    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}})
    from .api import health
    from .api import ids as url_ids
    from .api import retry
    from .api.v1 import register as register_v1
    from .api.mobile import bp as mobile_bp

    register_v1(api)
    app.register_blueprint(health.bp)
    app.register_blueprint(mobile_bp)  # the React Native app's /api/... routes, after the v1 ones
    url_ids.install(app)  # after the blueprints: it checks every route's id parameters
    retry.install(app)  # a deadlocked view runs again (the WebSocket stream is served by asgi.py)
    register_error_handlers(app)  # after api.init_app, so the envelope replaces smorest's handler

    from .cli import register_cli

    register_cli(app)
    from .services.bootstrap import ensure_sysadmin

    ensure_sysadmin(app)
    return app


def _install_matching(app: Flask, settings: Settings) -> None:
    """One embedder per app; the default model loads in the background so health checks answer."""
    from .matching import create_embedder
    from .services import embeddings

    embedder = create_embedder(settings.embedding_model)
    app.extensions["studysync.embedder"] = embedder
    embeddings.install(app)  # profile/group changes bump the college's matching version
    if settings.app_env != "testing" and hasattr(embedder, "start_loading"):
        embedder.start_loading()


def _origins(value: str) -> str | list[str]:
    return "*" if value.strip() == "*" else [o.strip() for o in value.split(",") if o.strip()]


def _require_json_bodies() -> None:
    """A body that is not JSON is a 415 (the OAuth2 token route takes a form)."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return
    if request.endpoint in FORM_ENDPOINTS:
        return
    if not request.is_json:
        raise UnsupportedMediaType()
