"""Logins, server-side sessions and passwords."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update

from ..access import allow, public
from ..config import settings
from ..db import db, utcnow
from ..errors import BadRequest, Forbidden, NotFound, Unauthorized
from ..models import AuthSession, College, User
from ..models.user import ROLES
from ..tenancy import all_tenants, set_current_college
from .passwords import burn_verify_time, hash_password, verify_password
from .throttle import login_throttle
from .tokens import TokenClaims, encode_token

INVALID_CREDENTIALS = "Invalid email or password"
STAFF_LOGIN_ROLES = ("sysadmin", "admin", "teacher")
ALL_ROLES = STAFF_LOGIN_ROLES + ("student",)
APP_IS_FOR_STUDENTS = "The StudySync app is for students; staff and administrators sign in at /api/v1/auth/login"


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True)
class Login:
    token: str
    user: User
    session: AuthSession


@allow(*ROLES)
def open_session(user: User, client: ClientInfo) -> Login:
    """A new server-side session and the token that names it. From here on the request acts for
    `user`, inside their college (a login or registration goes on to read their profile)."""
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
    set_current_college(user.college_id)
    return Login(token=token, user=user, session=auth_session)


def _authenticate(email: str, password: str, client: ClientInfo, roles: tuple[str, ...], *,
                  college_id: str | None = None, subdomain: str | None = None, or_sysadmin: bool = False,
                  or_handle: bool = False) -> User:
    """The user whose password this is, counted by the login throttle: wrong credentials count,
    a success clears this account's count at this address, a spent count is a 429 before any check."""
    throttle = login_throttle()
    throttle.check(email, client.ip_address)
    found = _find_users(email, roles, college_id, subdomain, or_sysadmin=or_sysadmin)
    if not found and or_handle:
        found = _find_by_handle(email, roles, college_id)
    if len(found) > 1:
        raise BadRequest("This email belongs to more than one college; include college_id")
    user = found[0] if found else None
    if user is None or user.password_hash is None:
        burn_verify_time(settings().bcrypt_rounds)  # an unknown email costs what a known one does
    if user is None or not verify_password(password, user.password_hash):
        throttle.failed(email, client.ip_address)
        raise Unauthorized(INVALID_CREDENTIALS)
    throttle.succeeded(email, client.ip_address)
    if not user.is_active:
        raise Forbidden("Account is deactivated")
    if user.college_id is not None:
        college = db.session.get(College, user.college_id)
        if college is None or not college.is_active:
            raise Forbidden("College is suspended")
    return user


def _find_users(email: str, roles: tuple[str, ...], college_id: str | None, subdomain: str | None,
                *, or_sysadmin: bool = False) -> list[User]:
    stmt = select(User).where(User.email == email.strip().lower(), User.role.in_(roles))
    if college_id:
        in_college = User.college_id == college_id
        stmt = stmt.where(or_(in_college, User.role == "sysadmin") if or_sysadmin else in_college)
    elif subdomain:
        stmt = stmt.join(College, College.id == User.college_id).where(College.subdomain == subdomain)
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


def _find_by_handle(handle: str, roles: tuple[str, ...], college_id: str | None) -> list[User]:
    """The legacy clients' handle (`username`, unique per college)."""
    stmt = select(User).where(User.username == handle.strip(), User.role.in_(roles))
    if college_id:
        stmt = stmt.where(User.college_id == college_id)
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


@public
def login_staff(email: str, password: str, client: ClientInfo, *, college_id: str | None = None,
                subdomain: str | None = None) -> Login:
    """Sysadmin, admin or teacher login; the college is optional when the email is unambiguous."""
    with all_tenants():
        user = _authenticate(email, password, client, STAFF_LOGIN_ROLES, college_id=college_id, subdomain=subdomain)
    return open_session(user, client)


@public
def login_student(college_id: str, email: str, password: str, client: ClientInfo) -> Login:
    with all_tenants():
        user = _authenticate(email, password, client, ("student",), college_id=college_id)
    return open_session(user, client)


@public
def login_any(email: str, password: str, client: ClientInfo, *, college_id: str | None = None) -> Login:
    """Any role (the OAuth2 password form names no role)."""
    with all_tenants():
        user = _authenticate(email, password, client, ALL_ROLES, college_id=college_id)
    return open_session(user, client)


@public
def login_app_student(email: str, password: str, client: ClientInfo, *, college_id: str | None = None) -> Login:
    """The mobile app serves students. Staff and the sysadmin are told where to sign in instead —
    only once their password is right, so a guesser learns nothing about who is staff."""
    with all_tenants():
        user = _authenticate(email, password, client, ALL_ROLES, college_id=college_id, or_sysadmin=True)
    if user.role != "student":
        raise Forbidden(APP_IS_FOR_STUDENTS)
    return open_session(user, client)


@public
def login_handle_or_email(identifier: str, password: str, client: ClientInfo, *,
                          college_id: str | None = None) -> Login:
    """Any role, by email or by handle (`username`): the legacy clients' sign-in names either."""
    with all_tenants():
        user = _authenticate(identifier, password, client, ALL_ROLES, college_id=college_id, or_handle=True)
    return open_session(user, client)


@allow(*ROLES)
def revoke(actor: User, auth_session: AuthSession) -> None:
    auth_session.revoked_at = auth_session.revoked_at or utcnow()
    db.session.flush()


@allow(*ROLES)
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
    return count


@allow(*ROLES)
def live_sessions(user: User) -> list[AuthSession]:
    now = utcnow()
    stmt = (
        select(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
        .order_by(AuthSession.last_used_at.desc())
    )
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


@allow(*ROLES)
def revoke_one(user: User, session_id: str) -> None:
    stmt = select(AuthSession).where(AuthSession.id == session_id, AuthSession.user_id == user.id)
    with all_tenants():
        auth_session = db.session.execute(stmt).scalar_one_or_none()
        if auth_session is None:
            raise NotFound("Session not found")
        revoke(user, auth_session)


@allow(*ROLES)
def change_password(user: User, current: AuthSession, old_password: str, new_password: str,
                    client: ClientInfo) -> None:
    """Checks the old password (a wrong one counts like a failed login); every other session of
    the user is revoked."""
    throttle = login_throttle()
    throttle.check(user.email, client.ip_address)
    if not verify_password(old_password, user.password_hash):
        throttle.failed(user.email, client.ip_address)
        raise Unauthorized("Old password is incorrect")
    throttle.succeeded(user.email, client.ip_address)
    if old_password == new_password:
        raise BadRequest("New password must differ from the old one")
    user.password_hash = hash_password(new_password, settings().bcrypt_rounds)
    user.password_changed_at = utcnow()
    user.must_change_password = False  # a temporary password (services/account_recovery.py) is now replaced
    revoke_all(user, keep=current)
