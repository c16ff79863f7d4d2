"""Error envelopes as a client compares them: every one names its request id (the X-Request-ID header)."""


def error_body(response) -> dict:
    """The error envelope without its request id, once that id is checked against the header."""
    body = dict(response.json)
    assert body.pop("request_id") == response.headers["X-Request-ID"]
    return body
