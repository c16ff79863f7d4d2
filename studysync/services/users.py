"""College staff (admins and teachers), managed by the college's admins."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth.passwords import hash_password
from ..config import settings
from ..db import db
from ..errors import BadRequest, Conflict, NotFound
from ..models import User
from ..models.user import STAFF_ROLES
from ..queries import Page, paginate, text_search
from . import sessions

EMAIL_TAKEN = "Email already exists"


def email_taken(email: str) -> bool:
    return db.session.execute(select(User.id).where(User.email == email)).first() is not None


def _staff_or_404(user_id: str) -> User:
    user = db.session.execute(
        select(User).where(User.id == user_id, User.role.in_(STAFF_ROLES))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("User not found")
    return user


def commit_or_conflict(message: str = EMAIL_TAKEN) -> None:
    """Commit; a unique-constraint race (two requests, one email) is a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(message)


def create_staff(name: str, email: str, password: str, role: str) -> User:
    if email_taken(email):
        raise Conflict(EMAIL_TAKEN)
    user = User(role=role, name=name, email=email,
                password_hash=hash_password(password, settings().bcrypt_rounds))
    db.session.add(user)
    commit_or_conflict()
    return user


def list_staff(page: int, limit: int, role: str | None = None, q: str | None = None) -> Page[User]:
    stmt = select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.created_at, User.id)
    if role:
        stmt = stmt.where(User.role == role)
    if q:
        stmt = stmt.where(text_search(q, User.name, User.email))
    return paginate(stmt, page, limit)


def get_staff(user_id: str) -> User:
    return _staff_or_404(user_id)


def update_staff(actor: User, user_id: str, changes: dict) -> User:
    user = _staff_or_404(user_id)
    if "email" in changes and changes["email"] != user.email and email_taken(changes["email"]):
        raise Conflict(EMAIL_TAKEN)
    if user.id == actor.id and changes.get("role", user.role) != user.role:
        raise BadRequest("You cannot change your own role")
    for field in ("name", "email", "role"):
        if field in changes:
            setattr(user, field, changes[field])
    if "password" in changes:
        user.password_hash = hash_password(changes["password"], settings().bcrypt_rounds)
    commit_or_conflict()
    if "password" in changes:
        sessions.revoke_all(user)
    return user


def deactivate_staff(actor: User, user_id: str) -> User:
    user = _staff_or_404(user_id)
    if user.id == actor.id:
        raise BadRequest("You cannot deactivate your own account")
    user.status = "inactive"
    db.session.flush()
    sessions.revoke_all(user)
    return user
