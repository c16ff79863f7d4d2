"""Health checks and the live-event stream, as documented (`api/health.py`, `realtime/stream.py`)."""
from __future__ import annotations

from marshmallow import Schema, fields

from ...observability import metrics
from ...realtime import stream
from .surfaces import Operation


class StudySyncHealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["healthy", "unhealthy"]})
    database = fields.String(required=True, metadata={"enum": ["connected", "disconnected"]})
    ai_model = fields.String(required=True, metadata={"description": "`ready`, `loading`, `failed`, ..."})
    model_name = fields.String(required=True)


class ReadinessChecksSchema(Schema):
    database = fields.String(required=True, metadata={"enum": ["ok", "down"]})
    model = fields.String(required=True)
    model_name = fields.String(required=True)
    redis = fields.String(metadata={"enum": ["connected", "unreachable"],
                                    "description": "only when `REDIS_URL` is set"})


class ReadinessSchema(Schema):
    success = fields.Boolean(required=True)
    data = fields.Nested(ReadinessChecksSchema, required=True)
    message = fields.String(required=True, metadata={"enum": ["ready", "not ready"]})


def _health(path, operation_id, summary, schema, description) -> Operation:
    down = {"description": "The database is down (same body)", "content": {"application/json": {"schema": schema}}}
    return Operation("get", path, operation_id, summary, "health", schema, public=True, rate_limited=False,
                     errors=frozenset(), extra_responses={"503": down}, description=description)


METRICS_DESCRIPTION = (
    "Prometheus metrics in the text exposition format, for a scraper. Answers only to a caller on "
    "`METRICS_ALLOWED_NETWORKS` (loopback by default; not through a proxy unless `TRUSTED_PROXIES` says so) "
    "or one sending `Authorization: Bearer <METRICS_TOKEN>` (the operator's token, not a login's); anyone "
    "else gets the API's 404, so the route is not advertised. Never rate limited.")

STREAM_DESCRIPTION = (stream.__doc__ or "").split("\n\n", 1)[-1].split("\nEach open socket", 1)[0]

OPERATIONS = [
    _health("/api/health", "health_studysync", "Health in the StudySync app's shape", StudySyncHealthSchema,
            "Never rate limited. 503 when the database does not answer."),
    _health("/api/v1/health", "health_readiness", "Readiness: database, Redis (when configured), model",
            ReadinessSchema, "For load balancers: 200 while the database answers (`success` is false while "
                             "a configured Redis is unreachable), 503 when it does not."),
    Operation(
        "get", metrics.PATH, "metrics", "Prometheus metrics (operators' scrapers)", "observability",
        {"type": "string"}, response_media="text/plain", description=METRICS_DESCRIPTION,
        security=[{"metricsToken": []}, {}], rate_limited=False, errors=frozenset({404})),
    Operation(
        "get", stream.PATH, "stream_events", "Live events over a WebSocket", "realtime", None, status=101,
        description="A WebSocket, not a JSON route: connect with a WebSocket client (Try it out cannot).\n\n"
                    + STREAM_DESCRIPTION,
        security=[{"bearerAuth": []}, {}],
        parameters=({"in": "query", "name": "token", "required": False, "schema": {"type": "string"},
                     "description": "The JWT, when the client cannot send a header (or send it as the first "
                                    "frame, `{\"token\": \"...\"}`)"},),
        errors=frozenset({429, 503}),
        extra_responses={"400": {
            "description": "Not a WebSocket handshake (a plain HTTP request)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}}}),
]
