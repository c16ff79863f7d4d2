"""Health: the StudySync shape at /api/health, readiness at /api/v1/health.

The database check answers within HEALTH_TIMEOUT whatever the database does: it runs in one probe
thread per app and the request waits for it only that long. A probe still stuck on a frozen database
is shared by the health requests that arrive meanwhile instead of starting another (it ends on its
own within the database timeouts), so polling a dead database never piles threads up.

Redis carries rate-limit counters and live events across workers; without it both go on per
process (`extensions.py`, `realtime/broker.py`), so an unreachable Redis is "degraded" (200), not
"not ready".
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from ..db import db
from .. import ratelimits

bp = Blueprint("health", __name__)


class _Probe:
    """At most one database check in flight per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-probe")
        self._current: Future | None = None

    def check(self, app: Flask, timeout: float) -> bool:
        with self._lock:
            if self._current is None or self._current.done():
                self._current = self._pool.submit(_select_one, app)
            current = self._current
        try:
            return current.result(timeout=timeout)
        except FutureTimeout:
            return False


def _select_one(app: Flask) -> bool:
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "down" to a health check
            return False


def _database_ok() -> bool:
    if db.engine.dialect.name == "sqlite":
        # A file in this process cannot freeze: ask on the request's own session rather than
        # open a second connection.
        try:
            db.session.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "down" to a health check
            db.session.rollback()
            return False
    app = current_app._get_current_object()
    probe = app.extensions.setdefault("studysync.health_probe", _Probe())
    return probe.check(app, app.config["SETTINGS"].health_timeout)


def _redis_state() -> str | None:
    url = current_app.config["SETTINGS"].redis_url
    if not url:
        return None
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "connected"
    except Exception:
        return "unreachable"


def _model() -> tuple[str, str]:
    embedder = current_app.extensions.get("studysync.embedder")
    if embedder is None:
        return "not_configured", ""
    return embedder.state, embedder.name


@bp.get("/api/health")
@ratelimits.exempt
def studysync_health():
    state, name = _model()
    database = _database_ok()
    return jsonify({
        "status": "healthy" if database else "unhealthy",
        "database": "connected" if database else "disconnected",
        "ai_model": state,
        "model_name": name,
    }), (200 if database else 503)


@bp.get("/api/v1/health")
@ratelimits.exempt
def readiness():
    database = _database_ok()
    redis_state = _redis_state()
    state, name = _model()
    checks = {"database": "ok" if database else "down", "model": state, "model_name": name}
    degraded = []
    if redis_state is not None:
        checks["redis"] = redis_state
        if redis_state != "connected":
            degraded.append("redis")
    checks["degraded"] = degraded
    if not database:
        message = "not ready"
    elif degraded:
        message = f"degraded: {', '.join(degraded)} unreachable"
    else:
        message = "ready"
    body = {"success": database, "data": checks, "message": message}
    return jsonify(body), (200 if database else 503)
