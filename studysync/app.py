"""The app factory: config → extensions → tenancy and auth hooks → blueprints → errors → CLI."""
from __future__ import annotations

from inspect import iscoroutinefunction

from flask import Flask, request
from werkzeug.exceptions import UnsupportedMediaType
from werkzeug.middleware.proxy_fix import ProxyFix

from . import db as database_module
from . import observability
from . import ratelimits
from . import tenancy
from .api import cors, guard
from .auth import throttle as login_throttle
from .api import openapi
from .auth import current as auth_current
from .config import Settings, load_config
from .db import Database
from .db_timeouts import DatabaseTimeouts
from .errors import register_error_handlers
from .extensions import api
from .models import audit as audit_log
from .realtime.broker import create_broker
from .services import embeddings, events

MAX_BODY_BYTES = 1024 * 1024
FORM_ENDPOINTS = {"auth.token", "legacy_seed001.login"}  # OAuth2 password forms


class StudySyncFlask(Flask):
    """Flask asks of every hook and view it runs, on every request (fourteen times for a simple
    read), whether it is a coroutine function (`ensure_sync`, `inspect.iscoroutinefunction`): ~1.5%
    of an authenticated read's instructions. The answer for everything registered while the app is
    built is worked out once; a function registered later (`after_this_request`) is asked as before."""

    _sync_functions: frozenset = frozenset()

    def ensure_sync(self, func):
        if func in self._sync_functions:
            return func
        return super().ensure_sync(func)

    def note_sync_functions(self) -> None:
        registered = [*self.view_functions.values()]
        for hooks in (self.before_request_funcs, self.after_request_funcs, self.teardown_request_funcs,
                      self.url_value_preprocessors, self.template_context_processors):
            registered += [f for funcs in hooks.values() for f in funcs]
        registered += self.teardown_appcontext_funcs
        for handlers in self.error_handler_spec.values():
            registered += [f for by_class in handlers.values() for f in by_class.values()]
        self._sync_functions = frozenset(f for f in registered if not iscoroutinefunction(f))


def create_app(settings: Settings | None = None, **overrides) -> Flask:
    settings = settings or load_config(**overrides)
    app = StudySyncFlask(__name__, instance_relative_config=False)
    app.json.sort_keys = False  # keys in the order our schemas give them (days Monday → Sunday)
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
        OPENAPI_SWAGGER_UI_URL=openapi.ASSETS_URL,  # served by the app: the page works offline
        OPENAPI_SWAGGER_UI_CONFIG=openapi.SWAGGER_UI_CONFIG,
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
                                x_host=settings.trusted_proxies)

    database = Database(settings.database_url, DatabaseTimeouts(
        connect=settings.db_connect_timeout, pool=settings.db_pool_timeout, statement=settings.db_statement_timeout))
    database_module.init_app(app, database)
    tenancy.install(database.session_factory)
    auth_current.install(database.session_factory)  # a request's `last_used_at`, written by its commit
    audit_log.install(database.session_factory)  # audit entries are never changed or deleted
    embeddings.install(database.session_factory)  # profile/group changes, for every worker's matching index
    app.extensions["studysync.broker"] = create_broker(settings.redis_url)
    events.install(app)  # live events leave after their transaction commits
    _install_matching(app, settings)

    cors.install(app, settings.cors_origins)  # which browser pages may read /api answers
    app.before_request(_require_json_bodies)
    guard.install(app)  # raw input checks and security headers, before anything reads the request
    app.before_request(auth_current.authenticate_request)  # before the limiter: limits key on the user
    observability.install(app, settings, database.engine)  # request id first, logs, /metrics
    login_throttle.install(app)  # wrong passwords, counted below every surface
    ratelimits.install(app)  # the API limit, after authentication: it counts per user

    api.init_app(app, spec_kwargs=openapi.spec_kwargs())
    from .api import health, unit_of_work
    from .api import ids as url_ids
    from .api import legacy
    from .api.mobile import bp as mobile_bp
    from .api.v1 import register as register_v1

    register_v1(api)
    app.register_blueprint(health.bp)
    app.register_blueprint(mobile_bp)  # the React Native app's /api/... routes, after the v1 ones
    legacy.register(app, settings.legacy_surfaces)  # the earlier systems' clients (LEGACY_SURFACES)
    openapi.install(app, api)  # the surfaces that are not flask-smorest views, and the docs page's files
    url_ids.install(app)  # after the blueprints: it checks every route's id parameters
    unit_of_work.install(app)  # one commit per request, retried on deadlock (the stream is served by asgi.py)
    register_error_handlers(app)  # after api.init_app, so the envelope replaces smorest's handler

    from .cli import register_cli

    register_cli(app)
    from .services.bootstrap import ensure_sysadmin

    ensure_sysadmin(app)
    app.note_sync_functions()
    return app


def _install_matching(app: Flask, settings: Settings) -> None:
    """One embedder per app; the default model loads in the background so health checks answer."""
    from .matching import create_embedder

    embedder = create_embedder(settings.embedding_model)
    app.extensions["studysync.embedder"] = embedder
    if settings.app_env != "testing" and hasattr(embedder, "start_loading"):
        embedder.start_loading()


def _require_json_bodies() -> None:
    """A body that is not JSON is a 415 (the OAuth2 token route takes a form). A chunked body has no
    Content-Length but is a body all the same."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not (request.content_length or chunked):
        return
    if request.endpoint in FORM_ENDPOINTS:
        return
    if not request.is_json:
        raise UnsupportedMediaType()
