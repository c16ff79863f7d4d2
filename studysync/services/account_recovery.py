"""Getting back into an account: an admin's reset to a temporary password, and the emailed
forgot-password token.

A temporary password (`must_change_password`) opens only the password-change routes until the
user picks their own (auth/current.py). A forgot-password token is 32 random bytes, mailed once
and stored only as its SHA-256; it is good for one use within `RESET_TOKEN_TTL`. Either way every
session of the user is revoked, so whoever held the account before is out at once.
"""
from __future__ import annotations

import hashlib
import logging
import queue
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from ..auth.mail import Mail, send
from ..auth.passwords import hash_password
from ..config import settings
from ..db import db, utcnow
from ..errors import BadRequest, Forbidden, NotFound
from ..models import College, PasswordResetToken, User
from ..access import allow, public
from ..tenancy import all_tenants, tenant_context
from ..auth import sessions
from ..auth.throttle import login_throttle
from . import audit

log = logging.getLogger(__name__)
RESET_TOKEN_TTL = timedelta(minutes=30)
INVALID_RESET_TOKEN = "This reset token is invalid, expired or already used"
FORGOT_ANSWER = "If an account with that email exists, a password reset email has been sent"
RESETTABLE_BY_ADMIN = ("teacher", "student")


@dataclass(frozen=True)
class TemporaryPassword:
    user: User
    temporary_password: str
    sessions_revoked: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_temporary_password() -> str:
    """Random, and always within the password policy (upper, lower, digit)."""
    return secrets.token_urlsafe(9) + "Aa1"


def _target_for(actor: User, user_id: str) -> User:
    """An admin resets a teacher or student of their own college; the sysadmin resets anyone's
    (notably an admin's, which no college admin may do)."""
    if actor.role == "sysadmin":
        with all_tenants():
            target = db.session.get(User, user_id)
    else:
        target = db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()
    if target is None or target.role not in ("admin", *RESETTABLE_BY_ADMIN):
        raise NotFound("User not found")
    if actor.role == "admin" and target.role not in RESETTABLE_BY_ADMIN:
        raise Forbidden("Only the sysadmin can reset an admin's password")
    return target


@allow("admin", "sysadmin")
def reset_to_temporary(actor: User, user_id: str) -> TemporaryPassword:
    """A new temporary password (shown once), every session revoked, pending reset tokens spent."""
    target = _target_for(actor, user_id)
    temporary = new_temporary_password()
    with tenant_context(target.college_id):
        target.password_hash = hash_password(temporary, settings().bcrypt_rounds)
        target.password_changed_at = utcnow()
        target.must_change_password = True
        _spend_tokens(target.id)
        db.session.flush()
        audit.record(actor, "user.password_reset", "user", target, college_id=target.college_id)
        revoked = sessions.revoke_all(target)
    return TemporaryPassword(user=target, temporary_password=temporary, sessions_revoked=revoked)


# Forgot password ----------------------------------------------------------------------------------


def _accounts(email: str, college_id: str | None) -> list[User]:
    stmt = select(User).where(User.email == email.strip().lower(), User.status == "active",
                              User.password_hash.is_not(None))
    if college_id:
        stmt = stmt.where(User.college_id == college_id)
    with all_tenants():
        return list(db.session.execute(stmt).scalars())


def _mail_for(user: User, token: str, college: College | None) -> Mail:
    where = f" at {college.name}" if college is not None else ""
    minutes = int(RESET_TOKEN_TTL.total_seconds() // 60)
    body = (
        f"Hello {user.name},\n\n"
        f"Someone (hopefully you) asked to reset your StudySync password{where}.\n"
        f"Your reset token, valid for {minutes} minutes and usable once:\n\n    {token}\n\n"
        "Send it with your new password to POST /api/v1/auth/reset-password\n"
        '({"token": "...", "new_password": "..."}), or paste it into the app.\n\n'
        "If you did not ask for this, ignore this email: your password stays as it is.\n"
    )
    return Mail(to=user.email, subject="Reset your StudySync password", body=body)


@public
def request_reset(email: str, college_id: str | None, client: sessions.ClientInfo) -> str:
    """Queue the request and answer at once, the same words whether or not an account exists.

    Looking the email up, writing the token and sending the mail all happen on the app's reset
    thread, so the time of the answer does not depend on them either (bench/forgot_password_timing.py).
    The answer never fails, so every request counts against the login throttle, as a wrong
    password would: nobody can flood an inbox or probe accounts faster than they could guess.
    """
    throttle = login_throttle()
    throttle.check(email, client.ip_address)
    throttle.failed(email, client.ip_address)
    _reset_queue().submit(email, college_id)
    return FORGOT_ANSWER


def issue_reset_tokens(email: str, college_id: str | None = None) -> int:
    """Mail a token to every active account with this email (in `college_id` when given); only the
    newest token of an account works. Runs on the reset thread; returns the number of mails sent."""
    outgoing: list[Mail] = []
    now = utcnow()
    with all_tenants():
        for user in _accounts(email, college_id):
            token = secrets.token_urlsafe(32)
            _spend_tokens(user.id)
            db.session.add(PasswordResetToken(user_id=user.id, college_id=user.college_id,
                                              token_hash=token_hash(token), created_at=now,
                                              expires_at=now + RESET_TOKEN_TTL))
            college = db.session.get(College, user.college_id) if user.college_id else None
            outgoing.append(_mail_for(user, token, college))
        db.session.commit()
    config = settings()
    return sum(send(config.smtp_url, config.mail_from, mail) for mail in outgoing)


class ResetQueue:
    """One daemon thread per app working through forgot-password requests in arrival order."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.requests: queue.Queue[tuple[str, str | None]] = queue.Queue()
        threading.Thread(target=self._run, name="studysync-password-reset", daemon=True).start()

    def submit(self, email: str, college_id: str | None) -> None:
        self.requests.put((email, college_id))

    def drain(self) -> None:
        """Wait until every request queued so far is done (tests, and a graceful shutdown)."""
        self.requests.join()

    def _run(self) -> None:
        while True:
            email, college_id = self.requests.get()
            try:
                with self.app.app_context():
                    issue_reset_tokens(email, college_id)
            except Exception:  # noqa: BLE001 - the caller has its answer; the failure is logged
                log.exception("a password reset request failed")
            finally:
                self.requests.task_done()


_QUEUE_LOCK = threading.Lock()


def _reset_queue() -> ResetQueue:
    app = current_app._get_current_object()
    with _QUEUE_LOCK:
        if "studysync.reset_queue" not in app.extensions:
            app.extensions["studysync.reset_queue"] = ResetQueue(app)
        return app.extensions["studysync.reset_queue"]


def _token_guesser(address: str | None) -> str:
    """Wrong tokens name no account: they count against the address alone (one shared account
    would let anyone lock everyone out)."""
    return f"reset-token@{address or 'unknown'}"


@public
def reset_with_token(token: str, new_password: str, client: sessions.ClientInfo) -> User:
    """Spend the token (once, even under concurrent attempts), set the password, end every session."""
    throttle, guesser = login_throttle(), _token_guesser(client.ip_address)
    throttle.check(guesser, client.ip_address)
    now = utcnow()
    with all_tenants():
        row = db.session.execute(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token.strip()))
        ).scalar_one_or_none()
        if row is None or row.used_at is not None or row.expires_at <= now:
            throttle.failed(guesser, client.ip_address)
            raise BadRequest(INVALID_RESET_TOKEN, errors={"token": [INVALID_RESET_TOKEN]})
        spent = db.session.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False)
        ).rowcount
        user = db.session.get(User, row.user_id)
        if spent != 1 or user is None or not user.is_active:
            db.session.rollback()
            raise BadRequest(INVALID_RESET_TOKEN, errors={"token": [INVALID_RESET_TOKEN]})
        user.password_hash = hash_password(new_password, settings().bcrypt_rounds)
        user.password_changed_at = now
        user.must_change_password = False
        _spend_tokens(user.id)
        db.session.flush()
        audit.record(user, "user.password_reset_by_token", "user", user, college_id=user.college_id)
        sessions.revoke_all(user)
    return user


def _spend_tokens(user_id: str) -> None:
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    )
