"""Small helpers shared by the v1 views."""
from __future__ import annotations

from flask import request

from ...auth.sessions import ClientInfo


def client_info() -> ClientInfo:
    return ClientInfo(user_agent=request.headers.get("User-Agent"), ip_address=request.remote_addr)


def subdomain_from_host() -> str | None:
    """`mit.studysync.app` → `mit`; a bare host, an IP or localhost names no college."""
    host = request.host.split(":", 1)[0]
    labels = host.split(".")
    if len(labels) < 3 or host.replace(".", "").isdigit():
        return None
    return labels[0].lower()
