"""docs/ and the Postman collection are what `make postman` makes from the server's own document today."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from studysync.extensions import api

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import postman  # noqa: E402

STALE = "out of date with the server's OpenAPI document: run `make postman` and commit the result"


def current_spec() -> dict:
    return json.loads(json.dumps(api.spec.to_dict(), default=str))


def test_reference_and_collection_match_the_served_spec(app):
    spec = current_spec()
    assert json.loads((ROOT / "docs" / "openapi.json").read_text()) == spec, "docs/openapi.json is " + STALE
    assert (ROOT / "docs" / "API.md").read_text() == postman.reference(spec), "docs/API.md is " + STALE
    collection = json.loads((ROOT / "postman" / "studysync.postman_collection.json").read_text())
    assert collection == json.loads(json.dumps(postman.whole_api(spec))), "the Postman collection is " + STALE


def test_collection_has_every_http_operation_named_by_summary_under_its_tag(app):
    spec = current_spec()
    collection = postman.whole_api(spec)
    assert collection["auth"]["type"] == "bearer" and collection["auth"]["bearer"][0]["value"] == "{{token}}"
    requests = {(folder["name"], item["name"], item["request"]["method"], item["request"]["url"]["raw"].split("?")[0])
                for folder in collection["item"] for item in folder["item"]}
    expected = {(op["tags"][0], op["summary"], method.upper(), "{{baseUrl}}" + path.replace("{", ":").replace("}", ""))
                for method, path, op, _ in postman.operations(spec) if op["operationId"] not in postman.SKIPPED}
    assert requests == expected
    assert all(item["request"].get("auth") == {"type": "noauth"}
               for folder in collection["item"] for item in folder["item"] if item["name"].startswith("Log in"))
