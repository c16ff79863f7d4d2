"""Health: the StudySync shape at /api/health, readiness at /api/v1/health."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..db import db
from ..extensions import limiter

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    """A round trip on the request's own session: a second connection would wait, on SQLite, for
    the lock the request's token check already holds."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" to a health check
        db.session.rollback()
        return False


def _redis_state() -> str | None:
    url = current_app.config["SETTINGS"].redis_url
    if not url:
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return "connected"
    except Exception:
        return "unreachable"


def _model() -> tuple[str, str]:
    embedder = current_app.extensions.get("studysync.embedder")
    if embedder is None:
        return "not_configured", ""
    return embedder.state, embedder.name


@bp.get("/api/health")
@limiter.exempt
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
@limiter.exempt
def readiness():
    database = _database_ok()
    redis_state = _redis_state()
    state, name = _model()
    checks = {"database": "ok" if database else "down", "model": state, "model_name": name}
    if redis_state is not None:
        checks["redis"] = redis_state
    ready = database and redis_state in (None, "connected")
    body = {"success": ready, "data": checks, "message": "ready" if ready else "not ready"}
    return jsonify(body), (200 if database else 503)
