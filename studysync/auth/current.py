"""Who is calling: the token is checked against its server-side session on every request.

`authenticate_request` runs before every request (and before the rate limiter, which keys on the
user). It never fails the request itself: a route that needs a user says so with `require_role`,
and only then is a missing or bad token an error. The tenant of the request is set here, from the
user's college — never from the body or the query string.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Callable, Mapping

from flask import current_app, g, request
from sqlalchemy import select

from ..db import db, utcnow
from ..errors import Forbidden, Unauthorized
from ..models import AuthSession, College, User
from ..tenancy import all_tenants, set_current_college
from .tokens import decode_token

MISSING_HEADER = "Missing Authorization header"
INVALID_TOKEN = "Invalid or expired token"
COLLEGE_SUSPENDED = "College is suspended"
LAST_USED_RESOLUTION = timedelta(minutes=1)
SESSION_BATCH = 500  # ids per IN (...) in session_problems


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.args.get("token") if request.path.endswith("/stream") else None


def resolve_token(token: str) -> tuple[User, AuthSession, College | None] | str:
    """The user, live session and college behind `token`, or why it is refused."""
    claims = decode_token(token, current_app.config["SETTINGS"].jwt_secret_key)
    if claims is None:
        return INVALID_TOKEN
    session = db.session
    with all_tenants(session):
        row = session.execute(
            select(AuthSession, User)
            .join(User, User.id == AuthSession.user_id)
            .where(AuthSession.id == claims.session_id)
        ).first()
        if row is None:
            return INVALID_TOKEN
        auth_session, user = row
        now = utcnow()
        if user.id != claims.user_id or not auth_session.is_live(now) or not user.is_active:
            return INVALID_TOKEN
        college = session.get(College, user.college_id) if user.college_id else None
    if college is not None and not college.is_active:
        return COLLEGE_SUSPENDED
    if now - auth_session.last_used_at > LAST_USED_RESOLUTION:
        auth_session.last_used_at = now
        with all_tenants(session):
            session.commit()
    return user, auth_session, college


def session_problems(sessions: Mapping[str, str]) -> dict[str, str]:
    """`resolve_token`'s checks for many sessions at once ({session id: user id}): why each one no
    longer authenticates; live sessions are absent from the answer.

    The live stream re-checks every open socket's session periodically; with thousands of sockets
    that is a few queries per sweep instead of a few per socket. Like `resolve_token`, it counts the
    check as use of the session (`last_used_at`, at most once a minute).
    """
    problems = dict.fromkeys(sessions, INVALID_TOKEN)
    now = utcnow()
    session = db.session
    ids = list(sessions)
    touched = False
    with all_tenants(session):
        for start in range(0, len(ids), SESSION_BATCH):
            rows = session.execute(
                select(AuthSession, User, College)
                .join(User, User.id == AuthSession.user_id)
                .outerjoin(College, College.id == User.college_id)
                .where(AuthSession.id.in_(ids[start:start + SESSION_BATCH]))
            ).all()
            for auth_session, user, college in rows:
                if user.id != sessions[auth_session.id] or not auth_session.is_live(now) or not user.is_active:
                    continue
                if college is not None and not college.is_active:
                    problems[auth_session.id] = COLLEGE_SUSPENDED
                    continue
                del problems[auth_session.id]
                if now - auth_session.last_used_at > LAST_USED_RESOLUTION:
                    auth_session.last_used_at = now
                    touched = True
        if touched:
            session.commit()
    return problems


def authenticate_request() -> None:
    g.user = g.auth_session = g.college = None
    g.auth_error = MISSING_HEADER
    token = bearer_token()
    if token is None:
        return
    resolved = resolve_token(token)
    if isinstance(resolved, str):
        g.auth_error = resolved
        return
    g.user, g.auth_session, g.college = resolved
    set_current_college(g.user.college_id)


def current_user() -> User:
    """The authenticated user of a route guarded by `require_role` / `login_required`."""
    user = g.get("user")
    if user is None:
        raise Unauthorized(g.get("auth_error", MISSING_HEADER))
    return user


def current_session() -> AuthSession:
    current_user()
    return g.auth_session


def current_college() -> College | None:
    current_user()
    return g.college


def require_role(*roles: str) -> Callable:
    """401 without a valid token, 403 with the wrong role (the seed's message)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if roles and user.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


login_required = require_role()
