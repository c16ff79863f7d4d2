"""bcrypt hashing with configurable rounds, and the password policy.

bcrypt silently ignores everything past 72 bytes, so a longer password is refused instead of
being truncated behind the user's back.
"""
from __future__ import annotations

import re

import bcrypt

MAX_PASSWORD_BYTES = 72
MIN_PASSWORD_LENGTH = 8
POLICY_MESSAGE = "Password must be at least 8 characters with uppercase, lowercase and numeric characters"
TOO_LONG_MESSAGE = "Password must be at most 72 bytes"


def password_problem(password: str, *, strong: bool = True) -> str | None:
    """Why `password` is unacceptable, or None. `strong=False` keeps only the length rules."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return TOO_LONG_MESSAGE
    if not strong:
        return None if len(password) >= 6 else "Password must be at least 6 characters"
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or not re.search(r"[A-Z]", password)
        or not re.search(r"[a-z]", password)
        or not re.search(r"[0-9]", password)
    ):
        return POLICY_MESSAGE
    return None


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    encoded = password.encode("utf-8")
    if password_hash is None or len(encoded) > MAX_PASSWORD_BYTES:
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))




def burn_verify_time(rounds: int) -> None:
    """Spend about one verification's time when the account does not exist (no user enumeration)."""
    bcrypt.checkpw(b"x", bcrypt.hashpw(b"timing-equaliser", bcrypt.gensalt(rounds=rounds)))
