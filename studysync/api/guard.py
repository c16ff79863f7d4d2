"""Raw input every surface gets checked before any view runs, and the headers every answer carries.

Schemas check shape and range per field, but some input breaks things before a schema sees it, or on
a surface that parses by hand (the mobile `/api` blueprint, legacy surfaces to come): a lone surrogate
(`"\\ud800"`) cannot be encoded for any database driver, PostgreSQL refuses a NUL byte in text, a JSON
body nested a thousand levels deep exhausts Python's recursion, and an integer wider than 64 bits or
a float that is not finite fits no column. These are refused here, once, for the query string, the URL
path, the headers and the body (JSON or form), as a 400 naming the field; the mobile blueprint's error
handler reshapes it like any other error.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any, Iterable

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import BadRequest

MAX_JSON_DEPTH = 32  # the deepest real body (a bulk import's list of objects) is 3
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # NUL, and surrogates, which only a `\ud800` escape can produce
BAD_TEXT_MESSAGE = "Must be valid UTF-8 text without NUL characters"
NUMBER_MESSAGE = "Number out of range"
DEPTH_MESSAGE = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


def _refuse(field: str, problem: str) -> None:
    raise BadRequest(f"{field}: {problem}", errors={field: [problem]})


def _check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if BAD_TEXT.search(name):
            _refuse("parameter name", BAD_TEXT_MESSAGE)
        if isinstance(value, str) and BAD_TEXT.search(value):
            _refuse(name, BAD_TEXT_MESSAGE)


def _check_json(document: Any) -> None:
    """Walk the parsed body without recursion: depth, text and numbers, naming the path of a bad value."""
    pending: list[tuple[Any, str, int]] = [(document, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        field = path or "body"
        if isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                _refuse(path.split(".", 1)[0] if isinstance(document, dict) else "body", DEPTH_MESSAGE)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in items:
                if isinstance(key, str) and BAD_TEXT.search(key):
                    _refuse(field, BAD_TEXT_MESSAGE)
                pending.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(value, str):
            if BAD_TEXT.search(value):
                _refuse(field, BAD_TEXT_MESSAGE)
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                _refuse(field, NUMBER_MESSAGE)
        elif isinstance(value, float) and not math.isfinite(value):  # NaN, Infinity, 1e999
            _refuse(field, NUMBER_MESSAGE)


def _check_body() -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.is_json:
        raw = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH, chunked or not
        if not raw.strip():
            return
        try:
            document = json.loads(raw)
        except RecursionError:
            _refuse("body", DEPTH_MESSAGE)
        except ValueError:
            return  # malformed: each surface answers that its own way (v1: 400, mobile: an empty body)
        _check_json(document)
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True))


def _check_chunked_size(environ: dict) -> None:
    """A chunked body has no Content-Length for werkzeug to compare with MAX_CONTENT_LENGTH, and its
    bounded stream stops quietly at the limit (the rest would be parsed as if it were the whole body).
    Reading it here, any body that reaches the limit is a 413 like one announced too large."""
    if "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or request.content_length is not None:
        return
    limit = request.max_content_length
    if limit is not None and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _check_headers(environ: dict) -> None:
    """The headers as the server handed them over (`HTTP_*`, `CONTENT_TYPE`, `CONTENT_LENGTH`) are
    searched as one text; only when it holds bad text are they checked one by one, through werkzeug,
    to name the header. Building werkzeug's view of each header cost more than the check itself: the
    guard was ~170,000 instructions of every request (6% of an authenticated read)."""
    text = "\n".join([f"{key}\x1f{value}" for key, value in environ.items()
                       if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")])
    if BAD_TEXT.search(text):
        _check_pairs(request.headers.items())


def check_raw_input() -> None:
    environ = request.environ
    _check_chunked_size(environ)
    if environ.get("QUERY_STRING"):  # most calls have none: nothing to parse
        _check_pairs(request.args.items(multi=True))
    _check_pairs((request.view_args or {}).items())
    _check_headers(environ)
    _check_body()


# What every answer carries unless its route set the header itself (lower-case name, name, value).
SECURITY_HEADERS = tuple((name.lower(), name, value) for name, value in (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Cache-Control", "no-store"),
))


def security_headers(response: Response) -> Response:
    """nosniff and no framing on every answer; `no-store` unless a route chose its own caching.
    Answers are per user (and login and token answers carry credentials), so nothing in between may
    keep a copy by default; routes that revalidate with ETags set `private, no-cache` themselves.
    The names already set are read once (werkzeug's `setdefault` scans the headers three times per
    call: 4% of an authenticated read's instructions)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for lower, name, value in SECURITY_HEADERS:
        if lower not in present:
            headers.add(name, value)
    return response


def install(app: Flask) -> None:
    """Before every other hook that reads the request (authentication, the limiter's account key)."""
    app.before_request(check_raw_input)
    app.after_request(security_headers)
