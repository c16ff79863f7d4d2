"""College staff (admins and teachers), managed by the college's admins."""
from __future__ import annotations

from sqlalchemy import select

from ..access import allow
from ..auth import sessions
from ..auth.passwords import hash_password
from ..config import settings
from ..conflicts import EMAIL_TAKEN
from ..db import db
from ..errors import BadRequest, Conflict, NotFound
from ..models import User
from ..models.user import STAFF_ROLES
from ..queries import Page, paginate, text_search
from . import audit


def email_taken(email: str) -> bool:
    return db.session.execute(select(User.id).where(User.email == email)).first() is not None


def _staff_or_404(user_id: str) -> User:
    user = db.session.execute(
        select(User).where(User.id == user_id, User.role.in_(STAFF_ROLES))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("User not found")
    return user


@allow("admin")
def create_staff(actor: User, name: str, email: str, password: str, role: str) -> User:
    if email_taken(email):
        raise Conflict(EMAIL_TAKEN)
    user = User(role=role, name=name, email=email,
                password_hash=hash_password(password, settings().bcrypt_rounds))
    db.session.add(user)
    audit.record(actor, "staff.create", "user", user, {"role": role})
    db.session.flush()
    return user


@allow("admin")
def list_staff(actor: User, page: int, limit: int, role: str | None = None, q: str | None = None) -> Page[User]:
    return paginate(staff_query(role, q), page, limit)


def staff_query(role: str | None = None, q: str | None = None):
    """The list's filters, shared with the CSV export (services/roster_export.py)."""
    stmt = select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.created_at, User.id)
    if role:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(text_search(q, User.name, User.email))
    return stmt


@allow("admin")
def get_staff(actor: User, user_id: str) -> User:
    return _staff_or_404(user_id)


@allow("admin")
def update_staff(actor: User, user_id: str, changes: dict) -> User:
    user = _staff_or_404(user_id)
    if "email" in changes and changes["email"] != user.email and email_taken(changes["email"]):
        raise Conflict(EMAIL_TAKEN)
    if user.id == actor.id and changes.get("role", user.role) != user.role:
        raise BadRequest("You cannot change your own role")
    for field in ("name", "email", "role"):
        if field in changes:
            setattr(user, field, changes[field])
    audit.record(actor, "staff.password" if "password" in changes else "staff.update", "user", user,
                 {"changes": {k: v for k, v in changes.items() if k != "password"}})
    if "password" in changes:
        user.password_hash = hash_password(changes["password"], settings().bcrypt_rounds)
        sessions.revoke_all(user)
    return user


@allow("admin")
def deactivate_staff(actor: User, user_id: str) -> User:
    user = _staff_or_404(user_id)
    if user.id == actor.id:
        raise BadRequest("You cannot deactivate your own account")
    user.status = "inactive"
    audit.record(actor, "staff.deactivate", "user", user)
    sessions.revoke_all(user)
    return user
