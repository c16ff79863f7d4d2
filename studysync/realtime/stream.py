"""`GET /api/v1/stream`: the caller's live events over a WebSocket, served on the event loop.

The protocol, as a client sees it:

1. Connect with the token in `?token=<JWT>` (or an `Authorization: Bearer` header), or send it as the
   first frame, `{"token": "<JWT>"}`, within 10 seconds (preferred: a query string ends up in
   access logs). The token is checked exactly like an HTTP request's (a revoked session is refused);
   a refused socket gets `{"type": "error", "message": "..."}` and is closed with code 4401.
2. A user holds at most `STREAM_MAX_SOCKETS_PER_USER` sockets (default 5) per worker; the next one
   gets the error frame and is closed with 4429 and a reason to show ("Too many open live
   connections ...").
3. The server answers `{"type": "ready", "data": {"user_id": ...}}` once it is listening; anything
   committed after that arrives as `{"type": "<event>", "data": {...}}` frames, e.g. `dm.created`,
   `notification.created`, `message.created` (of the caller's active groups).
4. Events sent while a client was disconnected are not replayed: after (re)connecting and `ready`,
   a client catches up through the REST cursor routes. A client that falls `STREAM_QUEUE_SIZE`
   events behind is sent `{"type": "error", ...}` and closed with 1013 (reconnect and catch up).
5. The server sends a WebSocket ping every 25 seconds and closes a socket whose pong does not come
   within 20 (the idle timeout: a vanished peer is gone within 45 s). Every 30 seconds it re-checks the
   sessions of all open sockets (one batch), closing with 4401 those revoked. A client may send
   `{"type": "ping"}` and gets `{"type": "pong"}`; other frames are ignored. When the server shuts
   down or restarts, every socket is closed with 1001.

Each socket is a few coroutines on the worker's event loop and one broker subscription: no thread,
no database connection while it waits. What blocks (the token and session checks, the group
lookup, a Redis SUBSCRIBE) runs in a small thread pool of its own, so a burst of connections never
takes the threads that serve plain HTTP requests.
"""
from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qs

from flask import Flask

from ..auth.current import INVALID_TOKEN, MUST_CHANGE_PASSWORD, resolve_token, session_problems
from ..db import db
from ..models import User
from ..observability import metrics
from ..services.groups import group_ids_of
from ..tenancy import tenant_context
from .broker import MEMBERSHIP_CHANGED, Broker, Subscription, group_channel, user_channel
from .hub import Hub, Item, Outbox, encode

log = logging.getLogger(__name__)

PATH = "/api/v1/stream"
TOKEN_FRAME_SECONDS = 10.0
PING_SECONDS = 25.0
PONG_SECONDS = 20.0
REVALIDATE_SECONDS = 30.0
MAX_CLIENT_FRAME = 16 * 1024
CLOSE_SECONDS = 10.0  # how long a closing socket may take to read what is still queued for it
BLOCKING_THREADS = 4

CLOSE_GOING_AWAY = 1001
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_AGAIN = 1013
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429

FALLEN_BEHIND = "Too many events queued for this connection; reconnect and catch up"
TOO_MANY = "Too many open live connections for this account (at most {limit}); close one and retry"
PONG = encode({"type": "pong"})


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


@dataclass(frozen=True)
class Identity:
    user_id: str
    session_id: str
    channels: list[str]


def identify(app: Flask, token: str) -> Identity | str:
    """Blocking: the user behind ``token`` and their channels, or why the token is refused."""
    with app.app_context():
        try:
            resolved = resolve_token(token)
            if isinstance(resolved, str):
                return resolved
            user, auth_session = resolved[0], resolved[1]
            if user.must_change_password:  # a temporary password opens nothing but its change
                return MUST_CHANGE_PASSWORD
            return Identity(user.id, auth_session.id, channels_for(user))
        finally:
            db.session.close()  # a socket holds no connection (nor SQLite's lock) while it waits


def refused_sessions(app: Flask, sessions: dict[str, str]) -> dict[str, str]:
    """Blocking: why each session ({id: user id}) no longer works (revoked, expired, user deactivated)."""
    with app.app_context():
        try:
            return session_problems(sessions)
        finally:
            db.session.close()


class Streams:
    """The ASGI handler of `PATH` for one Flask app: `await streams(scope, receive, send)`."""

    def __init__(self, app: Flask) -> None:
        settings = app.config["SETTINGS"]
        self.app = app
        self.broker: Broker = app.extensions["studysync.broker"]
        self.queue_size = settings.stream_queue_size
        self.max_per_user = settings.stream_max_sockets_per_user
        self._executor = ThreadPoolExecutor(BLOCKING_THREADS, thread_name_prefix="stream")
        self._hub: Hub | None = None
        self._rechecks: asyncio.Task | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:  # made on the serving loop, on the first socket
            self._hub = Hub(asyncio.get_running_loop(), self.max_per_user)
            self._rechecks = asyncio.get_running_loop().create_task(self._recheck_sessions())
        return self._hub

    async def blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        token = _token_of(scope) or await _token_frame(receive)
        try:
            identity = await self.blocking(identify, self.app, token) if token else INVALID_TOKEN
        except Exception:  # noqa: BLE001 - e.g. the database is unreachable: the client should retry
            log.exception("realtime: could not check a stream's token")
            await _close(send, CLOSE_SERVER_ERROR, "Server error; reconnect shortly")
            return
        if isinstance(identity, str):
            await _close(send, CLOSE_UNAUTHORIZED, identity, identity)
            return
        socket = Socket(self, send, receive, identity)
        hub = self.hub
        if not hub.admit(identity.user_id, socket):
            message = TOO_MANY.format(limit=hub.max_per_user)
            await _close(send, CLOSE_TOO_MANY, message, message)
            return
        log.info("socket opened", extra={"open_sockets": metrics.socket_opened()})
        try:
            await socket.run()
        finally:
            hub.leave(identity.user_id, socket)
            log.info("socket closed", extra={"open_sockets": metrics.socket_closed()})

    async def going_away(self, timeout: float = 5.0) -> None:
        """Close every open socket with 1001 (the server is stopping); wait up to ``timeout``."""
        if self._hub is None:
            return
        if self._rechecks is not None:
            self._rechecks.cancel()
        sockets = self._hub.streams()
        for socket in sockets:
            socket.finish(CLOSE_GOING_AWAY, "Server restarting")
        waits = [asyncio.ensure_future(s.finished.wait()) for s in sockets]
        if waits:
            _, late = await asyncio.wait(waits, timeout=timeout)
            for wait in late:
                wait.cancel()

    async def _recheck_sessions(self) -> None:
        """Every `REVALIDATE_SECONDS`, one batch check of every open socket's session; a socket whose
        session was revoked (or expired, or its user deactivated) is closed with 4401."""
        while True:
            await asyncio.sleep(REVALIDATE_SECONDS)
            sockets = self.hub.streams()
            if not sockets:
                continue
            sessions = {s.identity.session_id: s.identity.user_id for s in sockets}
            try:
                problems = await self.blocking(refused_sessions, self.app, sessions)
            except Exception:  # noqa: BLE001 - e.g. the database is briefly down: try again next time
                log.exception("realtime: could not re-check the streams' sessions")
                continue
            for socket in sockets:
                problem = problems.get(socket.identity.session_id)
                if problem:
                    socket.finish(CLOSE_UNAUTHORIZED, problem, problem)


class Socket:
    """One open stream: its reader, and its events sent as they come, until either side (or the session
    check) ends it.

    An event is sent from the hub's drain, with no task: the socket's `send` is stepped once and, as it
    finishes without waiting (the connection takes the frame), that was the whole cost. Only when a
    send would wait (the client reads slowly), or a membership change must be followed before it is
    told, does a forwarding task take over the queue until it is empty again. A fan-out to 5,000
    sockets therefore wakes no 5,000 tasks, and an idle socket keeps no waiting future alive for the
    garbage collector to walk.
    """

    def __init__(self, streams: Streams, send: Callable, receive: Callable, identity: Identity):
        self._streams = streams
        self._send = send
        self._receive = receive
        self.identity = identity
        self._outbox = Outbox(streams.queue_size, self._fell_behind)
        self._end: asyncio.Future[tuple[int, str, str | None] | None] = asyncio.get_running_loop().create_future()
        self._subscription: Subscription | None = None
        self._live = False  # True from `ready` until the socket ends: events may be sent
        self._forwarding: asyncio.Task | None = None
        self.finished = asyncio.Event()

    def finish(self, code: int, reason: str, message: str | None = None) -> None:
        """End the socket: ``message`` as an error frame (if any), then a close with ``code``."""
        if not self._end.done():
            self._end.set_result((code, reason, message))

    async def run(self) -> None:
        streams = self._streams
        reader = None
        try:
            self._subscription = await streams.blocking(
                streams.broker.subscribe, self.identity.channels, streams.hub.sink(self._take))
            if self._end.done():  # ended (server stopping) while subscribing
                await _close(self._send, *self._end.result())
                return
            await self._send({"type": "websocket.send",
                              "text": encode({"type": "ready", "data": {"user_id": self.identity.user_id}})})
            self._live = True
            self._flush()  # what arrived while subscribing
            reader = asyncio.ensure_future(self._read())
            await asyncio.wait([reader, self._end], return_when=asyncio.FIRST_COMPLETED)
            self._live = False
            parts = [task for task in (reader, self._forwarding) if task is not None]
            for task in parts:
                task.cancel()
            await asyncio.gather(*parts, return_exceptions=True)
            if reader.done() and not reader.cancelled() and _unexpected(reader.exception()):
                log.error("realtime: stream failed", exc_info=reader.exception())
                self.finish(CLOSE_SERVER_ERROR, "Server error")
            if self._end.done() and self._end.result() is not None:
                await _close(self._send, *self._end.result())
        except OSError:
            pass  # the client went away (uvicorn's ClientDisconnected is an OSError)
        finally:
            self._live = False
            if reader is not None and not reader.done():
                reader.cancel()
            if self._subscription is not None:
                self._subscription.close()
            self.finished.set()

    # -- on the loop, called by the hub ---------------------------------------------------------------

    def _take(self, event: dict | None, text: str | None) -> None:
        if event is None:  # the broker closed the subscription: the app is shutting down
            self.finish(CLOSE_GOING_AWAY, "Server restarting")
        else:
            self._queue((event, text))

    def _queue(self, item: Item) -> None:
        if self._outbox.push(item) and self._forwarding is None:
            self._flush()

    def _fell_behind(self) -> None:
        log.info("realtime: socket of user %s fell %d events behind; closing it",
                 self.identity.user_id, self._streams.queue_size)
        self.finish(CLOSE_TRY_AGAIN, "Reconnect and catch up", FALLEN_BEHIND)
        if self._subscription is not None:
            self._subscription.close()  # stop receiving now, not once the close gets through

    # -- sending ----------------------------------------------------------------------------------------

    def _flush(self) -> None:
        """Send what is queued at once, for as long as every send completes without waiting; hand the
        rest to a forwarding task."""
        if not self._live or self._end.done():
            return
        while len(self._outbox):
            event, text = self._outbox.peek()
            if event is not None and event.get("type") == MEMBERSHIP_CHANGED:
                break  # to listen before telling takes a blocking call: the task's job
            if not self._send_at_once(text):
                break
            self._outbox.pop()
        else:
            return
        self._forwarding = asyncio.ensure_future(self._forward())

    def _send_at_once(self, text: str) -> bool:
        """Step the ASGI send of ``text`` once; True if that sent it.

        uvicorn's send first waits for the connection to be writable and writes nothing before: a send
        that would wait is closed unsent, and the forwarding task sends the frame again, awaiting it.
        An error (the client went away) is left for the task too, which ends the socket as it would.
        """
        step = self._send({"type": "websocket.send", "text": text})
        try:
            step.send(None)
        except StopIteration:
            return True
        except BaseException:  # noqa: BLE001 - the task's own send raises it again, where it is handled
            return False
        step.close()
        return False

    async def _forward(self) -> None:
        try:
            while len(self._outbox) and not self._end.done():
                event, text = self._outbox.pop()
                if event is not None and event.get("type") == MEMBERSHIP_CHANGED:  # listen before telling
                    await self._follow_membership(event.get("data") or {})
                await self._send({"type": "websocket.send", "text": text})
        except OSError:
            if not self._end.done():
                self._end.set_result(None)  # the client went away: nothing left to send it
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("realtime: stream failed")
            self.finish(CLOSE_SERVER_ERROR, "Server error")
        finally:
            self._forwarding = None

    async def _follow_membership(self, data: dict[str, Any]) -> None:
        """`membership.changed` on the user's channel: {"group_id": ..., "status": "active" | other}."""
        group_id = data.get("group_id")
        if not isinstance(group_id, str) or not group_id or self._subscription is None:
            return
        change = self._subscription.add if data.get("status") == "active" else self._subscription.remove
        await self._streams.blocking(change, group_channel(group_id))  # Redis: waits for SUBSCRIBE

    async def _read(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                return
            if _is_ping(message.get("text")):
                self._queue((None, PONG))


def _unexpected(error: BaseException | None) -> bool:
    return error is not None and not isinstance(error, OSError)


def _token_of(scope: dict) -> str | None:
    """The token of an `Authorization: Bearer` header, else of `?token=`."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values and values[0].strip() else None


async def _token_frame(receive: Callable) -> str | None:
    try:
        message = await asyncio.wait_for(receive(), TOKEN_FRAME_SECONDS)
    except asyncio.TimeoutError:
        return None
    try:
        token = json.loads(message.get("text") or "").get("token")
    except (ValueError, AttributeError):
        return None
    return token if isinstance(token, str) and token.strip() else None


def _is_ping(text: str | None) -> bool:
    if not text or len(text) > 64:
        return False
    try:
        message = json.loads(text)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("type") == "ping"


async def _close(send: Callable, code: int, reason: str, message: str | None = None) -> None:
    """The error frame (if any) and the close, unless the client cannot take them within
    `CLOSE_SECONDS` (one that stopped reading); the server then just lets go of the socket."""
    try:
        async with asyncio.timeout(CLOSE_SECONDS):
            if message:
                await send({"type": "websocket.send", "text": encode({"type": "error", "message": message})})
            await send({"type": "websocket.close", "code": code, "reason": reason[:120]})
    except (TimeoutError, OSError):
        pass
