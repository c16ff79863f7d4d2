"""`GET /api/v1/stream`: the caller's live events over a WebSocket (flask-sock).

The protocol, as a client sees it:

1. Connect with the token in `?token=<JWT>` (or an `Authorization: Bearer` header), or send it as the
   first frame, `{"token": "<JWT>"}`, within 10 seconds (preferred: a query string ends up in
   access logs). The token is checked exactly like an HTTP
   request's (a revoked session is refused); a refused socket gets
   `{"type": "error", "message": "..."}` and is closed with code 4401.
2. The server answers `{"type": "ready", "data": {"user_id": ...}}` once it is listening; anything
   committed after that arrives as `{"type": "<event>", "data": {...}}` frames, e.g. `dm.created`,
   `notification.created`, `message.created` (of the caller's active groups).
3. Events sent while a client was disconnected are not replayed: after (re)connecting and `ready`,
   a client catches up through the REST cursor routes. A client that falls too far behind is sent
   `{"type": "error", ...}` and closed with 1013 (reconnect and catch up).
4. The server sends a WebSocket ping every 25 seconds and closes a socket that does not answer;
   it also re-checks the token's session every 30 seconds, closing with 4401 once it is revoked.
   A client may send `{"type": "ping"}` and gets `{"type": "pong"}` (for clients without access
   to protocol pings); other frames are ignored.

Each open socket holds one server thread (gunicorn `gthread` workers: size `--threads` for the
expected sockets) and one broker subscription, closed when the socket ends. It holds no database
connection while it waits.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, current_app, g
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from ..auth.current import INVALID_TOKEN, MISSING_HEADER, MUST_CHANGE_PASSWORD, bearer_token, resolve_token
from ..db import db
from ..models import User
from ..observability import metrics
from ..services.groups import group_ids_of
from ..tenancy import tenant_context
from .broker import MEMBERSHIP_CHANGED, Subscription, group_channel, user_channel

log = logging.getLogger(__name__)

PATH = "/api/v1/stream"
TOKEN_FRAME_SECONDS = 10.0
PING_SECONDS = 25
REVALIDATE_SECONDS = 30.0
POLL_SECONDS = 0.5  # how quickly a closed socket or a client frame is noticed while idle
MAX_CLIENT_FRAME = 16 * 1024
CLOSE_WAIT_SECONDS = 2.0

CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN = 1013
CLOSE_GOING_AWAY = 1001

FALLEN_BEHIND = "Too many events queued for this connection; reconnect and catch up"


def channels_for(user: User) -> list[str]:
    """The channels a user's stream listens to: their own, and each group they are an active member of.

    Extend this when other events need other channels (it is the one place that decides).
    """
    channels = [user_channel(user.id)]
    if user.college_id is None:  # the sysadmin has no groups
        return channels
    with tenant_context(user.college_id):
        channels.extend(group_channel(group_id) for group_id in group_ids_of(user.id))
    return channels


def register(app: Flask) -> None:
    """Route the stream on this app (flask-sock, bound per app like every other extension)."""
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": PING_SECONDS,
                                                  "max_message_size": MAX_CLIENT_FRAME})
    Sock(app).route(PATH)(stream)


def stream(ws) -> None:
    identity = _authenticate(ws)
    if identity is None:
        return
    user, token = identity
    broker = current_app.extensions["studysync.broker"]
    try:
        channels = channels_for(user)
    finally:
        _release_database()
    subscription = broker.subscribe(channels)
    log.info("socket opened", extra={"open_sockets": metrics.socket_opened()})
    try:
        _send(ws, {"type": "ready", "data": {"user_id": user.id}})
        _forward(ws, subscription, token)
    except (ConnectionClosed, OSError):
        pass  # the client went away
    finally:
        subscription.close()
        log.info("socket closed", extra={"open_sockets": metrics.socket_closed()})


def _authenticate(ws) -> tuple[User, str] | None:
    """The user behind the token of the URL/header or of the first frame; refuse the socket otherwise."""
    user = g.get("user")
    token = bearer_token()
    if user is None and g.get("auth_error", MISSING_HEADER) == MISSING_HEADER:
        token = _token_frame(ws)
        resolved = resolve_token(token) if token else INVALID_TOKEN
        if not isinstance(resolved, str):
            user = resolved[0]
        else:
            g.auth_error = resolved
    if user is None or user.must_change_password:  # a temporary password opens nothing but its change
        _release_database()
        _refuse(ws, MUST_CHANGE_PASSWORD if user is not None else g.get("auth_error") or INVALID_TOKEN)
        return None
    return user, token


def _token_frame(ws) -> str | None:
    try:
        raw = ws.receive(timeout=TOKEN_FRAME_SECONDS)
    except ConnectionClosed:
        return None
    try:
        token = json.loads(raw).get("token") if raw else None
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token.strip() else None


def _refuse(ws, message: str) -> None:
    try:
        _send(ws, {"type": "error", "message": message})
    except (ConnectionClosed, OSError):
        pass
    _close(ws, CLOSE_UNAUTHORIZED, message)


def _close(ws, code: int, reason: str) -> None:
    """Close from our side and give the client a moment to answer, so the socket is not torn down
    under the reader thread (or reset before the client has read our last frames)."""
    try:
        ws.close(reason=code, message=reason)
    except (ConnectionClosed, OSError):
        pass
    ws.thread.join(CLOSE_WAIT_SECONDS)


def _forward(ws, subscription: Subscription, token: str) -> None:
    """Send events as they come; answer client pings; stop when either side goes away."""
    next_check = time.monotonic() + REVALIDATE_SECONDS
    while ws.connected:
        event = subscription.get(timeout=POLL_SECONDS)
        if event is not None:
            if event.get("type") == MEMBERSHIP_CHANGED:  # listening before the client hears of it
                _follow_membership(subscription, event.get("data") or {})
            _send(ws, event)
        elif subscription.closed:
            if subscription.overflowed:
                _send(ws, {"type": "error", "message": FALLEN_BEHIND})
                _close(ws, CLOSE_TRY_AGAIN, "Reconnect and catch up")
            else:  # the broker is shutting down with the app
                _close(ws, CLOSE_GOING_AWAY, "Server restarting")
            return
        _answer_client_frames(ws)
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + REVALIDATE_SECONDS
            problem = _session_problem(token)
            if problem:
                _refuse(ws, problem)
                return


def _follow_membership(subscription: Subscription, data: dict[str, Any]) -> None:
    """`membership.changed` on the user's channel: {"group_id": ..., "status": "active" | other}."""
    group_id = data.get("group_id")
    if not isinstance(group_id, str) or not group_id:
        return
    if data.get("status") == "active":
        subscription.add(group_channel(group_id))
    else:
        subscription.remove(group_channel(group_id))


def _answer_client_frames(ws) -> None:
    while (frame := ws.receive(timeout=0)) is not None:
        try:
            message = json.loads(frame)
        except (ValueError, TypeError):
            continue
        if isinstance(message, dict) and message.get("type") == "ping":
            _send(ws, {"type": "pong"})


def _session_problem(token: str) -> str | None:
    """Why the token no longer works (revoked, expired, user deactivated), or None."""
    try:
        resolved = resolve_token(token)
    finally:
        _release_database()
    return resolved if isinstance(resolved, str) else None


def _release_database() -> None:
    """End the request's transaction: a socket must not hold a connection (or SQLite's lock) while it waits."""
    db.session.close()


def _send(ws, payload: dict[str, Any]) -> None:
    ws.send(json.dumps(payload, separators=(",", ":")))
