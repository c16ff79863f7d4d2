"""Print `<role> <token>` for each role of `make run`'s demo logins (sysadmin, admin, teacher, student).

Usage: python scripts/role_tokens.py http://127.0.0.1:5000
"""
from __future__ import annotations

import json
import sys
import urllib.request

LOGINS = [
    ("sysadmin", "/api/v1/auth/login", {"email": "sysadmin@studysync.local", "password": "Admin@1234"}),
    ("admin", "/api/v1/auth/login", {"email": "admin@demo.edu", "password": "Admin@1234"}),
    ("teacher", "/api/v1/auth/login", {"email": "teacher@demo.edu", "password": "Teacher@1234"}),
    ("student", "/api/auth/login", {"email": "alice.johnson@demo.edu", "password": "Student@1234"}),
]


def token(base: str, path: str, body: dict) -> str:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    return answer["data"]["token"] if "data" in answer else answer["token"]


def main(base: str) -> None:
    for role, path, body in LOGINS:
        print(role, token(base.rstrip("/"), path, body))


if __name__ == "__main__":
    main(sys.argv[1])
