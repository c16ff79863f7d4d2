"""The error answers as the OpenAPI document shows them: `errors.py`'s envelope, one response per status.

Every surface answers errors with the same envelope; the mobile `/api` adds an `error` key (the
message again, which the app reads). Each status gets a named response component per surface, so an
operation lists the statuses it can answer by reference, and a client sees the same shape for the
same status everywhere.
"""
from __future__ import annotations

from marshmallow import Schema, fields

from ...errors import HTTP_MESSAGES


class ErrorEnvelopeSchema(Schema):
    success = fields.Boolean(required=True, metadata={"enum": [False]})
    message = fields.String(required=True, metadata={"description": "What went wrong, for people"})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Validation problems by field (`_schema` for the body as a whole); "
                                 "a nested field holds its own object of problems"})
    retryAfter = fields.Integer(metadata={"description": "429 only: seconds until the limit resets "
                                                         "(also in the `Retry-After` header)"})
    request_id = fields.String(metadata={"description": "This request's id, also in the `X-Request-ID` "
                                                        "header and in the server's log line: quote it "
                                                        "when reporting a problem"})


class MobileErrorEnvelopeSchema(ErrorEnvelopeSchema):
    error = fields.String(required=True, metadata={"description": "The message again (the app reads this key)"})


ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    503: "ServiceUnavailable",
}

WHEN = {
    400: "Validation failed (the server answers 400, never 422), or the JSON body is malformed.",
    401: "No token, or an invalid, expired or revoked one (`Missing Authorization header`, "
         "`Invalid or expired token`), or a suspended college.",
    403: "The caller's role may not do this, or the college has not enabled the feature the route belongs to.",
    404: "No such id — or an id of another college, which always looks exactly like a missing one.",
    409: "A conflict: a duplicate (email, subdomain, membership), a full group, a state that does not allow "
         "it, or a change that raced another request (try again).",
    413: "The body is over 1 MiB.",
    415: "A body that is not `application/json`.",
    429: "Rate limited: `retryAfter` in the body and a `Retry-After` header say when to try again.",
    503: "The database (or another dependency) is unavailable.",
}

EXAMPLES = {
    400: {"success": False, "message": "email: Not a valid email address.",
          "errors": {"email": ["Not a valid email address."]}},
    401: {"success": False, "message": "Invalid or expired token"},
    403: {"success": False, "message": "Forbidden - insufficient permissions"},
    404: {"success": False, "message": "Resource not found"},
    409: {"success": False, "message": "Email already exists"},
    413: {"success": False, "message": HTTP_MESSAGES[413]},
    415: {"success": False, "message": HTTP_MESSAGES[415]},
    429: {"success": False, "message": "Too many requests. Please try again in 42 seconds.", "retryAfter": 42},
    503: {"success": False, "message": "The database is unavailable; please try again shortly"},
}


def response_name(status: int, mobile: bool = False) -> str:
    return ("Mobile" if mobile else "") + ERROR_NAMES[status]


def register_error_responses(spec) -> None:
    """The schemas and one response component per status and surface."""
    spec.components.schema("ErrorEnvelope", schema=ErrorEnvelopeSchema)
    spec.components.schema("MobileErrorEnvelope", schema=MobileErrorEnvelopeSchema)
    for status in ERROR_NAMES:
        for mobile in (False, True):
            example = dict(EXAMPLES[status])
            if mobile:
                example["error"] = example["message"]
            response = {
                "description": WHEN[status],
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/" + ("MobileErrorEnvelope" if mobile else "ErrorEnvelope")},
                    "example": example,
                }},
            }
            if status == 429:
                response["headers"] = {"Retry-After": {"description": "Seconds until the limit resets",
                                                       "schema": {"type": "integer"}}}
            spec.components.response(response_name(status, mobile), response)


def error_refs(statuses, mobile: bool = False) -> dict[str, str]:
    """`{"404": "NotFound", ...}`: apispec turns a response given by name into a `$ref`."""
    return {str(status): response_name(status, mobile) for status in sorted(statuses)}
