"""Start-up and demo data: the sysadmin from the environment, the demo college."""
from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from ..auth.passwords import hash_password
from ..config import settings
from ..db import db
from ..models import User
from ..tenancy import all_tenants

SYSADMIN_NAMESPACE = uuid.UUID("6f1c1f64-3b8e-4a57-9d0e-2f1a6c0b7e55")


def sysadmin_id(email: str) -> str:
    """Deterministic per email: workers starting at once collide on the primary key, not duplicate."""
    return str(uuid.uuid5(SYSADMIN_NAMESPACE, email.strip().lower()))


def create_sysadmin(email: str, password: str, name: str = "System Admin") -> tuple[User, bool]:
    """The platform's sysadmin; (user, created). Safe to call from several processes at once."""
    email = email.strip().lower()
    with all_tenants():
        existing = db.session.execute(
            select(User).where(User.email == email, User.role == "sysadmin")
        ).scalar_one_or_none()
        if existing is not None:
            return existing, False
        user = User(id=sysadmin_id(email), role="sysadmin", name=name, email=email, college_id=None,
                    password_hash=hash_password(password, settings().bcrypt_rounds))
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return db.session.get(User, sysadmin_id(email)), False
    return user, True


def ensure_sysadmin(app: Flask) -> None:
    """SYSADMIN_EMAIL + SYSADMIN_PASSWORD → the sysadmin exists (once the schema does)."""
    config = app.config["SETTINGS"]
    if not (config.sysadmin_email and config.sysadmin_password):
        return
    with app.app_context():
        try:
            if not inspect(db.engine).has_table("users"):
                app.logger.warning("Sysadmin not created: run `alembic upgrade head` first")
                return
            create_sysadmin(config.sysadmin_email, config.sysadmin_password)
        except (OperationalError, ProgrammingError) as exc:
            app.logger.warning("Sysadmin not created: %s", exc)
