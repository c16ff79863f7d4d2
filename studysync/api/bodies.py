"""Reading the JSON body of a hand-written surface (the mobile `/api`, the legacy ones)."""
from __future__ import annotations

from typing import Any

from flask import request


def json_object() -> dict[str, Any]:
    """The body as a JSON object, or an empty one: these clients send `{}`, nothing at all, or a
    JSON content type with no body, and each field is then read (and refused) one by one."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}
