"""Build the Postman collections and the API reference from the app's OpenAPI document.

    python scripts/postman.py        (or `make postman`)

writes
- docs/openapi.json                              the document the server serves at /api/v1/openapi.json
- docs/API.md                                    the reference: every operation by tag, who may call it, what it answers
- postman/studysync.postman_collection.json      every operation, named by summary, one folder per tag,
                                                 bearer auth from {{token}} on the collection, {{baseUrl}}
- postman/flows/*.postman_collection.json        the flows in scripts/postman_flows.py, with test scripts
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = ("get", "post", "put", "patch", "delete")
# Not an HTTP request Postman can send: the WebSocket stream is described in the docs only.
SKIPPED = {"stream_events"}


def build_spec() -> dict:
    from studysync.app import create_app
    from studysync.extensions import api

    with tempfile.TemporaryDirectory() as scratch:
        create_app(database_url=f"sqlite:///{scratch}/spec.db", jwt_secret_key="x" * 40, app_env="testing",
                   embedding_model="hashing", redis_url=None, sysadmin_email=None, sysadmin_password=None)
        return json.loads(json.dumps(api.spec.to_dict(), sort_keys=False, default=str))


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method], item.get("parameters", [])


def url(path: str, query: list[dict] | None = None) -> dict:
    postman_path = re.sub(r"{(\w+)}", r":\1", path)
    parts = [p for p in postman_path.split("/") if p]
    out = {"raw": "{{baseUrl}}" + postman_path, "host": ["{{baseUrl}}"], "path": parts}
    variables = [{"key": name, "value": "", "description": "an id"} for name in re.findall(r"{(\w+)}", path)]
    if variables:
        out["variable"] = variables
    if query:
        out["query"] = query
        out["raw"] += "?" + "&".join(f"{q['key']}={q['value']}" for q in query if not q.get("disabled"))
    return out


def json_body(value) -> dict:
    return {"mode": "raw", "raw": json.dumps(value, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}}}


def request_item(method: str, path: str, op: dict, path_parameters: list[dict]) -> dict:
    query = [{"key": p["name"], "value": str(p.get("schema", {}).get("default", "")), "disabled": True,
              "description": p.get("description", "")}
             for p in op.get("parameters", []) if p.get("in") == "query"]
    request: dict = {"method": method.upper(), "header": [], "url": url(path, query)}
    description = op.get("description", "")
    statuses = ", ".join(sorted(op["responses"]))
    request["description"] = (description + "\n\n" if description else "") + f"Answers: {statuses}."
    body = op.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        request["header"].append({"key": "Content-Type", "value": "application/json"})
        request["body"] = json_body(body["application/json"].get("example", {}))
    elif "application/x-www-form-urlencoded" in body:
        fields = body["application/x-www-form-urlencoded"].get("schema", {}).get("properties", {})
        request["body"] = {"mode": "urlencoded", "urlencoded": [{"key": name, "value": ""} for name in fields]}
    if op.get("security") == []:
        request["auth"] = {"type": "noauth"}
    return {"name": op["summary"], "request": request}


def bearer(variable: str = "token") -> dict:
    return {"type": "bearer", "bearer": [{"key": "token", "value": "{{" + variable + "}}", "type": "string"}]}


def whole_api(spec: dict) -> dict:
    folders: dict[str, list] = {}
    for method, path, op, path_parameters in operations(spec):
        if op["operationId"] in SKIPPED:
            continue
        folders.setdefault(op["tags"][0], []).append(request_item(method, path, op, path_parameters))
    descriptions = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    return {
        "info": {"name": spec["info"]["title"], "schema": SCHEMA,
                 "description": spec["info"].get("description", "") + "\n\nGenerated from the OpenAPI document by "
                                "`make postman`; the WebSocket `/api/v1/stream` is described in docs/API.md."},
        "auth": bearer(),
        "variable": [{"key": "baseUrl", "value": "http://localhost:5000"}, {"key": "token", "value": ""}],
        "item": [{"name": tag, "description": descriptions.get(tag, ""), "item": items}
                 for tag, items in folders.items()],
    }


def reference(spec: dict) -> str:
    lines = [f"# {spec['info']['title']} reference", "",
             "Generated from the OpenAPI document by `make postman` (`scripts/postman.py`); "
             "`tests/docs/test_reference.py` fails when it no longer matches the server. The same document is "
             "served at `/api/v1/openapi.json` and browsable at `/api/v1/docs`; `docs/openapi.json` is a copy.", "",
             spec["info"].get("description", "").strip(), "",
             "Every error answer is the envelope `{\"success\": false, \"message\": \"...\", \"errors\": {...}}` "
             "(the mobile `/api` adds `error`, the message again). What each status means:", ""]
    from studysync.api.openapi.errors import ERROR_NAMES

    for status, name in ERROR_NAMES.items():
        lines.append(f"- **{status}** ({name}): {spec['components']['responses'][name]['description']}")
    descriptions = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    by_tag: dict[str, list] = {}
    for method, path, op, _ in operations(spec):
        by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    for tag, ops in by_tag.items():
        lines += ["", f"## {tag}", ""]
        if descriptions.get(tag):
            lines += [descriptions[tag], ""]
        lines += ["| method | path | summary | auth | answers |", "|---|---|---|---|---|"]
        for method, path, op in ops:
            auth = {None: "bearer", "[]": "public"}.get(
                json.dumps(op["security"]) if "security" in op else None, "bearer or `?token=`")
            lines.append(f"| {method.upper()} | `{path}` | {op['summary']} | {auth} | "
                         f"{', '.join(sorted(op['responses']))} |")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    os.environ.setdefault("APP_ENV", "testing")
    from postman_flows import FLOWS

    spec = build_spec()
    write(ROOT / "docs" / "openapi.json", json.dumps(spec, indent=2, ensure_ascii=False) + "\n")
    write(ROOT / "docs" / "API.md", reference(spec))
    write(ROOT / "postman" / "studysync.postman_collection.json",
          json.dumps(whole_api(spec), indent=2, ensure_ascii=False) + "\n")
    for name, collection in FLOWS.items():
        write(ROOT / "postman" / "flows" / f"{name}.postman_collection.json",
              json.dumps(collection, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
