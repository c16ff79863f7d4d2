"""Logins, server-side sessions and passwords."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from ..auth.passwords import burn_verify_time, hash_password, verify_password
from ..auth.tokens import TokenClaims, encode_token
from ..config import settings
from ..db import db, utcnow
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..models import AuthSession, College, User
from ..tenancy import all_tenants

INVALID_CREDENTIALS = "Invalid email or password"
STAFF_LOGIN_ROLES = ("sysadmin", "admin", "teacher")


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True)
class Login:
    token: str
    user: User
    session: AuthSession


def open_session(user: User, client: ClientInfo) -> Login:
    """A new server-side session and the token that names it (committed)."""
    now = utcnow()
    config = settings()
    auth_session = AuthSession(
        user_id=user.id,
        college_id=user.college_id,
        created_at=now,
        last_used_at=now,
        expires_at=now + config.jwt_ttl,
        user_agent=(client.user_agent or "")[:300] or None,
        ip_address=client.ip_address,
    )
    with all_tenants():
        db.session.add(auth_session)
        db.session.flush()
        token = encode_token(
            TokenClaims(user.id, user.role, user.college_id, auth_session.id),
            config.jwt_secret_key, now, auth_session.expires_at,
        )
        db.session.commit()
    return Login(token=token, user=user, session=auth_session)


def _check_login(candidates: list[User], password: str) -> User:
    if len(candidates) > 1:
        raise BadRequest("This email belongs to more than one college; include college_id")
    user = candidates[0] if candidates else None
    if user is None:
        burn_verify_time(settings().bcrypt_rounds)
        raise Unauthorized(INVALID_CREDENTIALS)
    if not verify_password(password, user.password_hash):
        raise Unauthorized(INVALID_CREDENTIALS)
    if not user.is_active:
        raise Forbidden("Account is deactivated")
    if user.college_id is not None:
        college = db.session.get(College, user.college_id)
        if college is None or not college.is_active:
            raise Forbidden("College is suspended")
    return user


def _find_users(email: str, roles: tuple[str, ...], college_id: str | None, subdomain: str | None) -> list[User]:
    stmt = select(User).where(User.email == email.strip().lower(), User.role.in_(roles))
    if college_id:
        stmt = stmt.where(User.college_id == college_id)
    elif subdomain:
        stmt = stmt.join(College, College.id == User.college_id).where(College.subdomain == subdomain)
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


def login_staff(email: str, password: str, client: ClientInfo, *, college_id: str | None = None,
                subdomain: str | None = None) -> Login:
    """Sysadmin, admin or teacher login; the college is optional when the email is unambiguous."""
    with all_tenants():
        user = _check_login(_find_users(email, STAFF_LOGIN_ROLES, college_id, subdomain), password)
    return open_session(user, client)


def login_student(college_id: str, email: str, password: str, client: ClientInfo) -> Login:
    with all_tenants():
        user = _check_login(_find_users(email, ("student",), college_id, None), password)
    return open_session(user, client)


def login_any(email: str, password: str, client: ClientInfo, *, college_id: str | None = None) -> Login:
    """Any role (the OAuth2 password form names no role)."""
    with all_tenants():
        roles = STAFF_LOGIN_ROLES + ("student",)
        user = _check_login(_find_users(email, roles, college_id, None), password)
    return open_session(user, client)


def login_handle_or_email(identifier: str, password: str, client: ClientInfo, *,
                          college_id: str | None = None) -> Login:
    """Any role, by email or by handle (`username`): the legacy clients' sign-in names either."""
    handle = identifier.strip()
    with all_tenants():
        candidates = _find_users(identifier, STAFF_LOGIN_ROLES + ("student",), college_id, None)
        if not candidates and handle:
            stmt = select(User).where(User.username == handle)
            if college_id:
                stmt = stmt.where(User.college_id == college_id)
            candidates = list(db.session.execute(stmt).scalars())
        user = _check_login(candidates, password)
    return open_session(user, client)


def revoke(auth_session: AuthSession) -> None:
    auth_session.revoked_at = auth_session.revoked_at or utcnow()
    db.session.commit()


def revoke_all(user: User, *, keep: AuthSession | None = None) -> int:
    """Revoke every live session of `user` (but `keep`); takes effect on the next request."""
    stmt = (
        update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    with all_tenants():
        count = db.session.execute(stmt).rowcount
    db.session.commit()
    return count


def live_sessions(user: User) -> list[AuthSession]:
    now = utcnow()
    stmt = (
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.last_used_at.desc())
    )
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


def revoke_one(user: User, session_id: str) -> None:
    stmt = select(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user.id)
    with all_tenants():
        auth_session = db.session.execute(stmt).scalar_one_or_none()
        if auth_session is None:
            raise NotFound("Session not found")
        revoke(auth_session)


def change_password(user: User, current: AuthSession, old_password: str, new_password: str) -> None:
    """Checks the old password; every other session of the user is revoked."""
    if not verify_password(old_password, user.password_hash):
        raise Unauthorized("Old password is incorrect")
    if old_password == new_password:
        raise BadRequest("New password must differ from the old one")
    user.password_hash = hash_password(new_password, settings().bcrypt_rounds)
    user.password_changed_at = utcnow()
    revoke_all(user, keep=current)

