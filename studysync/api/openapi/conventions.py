"""What every operation of the document shares, filled in one place as flask-smorest registers the views.

`Conventions` is an apispec plugin (passed in `spec_kwargs["extra_plugins"]`): for each operation of a
flask-smorest blueprint it adds what the views do not say themselves —

- an `operationId` (`<blueprint>_<view>`) and a `summary` (the docstring's first line, else the view's
  name in words);
- `security: []` on the routes anyone may call (the document's global `security` asks for the bearer
  token everywhere else);
- the error statuses the operation can really answer, each a reference to `errors.py`'s envelope,
  in place of flask-smorest's 422 (the server answers validation errors with 400) and its `default`
  response (which would let any status pass for documented);
- an example body for the main requests (`examples.py`);
- the `text/csv` answer of the lists that take `?format=csv` (`api/v1/csv_reply.py`).

Operations described by hand (the mobile `/api`, health, the stream) set all of this themselves
(`surfaces.py`) and pass through untouched.
"""
from __future__ import annotations

from apispec import BasePlugin

from .errors import error_refs
from .examples import REQUEST_EXAMPLES

PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.token", "students.register", "students.login"})
WRITES = frozenset({"post", "put", "patch", "delete"})
SMOREST_ERRORS = ("422", "default")


def error_statuses(method: str, path: str, *, has_body: bool, has_query: bool = False,
                   rate_limited: bool = True) -> set[int]:
    """The statuses any operation of this kind can answer besides its success.

    401/403 apply to public routes too: a login answers 401 for a wrong password and 403 for a
    suspended college. 404 needs an id to miss (in the path or the body).
    """
    statuses = {401, 403, 503}
    if rate_limited:
        statuses.add(429)
    if has_body or has_query or "{" in path:  # an id in the path can be refused too (e.g. your own)
        statuses.add(400)
    if "{" in path or has_body:
        statuses.add(404)
    if method in WRITES:
        statuses.add(409)
    if method in ("post", "put", "patch"):
        statuses.add(415)
    if has_body:
        statuses.add(413)
    return statuses


CSV = {"schema": {"type": "string", "description": "A CSV file with a header row"}}


def _add_csv(responses: dict) -> None:
    """`?format=csv` (or `Accept: text/csv`): every matching row as a CSV file, same filters."""
    success = responses.get(200) or responses.get("200")
    if isinstance(success, dict):
        success.setdefault("content", {})["text/csv"] = CSV


def humanize(view_name: str) -> str:
    words = view_name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


class Conventions(BasePlugin):
    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or kwargs.get("described") or not operations:  # described by hand (surfaces.py)
            return
        blueprint, _, view = rule.endpoint.partition(".")
        for method, operation in operations.items():
            operation.setdefault("operationId", f"{blueprint}_{view}")
            operation.setdefault("summary", humanize(view))
            if rule.endpoint in PUBLIC_ENDPOINTS:
                operation["security"] = []
            responses = operation.setdefault("responses", {})
            for key in SMOREST_ERRORS:
                responses.pop(key, None)
                responses.pop(int(key) if key.isdigit() else key, None)
            has_body = "requestBody" in operation
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []) if isinstance(p, dict))
            for status, ref in error_refs(error_statuses(method, path, has_body=has_body, has_query=has_query)).items():
                responses.setdefault(status, ref)
            if any(p.get("in") == "query" and p.get("name") == "format"
                   for p in operation.get("parameters", []) if isinstance(p, dict)):
                _add_csv(responses)
            example = REQUEST_EXAMPLES.get(operation["operationId"])
            if example is not None and has_body:
                for content in operation["requestBody"].get("content", {}).values():
                    content.setdefault("example", example)
