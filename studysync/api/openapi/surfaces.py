"""Routes that are not flask-smorest views, described declaratively and added to the same document.

A surface (the mobile `/api`, health, the stream, each legacy surface as it arrives) is a list of
`Operation`s — method, path, summary, body and answer schemas, who may call it — and one
`document(spec, operations)` call. The views stay as they are; `tests/test_openapi.py` fails when a
served route is missing here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema
from werkzeug.routing import Map, Rule

from .conventions import error_statuses
from .errors import error_refs

PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation:
    method: str  # "get", "post", ...
    path: str  # an OpenAPI template: /api/groups/{group_id}/join
    operation_id: str
    summary: str
    tag: str
    response: type[Schema] | dict | None  # the success body (a schema, or an OpenAPI schema dict); None: no body
    status: int = 200
    body: type[Schema] | dict | None = None
    description: str = ""
    public: bool = False
    rate_limited: bool = True
    example: dict[str, Any] | None = None
    mobile: bool = False  # errors carry the mobile `error` key
    errors: frozenset[int] | None = None  # None: the usual ones for this kind of operation
    extra_responses: dict[str, dict] = field(default_factory=dict)
    security: list[dict] | None = None  # overrides `public`
    parameters: tuple[dict, ...] = ()
    body_media: str = "application/json"  # a form: "application/x-www-form-urlencoded"
    response_media: str = "application/json"
    blueprint: str | None = None  # a surface that can be switched off: described only while it is served


def _operation(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        doc["description"] = op.description
    if op.security is not None:
        doc["security"] = op.security
    elif op.public:
        doc["security"] = []
    if op.parameters:  # path parameters come from the app's own rule
        doc["parameters"] = list(op.parameters)
    if op.body is not None:
        content: dict[str, Any] = {"schema": op.body}
        if op.example is not None:
            content["example"] = op.example
        doc["requestBody"] = {"required": True, "content": {op.body_media: content}}
    success: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        success["content"] = {op.response_media: {"schema": op.response}}
    responses: dict[str, Any] = {str(op.status): success, **op.extra_responses}
    statuses = op.errors if op.errors is not None else error_statuses(
        op.method, op.path, has_body=op.body is not None, rate_limited=op.rate_limited)
    responses.update(error_refs(statuses, mobile=op.mobile))
    doc["responses"] = responses
    return doc


# Routes the ASGI entry serves itself, beside the Flask app (studysync/asgi.py): the live stream.
ASGI_PATHS = frozenset({"/api/v1/stream"})


def served(operations: list[Operation], blueprints) -> list[Operation]:
    """The operations of the surfaces this app serves (`LEGACY_SURFACES` can leave some out)."""
    return [op for op in operations if op.blueprint is None or op.blueprint in blueprints]


def document(spec, url_map: Map, operations: list[Operation]) -> None:
    """Add the operations to the document, each on the app's own rule (a path the app does not serve
    is an error here, not a page of fiction)."""
    rules = {rule.rule: rule for rule in url_map.iter_rules()}
    by_path: dict[str, dict[str, Any]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = _operation(op)
    for path, docs in by_path.items():
        rule = rules.get(PATH_PARAMETER.sub(r"<\1>", path))
        if rule is None and path in ASGI_PATHS:  # served beside Flask by asgi.py, not by a Flask rule
            rule = next(Map([Rule(path, endpoint=path)]).iter_rules())
        if rule is None:
            raise LookupError(f"{path} is documented but the app serves no such route")
        spec.path(rule=rule, operations=docs, described=True)
