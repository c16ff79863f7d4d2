"""The one JSON error envelope, for every error the app can produce.

`{"success": false, "message": "...", "errors": {"field": ["why"]}, "request_id": "..."}` — registered on the app, so
routing errors (404/405), werkzeug's own (413, malformed JSON), validation errors of every
blueprint and unexpected exceptions all leave the same way. The mobile adapters add their own
`error` key on top (see `api/mobile`).
"""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from .db import RETRY, UNAVAILABLE, db, failure_kind
from .tenancy import TenancyError
from .observability.context import current as current_work

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    default_message = "Bad request"

    def __init__(self, message: str | None = None, errors: dict | None = None, status: int | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors
        if status is not None:
            self.status = status

    def response(self) -> Response:
        return envelope(self.status, self.message, self.errors)


class BadRequest(ApiError):
    status, default_message = 400, "Bad request"


class Unauthorized(ApiError):
    status, default_message = 401, "Invalid or expired token"


class Forbidden(ApiError):
    status, default_message = 403, "Forbidden - insufficient permissions"


class NotFound(ApiError):
    status, default_message = 404, "Resource not found"


class Conflict(ApiError):
    status, default_message = 409, "Conflict"


class ServiceUnavailable(ApiError):
    status, default_message = 503, "Service unavailable"


class TooManyRequests(ApiError):
    """Refused until `retry_after` seconds have passed (sent as `Retry-After` and `retryAfter`)."""

    status, default_message = 429, "Too many requests"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after

    def response(self) -> Response:
        response = envelope(self.status, self.message, retryAfter=self.retry_after)
        response.headers["Retry-After"] = str(self.retry_after)
        return response


NO_COLLEGE_MESSAGE = "This is for a college's users; the platform's sysadmin has no college"
RETRY_MESSAGE = "This changed at the same moment as another request; please try again"
UNAVAILABLE_MESSAGE = "The database is unavailable; please try again shortly"
# The connection failed after this request had sent a COMMIT: the database may have stored the change
# (a frozen server still runs the COMMIT waiting in its socket once it wakes up). Nothing can tell
# before the database answers again, so the client is told to look before sending it again.
UNKNOWN_OUTCOME_MESSAGE = ("The database stopped answering while saving; the change may have been stored: "
                           "check before trying again")

HTTP_MESSAGES = {
    400: "Bad request",
    401: "Invalid or expired token",
    403: "Forbidden - insufficient permissions",
    404: "Resource not found",
    405: "Method not allowed",
    413: "Request body too large (limit 1 MiB)",
    415: "Content-Type must be application/json",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def envelope(status: int, message: str, errors: dict | None = None, **extra) -> Response:
    body: dict = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    body.update(extra)
    body["request_id"] = current_work().request_id  # what an operator greps the logs for
    response = jsonify(body)
    response.status_code = status
    return response


def _flatten_validation(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {...}}); clients want the fields."""
    flat: dict = {}
    for location_errors in messages.values():
        if isinstance(location_errors, dict):
            flat.update(location_errors)
        else:
            flat.setdefault("_schema", []).extend(location_errors)
    return flat


def _first_message(errors: dict) -> str:
    for field, problems in errors.items():
        if isinstance(problems, dict):
            return f"{field}: {_first_message(problems)}"
        if isinstance(problems, list) and problems:
            first = problems[0]
            if isinstance(first, dict):
                return f"{field}: {_first_message(first)}"
            return first if field in ("_schema", "json") else f"{field}: {first}"
    return "Validation failed"


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    if status == 400 and isinstance(getattr(exc, "exc", None), ValueError):  # webargs could not decode the body
        return envelope(400, "Malformed JSON body")
    if status == 422 or "messages" in data:
        errors = _flatten_validation(data.get("messages", {}))
        return envelope(400, _first_message(errors), errors)
    message = HTTP_MESSAGES.get(status) or exc.description or "Error"
    if status == 400 and exc.description and "JSON" in exc.description:
        message = "Malformed JSON body"
    response = envelope(status, message)
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return exc.response()

    app.register_error_handler(HTTPException, handle_http_exception)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError):
        """A database failure outside a view (views retry their own, `api/unit_of_work.py`)."""
        kind = failure_kind(exc)
        db.session.rollback()
        if kind == RETRY:
            return envelope(409, RETRY_MESSAGE)
        if kind == UNAVAILABLE:
            return envelope(503, UNAVAILABLE_MESSAGE)
        return _unexpected(exc)

    @app.errorhandler(TenancyError)
    def _tenancy(exc: Exception):
        """Tenant data reached without a college (or across colleges): every entry point declares
        its roles (`access.py`), so this is a bug; the client is refused, never shown a 500."""
        log.error("Tenancy refused %s %s: %s", request.method, request.path, exc)
        db.session.rollback()
        return envelope(403, NO_COLLEGE_MESSAGE)

    @app.errorhandler(PoolTimeout)
    def _no_free_connection(exc: PoolTimeout):
        """No pooled connection came free within DB_POOL_TIMEOUT: the database is not keeping up."""
        log.warning("Database pool timeout on %s %s", request.method, request.path)
        return envelope(503, UNAVAILABLE_MESSAGE)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return envelope(500, HTTP_MESSAGES[500])
