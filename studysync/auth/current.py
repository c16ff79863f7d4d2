"""Who is calling: the token is checked against its server-side session on every request.

`authenticate_request` runs before every request (and before the rate limiter, which keys on the
user). It never fails the request itself: a route that needs a user says so with `login_required`,
and only then is a missing or bad token an error. The tenant of the request is set here, from the
user's college — never from the body or the query string.
"""
from __future__ import annotations

from datetime import timedelta
from functools import cache, wraps
from typing import Callable, Mapping

from flask import current_app, g, request
from sqlalchemy import and_, bindparam, event, select, update
from sqlalchemy.orm import Session, aliased, lazyload, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from ..db import db, utcnow
from ..errors import Forbidden, Unauthorized
from ..models import AuthSession, College, User
from ..tenancy import all_tenants, set_current_college
from .companion import Companion
from .tokens import decode_token

MISSING_HEADER = "Missing Authorization header"
INVALID_TOKEN = "Invalid or expired token"
COLLEGE_SUSPENDED = "College is suspended"
LAST_USED_RESOLUTION = timedelta(minutes=1)
MUST_CHANGE_PASSWORD = ("Your password is temporary: change it with PUT /api/v1/auth/password "
                        "(old_password, new_password) before using any other route")
# What a user with a temporary password may still reach (services/account_recovery.py sets the flag).
OPEN_WITH_TEMPORARY_PASSWORD = frozenset({
    "auth.change_password", "students.change_password", "auth.logout", "students.logout", "auth.me",
})
SESSION_BATCH = 500  # ids per IN (...) in session_problems
PENDING_TOUCH = "studysync.pending_session_touch"  # on Session.info: (auth session id, when), see _touch


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.args.get("token") if request.path.endswith("/stream") else None


# URL parameters that name a user (api/ids.py checks them against the caller's college): such a
# user is loaded by the token's own statement, so a route about someone else (the DM thread the
# app polls every 3 s) does not ask the database again for them.
USER_PARAMS = ("user_id", "student_id")


def loads_with_token(companion: Companion, when: Callable[[], bool] | None = None
                     ) -> Callable[[Callable], Callable]:
    """Marks a view: the token's statement also loads `companion` (only when `when()` says so, if
    given: a request that would not use it does not pay for it)."""

    def mark(view: Callable) -> Callable:
        view.token_companion = (companion, when)  # kept by functools.wraps on the wrappers around it
        return view

    return mark


@cache
def _token_statement(with_url_user: bool = False, companion: Companion | None = None):
    """Session, user and college in one statement (the college's email domains load only if read),
    and, when the URL names another user, that user if they are in the caller's college (the
    tenant rule, written out: the statement runs under all tenants), then the route's companion
    columns. Built once per process."""
    statement = (
        select(AuthSession, User, College)
        .join(User, User.id == AuthSession.user_id)
        .outerjoin(College, College.id == User.college_id)
        .where(AuthSession.id == bindparam("session_id"))
        .options(lazyload(College.email_domains))
    )
    if with_url_user:
        url_user = aliased(User, name="url_user")
        statement = statement.add_columns(url_user).outerjoin(
            url_user, and_(url_user.id == bindparam("url_user_id"), url_user.college_id == User.college_id))
    if companion is not None:
        statement = statement.add_columns(*companion.columns)
        for target, on in companion.joins:
            statement = statement.outerjoin(target, on)
    return statement


TokenCheck = tuple[User, AuthSession, College | None, User | None, tuple | None]


def resolve_token(token: str, url_user_id: str | None = None, companion: Companion | None = None
                  ) -> TokenCheck | str:
    """The user, live session and college behind `token`, or why it is refused; with `url_user_id`,
    also that user when they are in the caller's college (else None); and `companion`'s columns."""
    claims = decode_token(token, current_app.config["SETTINGS"].jwt_secret_key)
    if claims is None:
        return INVALID_TOKEN
    session = db.session
    parameters = {"session_id": claims.session_id}
    if url_user_id is not None:
        parameters["url_user_id"] = url_user_id
    if companion is not None:
        parameters.update(companion.parameters(claims.user_id, url_user_id))
    with all_tenants(session):
        row = session.execute(_token_statement(url_user_id is not None, companion), parameters).first()
    if row is None:
        return INVALID_TOKEN
    auth_session, user, college = row[:3]
    now = utcnow()
    if user.id != claims.user_id or not auth_session.is_live(now) or not user.is_active:
        return INVALID_TOKEN
    if college is not None and not college.is_active:
        return COLLEGE_SUSPENDED
    if now - auth_session.last_used_at > LAST_USED_RESOLUTION:
        _touch(session, auth_session, now)
    extra = 4 if url_user_id is not None else 3
    url_user = row[3] if url_user_id is not None else None
    return user, auth_session, college, url_user, tuple(row[extra:]) if companion is not None else None


def _touch(session: Session, auth_session: AuthSession, now) -> None:
    """Count this request as use of the session, at most once a minute: written by the request's
    own commit (`install`'s listener), so a request that fails leaves it for the next one.

    Not written here: the UPDATE would make every request that follows a writer from its first
    statement on, holding SQLite's one write lock (PostgreSQL: the row's lock and an open
    transaction) through all it does next, a recommendation's scoring included, while every other
    writer of the worker waits; at the commit it holds them for the commit alone."""
    session.info[PENDING_TOUCH] = (auth_session.id, now)
    set_committed_value(auth_session, "last_used_at", now)


def install(session_factory: sessionmaker) -> None:
    """The pending `last_used_at` of a request is written just before its session commits, in the
    same transaction: one COMMIT per request still. A plain UPDATE rather than a dirty ORM row,
    under all tenants (a sysadmin's request may be acting in a college)."""

    def write_pending_touch(session: Session) -> None:
        pending = session.info.get(PENDING_TOUCH)
        if pending is None or session.in_nested_transaction():  # a savepoint's release: not yet
            return
        session_id, now = pending
        with all_tenants(session):
            session.execute(
                update(AuthSession)
                .where(AuthSession.id == session_id, AuthSession.last_used_at < now - LAST_USED_RESOLUTION)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        # Kept until written: SQLite's "database is locked" here makes the unit of work run the
        # request again, and its next commit writes it then.
        del session.info[PENDING_TOUCH]

    event.listen(session_factory, "before_commit", write_pending_touch)


def session_problems(sessions: Mapping[str, str]) -> dict[str, str]:
    """`resolve_token`'s checks for many sessions at once ({session id: user id}): why each one no
    longer authenticates; live sessions are absent from the answer.

    The live stream re-checks every open socket's session periodically; with thousands of sockets
    that is one query per 500 sessions instead of a few per socket, reading plain columns rather
    than ORM objects, and one UPDATE to count the check as use of the session (`last_used_at`, at
    most once a minute, as `resolve_token` does).
    """
    problems = dict.fromkeys(sessions, INVALID_TOKEN)
    now = utcnow()
    session = db.session
    ids = list(sessions)
    with all_tenants(session):
        for start in range(0, len(ids), SESSION_BATCH):
            rows = session.execute(
                select(AuthSession.id, AuthSession.user_id, AuthSession.revoked_at, AuthSession.expires_at,
                       User.status, College.status)
                .join(User, User.id == AuthSession.user_id)
                .outerjoin(College, College.id == User.college_id)
                .where(AuthSession.id.in_(ids[start:start + SESSION_BATCH]))
            ).all()
            # The same rules as AuthSession.is_live, User.is_active and College.is_active, on columns.
            for session_id, user_id, revoked_at, expires_at, user_status, college_status in rows:
                live = revoked_at is None and expires_at > now
                if user_id != sessions[session_id] or not live or user_status != "active":
                    continue
                if college_status is not None and college_status != "active":
                    problems[session_id] = COLLEGE_SUSPENDED
                    continue
                del problems[session_id]
        live_ids = [session_id for session_id in ids if session_id not in problems]
        for start in range(0, len(live_ids), SESSION_BATCH):
            session.execute(
                update(AuthSession)
                .where(AuthSession.id.in_(live_ids[start:start + SESSION_BATCH]),
                       AuthSession.last_used_at < now - LAST_USED_RESOLUTION)
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )
        session.commit()
    return problems


def authenticate_request() -> None:
    g.user = g.auth_session = g.college = g.companion_row = None
    g.auth_error = MISSING_HEADER
    token = bearer_token()
    if token is None:
        return
    url_user_id = _url_user_id()
    resolved = resolve_token(token, url_user_id, _companion())
    if isinstance(resolved, str):
        g.auth_error = resolved
        return
    g.user, g.auth_session, g.college, url_user, g.companion_row = resolved
    if url_user_id is not None:
        g.url_user = (url_user_id, url_user)  # for api/ids.py; and the session holds rows weakly
    set_current_college(g.user.college_id)


def _companion() -> Companion | None:
    """The companion of the route's view (`loads_with_token`), if this request wants it."""
    marked = getattr(current_app.view_functions.get(request.endpoint), "token_companion", None)
    if marked is None:
        return None
    companion, when = marked
    return companion if when is None or when() else None


def _url_user_id() -> str | None:
    """The user the URL names (the first of `USER_PARAMS` it has)."""
    arguments = request.view_args
    if not arguments:
        return None
    for param in USER_PARAMS:
        value = arguments.get(param)
        if value:
            return str(value)
    return None


def current_user() -> User:
    """The authenticated user of a route guarded by `login_required` (or the 401)."""
    user = g.get("user")
    if user is None:
        raise Unauthorized(g.get("auth_error", MISSING_HEADER))
    if user.must_change_password and request.endpoint not in OPEN_WITH_TEMPORARY_PASSWORD:
        raise Forbidden(MUST_CHANGE_PASSWORD, errors={"password": ["change it with PUT /api/v1/auth/password"]})
    return user


def companion_row() -> tuple | None:
    """The columns of the route's `Companion`, as the token's statement read them (None when the
    route has none, or this request did not want it)."""
    current_user()
    return g.companion_row


def current_session() -> AuthSession:
    current_user()
    return g.auth_session


def current_college() -> College | None:
    current_user()
    return g.college


def login_required(view: Callable) -> Callable:
    """401 without a valid token, before the body is even read. Which roles may go on is the
    service's to say (`access.allow`), on every surface alike."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        current_user()
        return view(*args, **kwargs)

    return wrapper
